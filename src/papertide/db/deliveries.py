"""The delivery ledger (issue #6): claiming, recording and counting digest deliveries.

pending -> claimed -> sent | failed | suppressed | skipped. A sender claims a small batch in
one UPDATE that re-checks `status = 'pending'` (PostgreSQL adds FOR UPDATE SKIP LOCKED; SQLite
serialises writers), so two senders never hold the same row. A claim older than the lease is
taken to be a crashed sender's and is claimed again. So that a slow sender, not a crashed one,
never sends what another has taken over, a sender renews its claim right before each message
(`renew`: one UPDATE that checks it is still the owner) and every update that ends a claim
checks the owner too (issue #10): a message then goes out twice only if its sender died (or
ran past the lease, which the settings keep longer than one message's worst case) between
handing it over and recording it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import delivery, edition, subscriber

DONE_STATUSES = ("sent", "failed", "suppressed", "skipped")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery with what sending it needs."""

    id: int
    edition_id: int
    subscriber_id: int
    papers: list[str]
    attempts: int  # including this one


@dataclass(frozen=True, slots=True)
class Recipient:
    """A subscriber as the sender sees them at send time."""

    id: int
    email: str
    status: str
    token_salt: str
    topics: Any  # the JSON as stored


@dataclass(frozen=True, slots=True)
class EditionCounts:
    """An edition and how its deliveries stand."""

    id: int
    kind: str
    period: str
    status: str
    built_at: dt.datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __getitem__(self, status: str) -> int:
        return self.counts.get(status, 0)


_RECIPIENT = (
    subscriber.c.id,
    subscriber.c.email,
    subscriber.c.status,
    subscriber.c.token_salt,
    subscriber.c.topics,
)


def _recipient(row: Any) -> Recipient:
    return Recipient(row.id, row.email, row.status, row.token_salt, row.topics)


def _due(edition_id: int, now: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        delivery.c.edition_id == edition_id,
        delivery.c.status == "pending",
        sa.or_(delivery.c.next_attempt_at.is_(None), delivery.c.next_attempt_at <= now),
    )


def _abandoned(edition_id: int, now: dt.datetime, lease: dt.timedelta) -> sa.ColumnElement[bool]:
    return sa.and_(
        delivery.c.edition_id == edition_id,
        delivery.c.status == "claimed",
        delivery.c.claimed_at < now - lease,
    )


def claim(
    conn: sa.Connection,
    edition_id: int,
    worker: str,
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta,
) -> list[Claimed]:
    """Claim up to `limit` due deliveries of the edition for `worker` (atomically): claims
    whose lease ran out first (a crashed sender's), then pending ones in id order.

    Two statements, each with one status: a single one with `pending OR claimed` could not
    use the (edition_id, status) index in id order, and read the whole edition for every
    batch (quadratic over an edition: 4 ms a claim at 10,000 subscribers)."""
    claimed = _claim_where(conn, _abandoned(edition_id, now, lease), worker, now, limit)
    if len(claimed) < limit:
        claimed += _claim_where(conn, _due(edition_id, now), worker, now, limit - len(claimed))
    return sorted(claimed, key=lambda c: c.id)


