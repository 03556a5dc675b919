"""Fixtures shared by every test package: the real data folder and a fresh database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.loop_guard import LoopGuard

from papertide.db import Database
from papertide.db.migrate import upgrade

# ../shared/data from the repository root: real captured data, always present in CI.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI the browser tests must run, not skip: scripts/test.sh installs chromium (issue #10)."""
    if os.environ.get("CI") == "true" and not Path("/usr/bin/chromium").exists():
        raise pytest.UsageError("CI=true but /usr/bin/chromium is missing: run scripts/test.sh")


@pytest.fixture(autouse=True)
def _no_papertide_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read PAPERTIDE_* variables: the developer's own must not leak into tests."""
    for name in list(os.environ):
        if name.upper().startswith("PAPERTIDE_"):
            monkeypatch.delenv(name)


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


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated SQLite database in tmp_path."""
    database = Database(f"sqlite:///{tmp_path / 'papertide.db'}")
    upgrade(database)
    yield database
    database.dispose()
