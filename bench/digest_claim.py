"""Digest sending (issue #6): what one batch claim's candidate query costs as an edition grows.

    python bench/digest_claim.py [--sizes 10000 100000] [--json]
    python bench/digest_claim.py --database-url postgresql://.../bench_claim

For each size, a throwaway SQLite database (or the database `--database-url` names, which
is migrated and whose subscribers, editions and deliveries are deleted first) with one
edition of that many deliveries, 90 % of them already sent (late in a send, where a scan
hurts most), and the candidate query of a claim of 50 timed 20 times: the ledger's two
single-status queries (`db/deliveries.py`: expired claims, then due ones, each walking the
(edition_id, status, id) index in id order) against the baseline of one query with
`pending OR claimed`, which is what the ledger used before and which SQLite can only
answer by reading and sorting the whole edition.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from papertide.db import Database
from papertide.db import deliveries as ledger
from papertide.db.migrate import upgrade
from papertide.db.schema import delivery, edition, subscriber

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 27, 7)
LEASE = dt.timedelta(minutes=5)
BATCH = 50


def populate(folder: Path, size: int, url: str | None = None) -> Database:
    if url is None:
        shutil.rmtree(folder, ignore_errors=True)
    db = Database(url or f"sqlite:///{folder / 'papertide.db'}")
    upgrade(db)
    with db.write() as conn:
        for table in (delivery, edition, subscriber):
            conn.execute(table.delete())
        conn.execute(
            subscriber.insert(),
            [{"id": n, "email": f"r{n}@example.org", "email_key": f"r{n}@example.org",
              "topics": {}, "status": "confirmed", "token_salt": "s", "created_at": NOW}
             for n in range(1, size + 1)],
        )  # fmt: skip
        conn.execute(
            edition.insert().values(
                id=1, kind="daily", period="2026-11-27", papers=[], built_at=NOW
            )
        )
        conn.execute(
            delivery.insert(),
            [{"id": n, "edition_id": 1, "subscriber_id": n, "papers": [],
              "status": "sent" if n <= size * 0.9 else "pending"} for n in range(1, size + 1)],
        )  # fmt: skip
    if db.dialect == "postgresql":
        with db.write() as conn:
            conn.exec_driver_sql("ANALYZE delivery")  # fresh statistics for the planner
    return db


def one_query_with_or() -> sa.Select[tuple[int]]:
    """The baseline: the claim's candidates as one condition over both statuses."""
    due = sa.and_(
        delivery.c.status == "pending",
        sa.or_(delivery.c.next_attempt_at.is_(None), delivery.c.next_attempt_at <= NOW),
    )
    abandoned = sa.and_(delivery.c.status == "claimed", delivery.c.claimed_at < NOW - LEASE)
    condition = sa.and_(delivery.c.edition_id == 1, sa.or_(due, abandoned))
    return sa.select(delivery.c.id).where(condition).order_by(delivery.c.id).limit(BATCH)


def ms_per_claim(db: Database, queries: list[sa.Select[tuple[int]]], repeat: int = 20) -> float:
    with db.engine.connect() as conn:
        started = time.perf_counter()
        for _ in range(repeat):
            for query in queries:
                conn.execute(query).all()
        return (time.perf_counter() - started) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument(
        "--database-url", help="Run on this database (e.g. PostgreSQL) instead of SQLite."
    )
    args = parser.parse_args()

    ledger_queries = [
        sa.select(delivery.c.id).where(condition).order_by(delivery.c.id).limit(BATCH)
        for condition in (ledger._abandoned(1, NOW, LEASE), ledger._due(1, NOW))
    ]
    figures = []
    for size in args.sizes:
        with Console(stderr=True).status(f"{size:,} deliveries"):
            db = populate(args.out / "digest_claim", size, args.database_url)
            figures.append(
                {
                    "deliveries": size,
                    "ledger_ms": ms_per_claim(db, ledger_queries),
                    "baseline_ms": ms_per_claim(db, [one_query_with_or()]),
                }
            )
            db.dispose()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    table = Table("deliveries (90 % sent)", "ledger's claim", "one query with OR", "ratio")
    for row in figures:
        table.add_row(
            f"{row['deliveries']:,}",
            f"{row['ledger_ms']:.2f} ms",
            f"{row['baseline_ms']:.2f} ms",
            f"x{row['baseline_ms'] / row['ledger_ms']:.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
