"""Helpers for the accounts tests: accounts and papers in a fresh database."""

from __future__ import annotations

import datetime as dt

import pytest

from papertide.auth import accounts
from papertide.db import Database, writes
from papertide.models import Account, DailyRecord, PaperRecord, Submitter

PASSWORD = "tide pools at dawn"


def make_account(db: Database, username: str = "alice", role: str = "member") -> Account:
    """A local account with PASSWORD."""
    return accounts.sign_up(
        db,
        username,
        f"{username}@example.org",
        PASSWORD,
        min_password_length=10,
        role=role,
        allow_reserved=True,
    )


def add_papers(db: Database) -> list[str]:
    """Two papers, the first (92 imported upvotes) featured by the imported HF user `akhaliq`."""
    records = [
        PaperRecord("2608.16590", title="Zetta", upvotes=92),
        PaperRecord("2608.00001", title="Alpha", upvotes=0),
    ]
    entry = DailyRecord(
        "2608.16590", dt.date(2026, 8, 20), dt.datetime(2026, 8, 20, 6), Submitter("akhaliq")
    )
    with db.write() as conn:
        writes.write_batch(conn, records, [entry])
    return [r.arxiv_id for r in records]


@pytest.fixture
def papers(db: Database) -> list[str]:
    """The ids of `add_papers`."""
    return add_papers(db)
