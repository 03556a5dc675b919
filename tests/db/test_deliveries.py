"""The sender's plain driver statements do what the Core versions do, to the stored bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from tests.backends import this_tests_database

from papertide.db import Database
from papertide.db import deliveries as ledger
from papertide.db.migrate import upgrade
from papertide.db.schema import delivery, edition, subscriber

NOW = dt.datetime(2026, 11, 27, 7, 0, 3, 120)
Row = tuple[str, str, dt.datetime | None, dt.datetime | None]  # subscriber status, delivery
# status, claimed_at, next_attempt_at


def seeded(tmp_path: Path, rows: dict[int, Row], topics: object = None) -> Database:
    """Edition 1 with delivery n to subscriber n for each row."""
    db = Database(this_tests_database(f"sqlite:///{tmp_path / 'papertide.db'}"))
    upgrade(db)
    with db.write() as conn:
        conn.execute(
            subscriber.insert(),
            [{"id": n, "email": f"r{n}@example.org", "email_key": f"r{n}@example.org",
              "topics": topics or {}, "status": row[0], "token_salt": f"salt{n}",
              "created_at": NOW} for n, row in rows.items()],
        )  # fmt: skip
        conn.execute(
            edition.insert().values(
                id=1, kind="daily", period="2026-11-27", papers=[], built_at=NOW
            )
        )
        conn.execute(
            delivery.insert(),
            [{"id": n, "edition_id": 1, "subscriber_id": n, "papers": [], "status": status,
              "claimed_by": "other" if claimed_at else None, "claimed_at": claimed_at,
              "next_attempt_at": retry} for n, (_, status, claimed_at, retry) in rows.items()],
        )  # fmt: skip
    return db


def test_send_statements_match_the_core_ones(tmp_path: Path) -> None:
    topics = {"categories": ["cs.LG"], "keywords": ["diffusion “models”"], "like_upvotes": True}
    rows: dict[int, Row] = {
        1: ("confirmed", "claimed", NOW, None),
        2: ("unsubscribed", "claimed", NOW, None),
    }
    db = seeded(tmp_path, rows, topics)

    with db.engine.connect() as conn:
        statements = ledger.SendStatements(conn)
        with conn.begin():
            for subscriber_id in (1, 2, 3):
                expected = ledger.recipient(conn, subscriber_id)
                assert statements.recipient(subscriber_id) == expected
            assert statements.recipient(1) is not None
            assert statements.recipient(1).topics == topics  # type: ignore[union-attr]
        with conn.begin():
            assert ledger.renew(conn, 1, "other", NOW + dt.timedelta(seconds=1))
            assert statements.renew(2, "other", NOW + dt.timedelta(seconds=1))
            renewed = conn.exec_driver_sql("SELECT claimed_at FROM delivery ORDER BY id").all()
        assert renewed[0] == renewed[1] == (_as_stored(db, "2026-11-27 07:00:04.000120"),)
        with conn.begin():
            assert ledger.mark_sent(conn, 1, "other", "<a@x>", NOW)
            assert statements.mark_sent(2, "other", "<a@x>", NOW)
        with conn.begin():  # never steps back from sent, nor changes a sent row
            assert not statements.mark_sent(2, "other", "<other@x>", NOW + dt.timedelta(hours=1))
            assert not statements.renew(2, "other", NOW + dt.timedelta(hours=1))
        stored = conn.exec_driver_sql(
            "SELECT status, sent_at, message_id, last_error, claimed_by, claimed_at "
            "FROM delivery ORDER BY id"
        ).all()
    assert stored[0] == stored[1]
    sent_at = _as_stored(db, "2026-11-27 07:00:03.000120")
    assert stored[0] == ("sent", sent_at, "<a@x>", None, None, None)
    db.dispose()


def _as_stored(db: Database, moment: str) -> object:
    """A time as the Core statements store it: SQLite's text, PostgreSQL's timestamp."""
    return dt.datetime.fromisoformat(moment) if db.dialect == "postgresql" else moment


def test_only_the_owner_of_a_claim_renews_or_ends_it(tmp_path: Path) -> None:
    """After another sender took a delivery over, its first sender can neither send it (renew
    fails) nor record anything on it (issue #10)."""
    rows: dict[int, Row] = {n: ("confirmed", "claimed", NOW, None) for n in range(1, 6)}
    rows[6] = ("confirmed", "pending", None, None)
    db = seeded(tmp_path, rows)  # all claimed by "other"
    later = NOW + dt.timedelta(minutes=1)
    retry_at = NOW + dt.timedelta(hours=1)
    with db.write() as conn:
        conn.execute(delivery.update().where(delivery.c.status == "claimed").values(attempts=1))
        statements = ledger.SendStatements(conn)
        assert not ledger.renew(conn, 1, "me", later)
        assert not statements.renew(1, "me", later)
        assert not ledger.mark_sent(conn, 1, "me", "<a@x>", later)
        assert not statements.mark_sent(2, "me", "<a@x>", later)
        assert not ledger.mark_retry(conn, 3, "me", "451 later", retry_at)
        assert not ledger.mark_done(conn, 4, "me", "suppressed", "550 no")
        assert ledger.release(conn, [1, 2, 3, 4, 5, 6], "me") == 0
        assert not ledger.renew(conn, 6, "other", later)  # pending: nobody's claim
    with db.read() as conn:
        untouched = conn.execute(
            sa.select(delivery.c.status, delivery.c.claimed_by, delivery.c.claimed_at)
            .order_by(delivery.c.id)
        ).all()
    assert untouched == [("claimed", "other", NOW)] * 5 + [("pending", None, None)]

    with db.write() as conn:
        assert ledger.renew(conn, 1, "other", later)
        assert ledger.mark_retry(conn, 2, "other", "451 later", retry_at)
        assert ledger.mark_done(conn, 3, "other", "suppressed", "550 no")
        assert ledger.release(conn, [4, 5], "other") == 2
    with db.read() as conn:
        after = conn.execute(
            sa.select(
                delivery.c.status, delivery.c.claimed_by, delivery.c.claimed_at,
                delivery.c.next_attempt_at, delivery.c.attempts,
            ).order_by(delivery.c.id)
        ).all()  # fmt: skip
    assert after[:5] == [
        ("claimed", "other", later, None, 1),
        ("pending", None, None, retry_at, 1),
        ("suppressed", None, None, None, 1),
        ("pending", None, None, None, 0),  # given back: the attempt is not counted
        ("pending", None, None, None, 0),
    ]
    db.dispose()


def test_claim_takes_expired_claims_then_due_ones_up_to_the_limit(tmp_path: Path) -> None:
    lease = dt.timedelta(minutes=5)
    rows: dict[int, Row] = {
        1: ("confirmed", "sent", None, None),
        2: ("confirmed", "pending", None, NOW + dt.timedelta(minutes=1)),  # a retry not due yet
        3: ("confirmed", "claimed", NOW - dt.timedelta(minutes=1), None),  # another's, fresh
        4: ("confirmed", "pending", None, None),
        5: ("confirmed", "pending", None, NOW - dt.timedelta(seconds=1)),  # a retry now due
        6: ("confirmed", "claimed", NOW - dt.timedelta(minutes=6), None),  # a crashed sender's
        7: ("confirmed", "pending", None, None),
    }
    db = seeded(tmp_path, rows)
    with db.write() as conn:
        first = ledger.claim(conn, 1, "me", NOW, 3, lease)
    with db.write() as conn:
        rest = ledger.claim(conn, 1, "me", NOW, 10, lease)
    with db.write() as conn:
        none_left = ledger.claim(conn, 1, "me", NOW, 10, lease)
    assert [c.id for c in first] == [4, 5, 6]  # the expired claim first, then in id order
    assert [c.id for c in rest] == [7]
    assert none_left == []
    assert {c.id: c.attempts for c in first} == {4: 1, 5: 1, 6: 1}
    db.dispose()
