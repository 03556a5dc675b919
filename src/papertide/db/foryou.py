"""What For you reads (issue #14): papers' text and categories, never their authors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import paper

_COLUMNS = (paper.c.id, paper.c.title, paper.c.abstract, paper.c.categories)


@dataclass(frozen=True, slots=True)
class PaperText:
    """A paper as For you ranks it: id, title, abstract, categories (primary first)."""

    arxiv_id: str
    title: str
    abstract: str
    categories: tuple[str, ...]


def _text(row: Any) -> PaperText:
    return PaperText(row.id, row.title, row.abstract or "", tuple(row.categories or ()))


def day_papers(conn: sa.Connection, day: dt.date) -> list[PaperText]:
    """The papers first announced on `day` (their `published_at`), by id."""
    start = dt.datetime.combine(day, dt.time())
    query = (
        sa.select(*_COLUMNS)
        .where(paper.c.published_at >= start, paper.c.published_at < start + dt.timedelta(days=1))
        .where(paper.c.withdrawn.is_(sa.false()))
        .order_by(paper.c.id)
    )
    return [_text(row) for row in conn.execute(query)]


def papers_by_ids(conn: sa.Connection, ids: Sequence[str]) -> list[PaperText]:
    """The papers of `ids` that exist, by id."""
    found: list[PaperText] = []
    for start in range(0, len(ids), 500):  # well under any backend's bound-parameter limit
        chunk = list(ids[start : start + 500])
        query = sa.select(*_COLUMNS).where(paper.c.id.in_(chunk)).order_by(paper.c.id)
        found += [_text(row) for row in conn.execute(query)]
    return sorted(found, key=lambda text: text.arxiv_id)


def all_texts(conn: sa.Connection, batch: int = 5_000) -> Iterator[tuple[str, str]]:
    """Every paper's (title, abstract), a batch at a time in `seq` order (the IDF's corpus)."""
    after = -1
    while True:
        query = (
            sa.select(paper.c.seq, paper.c.title, paper.c.abstract)
            .where(paper.c.seq > after)
            .order_by(paper.c.seq)
            .limit(batch)
        )
        rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield row.title, row.abstract or ""
        after = rows[-1].seq
