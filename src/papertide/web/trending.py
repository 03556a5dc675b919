"""The trending page's data: rankings cached per content version, one page of cards, charts.

Scoring a window reads every event of its papers (for "all", every featured paper), so a
ranking is kept until `site_state.content_version` changes, as the page cache does; unlike
the page cache it also serves signed-in visitors and every page number of a window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from papertide.db import queries
from papertide.db.engine import Database
from papertide.models import PaperCard
from papertide.ranking.trending import (
    DEFAULT_WINDOW,
    WINDOW_DAYS,
    WINDOW_LABELS,
    TrendingParams,
    TrendingRanking,
    TrendingScore,
    Window,
    explain,
    paper_events,
    rank_papers,
    rank_window,
)
from papertide.web.charts import Chart, history_charts
from papertide.web.views import Pager, make_pager, page_url

PER_PAGE = 30
SORTED_KEPT = 32  # sets of papers (days, weeks, months) whose API ranking is kept
PATH = "/papers/trending"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class TrendingItem:
    """A card on the trending page, its score, and why it is there."""

    card: PaperCard
    score: TrendingScore
    why: str

    @property
    def score_text(self) -> str:
        """`65.1`, or `65.1 (52.3 upvotes + 12.8 stars)` when both kinds count."""
        score = self.score
        text = _figure(score.score)
        if score.upvote_part and score.star_part:
            text += f" ({_figure(score.upvote_part)} upvotes + {_figure(score.star_part)} stars)"
        return text


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


class TrendingService:
    """Trending for the pages and the API, rankings cached per content version.

    One ranking per window, and the last few sets of papers the API asked to sort.
    """

    def __init__(
        self, db: Database, params: TrendingParams, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self.db = db
        self.params = params
        self.clock = clock
        self._cache: dict[Window, tuple[int, TrendingRanking]] = {}
        self._sorted: OrderedDict[tuple[str, ...], tuple[int, TrendingRanking]] = OrderedDict()

    def window(self, window: Window) -> TrendingRanking:
        """The ranking of `window`, recomputed only when the content version has moved."""
        with self.db.read() as conn:
            version = queries.content_version(conn)
            cached = self._cache.get(window)
            if cached is not None and cached[0] == version:
                return cached[1]
            ranking = rank_window(conn, window, self.params, self.clock())
        self._cache[window] = (version, ranking)
        return ranking

    def forget(self) -> None:
        """Drop the cached rankings (for benchmarks: a content change does it by itself)."""
        self._cache.clear()
        self._sorted.clear()

    def papers(self, paper_ids: Sequence[str]) -> TrendingRanking:
        """The given papers ranked (the API's `sort=trending` of a day, week or month)."""
        key = tuple(sorted(set(paper_ids)))
        with self.db.read() as conn:
            version = queries.content_version(conn)
            cached = self._sorted.get(key)
            if cached is not None and cached[0] == version:
                self._sorted.move_to_end(key)
                return cached[1]
            ranking = rank_papers(conn, key, self.params, self.clock())
        self._sorted[key] = (version, ranking)
        while len(self._sorted) > SORTED_KEPT:
            self._sorted.popitem(last=False)
        return ranking

    def history(self, paper_id: str) -> list[Chart]:
        """The paper page's upvote and star charts (empty when nothing is recorded)."""
        with self.db.read() as conn:
            events = paper_events(conn, paper_id)
        return history_charts(paper_id, events)

    def page(self, window: Window, page: int) -> TrendingView:
        """Page `page` (from 1) of `window`: the papers scoring above 0, best first."""
        ranking = self.window(window)
        ranked = ranking.trending
        pager = make_pager(PATH, {"window": _param(window)}, page, PER_PAGE, len(ranked))
        shown = ranked[pager.offset : pager.offset + PER_PAGE]
        with self.db.read() as conn:
            found = queries.cards_by_ids(conn, [score.paper_id for score in shown])
        cards = {card.arxiv_id: card for card in found}
        clock = ranking.clock or self.clock()
        items = [
            TrendingItem(
                dataclasses.replace(
                    cards[score.paper_id], featured_on=ranking.featured_on.get(score.paper_id)
                ),
                score,
                explain(score, clock),
            )
            for score in shown
            if score.paper_id in cards
        ]
        urls = {w: page_url(PATH, {"window": _param(w)}) for w in WINDOW_DAYS}
        return TrendingView(window, ranking, items, pager, urls, WINDOW_LABELS)


def _figure(value: float) -> str:
    """Scores as shown: one decimal, or two significant digits when tiny (old events)."""
    return f"{value:.1f}" if value >= 0.1 or value == 0 else f"{value:.2g}"


def _param(window: Window) -> str | None:
    return None if window == DEFAULT_WINDOW else window


async def get_trending(request: Request) -> TrendingService:
    service: TrendingService = request.app.state.trending
    return service


TrendingDep = Annotated[TrendingService, Depends(get_trending)]
