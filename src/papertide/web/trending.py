"""The trending page's view: one page of a window's ranking, its pager, links and numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from papertide.ranking.service import TrendingItem, TrendingService
from papertide.ranking.trending import (
    DEFAULT_WINDOW,
    WINDOW_DAYS,
    WINDOW_LABELS,
    TrendingParams,
    TrendingRanking,
    Window,
)
from papertide.web.views import Pager, make_pager, page_url

PER_PAGE = 30
PATH = "/papers/trending"


@dataclass(frozen=True, slots=True)
class TrendingView:
    """One page of a trending window."""

    window: Window
    ranking: TrendingRanking
    items: list[TrendingItem]
    pager: Pager
    window_urls: Mapping[Window, str]
    window_labels: Mapping[Window, str]

    @property
    def params(self) -> TrendingParams:
        return self.ranking.params

    @property
    def numbers(self) -> dict[str, str]:
        """The parameters as the page prints them."""
        params = self.params
        per_upvote = f"{1 / params.star_weight:g}" if params.star_weight else "no number of"
        return {
            "half_life": f"{params.half_life_hours:g}",
            "star_weight": f"{params.star_weight:g}",
            "stars_per_upvote": per_upvote,
            "new_account_days": f"{params.new_account_days:g}",
            "new_account_weight": f"{params.new_account_weight:g}",
        }


def trending_view(service: TrendingService, window: Window, page: int) -> TrendingView:
    """Page `page` (from 1) of `window`: the papers scoring above 0, best first."""
    ranking = service.window(window)
    pager = make_pager(PATH, {"window": _param(window)}, page, PER_PAGE, len(ranking.trending))
    items = service.items(ranking, pager.offset, PER_PAGE)
    urls = {w: page_url(PATH, {"window": _param(w)}) for w in WINDOW_DAYS}
    return TrendingView(window, ranking, items, pager, urls, WINDOW_LABELS)


def _param(window: Window) -> str | None:
    return None if window == DEFAULT_WINDOW else window


async def get_trending(request: Request) -> TrendingService:
    service: TrendingService = request.app.state.trending
    return service


TrendingDep = Annotated[TrendingService, Depends(get_trending)]
