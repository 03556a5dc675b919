"""TrendingService: the ranking the trending page, the paper page and the API all read."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.ranking import scenario
from tests.ranking.scenario import NOW, A, B, C, D, Z

from papertide.db import Database
from papertide.db.writes import bump_content_version
from papertide.ranking.service import TrendingService
from papertide.ranking.trending import TrendingParams

PARAMS = TrendingParams(
    half_life_hours=48, star_weight=0.1, new_account_days=7, new_account_weight=0.25
)
SEVEN_DAYS = [B, D, A, C]  # worked out by hand in tests/ranking/test_trending.py


@pytest.fixture
def service(db: Database) -> TrendingService:
    scenario.build(db)
    return TrendingService(db, PARAMS, clock=lambda: NOW + dt.timedelta(days=1))


def test_items_are_one_slice_of_the_ranking_with_their_reasons(service: TrendingService) -> None:
    ranking = service.window("7d")
    assert [score.paper_id for score in ranking.trending] == SEVEN_DAYS
    first, second = service.items(ranking, 0, 2), service.items(ranking, 2, 2)
    assert [item.card.arxiv_id for item in first + second] == SEVEN_DAYS
    assert first[0].card.featured_on == dt.date(2026, 8, 19)
    assert first[0].score_text == "10.5 (2.9 upvotes + 7.5 stars)"
    assert "upvote" in first[0].why and "star" in first[0].why
    assert service.items(ranking, 4, 2) == []


def test_a_ranking_is_kept_until_the_content_changes(
    service: TrendingService, db: Database
) -> None:
    first = service.window("7d")
    assert service.window("7d") is first
    with db.write() as conn:
        bump_content_version(conn)
    assert service.window("7d") is not first
    assert [s.paper_id for s in service.window("7d").trending] == SEVEN_DAYS


def test_papers_ranks_a_given_set(service: TrendingService) -> None:
    ranking = service.papers([C, A, Z, B])
    assert [score.paper_id for score in ranking.scores] == [B, A, C, Z]


def test_events_are_a_papers_whole_history(service: TrendingService) -> None:
    events = service.events(B)
    assert len(events.upvotes) == 3
    assert [snapshot.stars for snapshot in events.snapshots] == [20, 100, 150, 140]
    assert list(service.events(Z).upvotes) == []
