"""Comments (db/comments.py): one level of replies, author edits and deletes, curator hiding."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from papertide.db import Database, comments, queries, writes
from papertide.db.comments import CommentError
from papertide.models import PaperRecord, Submitter

NOW = dt.datetime(2026, 9, 1, 12, 0)


@pytest.fixture
def people(db: Database) -> dict[str, int]:
    with db.write() as conn:
        writes.upsert_papers(
            conn, [PaperRecord("2601.00001", title="A"), PaperRecord("2601.00002", title="B")]
        )
        return writes.ensure_users(conn, [Submitter("ada"), Submitter("bob")])


def _card_comments(conn: sa.Connection, paper_id: str) -> int:
    return queries.cards_by_ids(conn, [paper_id])[0].num_comments


def test_replies_are_one_level_deep(db: Database, people: dict[str, int]) -> None:
    with db.write() as conn:
        first = comments.add_comment(conn, "2601.00001", people["ada"], "Nice *work*", NOW)
        reply = comments.add_comment(conn, "2601.00001", people["bob"], "Agreed", NOW, first)
        deeper = comments.add_comment(conn, "2601.00001", people["ada"], "Thanks", NOW, reply)
        comments.add_comment(conn, "2601.00001", people["bob"], "Second thread", NOW)
    with db.read() as conn:
        threads = comments.thread(conn, "2601.00001")
        assert [t.body for t in threads] == ["Nice *work*", "Second thread"]
        assert [r.id for r in threads[0].replies] == [reply, deeper]
        assert threads[0].replies[1].parent_id == first
        assert threads[0].username == "ada"
        assert _card_comments(conn, "2601.00001") == 4


@pytest.mark.parametrize(
    ("paper_id", "body", "parent", "message"),
    [
        ("2601.00001", "   ", None, "cannot be empty"),
        ("2601.00001", "x" * 10_001, None, "at most 10,000"),
        ("2699.99999", "hello", None, "no paper 2699.99999"),
        ("2601.00002", "hello", "first", "not on this paper"),
        ("2601.00001", "hello", 12345, "not on this paper"),
    ],
)
def test_bad_comments_are_refused(
    db: Database, people: dict[str, int], paper_id: str, body: str, parent: object, message: str
) -> None:
    with db.write() as conn:
        first = comments.add_comment(conn, "2601.00001", people["ada"], "First", NOW)
        parent_id = first if parent == "first" else parent
        with pytest.raises(CommentError, match=message):
            comments.add_comment(conn, paper_id, people["bob"], body, NOW, parent_id)  # type: ignore[arg-type]


def test_only_the_author_edits_and_deletes(db: Database, people: dict[str, int]) -> None:
    with db.write() as conn:
        mine = comments.add_comment(conn, "2601.00001", people["ada"], "Draft", NOW)
        assert not comments.edit_comment(conn, mine, people["bob"], "Hijacked", NOW)
        assert comments.edit_comment(conn, mine, people["ada"], "Final", NOW)
        assert not comments.delete_comment(conn, mine, people["bob"])
    with db.read() as conn:
        view = comments.get_comment(conn, mine)
        assert view is not None and (view.body, view.edited_at) == ("Final", NOW)
    with db.write() as conn:
        assert comments.delete_comment(conn, mine, people["ada"])
    with db.read() as conn:
        assert comments.get_comment(conn, mine) is None
        assert comments.thread(conn, "2601.00001") == []


def test_a_deleted_comment_with_replies_keeps_its_thread(
    db: Database, people: dict[str, int]
) -> None:
    with db.write() as conn:
        first = comments.add_comment(conn, "2601.00001", people["ada"], "Question", NOW)
        comments.add_comment(conn, "2601.00001", people["bob"], "Answer", NOW, first)
        assert comments.delete_comment(conn, first, people["ada"])
    with db.read() as conn:
        (top,) = comments.thread(conn, "2601.00001")
        assert top.deleted and top.username is None
        assert [r.body for r in top.replies] == ["Answer"]


def test_curators_hide_and_show(db: Database, people: dict[str, int]) -> None:
    with db.write() as conn:
        spam = comments.add_comment(conn, "2601.00001", people["bob"], "Buy now", NOW)
        version = queries.content_version(conn)
        assert comments.set_hidden(conn, spam, True)
        assert queries.content_version(conn) == version + 1
        assert not comments.set_hidden(conn, 999, True)
    with db.read() as conn:
        assert comments.thread(conn, "2601.00001") == []
        assert [c.hidden for c in comments.thread(conn, "2601.00001", include_hidden=True)] == [
            True
        ]
        assert _card_comments(conn, "2601.00001") == 0
        assert comments.by_user(conn, people["bob"]) == []
    with db.write() as conn:
        comments.set_hidden(conn, spam, False)
    with db.read() as conn:
        assert [c.body for c in comments.by_user(conn, people["bob"])] == ["Buy now"]
