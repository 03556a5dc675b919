"""Stored trending rankings (issue #11): computed once, under a lock per window, served to all."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from tests.ranking import scenario
from tests.ranking.scenario import NOW, A, B, C, D, Z

from papertide.db import Database, queries, trending_store
from papertide.db import jobs as locks
from papertide.db.writes import bump_content_version
from papertide.ranking import stored
from papertide.ranking.service import TrendingService
from papertide.ranking.trending import TrendingParams, rank_window

PARAMS = TrendingParams()
SEVEN_DAYS = [B, D, A, C]  # worked out by hand in tests/ranking/test_trending.py
LATER = NOW + dt.timedelta(days=1)


@pytest.fixture
def built(db: Database) -> Database:
    scenario.build(db)
    return db


def _order(ranking: object) -> list[str]:
    return [score.paper_id for score in ranking.trending]  # type: ignore[attr-defined]


def _version(db: Database) -> int:
    with db.read() as conn:
        return queries.content_version(conn)


def test_a_stored_ranking_comes_back_exactly_as_computed(built: Database) -> None:
    for window in stored.WINDOWS:
        with built.read() as conn:
            direct = rank_window(conn, window, PARAMS, LATER)
        kept = stored.compute(built, window, PARAMS, LATER)
        assert kept is not None and kept.version == _version(built)
        loaded = stored.load(built, window, PARAMS)
        assert loaded is not None and loaded.computed_at == LATER
        assert loaded.ranking.trending == direct.trending  # floats and all, exactly
        assert loaded.ranking.clock == direct.clock == NOW
        assert loaded.ranking.since == direct.since
        assert {p: direct.featured_on[p] for p in _order(direct)} == loaded.ranking.featured_on
    assert _order(stored.load(built, "7d", PARAMS).ranking) == SEVEN_DAYS  # type: ignore[union-attr]


def test_a_ranking_of_other_parameters_is_not_served(built: Database) -> None:
    stored.compute(built, "7d", PARAMS, LATER)
    other = dataclasses.replace(PARAMS, star_weight=0.0)
    assert stored.load(built, "7d", other) is None
    service = TrendingService(built, other, clock=lambda: LATER)
    assert _order(service.window("7d")) == [D, A, C, B]  # B is 2.9 without its stars
    assert stored.load(built, "7d", other) is not None  # and it replaced the other


def test_an_older_version_never_replaces_a_newer_one(built: Database) -> None:
    with built.write() as conn:
        assert trending_store.store(conn, "7d", 5, LATER, {}, {"n": 5})
        assert not trending_store.store(conn, "7d", 4, LATER, {}, {"n": 4})
        assert trending_store.store(conn, "7d", 5, LATER, {}, {"n": 6})
    with built.read() as conn:
        found = trending_store.load(conn, "7d")
    assert found is not None and found.ranking == {"n": 6}


def test_refresh_computes_only_what_is_out_of_date(built: Database) -> None:
    first = stored.refresh(built, PARAMS, LATER)
    assert (first.computed, first.current, first.busy) == (["7d", "30d", "all"], [], [])
    again = stored.refresh(built, PARAMS, LATER)
    assert (again.computed, again.current) == ([], ["7d", "30d", "all"])
    with built.write() as conn:
        bump_content_version(conn)
        assert locks.acquire_lock(
            conn, stored.lock_name("30d"), "elsewhere", LATER, stored.LOCK_TTL
        )
    third = stored.refresh(built, PARAMS, LATER)
    assert (third.computed, third.busy) == (["7d", "all"], ["30d"])
    assert third.summary() == "trending: 2 computed, 0 current, 1 being computed elsewhere"


def test_the_service_serves_the_stored_ranking_without_computing(built: Database) -> None:
    stored.compute(built, "7d", PARAMS, LATER)
    # Tamper with the stored ranking: what the service shows can only come from the table.
    with built.read() as conn:
        found = trending_store.load(conn, "7d")
    assert found is not None
    found.ranking["scores"].reverse()
    with built.write() as conn:
        trending_store.store(conn, "7d", _version(built), LATER, found.stamp.params, found.ranking)
    service = TrendingService(built, PARAMS, clock=lambda: LATER)
    assert _order(service.window("7d")) == SEVEN_DAYS[::-1]
    assert service.window("7d").stale is False


def test_an_out_of_date_ranking_is_served_while_another_process_computes(
    built: Database,
) -> None:
    now = [LATER]
    service = TrendingService(built, PARAMS, clock=lambda: now[0], max_stale_s=10)
    assert _order(service.window("7d")) == SEVEN_DAYS  # nothing stored: computed and stored
    with built.write() as conn:
        for i in range(11):  # 11 votes at the clock: 11 > B's 10.45
            voter = scenario.add_user(conn, f"late{i}", scenario.ESTABLISHED)
            scenario.add_vote(conn, voter, Z, NOW)
    # Computed a moment ago: served as it is, marked stale, for up to max_stale.
    served = service.window("7d")
    assert (_order(served), served.stale) == (SEVEN_DAYS, True)
    # Later, but another process holds the window's lock: still served as it is.
    now[0] = LATER + dt.timedelta(seconds=11)
    with built.write() as conn:
        locks.acquire_lock(conn, stored.lock_name("7d"), "elsewhere", now[0], stored.LOCK_TTL)
    assert (_order(service.window("7d")), service.window("7d").stale) == (SEVEN_DAYS, True)
    with built.write() as conn:
        locks.release_lock(conn, stored.lock_name("7d"), "elsewhere")
    # The lock is free: this process computes it, stores it, and it is current.
    fresh = service.window("7d")
    assert (_order(fresh), fresh.stale) == ([Z, *SEVEN_DAYS], False)
    loaded = stored.load(built, "7d", PARAMS)
    assert loaded is not None and loaded.version == _version(built)
    assert _order(loaded.ranking) == [Z, *SEVEN_DAYS]


def test_with_nothing_stored_and_the_lock_taken_a_host_computes_for_itself(
    built: Database,
) -> None:
    with built.write() as conn:
        locks.acquire_lock(conn, stored.lock_name("7d"), "elsewhere", LATER, stored.LOCK_TTL)
    service = TrendingService(built, PARAMS, clock=lambda: LATER)
    ranking = service.window("7d")
    assert (_order(ranking), ranking.stale) == (SEVEN_DAYS, False)
    assert stored.load(built, "7d", PARAMS) is None  # the lock holder stores it, not this host


def test_an_empty_site_stores_an_empty_ranking(db: Database) -> None:
    service = TrendingService(db, PARAMS, clock=lambda: LATER)
    ranking = service.window("all")
    assert (ranking.trending, ranking.clock) == ([], None)
    loaded = stored.load(db, "all", PARAMS)
    assert loaded is not None and loaded.ranking.trending == []
