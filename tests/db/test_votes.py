"""Upvotes: one per user and paper, counted with the imported count, safe under a race."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from tests.auth.conftest import add_papers, make_account

from papertide.db import Database, queries, votes
from papertide.db.schema import upvote

NOW = dt.datetime(2026, 8, 21, 12)


@pytest.fixture
def papers(db: Database) -> list[str]:
    return add_papers(db)


def test_a_vote_is_a_state_not_a_toggle(db: Database, papers: list[str]) -> None:
    alice = make_account(db)
    with db.write() as conn:
        first = votes.set_upvote(conn, alice.id, papers[0], True, NOW)
        again = votes.set_upvote(conn, alice.id, papers[0], True, NOW)
    assert (first.upvoted, first.upvotes, first.changed) == (True, 93, True)
    assert (again.upvoted, again.upvotes, again.changed) == (True, 93, False)
    with db.write() as conn:
        off = votes.set_upvote(conn, alice.id, papers[0], False, NOW)
        off_again = votes.set_upvote(conn, alice.id, papers[0], False, NOW)
    assert (off.upvoted, off.upvotes, off.changed) == (False, 92, True)
    assert off_again.changed is False


def test_only_changes_bump_the_content_version(db: Database, papers: list[str]) -> None:
    alice = make_account(db)
    with db.write() as conn:
        start = queries.content_version(conn)
        votes.set_upvote(conn, alice.id, papers[1], True, NOW)
        after_vote = queries.content_version(conn)
        votes.set_upvote(conn, alice.id, papers[1], True, NOW)
        assert queries.content_version(conn) == after_vote == start + 1


def test_unknown_paper(db: Database, papers: list[str]) -> None:
    alice = make_account(db)
    with pytest.raises(votes.UnknownPaper), db.write() as conn:
        votes.set_upvote(conn, alice.id, "2401.99999", True, NOW)
    with pytest.raises(votes.UnknownPaper), db.write() as conn:
        votes.set_upvote(conn, alice.id, "2401.99999", False, NOW)


def test_a_users_votes_newest_first(db: Database, papers: list[str]) -> None:
    alice = make_account(db)
    with db.write() as conn:
        votes.set_upvote(conn, alice.id, papers[0], True, NOW)
        votes.set_upvote(conn, alice.id, papers[1], True, NOW + dt.timedelta(minutes=1))
    with db.read() as conn:
        assert votes.recent_upvotes(conn, alice.id, 10) == (papers[::-1], 2)
        assert votes.recent_upvotes(conn, alice.id, 1, offset=1) == ([papers[0]], 2)
        assert votes.upvoted_ids(conn, alice.id) == set(papers)


def test_fifty_parallel_votes_by_one_user_count_once(db: Database, papers: list[str]) -> None:
    """Real threads, each with its own connection, against a real SQLite file (WAL)."""
    alice = make_account(db)
    start = threading.Barrier(50)

    def vote(_: int) -> bool:
        start.wait()  # all fifty write at once
        with db.write() as conn:
            return votes.set_upvote(conn, alice.id, papers[0], True, NOW).changed

    with ThreadPoolExecutor(max_workers=50) as pool:
        changed = list(pool.map(vote, range(50)))
    assert changed.count(True) == 1
    with db.read() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(upvote)).scalar_one()
        detail = queries.get_paper(conn, papers[0])
    assert rows == 1
    assert detail is not None and detail.upvotes == 92 + 1
