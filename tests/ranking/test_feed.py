"""feed_page: the papers of a day, week or month, and which period is shown when."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.ranking import scenario
from tests.ranking.scenario import A, B, C, D, E, Z

from papertide.db import Database
from papertide.periods import parse_period
from papertide.ranking.feed import feed_page


@pytest.fixture
def papers(db: Database) -> Database:
    scenario.build(db)
    return db


def test_without_a_period_the_latest_featured_day_shows_in_full(papers: Database) -> None:
    found = feed_page(papers, "day", None, "upvotes", 5)
    assert found.period == parse_period("day", "2026-08-21")
    assert found.anchor == dt.date(2026, 8, 21) and found.notice is None
    assert {card.arxiv_id for card in found.cards} == {A, C} and found.total == 2
    assert (found.page, found.per_page) == (1, None)  # a day is never paged
    assert (found.before, found.after) == (dt.date(2026, 8, 20), None)


def test_a_week_in_upvote_order_and_its_neighbours(papers: Database) -> None:
    found = feed_page(papers, "week", parse_period("week", "2026-W34"), "upvotes", 1)
    ids = [card.arxiv_id for card in found.cards]
    # Most upvoted first; D is there twice, as it was featured on two days of the week.
    assert ids == [D, D, C, A, B, Z] and found.total == 6
    assert found.per_page == 30 and found.before == dt.date(2026, 8, 10) and found.after is None


def test_an_empty_period_shows_the_nearest_earlier_one_and_says_so(papers: Database) -> None:
    found = feed_page(papers, "day", parse_period("day", "2026-08-14"), "newest", 1)
    assert found.period == parse_period("day", "2026-08-10")
    assert [card.arxiv_id for card in found.cards] == [E]
    assert found.notice == (
        "No papers were featured on August 14, 2026; "
        "showing the nearest earlier day, August 10, 2026."
    )
