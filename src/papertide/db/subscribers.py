"""Digest subscribers (issue #6): the SQL behind subscribing, confirming, preferences,
unsubscribing and suppression.

`email_key` (the whole address, lowercased) is unique, so two spellings of one address are one
subscriber. A confirmation token is stored only as its SHA-256 (`confirm_token_hash`), and
confirming clears it in the same UPDATE that checks it, so a token works once.
Statuses: pending -> confirmed <-> paused; any -> unsubscribed | suppressed. Only `confirmed`
subscribers receive digests (the sender re-checks `status()` before each message).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import subscriber

STATUSES = ("pending", "confirmed", "paused", "unsubscribed", "suppressed")


class SubscriberExists(Exception):
    """The email key is already taken (a concurrent subscribe won the race)."""


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One row of `subscriber`, as the domain code reads it."""

    id: int
    email: str
    email_key: str
    user_id: int | None
    frequency: str
    topics: dict[str, Any]
    status: str
    token_salt: str
    confirm_expires_at: dt.datetime | None
    confirmations_sent: int
    last_confirmation_at: dt.datetime | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    status_changed_at: dt.datetime | None
    suppressed_reason: str | None


_COLUMNS = (
    subscriber.c.id,
    subscriber.c.email,
    subscriber.c.email_key,
    subscriber.c.user_id,
    subscriber.c.frequency,
    subscriber.c.topics,
    subscriber.c.status,
    subscriber.c.token_salt,
    subscriber.c.confirm_expires_at,
    subscriber.c.confirmations_sent,
    subscriber.c.last_confirmation_at,
    subscriber.c.created_at,
    subscriber.c.confirmed_at,
    subscriber.c.status_changed_at,
    subscriber.c.suppressed_reason,
)


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(**{column.name: getattr(row, column.name) for column in _COLUMNS})


