"""Trending as a service: rankings cached per content version, ranked cards, their history.

The trending page, the paper page and the API all call it (issue #10: it lived in `web/`).
Scoring a window reads every event of its papers (for "all", every featured paper), so a
window's ranking is computed once for all hosts and stored (papertide.ranking.stored, issue
#11): a process reads the stored one and keeps it until `site_state.content_version` changes,
as the page cache does; unlike the page cache it also serves signed-in visitors and every page
number of a window. When the stored ranking is out of date, one process recomputes it
(`max_stale_s` after it was computed) while the others serve it as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from papertide.clock import utcnow
from papertide.db import queries, trending_store
from papertide.db.engine import Database
from papertide.models import PaperCard
from papertide.ranking import stored
from papertide.ranking.stored import Stored
from papertide.ranking.trending import (
    TrendingEvents,
    TrendingParams,
    TrendingRanking,
    TrendingScore,
    Window,
    explain,
    paper_events,
    rank_papers,
    rank_window,
)

SORTED_KEPT = 32  # sets of papers (days, weeks, months) whose API ranking is kept


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


class TrendingService:
    """Trending for the pages and the API, rankings cached per content version.

    One ranking per window, and the last few sets of papers the API asked to sort.
    """

    def __init__(
        self,
        db: Database,
        params: TrendingParams,
        clock: Callable[[], dt.datetime] = utcnow,
        max_stale_s: float = 10.0,
    ) -> None:
        self.db = db
        self.params = params
        self.clock = clock
        self.max_stale = dt.timedelta(seconds=max_stale_s)
        self._cache: dict[Window, Stored] = {}
        self._sorted: OrderedDict[tuple[str, ...], tuple[int, TrendingRanking]] = OrderedDict()

    def window(self, window: Window) -> TrendingRanking:
        """The ranking of `window`: the stored one, recomputed here only when it is out of
        date, `max_stale` old and no other process is recomputing it (docs/trending.md)."""
        with self.db.read() as conn:
            version = queries.content_version(conn)
            held = self._cache.get(window)
            if held is not None and held.version == version:
                return held.ranking
            stamp = trending_store.stamp(conn, window)
        if stamp is None or stamp.params != stored.params_dict(self.params):
            held = None
        elif held is None or (held.version, held.computed_at) != stamp[:2]:
            held = stored.load(self.db, window, self.params)
        if held is None or (
            held.version != version and self.clock() - held.computed_at >= self.max_stale
        ):
            held = stored.compute(self.db, window, self.params, self.clock()) or held
        if held is None:  # nothing stored and another process is computing it: compute here
            with self.db.read() as conn:
                ranking = rank_window(conn, window, self.params, self.clock())
            return ranking
        self._cache[window] = held
        if held.version == version:
            return held.ranking
        return dataclasses.replace(held.ranking, stale=True)

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

    def events(self, paper_id: str) -> TrendingEvents:
        """Every upvote and star snapshot of a paper (its history charts are drawn from them)."""
        with self.db.read() as conn:
            return paper_events(conn, paper_id)

    def items(self, ranking: TrendingRanking, offset: int, limit: int) -> list[TrendingItem]:
        """Cards `offset` to `offset + limit` of `ranking`, each with its score and why."""
        shown = ranking.trending[offset : offset + limit]
        with self.db.read() as conn:
            found = queries.cards_by_ids(conn, [score.paper_id for score in shown])
        cards = {card.arxiv_id: card for card in found}
        clock = ranking.clock or self.clock()
        return [
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


def _figure(value: float) -> str:
    """Scores as shown: one decimal, or two significant digits when tiny (old events)."""
    return f"{value:.1f}" if value >= 0.1 or value == 0 else f"{value:.2g}"
