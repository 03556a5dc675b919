"""The feeds: `/`, `/papers/date/YYYY-MM-DD`, `/papers/week/YYYY-Www`, `/papers/month/YYYY-MM`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from papertide.db.queries import FeedSort
from papertide.periods import parse_period
from papertide.ranking.feed import DEFAULT_SORT
from papertide.web.deps import DatabaseDep, PageDep
from papertide.web.syndication import FeedLink
from papertide.web.views import FeedView, build_feed

router = APIRouter()

SortQuery = Annotated[FeedSort, Query(description="upvotes (default) or newest")]
PageQuery = Annotated[int, Query(alias="p", ge=1, le=10_000, description="page, from 1")]


@router.get("/", response_class=HTMLResponse)
def latest_day(db: DatabaseDep, page: PageDep, sort: SortQuery = DEFAULT_SORT) -> HTMLResponse:
    """The latest day that has featured papers."""
    feed = build_feed(db, "day", None, sort, 1)
    daily = FeedLink("Daily papers", "/feeds/daily")
    return page.render("feed.html", nav="papers", feed=feed, syndication=daily)


@router.get("/papers/date/{day}", response_class=HTMLResponse)
def day_feed(
    day: str, db: DatabaseDep, page: PageDep, sort: SortQuery = DEFAULT_SORT
) -> HTMLResponse:
    feed = build_feed(db, "day", parse_period("day", day), sort, 1)
    return page.render("feed.html", nav="papers", feed=feed, syndication=_feed_link(feed))


@router.get("/papers/week/{week}", response_class=HTMLResponse)
def week_feed(
    week: str,
    db: DatabaseDep,
    page: PageDep,
    sort: SortQuery = DEFAULT_SORT,
    number: PageQuery = 1,
) -> HTMLResponse:
    feed = build_feed(db, "week", parse_period("week", week), sort, number)
    return page.render("feed.html", nav="papers", feed=feed, syndication=_feed_link(feed))


@router.get("/papers/month/{month}", response_class=HTMLResponse)
def month_feed(
    month: str,
    db: DatabaseDep,
    page: PageDep,
    sort: SortQuery = DEFAULT_SORT,
    number: PageQuery = 1,
) -> HTMLResponse:
    feed = build_feed(db, "month", parse_period("month", month), sort, number)
    return page.render("feed.html", nav="papers", feed=feed, syndication=_feed_link(feed))


def _feed_link(feed: FeedView) -> FeedLink:
    """The period's own feed (issue #13)."""
    period = feed.period
    kind = "date" if period.kind == "day" else period.kind
    return FeedLink(f"Papers of {feed.heading}", f"/feeds/papers/{kind}/{period.slug}")