def by_id(conn: sa.Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(sa.select(*_COLUMNS).where(subscriber.c.id == subscriber_id)).first()
    return _subscriber(row) if row else None


def by_email_key(conn: sa.Connection, email_key: str) -> Subscriber | None:
    row = conn.execute(sa.select(*_COLUMNS).where(subscriber.c.email_key == email_key)).first()
    return _subscriber(row) if row else None


def for_user(conn: sa.Connection, user_id: int) -> Subscriber | None:
    """A member's own subscription (the newest, if they made several), unsubscribed or not."""
    query = (
        sa.select(*_COLUMNS)
        .where(subscriber.c.user_id == user_id)
        .order_by(subscriber.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return _subscriber(row) if row else None


def status(conn: sa.Connection, subscriber_id: int) -> str | None:
    """The subscriber's status now (None if deleted): the sender checks it before each send."""
    return conn.execute(
        sa.select(subscriber.c.status).where(subscriber.c.id == subscriber_id)
    ).scalar_one_or_none()


def create(
    conn: sa.Connection,
    *,
    email: str,
    email_key: str,
    frequency: str,
    topics: dict[str, Any],
    user_id: int | None,
    token_salt: str,
    confirm_token_hash: str,
    confirm_expires_at: dt.datetime,
    now: dt.datetime,
) -> int:
    """Insert a pending subscriber with one confirmation sent; SubscriberExists on a race
    (the transaction is then unusable on PostgreSQL: retry in a new one)."""
    values = {
        "email": email,
        "email_key": email_key,
        "frequency": frequency,
        "topics": topics,
        "user_id": user_id,
        "status": "pending",
        "token_salt": token_salt,
        "confirm_token_hash": confirm_token_hash,
        "confirm_expires_at": confirm_expires_at,
        "confirmations_sent": 1,
        "last_confirmation_at": now,
        "created_at": now,
        "status_changed_at": now,
    }
    try:
        key = conn.execute(subscriber.insert().values(**values)).inserted_primary_key
    except sa.exc.IntegrityError as exc:
        raise SubscriberExists(email_key) from exc
    assert key is not None
    return int(key[0])


def count_confirmation(
    conn: sa.Connection,
    subscriber_id: int,
    *,
    sent_today: int,
    now: dt.datetime,
    confirm_token_hash: str | None = None,
    confirm_expires_at: dt.datetime | None = None,
) -> None:
    """Record one more confirmation (or preferences-link) mail, with its new token if any."""
    values: dict[str, Any] = {"confirmations_sent": sent_today, "last_confirmation_at": now}
    if confirm_token_hash is not None:
        values |= {
            "confirm_token_hash": confirm_token_hash,
            "confirm_expires_at": confirm_expires_at,
        }
    conn.execute(subscriber.update().where(subscriber.c.id == subscriber_id).values(**values))


def reopen(
    conn: sa.Connection,
    subscriber_id: int,
    *,
    frequency: str,
    topics: dict[str, Any],
    user_id: int | None,
    now: dt.datetime,
) -> None:
    """Back to pending with new preferences (a re-subscribe of a pending or unsubscribed
    address; confirming is still needed, and nothing is sent before it)."""
    values: dict[str, Any] = {"frequency": frequency, "topics": topics, "status": "pending"}
    if user_id is not None:
        values["user_id"] = user_id
    current = status(conn, subscriber_id)
    if current != "pending":
        values["status_changed_at"] = now
    conn.execute(
        subscriber.update()
        .where(
            subscriber.c.id == subscriber_id, subscriber.c.status.in_(("pending", "unsubscribed"))
        )
        .values(**values)
    )


def pending_by_token_hash(conn: sa.Connection, token_hash: str) -> Subscriber | None:
    """The pending subscriber whose confirmation token has this hash (expired or not)."""
    row = conn.execute(
        sa.select(*_COLUMNS).where(
            subscriber.c.confirm_token_hash == token_hash, subscriber.c.status == "pending"
        )
    ).first()
    return _subscriber(row) if row else None


def confirm(conn: sa.Connection, token_hash: str, now: dt.datetime) -> int | None:
    """Confirm the pending subscriber holding this unexpired token, and spend the token, in one
    UPDATE (two concurrent confirmations cannot both win). The subscriber's id, or None."""
    confirmed = conn.execute(
        subscriber.update()
        .where(
            subscriber.c.confirm_token_hash == token_hash,
            subscriber.c.status == "pending",
            subscriber.c.confirm_expires_at > now,
        )
        .values(
            status="confirmed",
            confirm_token_hash=None,
            confirm_expires_at=None,
            confirmed_at=now,
            status_changed_at=now,
        )
        .returning(subscriber.c.id)
    ).scalar_one_or_none()
    return int(confirmed) if confirmed is not None else None


def update_preferences(
    conn: sa.Connection, subscriber_id: int, frequency: str, topics: dict[str, Any]
) -> bool:
    """Change frequency and topics (not of an unsubscribed or suppressed subscriber)."""
    result = conn.execute(
        subscriber.update()
        .where(
            subscriber.c.id == subscriber_id,
            subscriber.c.status.in_(("pending", "confirmed", "paused")),
        )
        .values(frequency=frequency, topics=topics)
    )
    return result.rowcount > 0


def _move(
    conn: sa.Connection, subscriber_id: int, from_: tuple[str, ...], to: str, now: dt.datetime
) -> bool:
    result = conn.execute(
        subscriber.update()
        .where(subscriber.c.id == subscriber_id, subscriber.c.status.in_(from_))
        .values(status=to, status_changed_at=now)
    )
    return result.rowcount > 0


def pause(conn: sa.Connection, subscriber_id: int, now: dt.datetime) -> bool:
    """Confirmed -> paused: no digests until resumed."""
    return _move(conn, subscriber_id, ("confirmed",), "paused", now)


def resume(conn: sa.Connection, subscriber_id: int, now: dt.datetime) -> bool:
    """Paused -> confirmed."""
    return _move(conn, subscriber_id, ("paused",), "confirmed", now)


def unsubscribe(conn: sa.Connection, subscriber_id: int, now: dt.datetime) -> bool:
    """Pending, confirmed or paused -> unsubscribed (and any confirmation token is spent).
    False when already unsubscribed or suppressed: nothing changes then."""
    result = conn.execute(
        subscriber.update()
        .where(
            subscriber.c.id == subscriber_id,
            subscriber.c.status.in_(("pending", "confirmed", "paused")),
        )
        .values(
            status="unsubscribed",
            status_changed_at=now,
            confirm_token_hash=None,
            confirm_expires_at=None,
        )
    )
    return result.rowcount > 0


def suppress(conn: sa.Connection, who: int | str, reason: str, now: dt.datetime) -> bool:
    """Stop all mail to a subscriber (by id, or by email address in any case) after a permanent
    failure, bounce or complaint. True when a subscriber was found (suppressed already or not)."""
    where = (
        subscriber.c.id == who
        if isinstance(who, int)
        else subscriber.c.email_key == who.strip().lower()
    )
    result = conn.execute(
        subscriber.update()
        .where(where, subscriber.c.status != "suppressed")
        .values(
            status="suppressed",
            suppressed_reason=reason,
            status_changed_at=now,
            confirm_token_hash=None,
            confirm_expires_at=None,
        )
    )
    if result.rowcount > 0:
        return True
    return conn.execute(sa.select(subscriber.c.id).where(where)).first() is not None
