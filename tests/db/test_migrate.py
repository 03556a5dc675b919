"""Migrations: a fresh database gets every table and the search index; upgrading is idempotent."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from papertide.db import Database, fts, writes
from papertide.db.fts import Filters
from papertide.db.migrate import upgrade
from papertide.db.schema import metadata
from papertide.models import PaperRecord


def test_fresh_database_has_the_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'papertide.db'}")
    upgrade(db)
    assert (tmp_path / "nested" / "dir" / "papertide.db").is_file()
    tables = set(sa.inspect(db.engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert {"paper_fts", "alembic_version"} <= tables
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    db.dispose()


def test_upgrade_twice_keeps_the_data(db: Database) -> None:
    with db.write() as conn:
        writes.upsert_papers(conn, [PaperRecord("2608.16590", title="Zetta")])
    with db.read() as conn:
        head = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    upgrade(db)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == head
        assert conn.exec_driver_sql("SELECT title FROM paper").scalar_one() == "Zetta"
        # The full-text index too (FTS5 on SQLite, the tsvector column on PostgreSQL).
        assert fts.match(conn, '"zetta"', Filters(), limit=5, offset=0)[1] == 1


def test_migrations_build_the_schema_the_code_declares(db: Database) -> None:
    # Tables, columns, indexes and foreign keys of db/schema.py against the migrated database
    # (the FTS5 tables and triggers are the migrations' own, and so are PostgreSQL's tsvector
    # column, halfvec column and their indexes: migration 0014).
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, metadata)
    ignored = (
        "paper_fts",
        "ix_paper_search_text",
        "ix_paper_embedding_hnsw_",
        "ix_paper_embedding_unfilled",
        "Column('search_text'",
        "Column('embedding'",
    )
    problems = [d for d in diff if not any(name in repr(d) for name in ignored)]
    assert problems == []
