"""What the feed and search templates receive: plain objects, every URL already built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from papertide.models import PaperCard, SearchResults
from papertide.web.periods import Period, PeriodKind


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
