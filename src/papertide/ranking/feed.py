"""The daily, weekly and monthly feeds: a period's featured papers in the chosen order.

The feed pages call it (issue #10: it lived in `web/`); `web.views.feed_view` adds the links.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from papertide.clock import utcnow
from papertide.db import queries
from papertide.db.engine import Database
from papertide.db.queries import FeedSort
from papertide.models import PaperCard
from papertide.periods import Period, PeriodKind, period_containing

PER_PAGE = 30  # weeks and months; a day shows all of its papers
DEFAULT_SORT: FeedSort = "upvotes"
KINDS: tuple[PeriodKind, ...] = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of a period's featured papers, and the nearest featured days around it."""

    period: Period
    anchor: dt.date  # a featured day inside the period (the tabs link to its week and month)
    notice: str | None  # why another period than the one asked for is shown
    sort: FeedSort
    cards: list[PaperCard]
    total: int
    page: int
    per_page: int | None  # None: a day shows all of its papers
    before: dt.date | None
    after: dt.date | None


def feed_page(
    db: Database, kind: PeriodKind, requested: Period | None, sort: FeedSort, page: int
) -> FeedPage:
    """The feed for `requested` (None: the latest featured day), one page of it."""
    with db.read() as conn:
        period, anchor, notice = _resolve(conn, kind, requested)
        per_page = PER_PAGE if kind != "day" else None
        page = page if per_page else 1
        cards, total = queries.feed(
            conn, period.start, period.end, sort, per_page, (page - 1) * (per_page or 0)
        )
        before, after = queries.adjacent_featured_dates(conn, period.start, period.end)
    return FeedPage(period, anchor, notice, sort, cards, total, page, per_page, before, after)


def _resolve(
    conn: sa.Connection, kind: PeriodKind, requested: Period | None
) -> tuple[Period, dt.date, str | None]:
    """The period to show, a featured day inside it for the tabs, and a notice if it moved."""
    if requested is None:
        latest = queries.latest_featured_date(conn)
        anchor = latest or utcnow().date()
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
