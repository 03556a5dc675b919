"""A small trending scenario whose scores are worked out by hand in the tests that use it.

Six featured papers, local votes from established and brand-new accounts, Hugging Face's
imported counts, and star snapshots of one repository (one before the 7-day window). The last
event is at NOW, so NOW is the site's trending clock.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from papertide.db import Database
from papertide.db.schema import upvote, user
from papertide.db.writes import bump_content_version, write_batch
from papertide.models import DailyRecord, PaperRecord, StarsRecord

NOW = dt.datetime(2026, 8, 21, 12, 0)
# Ids chosen so that the tie (D and A) is broken by id, not by the order of insertion.
B, D, A, C, E, Z = (
    "2608.00002",
    "2608.00001",
    "2608.00004",
    "2608.00003",
    "2608.00005",
    "2608.00006",
)
REPO = "Owner/B-Repo"

FEATURED = {
    A: dt.date(2026, 8, 21),
    B: dt.date(2026, 8, 19),
    C: dt.date(2026, 8, 21),
    D: dt.date(2026, 8, 17),
    E: dt.date(2026, 8, 10),  # outside the 7-day window (Aug 15-21), inside 30 days
    Z: dt.date(2026, 8, 18),  # featured, but nothing ever happened to it
}
# D was featured again (as 4 papers of the real dump were): its HF count stays on Aug 17.
FEATURED_AGAIN = {D: dt.date(2026, 8, 20)}
IMPORTED = {A: 8, D: 32}  # Hugging Face's counts, without timestamps
STARS = [  # (stars, observed at) of REPO, B's repository
    (20, dt.datetime(2026, 8, 10)),  # before the window: the baseline of the next gain
    (100, dt.datetime(2026, 8, 19, 12)),  # +80
    (150, dt.datetime(2026, 8, 20, 12)),  # +50
    (140, dt.datetime(2026, 8, 21)),  # -10 counts 0
]
ESTABLISHED = dt.datetime(2026, 1, 1)
BRAND_NEW = dt.datetime(2026, 8, 20, 12)  # a day old at NOW


def votes() -> list[tuple[str, str, dt.datetime]]:
    """(voter, paper, when) of every local upvote."""
    before_now = NOW - dt.timedelta(hours=2)
    cast = [(f"old{i}", B, before_now) for i in range(3)]
    cast.append(("old0", C, NOW))
    cast += [(f"new{i}", C, NOW) for i in range(8)]
    cast.append(("old1", E, dt.datetime(2026, 8, 10, 12)))
    return cast


def build(db: Database) -> None:
    """Write the scenario into an empty, migrated database."""
    papers = [
        PaperRecord(
            arxiv_id=paper_id,
            title=f"Scenario paper {paper_id}",
            authors=["Ada Lovelace"],
            categories=["cs.LG"],
            published_at=dt.datetime.combine(day, dt.time()) - dt.timedelta(days=2),
            github_repo=REPO if paper_id == B else None,
            upvotes=IMPORTED.get(paper_id),
        )
        for paper_id, day in FEATURED.items()
    ]
    entries = [
        DailyRecord(paper_id, day, dt.datetime.combine(day, dt.time()))
        for paper_id, day in [*FEATURED.items(), *FEATURED_AGAIN.items()]
    ]
    stars = [StarsRecord(REPO, count, at) for count, at in STARS]
    with db.write() as conn:
        write_batch(conn, papers, entries, stars)
        ids = {name: add_user(conn, name, created) for name, created in _voters().items()}
        for name, paper_id, at in votes():
            add_vote(conn, ids[name], paper_id, at)


def _voters() -> dict[str, dt.datetime]:
    names = sorted({name for name, _, _ in votes()})
    return {name: BRAND_NEW if name.startswith("new") else ESTABLISHED for name in names}


def add_user(conn: sa.Connection, name: str, created_at: dt.datetime) -> int:
    row = user.insert().values(username=name, username_key=name, created_at=created_at)
    return int(conn.execute(row).inserted_primary_key[0])


def add_vote(conn: sa.Connection, user_id: int, paper_id: str, at: dt.datetime) -> None:
    conn.execute(upvote.insert().values(user_id=user_id, paper_id=paper_id, created_at=at))
    bump_content_version(conn)