def _claim_where(
    conn: sa.Connection,
    condition: sa.ColumnElement[bool],
    worker: str,
    now: dt.datetime,
    limit: int,
) -> list[Claimed]:
    chosen = (
        sa.select(delivery.c.id)
        .where(condition)
        .order_by(delivery.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    picked: sa.ColumnElement[bool]
    if conn.dialect.name == "postgresql":
        # In a CTE the candidates are chosen (and locked) once. As an `IN (subquery)` the
        # planner may run the subquery again for every row it looks at, and each run skips
        # the rows the previous one locked: one claim took 295 of 300 pending deliveries,
        # leaving a second worker nothing to send (tests/test_multi_host.py).
        candidates = chosen.cte("candidates")
        picked = delivery.c.id == candidates.c.id
    else:
        picked = delivery.c.id.in_(chosen.scalar_subquery())
    rows = conn.execute(
        delivery.update()
        .where(picked, condition)
        .values(
            status="claimed",
            claimed_by=worker,
            claimed_at=now,
            attempts=delivery.c.attempts + 1,
        )
        .returning(
            delivery.c.id,
            delivery.c.edition_id,
            delivery.c.subscriber_id,
            delivery.c.papers,
            delivery.c.attempts,
        )
    ).all()
    return [Claimed(*row) for row in rows]


# Built once: the sender runs these per message, and building a statement costs more than
# running it on SQLite.
_RECIPIENT_BY_ID = sa.select(*_RECIPIENT).where(subscriber.c.id == sa.bindparam("subscriber_id"))
# The delivery is still claimed, by this owner.
_OWNED = sa.and_(
    delivery.c.id == sa.bindparam("delivery_id"),
    delivery.c.status == "claimed",
    delivery.c.claimed_by == sa.bindparam("worker"),
)
_RENEW = delivery.update().where(_OWNED).values(claimed_at=sa.bindparam("now"))


def _released(**values: Any) -> sa.Update:
    """An update of one delivery its owner still holds that also drops the claim: it fails
    (no row) after another sender took the delivery over, and never touches a sent row."""
    return delivery.update().where(_OWNED).values(claimed_by=None, claimed_at=None, **values)


_MARK_SENT = _released(
    status="sent",
    sent_at=sa.bindparam("now"),
    message_id=sa.bindparam("message_id"),
    last_error=None,
)
_MARK_RETRY = _released(
    status="pending",
    next_attempt_at=sa.bindparam("retry_at"),
    last_error=sa.bindparam("error"),
)
_MARK_DONE = _released(status=sa.bindparam("outcome"), last_error=sa.bindparam("error"))


def recipient(conn: sa.Connection, subscriber_id: int) -> Recipient | None:
    """One subscriber's address and status now (read again just before each send)."""
    row = conn.execute(_RECIPIENT_BY_ID, {"subscriber_id": subscriber_id}).first()
    return _recipient(row) if row else None


def renew(conn: sa.Connection, delivery_id: int, worker: str, now: dt.datetime) -> bool:
    """Prove `worker` still holds its claim on the delivery and restart its lease at `now`;
    False when another sender took it over (it must then not be sent)."""
    values = {"delivery_id": delivery_id, "worker": worker, "now": now}
    return conn.execute(_RENEW, values).rowcount == 1


def mark_sent(
    conn: sa.Connection, delivery_id: int, worker: str, message_id: str, now: dt.datetime
) -> bool:
    """The SMTP server accepted the message; False when `worker` no longer held the claim."""
    values = {"delivery_id": delivery_id, "worker": worker, "now": now, "message_id": message_id}
    return conn.execute(_MARK_SENT, values).rowcount == 1


class SendStatements:
    """`recipient`, `renew` and `mark_sent`, the statements the sender runs for every message,
    as plain driver statements on the connection's DBAPI connection, inside the caller's
    transaction: SQLAlchemy's execution machinery costs ~60 us a statement that SQLite runs
    in ~8 (bench/digest_send.py). Values go through the same column types' processors, and
    a test holds them to the Core versions above."""

    def __init__(self, conn: sa.Connection) -> None:
        dialect = conn.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        dbapi = conn.connection.dbapi_connection
        if dbapi is None:
            raise RuntimeError("the connection is closed")
        self._dbapi = dbapi
        owned = f"id = {mark} AND status = 'claimed' AND claimed_by = {mark}"
        self._recipient_sql = (
            f"SELECT id, email, status, token_salt, topics FROM subscriber WHERE id = {mark}"
        )
        self._renew_sql = f"UPDATE delivery SET claimed_at = {mark} WHERE {owned}"
        self._mark_sent_sql = (
            f"UPDATE delivery SET status = 'sent', sent_at = {mark}, message_id = {mark}, "
            f"last_error = NULL, claimed_by = NULL, claimed_at = NULL WHERE {owned}"
        )
        self._datetime = delivery.c.sent_at.type.bind_processor(dialect) or _same
        self._topics = subscriber.c.topics.type.result_processor(dialect, None) or _same

    def recipient(self, subscriber_id: int) -> Recipient | None:
        """As `recipient()`."""
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(self._recipient_sql, (subscriber_id,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return Recipient(row[0], row[1], row[2], row[3], self._topics(row[4]))

    def renew(self, delivery_id: int, worker: str, now: dt.datetime) -> bool:
        """As `renew()`."""
        return self._update(self._renew_sql, (self._datetime(now), delivery_id, worker))

    def mark_sent(self, delivery_id: int, worker: str, message_id: str, now: dt.datetime) -> bool:
        """As `mark_sent()`."""
        values = (self._datetime(now), message_id, delivery_id, worker)
        return self._update(self._mark_sent_sql, values)

    def _update(self, sql: str, values: tuple[Any, ...]) -> bool:
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(sql, values)
            return bool(cursor.rowcount == 1)
        finally:
            cursor.close()


def _same(value: Any) -> Any:
    return value


def mark_retry(
    conn: sa.Connection, delivery_id: int, worker: str, error: str, retry_at: dt.datetime
) -> bool:
    """A temporary failure: pending again, not before `retry_at`; False when `worker` no
    longer held the claim."""
    values = {"delivery_id": delivery_id, "worker": worker, "error": error, "retry_at": retry_at}
    return conn.execute(_MARK_RETRY, values).rowcount == 1


def mark_done(
    conn: sa.Connection, delivery_id: int, worker: str, status: str, error: str | None
) -> bool:
    """Finished without sending: failed (out of attempts), suppressed or skipped; False when
    `worker` no longer held the claim."""
    if status not in ("failed", "suppressed", "skipped"):
        raise ValueError(f"{status!r} is not a final status without sending")
    values = {"delivery_id": delivery_id, "worker": worker, "outcome": status, "error": error}
    return conn.execute(_MARK_DONE, values).rowcount == 1


def release(conn: sa.Connection, delivery_ids: list[int], worker: str) -> int:
    """Give back claims not yet attempted (a sender stopping early), attempt uncounted; how
    many `worker` still held."""
    if not delivery_ids:
        return 0
    result = conn.execute(
        delivery.update()
        .where(
            delivery.c.id.in_(delivery_ids),
            delivery.c.status == "claimed",
            delivery.c.claimed_by == worker,
        )
        .values(
            status="pending", claimed_by=None, claimed_at=None, attempts=delivery.c.attempts - 1
        )
    )
    return result.rowcount


def outstanding(
    conn: sa.Connection, edition_id: int
) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """How many deliveries are pending or claimed, the earliest retry time of the pending
    ones (None: none waits) and the oldest claim (None: nothing claimed)."""
    pending = delivery.c.status == "pending"
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.min(sa.case((pending, delivery.c.next_attempt_at), else_=None)),
            sa.func.sum(sa.case((pending & delivery.c.next_attempt_at.is_(None), 1), else_=0)),
            sa.func.min(sa.case((pending, None), else_=delivery.c.claimed_at)),
        ).where(delivery.c.edition_id == edition_id, delivery.c.status.in_(("pending", "claimed")))
    ).one()
    left, next_retry, due_now, oldest_claim = row
    if due_now:
        next_retry = dt.datetime.min
    return int(left), next_retry, oldest_claim


def finish_edition(conn: sa.Connection, edition_id: int) -> bool:
    """Mark the edition done if nothing is pending or claimed; True when it is done."""
    left = conn.execute(
        sa.select(sa.func.count()).where(
            delivery.c.edition_id == edition_id, delivery.c.status.in_(("pending", "claimed"))
        )
    ).scalar_one()
    if left:
        return False
    conn.execute(edition.update().where(edition.c.id == edition_id).values(status="done"))
    return True


def edition_ids(conn: sa.Connection, kind: str | None = None) -> list[int]:
    """Editions built and not yet done (of one kind), oldest first."""
    query = sa.select(edition.c.id).where(edition.c.status == "built").order_by(edition.c.id)
    if kind is not None:
        query = query.where(edition.c.kind == kind)
    return list(conn.execute(query).scalars())


def edition_info(conn: sa.Connection, edition_id: int) -> tuple[str, str, str] | None:
    """(kind, period, status) of an edition, or None if there is none with that id."""
    row = conn.execute(
        sa.select(edition.c.kind, edition.c.period, edition.c.status).where(
            edition.c.id == edition_id
        )
    ).first()
    return (row.kind, row.period, row.status) if row else None


def counts(conn: sa.Connection, limit: int = 50) -> list[EditionCounts]:
    """The latest editions, newest first, with their deliveries counted by status."""
    editions = conn.execute(
        sa.select(
            edition.c.id, edition.c.kind, edition.c.period, edition.c.status, edition.c.built_at
        )
        .order_by(edition.c.id.desc())
        .limit(limit)
    ).all()
    if not editions:
        return []
    tally: dict[int, dict[str, int]] = {row.id: {} for row in editions}
    rows = conn.execute(
        sa.select(delivery.c.edition_id, delivery.c.status, sa.func.count())
        .where(delivery.c.edition_id.in_(list(tally)))
        .group_by(delivery.c.edition_id, delivery.c.status)
    )
    for edition_id, status, number in rows:
        tally[edition_id][status] = int(number)
    return [EditionCounts(*row, counts=tally[row.id]) for row in editions]
