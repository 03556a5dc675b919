"""Small persistent key/value checkpoints for live sources (cursors, resumption tokens)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import ingest_state


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def get_state(conn: sa.Connection, key: str) -> Any:
    """The stored JSON value for `key`, or None."""
    return conn.execute(sa.select(ingest_state.c.value).where(ingest_state.c.key == key)).scalar()


def set_state(conn: sa.Connection, key: str, value: Any) -> None:
    """Store `value` (JSON-serialisable) under `key`, replacing what was there."""
    updated = conn.execute(
        ingest_state.update()
        .where(ingest_state.c.key == key)
        .values(value=value, updated_at=_utcnow())
    )
    if updated.rowcount == 0:
        conn.execute(ingest_state.insert().values(key=key, value=value, updated_at=_utcnow()))


def delete_state(conn: sa.Connection, key: str) -> None:
    """Forget `key`."""
    conn.execute(ingest_state.delete().where(ingest_state.c.key == key))
