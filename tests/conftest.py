"""Fixtures shared by every test package: the real data folder and a fresh database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.backends import PostgresServer, on_postgresql, postgres_server
from tests.loop_guard import LoopGuard

from papertide.db import Database
from papertide.db.migrate import upgrade

# ../shared/data from the repository root: real captured data, always present in CI.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI the browser tests must run, not skip: scripts/test.sh installs chromium (issue #10)."""
    if os.environ.get("CI") == "true" and not Path("/usr/bin/chromium").exists():
        raise pytest.UsageError("CI=true but /usr/bin/chromium is missing: run scripts/test.sh")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    """The PostgreSQL server of a PostgreSQL run (tests/backends.py); None on SQLite."""
    if not on_postgresql():
        yield None
        return
    with postgres_server() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_papertide_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read PAPERTIDE_* variables: the developer's own must not leak into tests."""
    for name in list(os.environ):
        if name.upper().startswith("PAPERTIDE_") and not name.upper().startswith(
            "PAPERTIDE_TEST_"
        ):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def database_url(
    _no_papertide_environment: None,
    postgres: PostgresServer | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """This test's database. On SQLite a file in tmp_path (what Settings(data_dir=tmp_path)
    resolves to); on PostgreSQL a fresh migrated database, which PAPERTIDE_DATABASE_URL hands
    to every Settings and subprocess the test makes."""
    if postgres is None:
        yield f"sqlite:///{tmp_path / 'papertide.db'}"
        return
    url = postgres.new_database()
    monkeypatch.setenv("PAPERTIDE_DATABASE_URL", url)
    yield url
    postgres.drop(url)


@pytest.fixture(autouse=True)
def loop_guard() -> Iterator[LoopGuard]:
    """Every test fails if anything it caused ran SQL, embedded or waited on the event loop."""
    guard = LoopGuard()
    with guard.installed():
        yield guard
    assert not guard.violations, "blocking work on the event loop:\n" + "\n".join(
        guard.violations
    )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder (read-only)."""
    assert SHARED_DATA.is_dir(), f"the shared data folder is missing: {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def samples(shared_data: Path) -> Path:
    """The four verbatim Hugging Face daily-papers days."""
    return shared_data / "hf_daily_papers" / "samples"


class DatabaseFactory:
    """Further databases for tests that need more than their own (two apps, a module-wide
    corpus): a SQLite file in the given folder, or a fresh migrated PostgreSQL database."""

    def __init__(self, postgres: PostgresServer | None) -> None:
        self.postgres = postgres

    def url(self, folder: Path) -> str:
        if self.postgres is None:
            folder.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{folder / 'papertide.db'}"
        return self.postgres.new_database()


@pytest.fixture(scope="session")
def databases(postgres: PostgresServer | None) -> DatabaseFactory:
    return DatabaseFactory(postgres)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """This test's fresh, migrated database (SQLite in tmp_path, or PostgreSQL)."""
    database = Database(database_url)
    upgrade(database)
    yield database
    database.dispose()
