"""Keyword search: `/papers?q=…&p=…&from=…&to=…&category=…`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from papertide.db.fts import Filters
from papertide.models import SearchResults
from papertide.web.deps import PageDep, SearchDep
from papertide.web.periods import parse_period
from papertide.web.search_service import SearchService
from papertide.web.views import SearchView, make_pager

router = APIRouter()

PER_PAGE = 20
MAX_QUERY = 500


@router.get("/papers", response_class=HTMLResponse)
async def search_page(
    search: SearchDep,
    page: PageDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    number: Annotated[int, Query(alias="p", ge=1, le=1000)] = 1,
    date_from: Annotated[str, Query(alias="from", max_length=20)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=20)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    like: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """The search form and, when there is a query, one page of results."""
    if like:
        view = more_like(search, like)
    else:
        view = run_search(search, q, date_from, date_to, category, number)
    return page.render("search.html", nav="search", header_query=view.query, search=view)


def run_search(
    service: SearchService, q: str, date_from: str, date_to: str, category: str, number: int
) -> SearchView:
    """Validate the form (a bad date is a 400), search, and page the results."""
    query = " ".join(q.split())[:MAX_QUERY]
    filters = Filters(
        date_from=_optional_day(date_from),
        date_to=_optional_day(date_to),
        category=category.strip() or None,
    )
    if not query and filters == Filters():
        return SearchView(query, date_from or None, date_to or None, filters.category, None, None)
    results = service.run(query, filters, page=number, per_page=PER_PAGE)
    params = {"q": query, "from": date_from, "to": date_to, "category": filters.category}
    pager = make_pager("/papers", params, number, PER_PAGE, results.total)
    return SearchView(query, date_from or None, date_to or None, filters.category, results, pager)


def more_like(service: SearchService, arxiv_id: str) -> SearchView:
    """"More like this": a paper's nearest neighbours, as a result list."""
    cards = service.related(arxiv_id.strip(), k=PER_PAGE)
    results = SearchResults("", len(cards), 1, PER_PAGE, cards, mode="similar")
    notice = None if cards else "No similar papers found: semantic search is not available."
    pager = make_pager("/papers", {"like": arxiv_id}, 1, PER_PAGE, len(cards))
    return SearchView("", None, None, None, results, pager, notice=notice, like=arxiv_id)


def _optional_day(text: str) -> dt.date | None:
    """An empty form field is no filter; anything else must be a real date (InvalidPeriod)."""
    text = text.strip()
    return parse_period("day", text).start if text else None
