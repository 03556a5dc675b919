"""Stored trending rankings (issue #11): one row per window, read by every web host.

papertide.ranking.stored decides when a ranking is computed and what its JSON holds; this
module only reads and writes the rows. A stored ranking is keyed by its window and says which
content version and parameters it was computed from, so a reader can tell whether it is current.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import sqlalchemy as sa

from papertide.db.schema import trending_ranking


class Stamp(NamedTuple):
    """What a stored ranking was computed from (read without its papers)."""

    content_version: int
    computed_at: dt.datetime
    params: dict[str, Any]


class StoredRanking(NamedTuple):
    stamp: Stamp
    ranking: dict[str, Any]


_STAMP = sa.select(
    trending_ranking.c.content_version, trending_ranking.c.computed_at, trending_ranking.c.params
).where(trending_ranking.c.window_name == sa.bindparam("window"))
_ROW = sa.select(
    trending_ranking.c.content_version,
    trending_ranking.c.computed_at,
    trending_ranking.c.params,
    trending_ranking.c.ranking,
).where(trending_ranking.c.window_name == sa.bindparam("window"))


def stamp(conn: sa.Connection, window: str) -> Stamp | None:
    """The stored ranking's version, time and parameters (one primary-key read), or None."""
    row = conn.execute(_STAMP, {"window": window}).first()
    return None if row is None else Stamp(*row)


def load(conn: sa.Connection, window: str) -> StoredRanking | None:
    """The stored ranking of `window` with its papers, or None."""
    row = conn.execute(_ROW, {"window": window}).first()
    if row is None:
        return None
    return StoredRanking(Stamp(row[0], row[1], row[2]), row[3])


def store(
    conn: sa.Connection,
    window: str,
    content_version: int,
    computed_at: dt.datetime,
    params: dict[str, Any],
    ranking: dict[str, Any],
) -> bool:
    """Keep `ranking` as the window's, unless a ranking of a newer content version is stored.

    Returns whether it was kept. Two writers racing on one version both write the same thing.
    """
    values = {
        "content_version": content_version,
        "computed_at": computed_at,
        "params": params,
        "ranking": ranking,
    }
    updated = conn.execute(
        trending_ranking.update()
        .where(
            trending_ranking.c.window_name == window,
            trending_ranking.c.content_version <= content_version,
        )
        .values(**values)
    )
    if updated.rowcount:
        return True
    exists = conn.execute(
        sa.select(trending_ranking.c.window_name).where(trending_ranking.c.window_name == window)
    ).first()
    if exists is not None:
        return False  # a newer one is stored
    insert = _insert_ignoring_conflicts(conn).values(window_name=window, **values)
    return conn.execute(insert.returning(trending_ranking.c.window_name)).first() is not None


def _insert_ignoring_conflicts(conn: sa.Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(trending_ranking).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(trending_ranking).on_conflict_do_nothing()
