"""Reads for the feed, paper pages and search results, returned as plain data shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa

from papertide.db.schema import comment, daily_entry, paper, repo_stars, upvote, user
from papertide.models import Featuring, PaperCard, PaperDetail

FeedSort = Literal["upvotes", "newest"]

_local_upvotes = (
    sa.select(sa.func.count())
    .where(upvote.c.paper_id == paper.c.id)
    .correlate(paper)
    .scalar_subquery()
)
_local_comments = (
    sa.select(sa.func.count())
    .where(comment.c.paper_id == paper.c.id, comment.c.hidden == sa.false())
    .correlate(paper)
    .scalar_subquery()
)
_latest_stars = (
    sa.select(repo_stars.c.stars)
    .where(repo_stars.c.repo == sa.func.lower(paper.c.github_repo))
    .order_by(repo_stars.c.observed_at.desc())
    .limit(1)
    .correlate(paper)
    .scalar_subquery()
)
_upvotes = (paper.c.imported_upvotes + _local_upvotes).label("upvotes")
_CARD_COLUMNS = (
    paper.c.id,
    paper.c.title,
    paper.c.authors,
    paper.c.categories,
    paper.c.published_at,
    paper.c.github_repo,
    paper.c.ai_summary,
    _upvotes,
    (paper.c.imported_comments + _local_comments).label("num_comments"),
    _latest_stars.label("github_stars"),
)


def _card(row: Any, **extra: Any) -> PaperCard:
    return PaperCard(
        arxiv_id=row.id,
        title=row.title,
        authors=row.authors or [],
        categories=row.categories or [],
        upvotes=row.upvotes,
        num_comments=row.num_comments,
        github_repo=row.github_repo,
        github_stars=row.github_stars,
        published_at=row.published_at,
        ai_summary=row.ai_summary,
        **extra,
    )


def latest_featured_date(conn: sa.Connection) -> dt.date | None:
    """The most recent day with featured papers."""
    value: dt.date | None = conn.execute(sa.select(sa.func.max(daily_entry.c.date))).scalar()
    return value


def featured_date_on_or_before(conn: sa.Connection, day: dt.date) -> dt.date | None:
    """The nearest day on or before `day` that has featured papers."""
    value: dt.date | None = conn.execute(
        sa.select(sa.func.max(daily_entry.c.date)).where(daily_entry.c.date <= day)
    ).scalar()
    return value


def adjacent_featured_dates(
    conn: sa.Connection, start: dt.date, end: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """The last featured day before `start` and the first after `end`."""
    before = conn.execute(
        sa.select(sa.func.max(daily_entry.c.date)).where(daily_entry.c.date < start)
    ).scalar()
    after = conn.execute(
        sa.select(sa.func.min(daily_entry.c.date)).where(daily_entry.c.date > end)
    ).scalar()
    return before, after


def feed(
    conn: sa.Connection,
    start: dt.date,
    end: dt.date,
    sort: FeedSort = "upvotes",
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[PaperCard], int]:
    """Papers featured from `start` to `end` inclusive, and how many there are in all."""
    in_period = sa.and_(daily_entry.c.date >= start, daily_entry.c.date <= end)
    total = conn.execute(
        sa.select(sa.func.count()).select_from(daily_entry).where(in_period)
    ).scalar_one()
    order = (
        [_upvotes.desc(), daily_entry.c.submitted_at, paper.c.id]
        if sort == "upvotes"
        else [daily_entry.c.submitted_at.desc(), paper.c.published_at.desc(), paper.c.id]
    )
    query = (
        sa.select(
            *_CARD_COLUMNS,
            daily_entry.c.date,
            daily_entry.c.comment,
            user.c.username,
            user.c.fullname,
        )
        .select_from(
            daily_entry.join(paper, paper.c.id == daily_entry.c.paper_id).outerjoin(
                user, user.c.id == daily_entry.c.submitted_by
            )
        )
        .where(in_period)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    cards = [
        _card(
            row,
            featured_on=row.date,
            submitted_by=row.username,
            submitter_fullname=row.fullname,
            submitter_comment=row.comment,
        )
        for row in conn.execute(query)
    ]
    return cards, total


def cards_by_ids(conn: sa.Connection, ids: Sequence[str]) -> list[PaperCard]:
    """Cards for `ids`, in the order given (unknown ids are left out)."""
    if not ids:
        return []
    rows = {
        row.id: row for row in conn.execute(sa.select(*_CARD_COLUMNS).where(paper.c.id.in_(ids)))
    }
    return [_card(rows[i]) for i in ids if i in rows]


def get_paper(conn: sa.Connection, arxiv_id: str) -> PaperDetail | None:
    """Everything about one paper, or None when it is not known."""
    row = conn.execute(
        sa.select(
            paper,
            _upvotes,
            (paper.c.imported_comments + _local_comments).label("num_comments"),
            _latest_stars.label("github_stars"),
        ).where(paper.c.id == arxiv_id)
    ).first()
    if row is None:
        return None
    featured = [
        Featuring(
            date=f.date, submitted_by=f.username, submitter_fullname=f.fullname, comment=f.comment
        )
        for f in conn.execute(
            sa.select(daily_entry.c.date, daily_entry.c.comment, user.c.username, user.c.fullname)
            .select_from(daily_entry.outerjoin(user, user.c.id == daily_entry.c.submitted_by))
            .where(daily_entry.c.paper_id == arxiv_id)
            .order_by(daily_entry.c.date)
        )
    ]
    return PaperDetail(
        arxiv_id=row.id,
        version=row.version,
        title=row.title,
        abstract=row.abstract,
        authors=row.authors or [],
        categories=row.categories or [],
        published_at=row.published_at,
        updated_at=row.updated_at,
        comments=row.comments,
        doi=row.doi,
        journal_ref=row.journal_ref,
        github_repo=row.github_repo,
        github_stars=row.github_stars,
        project_page=row.project_page,
        withdrawn=row.withdrawn,
        upvotes=row.upvotes,
        num_comments=row.num_comments,
        ai_summary=row.ai_summary,
        ai_keywords=row.ai_keywords or [],
        featured=featured,
    )


def paper_count(conn: sa.Connection) -> int:
    """How many papers the database holds."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(paper)).scalar_one())
