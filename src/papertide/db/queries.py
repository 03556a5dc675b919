"""Reads for the feed, paper pages and search results, returned as plain data shapes."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa

from papertide.db.schema import comment, daily_entry, paper, repo_stars, site_state, upvote, user
from papertide.models import Facets, Featuring, HfExtras, PaperCard, PaperDetail

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
_num_comments = (paper.c.imported_comments + _local_comments).label("num_comments")
_CARD_COLUMNS = (
    paper.c.id,
    paper.c.title,
    paper.c.authors,
    paper.c.categories,
    paper.c.published_at,
    paper.c.github_repo,
    paper.c.ai_summary,
    _upvotes,
    _num_comments,
    _latest_stars.label("github_stars"),
)

# Statements are built once, with bound parameters: building a select and computing its cache
# key on every call cost more than running it in SQLite (issue #2, bench/core.py).
_START = sa.bindparam("start", type_=sa.Date)
_END = sa.bindparam("end", type_=sa.Date)
_DAY = sa.bindparam("day", type_=sa.Date)
_ARXIV_ID = sa.bindparam("arxiv_id", type_=sa.String)
_LATEST_DATE = sa.select(sa.func.max(daily_entry.c.date))
_DATE_ON_OR_BEFORE = sa.select(sa.func.max(daily_entry.c.date)).where(daily_entry.c.date <= _DAY)
_DATE_BEFORE = sa.select(sa.func.max(daily_entry.c.date)).where(daily_entry.c.date < _START)
_DATE_AFTER = sa.select(sa.func.min(daily_entry.c.date)).where(daily_entry.c.date > _END)
_IN_PERIOD = sa.and_(daily_entry.c.date >= _START, daily_entry.c.date <= _END)
_FEED_TOTAL = sa.select(sa.func.count()).select_from(daily_entry).where(_IN_PERIOD)
_FEED_COLUMNS = (
    *_CARD_COLUMNS,
    daily_entry.c.date,
    daily_entry.c.comment,
    user.c.username,
    user.c.fullname,
)
_CARDS_BY_IDS = sa.select(*_CARD_COLUMNS).where(paper.c.id.in_(sa.bindparam("ids", expanding=True)))
_PAPER = sa.select(paper, _upvotes, _num_comments, _latest_stars.label("github_stars")).where(
    paper.c.id == _ARXIV_ID
)
_FEATURINGS = (
    sa.select(
        daily_entry.c.date,
        daily_entry.c.comment,
        user.c.username,
        user.c.fullname,
        user.c.avatar_url,
    )
    .select_from(daily_entry.outerjoin(user, user.c.id == daily_entry.c.submitted_by))
    .where(daily_entry.c.paper_id == _ARXIV_ID)
    .order_by(daily_entry.c.date)
)
_PAPER_COUNT = sa.select(sa.func.count()).select_from(paper)


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
    value: dt.date | None = conn.execute(_LATEST_DATE).scalar()
    return value


def featured_date_on_or_before(conn: sa.Connection, day: dt.date) -> dt.date | None:
    """The nearest day on or before `day` that has featured papers."""
    value: dt.date | None = conn.execute(_DATE_ON_OR_BEFORE, {"day": day}).scalar()
    return value


def adjacent_featured_dates(
    conn: sa.Connection, start: dt.date, end: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """The last featured day before `start` and the first after `end`."""
    before = conn.execute(_DATE_BEFORE, {"start": start}).scalar()
    after = conn.execute(_DATE_AFTER, {"end": end}).scalar()
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
    period = {"start": start, "end": end}
    total = conn.execute(_FEED_TOTAL, period).scalar_one()
    if limit is None:
        rows = list(conn.execute(_feed_query(sort, paged=False), period))[offset:]
    else:
        page = {**period, "limit": limit, "offset": offset}
        rows = list(conn.execute(_feed_query(sort, paged=True), page))
    cards = [
        _card(
            row,
            featured_on=row.date,
            submitted_by=row.username,
            submitter_fullname=row.fullname,
            submitter_comment=row.comment,
        )
        for row in rows
    ]
    return cards, total


def _feed_order_keys(sort: FeedSort) -> list[tuple[sa.ColumnElement[Any], bool, bool]]:
    """The feed's sort keys, each with whether it is descending and whether it may be NULL;
    paper.id and the day break ties."""
    tail = [(paper.c.id, False, False), (daily_entry.c.date, False, False)]
    if sort == "upvotes":
        return [(_upvotes, True, False), (daily_entry.c.submitted_at, False, True), *tail]
    return [(daily_entry.c.submitted_at, True, True), (paper.c.published_at, True, True), *tail]


def _ordering(key: Any, desc: bool, nullable: bool) -> Any:
    """`key` descending or ascending. NULLs go where SQLite puts them, on both backends:
    first when ascending, last when descending (PostgreSQL's default is the other way)."""
    if not nullable:
        return key.desc() if desc else key
    return key.desc().nulls_last() if desc else key.asc().nulls_first()


@functools.cache
def _feed_query(sort: FeedSort, paged: bool) -> sa.Select[Any]:
    """The feed's rows for a period (`start`, `end`), all of them or a page (`limit`, `offset`).

    A page is ranked on its sort keys alone first, so the card columns (three correlated
    subqueries each) are computed for the rows shown, not for every entry of a month.
    """
    entries = daily_entry.join(paper, paper.c.id == daily_entry.c.paper_id)
    keys = _feed_order_keys(sort)
    if not paged:
        return (
            sa.select(*_FEED_COLUMNS)
            .select_from(entries.outerjoin(user, user.c.id == daily_entry.c.submitted_by))
            .where(_IN_PERIOD)
            .order_by(*(_ordering(*key) for key in keys))
        )
    labelled = [(key.label(f"key{i}"), desc, null) for i, (key, desc, null) in enumerate(keys)]
    ranked = (
        sa.select(daily_entry.c.id.label("entry_id"), *(key for key, _, _ in labelled))
        .select_from(entries)
        .where(_IN_PERIOD)
        .order_by(*(_ordering(*key) for key in labelled))
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .subquery("ranked")
    )
    ranked_keys = [(ranked.c[f"key{i}"], desc, null) for i, (_, desc, null) in enumerate(keys)]
    return (
        sa.select(*_FEED_COLUMNS)
        .select_from(
            ranked.join(daily_entry, daily_entry.c.id == ranked.c.entry_id)
            .join(paper, paper.c.id == daily_entry.c.paper_id)
            .outerjoin(user, user.c.id == daily_entry.c.submitted_by)
        )
        .order_by(*(_ordering(*key) for key in ranked_keys))
    )


def cards_by_ids(conn: sa.Connection, ids: Sequence[str]) -> list[PaperCard]:
    """Cards for `ids`, in the order given (unknown ids are left out)."""
    if not ids:
        return []
    rows = {row.id: row for row in conn.execute(_CARDS_BY_IDS, {"ids": list(ids)})}
    return [_card(rows[i]) for i in ids if i in rows]


def facet_counts(conn: sa.Connection, ids: Sequence[str], top: int = 8) -> Facets:
    """Categories, years, code and featuring among the given papers, with counts."""
    categories: Counter[str] = Counter()
    years: Counter[int] = Counter()
    has_code = featured = 0
    featured_ids = set(
        conn.execute(
            sa.select(daily_entry.c.paper_id).where(daily_entry.c.paper_id.in_(list(ids)))
        ).scalars()
    )
    rows = conn.execute(
        sa.select(paper.c.id, paper.c.categories, paper.c.published_at, paper.c.github_repo).where(
            paper.c.id.in_(list(ids))
        )
    )
    counted = 0
    for row in rows:
        counted += 1
        categories.update(set(row.categories or []))
        if row.published_at is not None:
            years[row.published_at.year] += 1
        has_code += row.github_repo is not None
        featured += row.id in featured_ids
    return Facets(
        basis=counted,
        categories=sorted(categories.items(), key=lambda item: (-item[1], item[0]))[:top],
        years=sorted(years.items(), reverse=True),
        has_code=has_code,
        featured=featured,
    )


def submitted_ids(conn: sa.Connection, user_id: int, limit: int = 20) -> list[str]:
    """The papers a user submitted to the daily feed, newest first."""
    rows = conn.execute(
        sa.select(daily_entry.c.paper_id)
        .where(daily_entry.c.submitted_by == user_id)
        .order_by(daily_entry.c.date.desc(), daily_entry.c.id.desc())
        .limit(limit)
    )
    return [row.paper_id for row in rows]


def abstracts_by_ids(conn: sa.Connection, ids: Sequence[str]) -> dict[str, str]:
    """The abstracts of the given papers (for search snippets)."""
    if not ids:
        return {}
    rows = conn.execute(sa.select(paper.c.id, paper.c.abstract).where(paper.c.id.in_(list(ids))))
    return {row.id: row.abstract or "" for row in rows}


def get_paper(conn: sa.Connection, arxiv_id: str) -> PaperDetail | None:
    """Everything about one paper, or None when it is not known."""
    row = conn.execute(_PAPER, {"arxiv_id": arxiv_id}).first()
    if row is None:
        return None
    featured = [
        Featuring(
            date=f.date,
            submitted_by=f.username,
            submitter_fullname=f.fullname,
            comment=f.comment,
            submitter_avatar_url=f.avatar_url,
        )
        for f in conn.execute(_FEATURINGS, {"arxiv_id": arxiv_id})
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
        imported_comments=row.imported_comments,
        ai_summary=row.ai_summary,
        ai_keywords=row.ai_keywords or [],
        featured=featured,
        hf=_hf_extras(row),
    )


def _hf_extras(row: Any) -> HfExtras | None:
    extras = HfExtras(
        discussion_id=row.hf_discussion_id,
        organization=row.hf_organization or None,
        thumbnail=row.hf_thumbnail,
        media_urls=row.hf_media_urls or None,
    )
    return None if extras == HfExtras() else extras


def paper_count(conn: sa.Connection) -> int:
    """How many papers the database holds."""
    return int(conn.execute(_PAPER_COUNT).scalar_one())


_CONTENT_VERSION = sa.select(site_state.c.value).where(site_state.c.key == "content_version")


def content_version(conn: sa.Connection) -> int:
    """A number that changes whenever anything a page shows has changed."""
    return int(conn.execute(_CONTENT_VERSION).scalar_one())
