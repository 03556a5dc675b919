"""Open the configured database, bring its schema up to date, load the demo when empty."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from papertide.clock import utcnow
from papertide.config import Settings
from papertide.db import Database, queries, writes
from papertide.db.migrate import upgrade
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import ImportResult, run_import

log = logging.getLogger(__name__)


def demo_files() -> tuple[Path, Path]:
    """The shipped demo slice: (HF daily rows, arXiv listing rows)."""
    folder = Path(str(resources.files("papertide") / "demo"))
    return folder / "hf_daily.jsonl.gz", folder / "arxiv_listings.jsonl.gz"


def load_demo(db: Database) -> list[ImportResult]:
    """Import the built-in demo papers and their shipped vectors (idempotent)."""
    hf_rows, listings = demo_files()
    with db.read() as conn:
        before = writes.last_seq(conn)  # the listings complete papers that the HF rows create
    results = [
        run_import(db, HfDailySource([hf_rows]), new_after_seq=before),
        run_import(db, arxiv_jsonl_source([listings]), new_after_seq=before),
    ]
    load_demo_vectors(db)
    return results


def load_demo_vectors(db: Database) -> int:
    """Store the demo papers' precomputed embeddings (minutes of CPU saved on first start)."""
    import numpy as np

    from papertide.db import embeddings
    from papertide.search.embedder import DEFAULT_MODEL

    path = demo_files()[0].parent / f"embeddings-{DEFAULT_MODEL}.npz"
    with np.load(path) as shipped:
        ids, vectors = [str(i) for i in shipped["ids"]], shipped["vectors"]
    now = utcnow()
    with db.write() as conn:
        return embeddings.upsert_vectors(conn, DEFAULT_MODEL, ids, vectors, now)


def open_database(settings: Settings) -> Database:
    """The ready-to-use database for `settings`: migrated, and seeded if empty and allowed."""
    db = Database(
        settings.resolved_database_url,
        settings.database_pool_size,
        settings.database_max_overflow,
    )
    # Hosts starting together on one PostgreSQL: one migrates and seeds, the others wait.
    with db.exclusive("papertide-startup"):
        upgrade(db)
        if settings.load_demo:
            with db.read() as conn:
                empty = queries.paper_count(conn) == 0
            if empty:
                results = load_demo(db)
                log.info("Loaded the built-in demo: %s", "; ".join(r.summary() for r in results))
    return db
