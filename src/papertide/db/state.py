"""Small persistent key/value checkpoints for live sources (cursors, resumption tokens)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from papertide.clock import utcnow
from papertide.db.schema import ingest_state


def get_state(conn: sa.Connection, key: str) -> Any:
    """The stored JSON value for `key`, or None."""
    return conn.execute(sa.select(ingest_state.c.value).where(ingest_state.c.key == key)).scalar()


def set_state(conn: sa.Connection, key: str, value: Any) -> None:
    """Store `value` (JSON-serialisable) under `key`, replacing what was there."""
    updated = conn.execute(
        ingest_state.update()
        .where(ingest_state.c.key == key)
        .values(value=value, updated_at=utcnow())
    )
    if updated.rowcount == 0:
        conn.execute(ingest_state.insert().values(key=key, value=value, updated_at=utcnow()))
