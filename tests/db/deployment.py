"""Deployments to copy with `papertide db copy` (issue #11): a small one with rows in every
table, the full real data set with community activity, and how to compare two databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from papertide.config import Settings
from papertide.db import Database, comments, embeddings, votes
from papertide.db.schema import (
    delivery,
    digest_paper,
    edition,
    github_repo,
    ingest_state,
    job_lock,
    job_run,
    login_throttle,
    metadata,
    moderation_action,
    paper,
    repo_stars,
    submission_claim,
    user,
    user_session,
)

NOW = dt.datetime(2026, 8, 25, 9, 30, 15, 123456)
MODEL = "test-model"


def all_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as values, sorted (backends order strings differently)."""
    found = {}
    with db.read() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.computed is None]
            rows = conn.execute(sa.select(*columns)).all()
            found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


def counts(db: Database) -> dict[str, int]:
    return {name: len(rows) for name, rows in all_rows(db).items()}


def add_vectors(db: Database, ids: list[str], dim: int = 16, seed: int = 7) -> None:
    vectors = np.random.default_rng(seed).standard_normal((len(ids), dim)).astype(np.float32)
    with db.write() as conn:
        embeddings.upsert_vectors(conn, MODEL, ids, vectors, NOW)


def add_community(db: Database, ids: list[str], people: int, per_person: int) -> list[int]:
    """`people` local accounts, each upvoting and commenting on `per_person` papers."""
    user_ids = []
    with db.write() as conn:
        for n in range(people):
            values = {"username": f"Reader{n}", "username_key": f"reader{n}", "created_at": NOW}
            user_ids.append(int(conn.execute(user.insert().values(values)).inserted_primary_key[0]))
        for n, user_id in enumerate(user_ids):
            for k in range(per_person):
                paper_id = ids[(n * per_person + k) % len(ids)]
                votes.set_upvote(conn, user_id, paper_id, True, NOW)
                first = comments.add_comment(conn, paper_id, user_id, f"Nice ✓ {n}/{k}", NOW)
                if k == 0:  # a reply, so the comment table refers to itself
                    comments.add_comment(conn, paper_id, user_id, "Re: **thanks**", NOW, first)
    return user_ids


def add_small_deployment(db: Database) -> None:
    """A few rows in every table the schema has (tables added later get a generic row)."""
    from tests.digest import edition_scenario
    from tests.digest.test_send import add_edition

    edition_scenario.build(db)
    ids = edition_scenario.IDS
    with db.write() as conn:
        conn.execute(paper.update().where(paper.c.id == ids[0]).values(ai_keywords=["ü", None]))
    add_vectors(db, ids[:-1])
    user_ids = add_community(db, ids, people=3, per_person=2)
    edition_id = add_edition(db, ["confirmed", "confirmed", "unsubscribed"])
    with db.write() as conn:
        conn.execute(delivery.update().values(status="sent", sent_at=NOW, message_id="<m@x>"))
        conn.execute(edition.update().values(status="done"))
        subscribers = conn.execute(sa.select(delivery.c.subscriber_id)).scalars().all()
        conn.execute(
            digest_paper.insert(),
            [
                {"subscriber_id": s, "paper_id": ids[0], "edition_id": edition_id}
                for s in subscribers
            ],
        )
        conn.execute(
            user_session.insert().values(
                token_hash="a" * 64, user_id=user_ids[0], created_at=NOW, expires_at=NOW
            )
        )
        conn.execute(
            submission_claim.insert().values(
                user_id=user_ids[1], paper_id="2608.09999", date=NOW.date(), started_at=NOW
            )
        )
        conn.execute(login_throttle.insert().values(key="ann", failures=3, last_failure_at=NOW))
        conn.execute(repo_stars.insert().values(repo="a/b", stars=12, observed_at=NOW))
        conn.execute(github_repo.insert().values(repo="a/b", etag='W/"1"', checked_at=NOW))
        conn.execute(job_run.insert().values(job="x", started_at=NOW, status="ok", counts={"a": 1}))
        conn.execute(job_lock.insert().values(job="x", holder="h", expires_at=NOW))
        conn.execute(
            ingest_state.insert().values(key="oai", value={"from": "2026-08-01"}, updated_at=NOW)
        )
        conn.execute(
            moderation_action.insert().values(
                actor_name="ann", action="feature", target=ids[0], created_at=NOW
            )
        )
    fill_empty_tables(db)


def fill_empty_tables(db: Database) -> None:
    """One made-up row in each table still empty (a table another change added)."""
    with db.write() as conn:
        for table in metadata.sorted_tables:
            if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0:
                conn.execute(table.insert().values(_made_up_row(conn, table)))


def _made_up_row(conn: sa.Connection, table: sa.Table) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.computed is not None or (column.autoincrement is True and column.primary_key):
            continue
        if column.foreign_keys:
            target = next(iter(column.foreign_keys)).column
            values[column.name] = conn.execute(sa.select(target).limit(1)).scalar_one()
            continue
        for kind, value in _SAMPLE_VALUES:
            if isinstance(column.type, kind):
                values[column.name] = value
                break
        else:
            raise AssertionError(f"add a row of {table.name} to add_small_deployment")
    return values


_SAMPLE_VALUES: list[tuple[type[Any], Any]] = [
    (sa.Boolean, True),
    (sa.DateTime, NOW),
    (sa.Date, NOW.date()),
    (sa.Integer, 1),
    (sa.Float, 0.5),
    (sa.JSON, {"made": ["up"]}),
    (sa.LargeBinary, b"\x00\x01\xff"),
    (sa.String, "made-up"),
]


def add_full_deployment(db: Database, shared_data: Path, folder: Path) -> None:
    """The full real data set (80,317 papers) with vectors for every paper, 300 readers'
    upvotes and comments, 1,000 subscribers and an edition sent to them over SMTP."""
    from tests.digest.smtp_server import SmtpServer
    from tests.digest.test_send import add_edition, mailer

    from papertide.digest.send import send_edition
    from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
    from papertide.ingest.hf_daily import HfDailySource
    from papertide.ingest.runner import run_import

    tarballs = sorted((shared_data / "hf_daily_papers" / "raw_by_month").glob("*.tar.gz"))
    run_import(db, HfDailySource(tarballs))
    run_import(db, arxiv_jsonl_source(sorted((shared_data / "arxiv_listings").glob("*.jsonl.gz"))))
    with db.read() as conn:
        ids = list(conn.execute(sa.select(paper.c.id).order_by(paper.c.seq)).scalars())
    for start in range(0, len(ids), 20000):
        add_vectors(db, ids[start : start + 20000], dim=384, seed=start)
    add_community(db, ids[::97], people=300, per_person=10)
    edition_id = add_edition(db, ["confirmed"] * 1000)
    with SmtpServer() as server:
        settings = Settings(
            data_dir=folder,
            database_url=db.url,
            load_demo=False,
            public_url="https://papers.example.org",
            mail_from="Papertide <digest@papers.example.org>",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            digest_max_per_second=0,
        )
        report = send_edition(db, edition_id, mailer(server), settings, signer=False)
    assert report.sent == 1000, report
