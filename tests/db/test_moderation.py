"""Moderation (db/moderation.py): feature, unfeature, move, hide, suspend, and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from papertide.db import Database, comments, moderation, queries, writes
from papertide.db.moderation import Actor, ModerationError
from papertide.db.schema import daily_entry, user
from papertide.models import DailyRecord, PaperRecord, Submitter

NOW = dt.datetime(2026, 9, 1, 12, 0)
DAY, OTHER = dt.date(2026, 9, 1), dt.date(2026, 9, 2)


@pytest.fixture
def curator(db: Database) -> Actor:
    with db.write() as conn:
        writes.upsert_papers(
            conn, [PaperRecord("2608.00001", title="A"), PaperRecord("2608.00002", title="B")]
        )
        ids = writes.ensure_users(conn, [Submitter("cur"), Submitter("ada"), Submitter("boss")])
        conn.execute(user.update().where(user.c.id == ids["cur"]).values(role="curator"))
        conn.execute(user.update().where(user.c.id == ids["boss"]).values(role="admin"))
    return Actor(ids["cur"], "cur")


def _days(conn: sa.Connection, paper_id: str) -> list[dt.date]:
    rows = conn.execute(sa.select(daily_entry.c.date).where(daily_entry.c.paper_id == paper_id))
    return sorted(row.date for row in rows)


def test_feature_move_unfeature_with_an_audit_trail(db: Database, curator: Actor) -> None:
    with db.write() as conn:
        version = queries.content_version(conn)
        moderation.feature(conn, curator, "2608.00001", DAY, NOW)
        assert queries.content_version(conn) > version
        with pytest.raises(ModerationError, match="already featured on 2026-09-01: move it"):
            moderation.feature(conn, curator, "2608.00001", OTHER, NOW)
        moderation.move(conn, curator, "2608.00001", OTHER, NOW)
        assert _days(conn, "2608.00001") == [OTHER]
        with pytest.raises(ModerationError, match="already featured on 2026-09-02"):
            moderation.move(conn, curator, "2608.00001", OTHER, NOW)
        moderation.unfeature(conn, curator, "2608.00001", NOW)
        assert _days(conn, "2608.00001") == []
        for call, message in (
            (lambda: moderation.unfeature(conn, curator, "2608.00001", NOW), "is not featured"),
            (lambda: moderation.move(conn, curator, "2608.00002", DAY, NOW), "feature it instead"),
            (lambda: moderation.feature(conn, curator, "2699.00001", DAY, NOW), "no paper"),
        ):
            with pytest.raises(ModerationError, match=message):
                call()
        log = moderation.recent_actions(conn)
    assert [(a.action, a.target, a.detail) for a in log] == [
        ("unfeature", "2608.00001", "was on 2026-09-02"),
        ("move", "2608.00001", "from 2026-09-01 to 2026-09-02"),
        ("feature", "2608.00001", "on 2026-09-01"),
    ]
    assert {a.actor for a in log} == {"cur"}


def test_moving_keeps_the_submitter_and_comment(db: Database, curator: Actor) -> None:
    with db.write() as conn:
        writes.add_daily_entries(
            conn, [DailyRecord("2608.00002", DAY, NOW, Submitter("ada"), comment="Great")]
        )
        moderation.move(conn, curator, "2608.00002", OTHER, NOW)
    with db.read() as conn:
        detail = queries.get_paper(conn, "2608.00002")
    assert detail is not None
    (featuring,) = detail.featured
    assert (featuring.date, featuring.submitted_by, featuring.comment) == (OTHER, "ada", "Great")


def test_hide_and_suspend(db: Database, curator: Actor) -> None:
    with db.write() as conn:
        ada = conn.execute(sa.select(user.c.id).where(user.c.username == "ada")).scalar_one()
        spam = comments.add_comment(conn, "2608.00001", ada, "spam", NOW)
        moderation.hide_comment(conn, curator, spam, True, NOW)
        with pytest.raises(ModerationError, match="no comment 999"):
            moderation.hide_comment(conn, curator, 999, True, NOW)
        moderation.suspend(conn, curator, "ADA", True, NOW, reason="spam")
        suspended = conn.execute(sa.select(user.c.suspended_at).where(user.c.id == ada)).scalar()
        assert suspended == NOW
        for name, message in (
            ("cur", "your own account"),
            ("boss", "admins cannot"),
            ("zed", "no account"),
        ):
            with pytest.raises(ModerationError, match=message):
                moderation.suspend(conn, curator, name, True, NOW)
        moderation.suspend(conn, curator, "ada", False, NOW)
        log = [(a.action, a.target, a.detail) for a in moderation.recent_actions(conn)]
    assert log == [
        ("unsuspend", "user:ada", None),
        ("suspend", "user:ada", "spam"),
        ("hide", f"comment:{spam}", None),
    ]
    with db.read() as conn:
        assert comments.thread(conn, "2608.00001") == []
