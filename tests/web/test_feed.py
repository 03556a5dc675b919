from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

CardIds = Callable[[str], list[str]]


def _upvote_order(items: list[dict[str, Any]]) -> list[str]:
    # Most upvoted first; ties by featured time, then by id (all of a day share one time).
    papers = [item["paper"] for item in items]
    ranked = sorted(papers, key=lambda p: (-p["upvotes"], p["submittedOnDailyAt"], p["id"]))
    return [p["id"] for p in ranked]


def test_day_lists_exactly_that_days_papers_most_upvoted_first(
    client: TestClient, card_ids: CardIds, sample_day: tuple[str, list[dict[str, Any]]]
) -> None:
    day, items = sample_day
    response = client.get(f"/papers/date/{day}")
    assert response.status_code == 200
    assert card_ids(response.text) == _upvote_order(items)
    assert len(items) == 15
    assert "15 papers" in response.text
    assert "August 20, 2026" in response.text


def test_home_is_the_latest_featured_day(
    client: TestClient, card_ids: CardIds, sample_day: tuple[str, list[dict[str, Any]]]
) -> None:
    _, items = sample_day
    response = client.get("/")
    assert response.status_code == 200
    assert card_ids(response.text) == _upvote_order(items)
    assert 'class="notice"' not in response.text


def test_newest_sort_keeps_the_same_papers(
    client: TestClient, card_ids: CardIds, sample_day: tuple[str, list[dict[str, Any]]]
) -> None:
    day, items = sample_day
    response = client.get(f"/papers/date/{day}?sort=newest")
    assert response.status_code == 200
    assert sorted(card_ids(response.text)) == sorted(item["paper"]["id"] for item in items)
    assert 'href="/papers/date/2026-08-20?sort=newest" aria-current="true"' in response.text


def test_card_shows_authors_submitter_repo_and_counts(client: TestClient) -> None:
    html = client.get("/papers/date/2026-08-20").text
    # 2608.16590 has 15 authors, 92 upvotes, 1 comment and a GitHub repository.
    assert "Xin Ding, Liang Mi, Mingzhe Huang et al. (15 authors)" in html
    assert "Submitted by Xin Ding" in html
    assert "air-embodied-brain/Zetta-Embodiment" in html
    assert '<span class="upvote-count">92</span>' in html
    assert 'href="/papers/2608.16590"' in html


def test_week_and_month_pages(client: TestClient, card_ids: CardIds) -> None:
    week = client.get("/papers/week/2026-W34")
    month = client.get("/papers/month/2026-08")
    assert week.status_code == month.status_code == 200
    assert len(card_ids(week.text)) == len(card_ids(month.text)) == 15
    assert "Week 34, 2026" in week.text
    assert "August 2026" in month.text
    # Tabs lead to the period containing the shown day.
    assert 'href="/papers/date/2026-08-20"' in week.text
    assert 'href="/papers/month/2026-08"' in week.text


def test_previous_and_next_skip_to_periods_with_papers(client: TestClient) -> None:
    # The only other imported day is 2025-09-08, eleven months earlier.
    day = client.get("/papers/date/2026-08-20").text
    assert 'rel="prev" href="/papers/date/2025-09-08"' in day
    assert 'rel="next"' not in day
    earlier = client.get("/papers/date/2025-09-08").text
    assert 'rel="next" href="/papers/date/2026-08-20"' in earlier
    assert 'rel="prev"' not in earlier
    assert 'rel="prev" href="/papers/week/2025-W37"' in client.get("/papers/week/2026-W34").text
    assert 'rel="next" href="/papers/month/2026-08"' in client.get("/papers/month/2025-09").text


def test_long_weeks_are_paged_thirty_at_a_time(demo_client: TestClient, card_ids: CardIds) -> None:
    first = demo_client.get("/papers/week/2026-W33")
    second = demo_client.get("/papers/week/2026-W33?p=2")
    assert first.status_code == second.status_code == 200
    first_ids, second_ids = card_ids(first.text), card_ids(second.text)
    assert len(first_ids) == 30
    assert second_ids and not set(first_ids) & set(second_ids)
    assert 'rel="next" href="/papers/week/2026-W33?p=2"' in first.text
    assert 'rel="prev" href="/papers/week/2026-W33"' in second.text
    assert "Page 1 of" in first.text


@pytest.mark.parametrize(
    ("url", "shown", "notice"),
    [
        (
            "/papers/date/2026-08-22",
            "/papers/date/2026-08-20",
            "No papers were featured on August 22, 2026; showing the nearest earlier day, "
            "August 20, 2026.",
        ),
        (
            "/papers/date/2099-01-01",
            "/papers/date/2026-08-20",
            "No papers were featured on January 1, 2099; showing the nearest earlier day, "
            "August 20, 2026.",
        ),
        (
            "/papers/date/2020-01-01",
            "/papers/date/2025-09-08",
            "No papers were featured on January 1, 2020; showing the nearest later day, "
            "September 8, 2025.",
        ),
        (
            "/papers/month/2026-01",
            "/papers/month/2025-09",
            "No papers were featured in January 2026; showing the nearest earlier month, "
            "September 2025.",
        ),
    ],
)
def test_empty_or_future_period_shows_the_nearest_and_says_so(
    client: TestClient, card_ids: CardIds, url: str, shown: str, notice: str
) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert notice in response.text
    assert card_ids(response.text) == card_ids(client.get(shown).text) != []


@pytest.mark.parametrize(
    "url",
    [
        "/papers/date/2025-13-45",
        "/papers/date/2025-02-30",
        "/papers/date/garbage",
        "/papers/date/2025-1-1",
        "/papers/week/2025-W60",
        "/papers/week/2025-W53",
        "/papers/week/9999-W52",
        "/papers/week/nonsense",
        "/papers/month/2025-13",
        "/papers/month/2025-1",
        "/papers/month/%00",
        "/papers/date/2026-08-20?sort=best",
        "/papers/week/2026-W34?p=0",
        "/papers/week/2026-W34?p=abc",
    ],
)
def test_invalid_periods_and_parameters_are_a_400_page(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert '<p class="error-code">400</p>' in response.text


def test_empty_database_shows_an_empty_feed(empty_client: TestClient, card_ids: CardIds) -> None:
    response = empty_client.get("/")
    assert response.status_code == 200
    assert card_ids(response.text) == []
    assert "No papers have been featured yet." in response.text
    assert empty_client.get("/papers/date/2026-08-20").status_code == 200


def test_a_page_past_the_end_says_so(demo_client: TestClient, card_ids: CardIds) -> None:
    response = demo_client.get("/papers/week/2026-W33?p=99")
    assert response.status_code == 200
    assert card_ids(response.text) == []
    assert "There is no page 99; this week has" in response.text
