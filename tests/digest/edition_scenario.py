"""Papers featured over one week and confirmed subscribers, for the edition and render tests.

Imported upvote counts set the trending order (no other events), so the order of each day is
known by heart: the most upvoted first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from papertide.db import Database
from papertide.db.schema import delivery, subscriber, upvote, user
from papertide.db.writes import write_batch
from papertide.models import DailyRecord, PaperRecord

THU, FRI, SAT = dt.date(2026, 8, 20), dt.date(2026, 8, 21), dt.date(2026, 8, 22)
MON = dt.date(2026, 8, 24)
# (id, title, authors, categories, upvotes, featured on, abstract)
PAPERS: list[tuple[str, str, list[str], list[str], int, dt.date, str]] = [
    (
        "2608.00001",
        "Diffusion models for protein design",
        ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
        ["cs.LG", "q-bio.BM"],
        50,
        THU,
        "We design proteins with a denoising diffusion model.",
    ),
    (
        "2608.00002",
        "Reinforcement learning from human feedback at scale",
        ["Barbara Liskov"],
        ["cs.CL"],
        40,
        THU,
        "Preference data from people tunes a language model with reinforcement learning.",
    ),
    (
        "2608.00003",
        "Vision transformers without attention",
        ["Fei-Fei Li"],
        ["cs.CV"],
        30,
        THU,
        "Images are classified by a transformer that has no attention layer.",
    ),
    (
        "2608.00004",
        "Graph networks for chemistry",
        ["Jane Doe", "John Roe"],
        ["cs.LG", "physics.chem-ph"],
        20,
        THU,
        "Molecules as graphs: message passing predicts their properties.",
    ),
    (
        "2608.00005",
        "A survey of speech recognition",
        ["Claude Shannon"],
        ["eess.AS"],
        10,
        THU,
        "Automatic speech recognition from HMMs to end-to-end models.",
    ),
    (
        "2608.00006",
        "Diffusion language models",
        ["Yann Ng"],
        ["cs.CL"],
        60,
        FRI,
        "Diffusion models generate text by iterative denoising instead of left to right.",
    ),
    (
        "2608.00007",
        "Robot learning with reinforcement learning",
        ["Rod Brooks"],
        ["cs.RO"],
        5,
        FRI,
        "Robots learn to grasp by trial and error.",
    ),
    (
        "2608.00008",
        "A weekend paper on quantum error correction",
        ["Peter Shor"],
        ["quant-ph"],
        1,
        SAT,
        "Surface codes, again.",
    ),
]
IDS = [p[0] for p in PAPERS]
P1, P2, P3, P4, P5, P6, P7, P8 = IDS
THURSDAY_ORDER = [P1, P2, P3, P4, P5]


def build(db: Database) -> None:
    """Write the papers and their featured days."""
    records = [
        PaperRecord(
            arxiv_id=pid,
            title=title,
            authors=authors,
            categories=categories,
            upvotes=upvotes,
            abstract=abstract,
            published_at=dt.datetime.combine(day, dt.time()) - dt.timedelta(days=1),
        )
        for pid, title, authors, categories, upvotes, day, abstract in PAPERS
    ]
    entries = [
        DailyRecord(pid, day, dt.datetime.combine(day, dt.time(8)))
        for pid, _t, _a, _c, _u, day, _ab in PAPERS
    ]
    with db.write() as conn:
        write_batch(conn, records, entries)


def add_subscriber(
    db: Database,
    email: str,
    topics: dict[str, Any] | None = None,
    frequency: str = "daily",
    status: str = "confirmed",
    user_id: int | None = None,
) -> int:
    now = dt.datetime(2026, 8, 1)
    with db.write() as conn:
        key = conn.execute(
            subscriber.insert().values(
                email=email,
                email_key=email.lower(),
                frequency=frequency,
                topics=topics or {},
                status=status,
                token_salt="salt-" + email,
                created_at=now,
                user_id=user_id,
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def add_user_with_upvotes(db: Database, name: str, papers: list[str]) -> int:
    """A local account that upvoted `papers` (long before the week, so trending is unmoved)."""
    at = dt.datetime(2026, 1, 1)
    with db.write() as conn:
        key = conn.execute(
            user.insert().values(username=name, username_key=name, created_at=at)
        ).inserted_primary_key
        assert key is not None
        user_id = int(key[0])
        for pid in papers:
            conn.execute(upvote.insert().values(user_id=user_id, paper_id=pid, created_at=at))
    return user_id


def set_frequency(db: Database, subscriber_id: int, frequency: str) -> None:
    with db.write() as conn:
        conn.execute(
            subscriber.update().where(subscriber.c.id == subscriber_id).values(frequency=frequency)
        )


def deliveries(db: Database, edition_id: int) -> dict[int, tuple[str, list[str]]]:
    """subscriber id -> (status, papers) of an edition's deliveries."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(delivery.c.subscriber_id, delivery.c.status, delivery.c.papers).where(
                delivery.c.edition_id == edition_id
            )
        ).all()
    # Through the column's JSON type: psycopg decodes PostgreSQL's json itself (issue #11).
    return {row[0]: (row[1], list(row[2])) for row in rows}
