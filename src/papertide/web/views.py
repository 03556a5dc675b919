"""What the feed and search templates receive: plain objects, every URL already built."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from papertide.db.engine import Database
from papertide.db.queries import FeedSort
from papertide.models import PaperCard, SearchResults
from papertide.periods import Period, PeriodKind, period_containing
from papertide.ranking.feed import DEFAULT_SORT, KINDS, FeedPage, feed_page


def page_url(path: str, params: Mapping[str, str | int | None]) -> str:
    """`path?a=1&b=2`, leaving out empty parameters and `p=1`."""
    kept = {k: v for k, v in params.items() if v not in (None, "") and not (k == "p" and v == 1)}
    return f"{path}?{urlencode(kept)}" if kept else path


@dataclass(frozen=True, slots=True)
class Pager:
    """Page `page` (1-based) of `total` items, `per_page` at a time."""

    page: int
    per_page: int
    total: int
    prev_url: str | None
    next_url: str | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def make_pager(
    path: str, params: Mapping[str, str | int | None], page: int, per_page: int, total: int
) -> Pager:
    """A Pager whose links keep `params` and change only `p`."""
    last = max(1, -(-total // per_page))
    prev_url = page_url(path, {**params, "p": page - 1}) if 1 < page <= last + 1 else None
    next_url = page_url(path, {**params, "p": page + 1}) if page < last else None
    return Pager(page, per_page, total, prev_url, next_url)


@dataclass(frozen=True, slots=True)
class FeedView:
    """One page of a daily, weekly or monthly feed."""

    period: Period
    sort: str
    cards: list[PaperCard]
    pager: Pager
    notice: str | None
    prev_url: str | None
    next_url: str | None
    tab_urls: Mapping[PeriodKind, str]
    sort_urls: Mapping[str, str]

    @property
    def kind(self) -> PeriodKind:
        return self.period.kind

    @property
    def heading(self) -> str:
        return self.period.heading


def build_feed(
    db: Database, kind: PeriodKind, requested: Period | None, sort: FeedSort, page: int
) -> FeedView:
    """The feed page for `requested` (None: the latest featured day), one page of it."""
    return feed_view(feed_page(db, kind, requested, sort, page))


def feed_view(found: FeedPage) -> FeedView:
    """What the feed template receives: the page of cards, and every link already built."""
    period, per_page, total = found.period, found.per_page, found.total
    sort_param = None if found.sort == DEFAULT_SORT else found.sort
    params = {"sort": sort_param}
    return FeedView(
        period=period,
        sort=found.sort,
        cards=found.cards,
        pager=make_pager(period.url, params, found.page, per_page or max(total, 1), total),
        notice=found.notice,
        prev_url=_feed_url(period.kind, found.before, sort_param),
        next_url=_feed_url(period.kind, found.after, sort_param),
        tab_urls={k: page_url(period_containing(k, found.anchor).url, params) for k in KINDS},
        sort_urls={
            s: page_url(period.url, {"sort": None if s == DEFAULT_SORT else s})
            for s in ("upvotes", "newest")
        },
    )


def _feed_url(kind: PeriodKind, day: dt.date | None, sort_param: str | None) -> str | None:
    if day is None:
        return None
    return page_url(period_containing(kind, day).url, {"sort": sort_param})


@dataclass(frozen=True, slots=True)
class FacetLink:
    """One value of a facet: its count, and the URL that turns it on (or off, if active)."""

    label: str
    count: int
    url: str
    active: bool = False


@dataclass(frozen=True, slots=True)
class FacetGroup:
    title: str
    links: list[FacetLink]


@dataclass(frozen=True, slots=True)
class SearchView:
    """The search form's values and, when a search ran, one page of results."""

    query: str
    date_from: str | None
    date_to: str | None
    category: str | None
    results: SearchResults | None
    pager: Pager | None
    notice: str | None = None
    like: str | None = None  # "more like this" paper id
    has_code: bool = False
    featured: bool = False
    facets: list[FacetGroup] = field(default_factory=list)
    facet_basis: int = 0  # how many results the facet counts cover
