"""Trending rankings computed once and stored for every web host (issue #11).

The worker's `trending` job (and `papertide trending`) computes each window's ranking and
stores it in `trending_ranking` with the content version it reflects; web processes read it
(papertide.ranking.service). A ranking is computed under a lock per window, so however many
hosts see it out of date, one of them computes it while the others serve the stored one.

Storing loses nothing: the time decay runs on the site clock (the latest activity, see
docs/trending.md), not on the time of computation, so a ranking stored for content version V
is what any host would compute for V later on. Only the versions since then can be missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import threading
from typing import Any, get_args

from papertide.db import Database, queries, trending_store
from papertide.db import jobs as locks
from papertide.ranking.trending import (
    TrendingParams,
    TrendingRanking,
    TrendingScore,
    Window,
    rank_window,
)

WINDOWS: tuple[Window, ...] = get_args(Window)
# A computation of the largest window takes about a second at 80k papers (docs/trending.md);
# a host killed while computing frees its window for another after this long.
LOCK_TTL = dt.timedelta(minutes=2)


@dataclasses.dataclass(frozen=True, slots=True)
class Stored:
    """A ranking as stored: the content version it reflects and when it was computed."""

    version: int
    computed_at: dt.datetime
    ranking: TrendingRanking


def lock_name(window: Window) -> str:
    """The job lock a computation of `window` holds (the same on every host and worker)."""
    return f"trending-{window}"


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def params_dict(params: TrendingParams) -> dict[str, float]:
    """The parameters as stored: a ranking computed with others is not served."""
    return dataclasses.asdict(params)


def load(db: Database, window: Window, params: TrendingParams) -> Stored | None:
    """The stored ranking of `window`, or None when none is stored for these parameters."""
    with db.read() as conn:
        found = trending_store.load(conn, window)
    if found is None or found.stamp.params != params_dict(params):
        return None
    ranking = from_json(found.ranking, params, window)
    return Stored(found.stamp.content_version, found.stamp.computed_at, ranking)


def compute(
    db: Database,
    window: Window,
    params: TrendingParams,
    now: dt.datetime,
    holder: str | None = None,
) -> Stored | None:
    """Compute `window`'s ranking and store it, or None if another process is computing it.

    The content version is read in the same snapshot as the events, so a write that lands
    meanwhile leaves the stored ranking one version behind (recomputed later), never ahead.
    """
    holder = holder or default_holder()
    with db.write() as conn:
        if not locks.acquire_lock(conn, lock_name(window), holder, now, LOCK_TTL):
            return None
    try:
        with db.read() as conn:
            version = queries.content_version(conn)
            ranking = rank_window(conn, window, params, now)
        with db.write() as conn:
            trending_store.store(conn, window, version, now, params_dict(params), to_json(ranking))
    finally:
        with db.write() as conn:
            locks.release_lock(conn, lock_name(window), holder)
    return Stored(version, now, ranking)


@dataclasses.dataclass(frozen=True, slots=True)
class Refreshed:
    """What a refresh of every window did."""

    computed: list[Window]
    current: list[Window]  # already stored for the current content version
    busy: list[Window]  # being computed elsewhere

    def summary(self) -> str:
        parts = [f"{len(self.computed)} computed", f"{len(self.current)} current"]
        if self.busy:
            parts.append(f"{len(self.busy)} being computed elsewhere")
        return "trending: " + ", ".join(parts)


def refresh(
    db: Database, params: TrendingParams, now: dt.datetime, holder: str | None = None
) -> Refreshed:
    """Compute and store every window whose stored ranking is not of the current version."""
    computed: list[Window] = []
    current: list[Window] = []
    busy: list[Window] = []
    for window in WINDOWS:
        with db.read() as conn:
            version = queries.content_version(conn)
            stamp = trending_store.stamp(conn, window)
        if (
            stamp is not None
            and stamp.content_version == version
            and stamp.params == params_dict(params)
        ):
            current.append(window)
        elif compute(db, window, params, now, holder) is None:
            busy.append(window)
        else:
            computed.append(window)
    return Refreshed(computed, current, busy)


def to_json(ranking: TrendingRanking) -> dict[str, Any]:
    """The ranking's papers that score above 0 (the page shows no others), as JSON."""
    return {
        "clock": _time(ranking.clock),
        "since": _time(ranking.since),
        "scores": [
            [*score[:-1], _time(score.first_at)]  # first_at is the last field
            for score in ranking.trending
        ],
        "featured_on": {
            score.paper_id: ranking.featured_on[score.paper_id].isoformat()
            for score in ranking.trending
            if score.paper_id in ranking.featured_on
        },
    }


def from_json(data: dict[str, Any], params: TrendingParams, window: Window) -> TrendingRanking:
    """The ranking `to_json` stored (JSON keeps floats exact: the same scores come back)."""
    scores = [
        TrendingScore(*fields[:-1], first_at=_parse_time(fields[-1]))  # type: ignore[misc]
        for fields in data["scores"]
    ]
    featured_on = {key: dt.date.fromisoformat(day) for key, day in data["featured_on"].items()}
    return TrendingRanking(
        _parse_time(data["clock"]), _parse_time(data["since"]), params, scores, featured_on, window
    )


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)
