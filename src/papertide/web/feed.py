"""Build the daily, weekly and monthly feed pages from the database."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from papertide.db import queries
from papertide.db.engine import Database
from papertide.db.queries import FeedSort
from papertide.web.periods import Period, PeriodKind, period_containing
from papertide.web.views import FeedView, make_pager, page_url

PER_PAGE = 30  # weeks and months; a day shows all of its papers
DEFAULT_SORT: FeedSort = "upvotes"
KINDS: tuple[PeriodKind, ...] = ("day", "week", "month")


def build_feed(
    db: Database, kind: PeriodKind, requested: Period | None, sort: FeedSort, page: int
) -> FeedView:
    """The feed for `requested` (None: the latest featured day), one page of it."""
    with db.read() as conn:
        period, anchor, notice = _resolve(conn, kind, requested)
        per_page = PER_PAGE if kind != "day" else None
        page = page if per_page else 1
        cards, total = queries.feed(
            conn, period.start, period.end, sort, per_page, (page - 1) * (per_page or 0)
        )
        before, after = queries.adjacent_featured_dates(conn, period.start, period.end)
    sort_param = None if sort == DEFAULT_SORT else sort
    params = {"sort": sort_param}
    return FeedView(
        period=period,
        sort=sort,
        cards=cards,
        pager=make_pager(period.url, params, page, per_page or max(total, 1), total),
        notice=notice,
        prev_url=_url(kind, before, sort_param),
        next_url=_url(kind, after, sort_param),
        tab_urls={k: page_url(period_containing(k, anchor).url, params) for k in KINDS},
        sort_urls={
            s: page_url(period.url, {"sort": None if s == DEFAULT_SORT else s})
            for s in ("upvotes", "newest")
        },
    )


def _resolve(
    conn: sa.Connection, kind: PeriodKind, requested: Period | None
) -> tuple[Period, dt.date, str | None]:
    """The period to show, a featured day inside it for the tabs, and a notice if it moved."""
    if requested is None:
        latest = queries.latest_featured_date(conn)
        anchor = latest or dt.datetime.now(dt.UTC).date()
        return period_containing(kind, anchor), anchor, None
    shown = queries.featured_date_on_or_before(conn, requested.end)
    if shown is not None and requested.contains(shown):
        return requested, shown, None
    if shown is None:  # before the first featured day: show the first one instead
        _, shown = queries.adjacent_featured_dates(conn, requested.start, requested.end)
        if shown is None:  # nothing featured at all
            return requested, requested.start, None
        direction = "later"
    else:
        direction = "earlier"
    period = period_containing(kind, shown)
    preposition = "on" if kind == "day" else "in"
    notice = (
        f"No papers were featured {preposition} {requested.heading}; "
        f"showing the nearest {direction} {kind}, {period.heading}."
    )
    return period, shown, notice


def _url(kind: PeriodKind, day: dt.date | None, sort_param: str | None) -> str | None:
    if day is None:
        return None
    return page_url(period_containing(kind, day).url, {"sort": sort_param})
