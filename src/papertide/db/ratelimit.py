"""Rate-limit counts shared through the database (issue #11, docs/accounts.md).

A sliding window kept as a log: one row per event allowed, for (bucket, key). A hit takes a
per-key turn (on PostgreSQL a transaction-level advisory lock on the key's hash; on SQLite
the database's write lock, taken by the DELETE that comes first), forgets the key's events
that left the window, counts the rest and records the new event if there is room. Two
processes, or two hosts, on one database therefore allow exactly the limit together.
"""

from __future__ import annotations

import sqlalchemy as sa

from papertide.db.schema import rate_limit_hit

_BUCKET = sa.bindparam("bucket", type_=sa.String)
_KEY = sa.bindparam("key", type_=sa.String)
_SINCE = sa.bindparam("since", type_=sa.Float)
_MINE = sa.and_(rate_limit_hit.c.bucket == _BUCKET, rate_limit_hit.c.key == _KEY)
_FORGET = rate_limit_hit.delete().where(_MINE, rate_limit_hit.c.at <= _SINCE)
_COUNT = sa.select(sa.func.count(), sa.func.min(rate_limit_hit.c.at)).where(_MINE)
_LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(
        sa.func.hashtextextended(sa.literal("rate:") + _BUCKET + sa.literal(":") + _KEY, 0)
    )
)


def hit(
    conn: sa.Connection, bucket: str, key: str, count: int, window_s: float, now: float
) -> float:
    """Count one event of `key` in `bucket`, at most `count` per `window_s` seconds; 0.0 when
    allowed (and recorded), else the seconds until one would be. Run in its own transaction."""
    names = {"bucket": bucket, "key": key}
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, names)
    conn.execute(_FORGET, {**names, "since": now - window_s})
    used, oldest = conn.execute(_COUNT, names).one()
    if used >= count:
        # `now` was read before this turn began, so another process may have recorded an
        # event a moment later: the wait is never more than the window.
        return min(max(float(oldest) + window_s - now, 0.001), window_s)
    conn.execute(
        rate_limit_hit.insert().values(bucket=bucket, key=key, at=now, expires_at=now + window_s)
    )
    return 0.0


def sweep(conn: sa.Connection, now: float) -> int:
    """Delete every event that has left its window (any key); how many went."""
    deleted = conn.execute(rate_limit_hit.delete().where(rate_limit_hit.c.expires_at <= now))
    return int(deleted.rowcount)
