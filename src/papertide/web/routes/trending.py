"""`/papers/trending?window=7d|30d|all`: featured papers ranked by the explained trending score."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from papertide.ranking.trending import DEFAULT_WINDOW, Window
from papertide.web.deps import PageDep
from papertide.web.syndication import FeedLink
from papertide.web.trending import TrendingDep, trending_view

router = APIRouter()

WindowQuery = Annotated[Window, Query(description="7d (default), 30d or all")]
PageQuery = Annotated[int, Query(alias="p", ge=1, le=10_000, description="page, from 1")]


@router.get("/papers/trending", response_class=HTMLResponse)
def trending_page(
    trending: TrendingDep,
    page: PageDep,
    window: WindowQuery = DEFAULT_WINDOW,
    number: PageQuery = 1,
) -> HTMLResponse:
    """Papers featured in the window, by score, each saying why it is there."""
    view = trending_view(trending, window, number)
    query = "" if window == DEFAULT_WINDOW else f"window={window}"
    label = view.window_labels[window].lower()
    feed = FeedLink(f"Trending papers, {label}", "/feeds/trending", query)
    response = page.render("trending.html", nav="trending", trending=view, syndication=feed)
    if view.ranking.stale:
        # An out-of-date ranking is served while another process recomputes it; cached, the
        # page would outlive the recomputation (which moves no content version). Issue #11.
        response.headers["Cache-Control"] = "no-store"
    return response
