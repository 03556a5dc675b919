"""Upvotes (issue #5): one per user and paper, safe against any number of parallel requests.

A vote is a state ("upvoted" or not), not a toggle, so repeating it changes nothing. Adding one
is `INSERT ... ON CONFLICT DO NOTHING` on the (user_id, paper_id) primary key, which SQLite and
PostgreSQL both do atomically: fifty identical requests leave one row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from papertide.db.schema import paper, upvote
from papertide.db.writes import bump_content_version
from papertide.models import VoteResult


class UnknownPaper(LookupError):
    """The paper voted on is not in the database."""


_LOCAL_COUNT = sa.select(sa.func.count()).where(upvote.c.paper_id == paper.c.id).scalar_subquery()
_TOTAL = sa.select((paper.c.imported_upvotes + _LOCAL_COUNT).label("upvotes")).where(
    paper.c.id == sa.bindparam("paper_id", type_=sa.String)
)


def _insert_ignoring_duplicate(conn: sa.Connection, values: dict[str, Any]) -> int:
    """Insert one upvote row unless its key exists; returns the rows inserted (0 or 1)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(upvote).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(upvote).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"upvotes on {dialect}")
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that SQLAlchemy compiled.
    return len(conn.execute(statement.returning(upvote.c.user_id)).all())


def set_upvote(
    conn: sa.Connection, user_id: int, paper_id: str, upvoted: bool, now: dt.datetime
) -> VoteResult:
    """Make `user_id`'s vote on `paper_id` be `upvoted`; UnknownPaper if there is no such paper.

    The write comes first, so on SQLite the transaction takes the write lock before it reads
    (a read first could make a concurrent writer's upgrade fail with SQLITE_BUSY).
    """
    if upvoted:
        try:
            values = {"user_id": user_id, "paper_id": paper_id, "created_at": now}
            changed = _insert_ignoring_duplicate(conn, values) > 0
        except sa.exc.IntegrityError as exc:  # the paper does not exist (foreign key)
            raise UnknownPaper(paper_id) from exc
    else:
        deleted = conn.execute(
            upvote.delete().where(upvote.c.user_id == user_id, upvote.c.paper_id == paper_id)
        )
        changed = deleted.rowcount > 0
    total = conn.execute(_TOTAL, {"paper_id": paper_id}).scalar()
    if total is None:
        raise UnknownPaper(paper_id)
    if changed:
        bump_content_version(conn)  # cached pages show the count
    return VoteResult(paper_id, upvoted, int(total), changed)


def upvoted_ids(conn: sa.Connection, user_id: int) -> set[str]:
    """Every paper `user_id` has upvoted (to show their votes on the cards they see)."""
    query = sa.select(upvote.c.paper_id).where(upvote.c.user_id == user_id)
    return set(conn.execute(query).scalars())


def recent_upvotes(
    conn: sa.Connection, user_id: int, limit: int, offset: int = 0
) -> tuple[list[str], int]:
    """The papers `user_id` upvoted, most recent vote first (one page), and how many in all."""
    total = conn.execute(
        sa.select(sa.func.count()).select_from(upvote).where(upvote.c.user_id == user_id)
    ).scalar_one()
    ids = conn.execute(
        sa.select(upvote.c.paper_id)
        .where(upvote.c.user_id == user_id)
        .order_by(upvote.c.created_at.desc(), upvote.c.paper_id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(ids), int(total)


def upvotes_of(conn: sa.Connection, user_id: int) -> list[tuple[str, dt.datetime]]:
    """Every upvote of `user_id` with its time, oldest first (their data export)."""
    query = (
        sa.select(upvote.c.paper_id, upvote.c.created_at)
        .where(upvote.c.user_id == user_id)
        .order_by(upvote.c.created_at, upvote.c.paper_id)
    )
    return [(row.paper_id, row.created_at) for row in conn.execute(query)]
