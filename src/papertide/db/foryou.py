"""What For you reads (issue #14): papers' text and categories, never their authors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import paper

_COLUMNS = (
    paper.c.id,
    paper.c.title,
    paper.c.abstract,
    paper.c.categories,
    paper.c.comments,
    paper.c.github_repo,
    paper.c.project_page,
)


@dataclass(frozen=True, slots=True)
class PaperText:
    """A paper as For you ranks it: id, title, abstract, categories (primary first), comments,
    its repository ("owner/name") and project page."""

    arxiv_id: str
    title: str
    abstract: str
    categories: tuple[str, ...]
    comments: str = ""
    repository: str = ""
    project_page: str = ""


def _text(row: Any) -> PaperText:
    return PaperText(
        row.id,
        row.title,
        row.abstract or "",
        tuple(row.categories or ()),
        row.comments or "",
        row.github_repo or "",
        row.project_page or "",
    )


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


def papers_revision(conn: sa.Connection) -> int:
    """The newest `paper.revision` (every insert or change of a paper raises it): what For
    you's cached texts are checked against (an index's last entry, so one cheap read)."""
    return int(conn.execute(sa.select(sa.func.max(paper.c.revision))).scalar_one_or_none() or 0)


def day_authors(conn: sa.Connection, day: dt.date) -> dict[str, list[str]]:
    """The authors of each paper first announced on `day` (for follows, never the ranker)."""
    start = dt.datetime.combine(day, dt.time())
    query = (
        sa.select(paper.c.id, paper.c.authors)
        .where(paper.c.published_at >= start, paper.c.published_at < start + dt.timedelta(days=1))
        .where(paper.c.withdrawn.is_(sa.false()))
    )
    return {row.id: list(row.authors or ()) for row in conn.execute(query)}


def papers_by_ids(conn: sa.Connection, ids: Sequence[str]) -> list[PaperText]:
    """The papers of `ids` that exist, by id."""
    found: list[PaperText] = []
    for start in range(0, len(ids), 500):  # well under any backend's bound-parameter limit
        chunk = list(ids[start : start + 500])
        query = sa.select(*_COLUMNS).where(paper.c.id.in_(chunk)).order_by(paper.c.id)
        found += [_text(row) for row in conn.execute(query)]
    return sorted(found, key=lambda text: text.arxiv_id)


def all_texts(conn: sa.Connection, batch: int = 5_000) -> Iterator[tuple[str, str, str]]:
    """Every paper's (title, abstract, comments), a batch at a time in `seq` order (the IDF's
    corpus)."""
    after = -1
    while True:
        query = (
            sa.select(paper.c.seq, paper.c.title, paper.c.abstract, paper.c.comments)
            .where(paper.c.seq > after)
            .order_by(paper.c.seq)
            .limit(batch)
        )
        rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield row.title, row.abstract or "", row.comments or ""
        after = rows[-1].seq


def latest_day(conn: sa.Connection, on_or_before: dt.date | None = None) -> dt.date | None:
    """The newest day on which papers were first announced (on or before a day, if given)."""
    query = sa.select(sa.func.max(paper.c.published_at))
    if on_or_before is not None:
        limit = dt.datetime.combine(on_or_before + dt.timedelta(days=1), dt.time())
        query = query.where(paper.c.published_at < limit)
    found = conn.execute(query).scalar_one_or_none()
    if isinstance(found, str):  # SQLite without declared types hands back text
        found = dt.datetime.fromisoformat(found)
    return found.date() if found is not None else None


def next_day(conn: sa.Connection, day: dt.date) -> dt.date | None:
    """The next day with newly announced papers after `day` (None for the newest)."""
    start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    query = sa.select(sa.func.min(paper.c.published_at)).where(paper.c.published_at >= start)
    found = conn.execute(query).scalar_one_or_none()
    if isinstance(found, str):
        found = dt.datetime.fromisoformat(found)
    return found.date() if found is not None else None
