"""Stored snapshots of the keyword index (issue #11): the rows only.

search/text_snapshot.py packs and unpacks the index and decides when to publish; this module
reads and writes `keyword_snapshot` and its chunks. A snapshot is begun (incomplete), filled
one chunk per transaction, then completed; completing it deletes every other complete
snapshot, so one is kept (plus any still being written). Readers only see complete ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

import sqlalchemy as sa

from papertide.db.schema import keyword_snapshot, keyword_snapshot_chunk

# An incomplete snapshot older than this was left by a publisher that died: deleted by the
# next one to complete.
ABANDONED_AFTER = dt.timedelta(hours=1)


class Snapshot(NamedTuple):
    """What a stored snapshot says of itself (read without its chunks)."""

    id: int
    format: int
    watermark: int
    docs: int
    byte_size: int
    sha256: str
    created_at: dt.datetime


_COLUMNS = (
    keyword_snapshot.c.id,
    keyword_snapshot.c.format,
    keyword_snapshot.c.watermark,
    keyword_snapshot.c.docs,
    keyword_snapshot.c.byte_size,
    keyword_snapshot.c.sha256,
    keyword_snapshot.c.created_at,
)


def latest(conn: sa.Connection, format: int | None = None) -> Snapshot | None:
    """The newest complete snapshot (of `format`, if given), or None."""
    query = sa.select(*_COLUMNS).where(keyword_snapshot.c.complete)
    if format is not None:
        query = query.where(keyword_snapshot.c.format == format)
    row = conn.execute(query.order_by(keyword_snapshot.c.id.desc()).limit(1)).first()
    return None if row is None else Snapshot(*row)


def begin(
    conn: sa.Connection,
    format: int,
    watermark: int,
    docs: int,
    byte_size: int,
    sha256: str,
    created_at: dt.datetime,
) -> int:
    """A new, incomplete snapshot; its id."""
    insert = keyword_snapshot.insert().values(
        format=format,
        watermark=watermark,
        docs=docs,
        byte_size=byte_size,
        sha256=sha256,
        created_at=created_at,
        complete=False,
    )
    return int(conn.execute(insert.returning(keyword_snapshot.c.id)).scalar_one())


def add_chunk(conn: sa.Connection, snapshot_id: int, ordinal: int, data: bytes) -> None:
    conn.execute(
        keyword_snapshot_chunk.insert().values(snapshot_id=snapshot_id, ordinal=ordinal, data=data)
    )


def complete(conn: sa.Connection, snapshot_id: int, now: dt.datetime) -> int:
    """Mark the snapshot complete and delete the others (complete ones, and incomplete ones
    abandoned); how many were deleted."""
    conn.execute(
        keyword_snapshot.update().where(keyword_snapshot.c.id == snapshot_id).values(complete=True)
    )
    others = (
        conn.execute(
            sa.select(keyword_snapshot.c.id).where(
                keyword_snapshot.c.id != snapshot_id,
                sa.or_(
                    keyword_snapshot.c.complete,
                    keyword_snapshot.c.created_at < now - ABANDONED_AFTER,
                ),
            )
        )
        .scalars()
        .all()
    )
    delete(conn, list(others))
    return len(others)


def delete(conn: sa.Connection, ids: list[int]) -> None:
    """Delete snapshots and their chunks (the chunks first: SQLite may run without cascades)."""
    if not ids:
        return
    conn.execute(
        keyword_snapshot_chunk.delete().where(keyword_snapshot_chunk.c.snapshot_id.in_(ids))
    )
    conn.execute(keyword_snapshot.delete().where(keyword_snapshot.c.id.in_(ids)))


def chunk(conn: sa.Connection, snapshot_id: int, ordinal: int) -> bytes | None:
    """One chunk's bytes, or None when there is no such chunk (the snapshot was deleted)."""
    query = sa.select(keyword_snapshot_chunk.c.data).where(
        keyword_snapshot_chunk.c.snapshot_id == snapshot_id,
        keyword_snapshot_chunk.c.ordinal == ordinal,
    )
    data = conn.execute(query).scalar()
    return None if data is None else bytes(data)


def chunks(conn: sa.Connection, snapshot_id: int) -> Iterator[bytes]:
    """The snapshot's chunks in order, read one query each (a few MiB at a time); the stream
    ends at the first missing ordinal, so a reader checks the total against `byte_size`."""
    ordinal = 0
    while (data := chunk(conn, snapshot_id, ordinal)) is not None:
        yield data
        ordinal += 1
