"""Subscriber rows: unique keys, single-use confirmation, status moves, suppression."""

from __future__ import annotations

import datetime as dt

import pytest

from papertide.db import Database
from papertide.db import subscribers as rows
from papertide.db.subscribers import SubscriberExists

NOW = dt.datetime(2026, 11, 27, 9)
TOPICS = {"categories": ["cs.LG"], "keywords": [], "search": "", "like_upvotes": False}


def add(db: Database, email: str = "Ann@example.org", token_hash: str = "h1") -> int:
    with db.write() as conn:
        return rows.create(
            conn,
            email=email,
            email_key=email.lower(),
            frequency="daily",
            topics=TOPICS,
            user_id=None,
            token_salt="salt",
            confirm_token_hash=token_hash,
            confirm_expires_at=NOW + dt.timedelta(hours=48),
            now=NOW,
        )


def test_create_and_read_back(db: Database) -> None:
    subscriber_id = add(db)
    with db.read() as conn:
        found = rows.by_id(conn, subscriber_id)
        assert rows.by_email_key(conn, "ann@example.org") == found
        assert rows.status(conn, subscriber_id) == "pending"
        assert rows.status(conn, subscriber_id + 1) is None
    assert found is not None
    assert (found.email, found.topics, found.confirmations_sent) == ("Ann@example.org", TOPICS, 1)


def test_one_row_per_email_key(db: Database) -> None:
    add(db)
    with pytest.raises(SubscriberExists):
        add(db, "ANN@example.org", token_hash="h2")


def test_confirm_is_single_use_and_expires(db: Database) -> None:
    subscriber_id = add(db)
    later = NOW + dt.timedelta(hours=49)
    with db.write() as conn:
        assert rows.confirm(conn, "h1", later) is None  # expired
        assert rows.confirm(conn, "wrong", NOW) is None
        assert rows.confirm(conn, "h1", NOW) == subscriber_id
        assert rows.confirm(conn, "h1", NOW) is None  # spent
        found = rows.by_id(conn, subscriber_id)
    assert found is not None
    assert (found.status, found.confirmed_at, found.confirm_expires_at) == ("confirmed", NOW, None)


def test_pause_resume_unsubscribe(db: Database) -> None:
    subscriber_id = add(db)
    with db.write() as conn:
        assert not rows.pause(conn, subscriber_id, NOW)  # pending cannot pause
        rows.confirm(conn, "h1", NOW)
        assert rows.pause(conn, subscriber_id, NOW)
        assert rows.status(conn, subscriber_id) == "paused"
        assert rows.resume(conn, subscriber_id, NOW)
        assert rows.unsubscribe(conn, subscriber_id, NOW)
        assert not rows.unsubscribe(conn, subscriber_id, NOW)
        assert not rows.update_preferences(conn, subscriber_id, "weekly", TOPICS)
        assert rows.status(conn, subscriber_id) == "unsubscribed"


def test_reopen_only_pending_or_unsubscribed(db: Database) -> None:
    subscriber_id = add(db)
    weekly = {**TOPICS, "keywords": ["graphs"]}
    with db.write() as conn:
        rows.confirm(conn, "h1", NOW)
        rows.reopen(conn, subscriber_id, frequency="weekly", topics=weekly, user_id=None, now=NOW)
        found = rows.by_id(conn, subscriber_id)
        assert found is not None and (found.status, found.frequency) == ("confirmed", "daily")
        rows.unsubscribe(conn, subscriber_id, NOW)
        rows.reopen(conn, subscriber_id, frequency="weekly", topics=weekly, user_id=None, now=NOW)
        found = rows.by_id(conn, subscriber_id)
    assert found is not None
    assert (found.status, found.frequency, found.topics) == ("pending", "weekly", weekly)


def test_suppress_by_id_or_address(db: Database) -> None:
    first, second = add(db), add(db, "bob@example.org", token_hash="h2")
    with db.write() as conn:
        assert rows.suppress(conn, first, "550 no such user", NOW)
        assert rows.suppress(conn, " BOB@Example.org ", "complaint", NOW)
        assert rows.suppress(conn, first, "again", NOW)  # found, already suppressed
        assert not rows.suppress(conn, "nobody@example.org", "550", NOW)
        assert not rows.unsubscribe(conn, first, NOW)
        one, two = rows.by_id(conn, first), rows.by_id(conn, second)
    assert one is not None and two is not None
    assert (one.status, one.suppressed_reason) == ("suppressed", "550 no such user")
    assert (two.status, two.suppressed_reason) == ("suppressed", "complaint")
    with db.write() as conn:  # a suppressed subscriber's pending token no longer confirms
        assert rows.confirm(conn, "h2", NOW) is None
