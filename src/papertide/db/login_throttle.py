"""Failed log-ins counted per account, from any address (issue #10, docs/accounts.md).

One row per key (`account:<id>`, or `login:<name>` for a name no account has, so a lockout
does not tell which names exist): the failures in a row, the last one, and until when log-ins
for the key are refused. A success deletes the row; a row whose last failure is older than
FORGET_AFTER starts again from zero and is eventually deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from papertide.db.schema import login_throttle

FORGET_AFTER = dt.timedelta(days=1)


def blocked_until(conn: sa.Connection, key: str, now: dt.datetime) -> dt.datetime | None:
    """Until when log-ins for `key` are refused, if they are now."""
    until = conn.execute(
        sa.select(login_throttle.c.blocked_until).where(login_throttle.c.key == key)
    ).scalar()
    return until if until is not None and until > now else None


def record_failure(
    conn: sa.Connection, key: str, now: dt.datetime, delay: Callable[[int], float]
) -> int:
    """Count a failure for `key`; `delay(failures)` seconds of refusal follow. Returns the count."""
    # A write first (SQLite then holds the write lock), which also forgets old rows.
    conn.execute(
        login_throttle.delete().where(login_throttle.c.last_failure_at < now - FORGET_AFTER)
    )
    failures = 1 + int(
        conn.execute(
            sa.select(login_throttle.c.failures).where(login_throttle.c.key == key)
        ).scalar()
        or 0
    )
    seconds = delay(failures)
    values = {
        "failures": failures,
        "last_failure_at": now,
        "blocked_until": now + dt.timedelta(seconds=seconds) if seconds > 0 else None,
    }
    updated = conn.execute(
        login_throttle.update().where(login_throttle.c.key == key).values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(login_throttle.insert().values(key=key, **values))
    return failures


def clear(conn: sa.Connection, key: str) -> None:
    """A successful log-in: the failures are forgotten."""
    conn.execute(login_throttle.delete().where(login_throttle.c.key == key))
