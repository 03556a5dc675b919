"""A member's "more like this" / "not for me" on papers (issue #14): rows of `paper_feedback`."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from papertide.db.schema import paper, paper_feedback

MORE, LESS = 1, -1


class UnknownPaper(LookupError):
    pass


def set_signal(
    conn: sa.Connection, user_id: int, paper_id: str, signal: int, now: dt.datetime
) -> None:
    """Record `signal` (MORE or LESS) for the paper, or clear it (0): one click, undoable."""
    if conn.execute(sa.select(paper.c.id).where(paper.c.id == paper_id)).first() is None:
        raise UnknownPaper(paper_id)
    where = (paper_feedback.c.user_id == user_id, paper_feedback.c.paper_id == paper_id)
    conn.execute(paper_feedback.delete().where(*where))
    if signal:
        conn.execute(
            paper_feedback.insert().values(
                user_id=user_id,
                paper_id=paper_id,
                signal=MORE if signal > 0 else LESS,
                created_at=now,
            )
        )


def signals(conn: sa.Connection, user_id: int) -> dict[str, int]:
    """Every paper the member marked, with its signal."""
    query = sa.select(paper_feedback.c.paper_id, paper_feedback.c.signal).where(
        paper_feedback.c.user_id == user_id
    )
    return {row.paper_id: int(row.signal) for row in conn.execute(query)}


def marks(conn: sa.Connection, user_id: int) -> list[tuple[str, int, dt.datetime]]:
    """Every mark of the member, oldest first: (paper id, signal, when)."""
    query = (
        sa.select(paper_feedback.c.paper_id, paper_feedback.c.signal, paper_feedback.c.created_at)
        .where(paper_feedback.c.user_id == user_id)
        .order_by(paper_feedback.c.created_at, paper_feedback.c.paper_id)
    )
    return [(row.paper_id, int(row.signal), row.created_at) for row in conn.execute(query)]
