"""Every paper known here, newest arXiv date first, a page at a time by keyset (issue #13).

`GET /api/papers` pages through this with a cursor, as Hugging Face's listings do: the cursor
is the last paper's (date, id), so a page costs one index range read however deep it is, and
papers added meanwhile never shift a page. Papers without a date come last, by id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from papertide.db.schema import paper


@dataclass(frozen=True, slots=True)
class After:
    """Where a page starts: after the paper `arxiv_id`, published at `published_at`."""

    published_at: dt.datetime | None
    arxiv_id: str


def newest_ids(conn: sa.Connection, limit: int, after: After | None = None) -> list[str]:
    """Up to `limit` paper ids after `after` (from the newest when None), newest first."""
    found: list[str] = []
    if after is None or after.published_at is not None:
        dated = sa.select(paper.c.id).where(paper.c.published_at.is_not(None))
        if after is not None:
            dated = dated.where(
                sa.or_(
                    paper.c.published_at < after.published_at,
                    sa.and_(
                        paper.c.published_at == after.published_at, paper.c.id < after.arxiv_id
                    ),
                )
            )
        dated = dated.order_by(paper.c.published_at.desc(), paper.c.id.desc()).limit(limit)
        found = list(conn.execute(dated).scalars())
    if len(found) < limit:
        undated = sa.select(paper.c.id).where(paper.c.published_at.is_(None))
        if after is not None and after.published_at is None:
            undated = undated.where(paper.c.id < after.arxiv_id)
        undated = undated.order_by(paper.c.id.desc()).limit(limit - len(found))
        found += conn.execute(undated).scalars()
    return found
