"""Engine construction and the Database handle the rest of the app passes around."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from papertide.db.changes import NOTIFY, ChangeProbe, probe_for


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def driver_url(url: str) -> sa.URL:
    """`url` with the driver Papertide uses: a plain `postgresql://` means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 10) -> sa.Engine:
    """Create an engine for `url`; SQLite files get WAL, foreign keys and their directory."""
    parsed = driver_url(url)
    if parsed.get_backend_name() == "sqlite":
        args = {"check_same_thread": False}
        if not parsed.database or parsed.database == ":memory:":
            # One shared connection, or every checkout would see its own empty database.
            engine = sa.create_engine(parsed, connect_args=args, poolclass=sa.StaticPool)
        else:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(parsed, connect_args=args, pool_size=8, max_overflow=16)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,  # a connection the server or a proxy dropped is replaced
        pool_size=pool_size,
        max_overflow=max_overflow,
    )


class Database:
    """A handle on one database: the engine and short-lived connections from it."""

    def __init__(self, url: str, pool_size: int = 5, max_overflow: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size, max_overflow)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for reads (no transaction kept open afterwards)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A connection inside one transaction, committed on success. On PostgreSQL the
        commit tells every web process's change probe (db/changes.py)."""
        with self.engine.begin() as conn:
            yield conn
            if self.dialect == "postgresql":
                conn.exec_driver_sql(NOTIFY)

    def change_probe(self) -> ChangeProbe:
        """A probe of this database's commits, for one web process (db/changes.py)."""
        return probe_for(self.engine)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock named `name` across every process on this database (PostgreSQL: a
        session advisory lock), e.g. so that hosts starting together migrate and seed once.
        On SQLite the writers already serialise on the file: no lock is taken."""
        if self.dialect != "postgresql":
            yield
            return
        key = int.from_bytes(
            hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
        )
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(%s)", (key,))
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
                conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()
