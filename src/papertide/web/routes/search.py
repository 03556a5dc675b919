"""Search: `/papers?q=…&p=…&from=…&to=…&category=…&code=1&featured=1`, with facets."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from papertide.db.fts import Filters
from papertide.models import Facets, SearchResults
from papertide.periods import parse_period
from papertide.search.service import SearchService
from papertide.web.deps import PageDep, SearchDep
from papertide.web.syndication import FeedLink
from papertide.web.views import FacetGroup, FacetLink, SearchView, make_pager, page_url

router = APIRouter()

PER_PAGE = 20
MAX_QUERY = 500
CATEGORY = re.compile(r"[A-Za-z-]+(\.[A-Za-z-]+)?")  # an arXiv category's shape: cs.LG, hep-th


@router.get("/papers", response_class=HTMLResponse)
def search_page(
    search: SearchDep,
    page: PageDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    number: Annotated[int, Query(alias="p", ge=1, le=1000)] = 1,
    date_from: Annotated[str, Query(alias="from", max_length=20)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=20)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    code: Annotated[bool, Query()] = False,
    featured: Annotated[bool, Query()] = False,
    like: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """The search form and, when there is a query, one page of results."""
    feed = None
    if like:
        view = more_like(search, like)
    else:
        form = SearchForm(q, date_from.strip(), date_to.strip(), category.strip(), code, featured)
        view = run_search(search, form, number)
        feed = _feed_link(form)
    return page.render(
        "search.html", nav="search", header_query=view.query, search=view, syndication=feed
    )


@dataclass(frozen=True, slots=True)
class SearchForm:
    """The search form as submitted (dates still text: they go back into links as given)."""

    q: str
    date_from: str = ""
    date_to: str = ""
    category: str = ""
    code: bool = False
    featured: bool = False

    @property
    def query(self) -> str:
        return " ".join(self.q.split())[:MAX_QUERY]

    def filters(self) -> Filters:
        """The filters (an invalid date is InvalidPeriod: a 400 page)."""
        return Filters(
            date_from=_optional_day(self.date_from),
            date_to=_optional_day(self.date_to),
            category=self.category or None,
            has_code=self.code,
            featured=self.featured,
        )

    def params(self, **changes: str | bool) -> dict[str, str | int | None]:
        """The URL parameters of this search, with `changes` applied, from the first page."""
        form = replace(self, **changes)  # type: ignore[arg-type]
        return {
            "q": form.query,
            "from": form.date_from,
            "to": form.date_to,
            "category": form.category,
            "code": 1 if form.code else None,
            "featured": 1 if form.featured else None,
        }


def run_search(service: SearchService, form: SearchForm, number: int) -> SearchView:
    """Validate the form (a bad date is a 400), search, page the results, count the facets."""
    query, filters = form.query, form.filters()
    view = SearchView(
        query,
        form.date_from or None,
        form.date_to or None,
        filters.category,
        None,
        None,
        has_code=form.code,
        featured=form.featured,
    )
    if not query and filters == Filters():
        return view
    results = service.with_facets(service.run(query, filters, page=number, per_page=PER_PAGE))
    pager = make_pager("/papers", form.params(), number, PER_PAGE, results.total)
    facets = results.facets
    return replace(
        view,
        results=results,
        pager=pager,
        facets=facet_groups(form, facets) if facets else [],
        facet_basis=facets.basis if facets else 0,
    )


def facet_groups(form: SearchForm, facets: Facets) -> list[FacetGroup]:
    """Each facet's values as links that add (or, when active, remove) that filter."""

    def url(**changes: str | bool) -> str:
        return page_url("/papers", form.params(**changes))

    groups = []
    if facets.categories or form.category:
        links = [
            FacetLink(
                name,
                count,
                url(category="" if name == form.category else name),
                name == form.category,
            )
            for name, count in facets.categories
        ]
        if form.category and form.category not in dict(facets.categories):
            links.insert(0, FacetLink(form.category, 0, url(category=""), True))
        groups.append(FacetGroup("Category", links))
    years = []
    for year, count in facets.years:
        start, end = f"{year}-01-01", f"{year}-12-31"
        active = (form.date_from, form.date_to) == (start, end)
        changes = (
            {"date_from": "", "date_to": ""} if active else {"date_from": start, "date_to": end}
        )
        years.append(FacetLink(str(year), count, url(**changes), active))
    if years:
        groups.append(FacetGroup("Published", years))
    groups.append(
        FacetGroup(
            "Show only",
            [
                FacetLink("with code", facets.has_code, url(code=not form.code), form.code),
                FacetLink(
                    "featured", facets.featured, url(featured=not form.featured), form.featured
                ),
            ],
        )
    )
    return groups


def more_like(service: SearchService, arxiv_id: str) -> SearchView:
    """ "More like this": a paper's nearest neighbours, as a result list."""
    cards = service.related(arxiv_id.strip(), k=PER_PAGE)
    results = SearchResults("", len(cards), 1, PER_PAGE, cards, mode="similar")
    notice = None if cards else "No similar papers found: semantic search is not available."
    pager = make_pager("/papers", {"like": arxiv_id}, 1, PER_PAGE, len(cards))
    return SearchView("", None, None, None, results, pager, notice=notice, like=arxiv_id)


def _feed_link(form: SearchForm) -> FeedLink | None:
    """This search's feed; a category alone has its own (issue #13)."""
    params = form.params()
    only_category = [key for key, value in params.items() if value] == ["category"]
    if only_category and CATEGORY.fullmatch(form.category):
        return FeedLink(f"New in {form.category}", f"/feeds/category/{form.category}")
    if not any(params.values()):
        return None
    title = f"Search: {form.query}" if form.query else "Search"
    return FeedLink(title, "/feeds/search", page_url("", params).removeprefix("?"))


def _optional_day(text: str) -> dt.date | None:
    """An empty form field is no filter; anything else must be a real date (InvalidPeriod)."""
    text = text.strip()
    return parse_period("day", text).start if text else None
