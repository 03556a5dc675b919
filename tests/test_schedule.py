"""When scheduled jobs are due."""

from __future__ import annotations

import datetime as dt

import pytest

from papertide.schedule import WEEKDAYS, DailyAt, Every

MONDAY = dt.datetime(2026, 11, 23)  # a Monday


def test_daily_at_weekdays_skips_the_weekend() -> None:
    schedule = DailyAt.parse("01:30", WEEKDAYS)
    friday_run = MONDAY + dt.timedelta(days=4, hours=1, minutes=30)
    assert schedule.due_at(friday_run, friday_run) == MONDAY + dt.timedelta(
        days=7, hours=1, minutes=30
    )
    monday_run = MONDAY + dt.timedelta(hours=1, minutes=31)
    assert schedule.due_at(monday_run, monday_run) == MONDAY + dt.timedelta(
        days=1, hours=1, minutes=30
    )


def test_a_job_that_never_ran_is_due_at_the_latest_past_slot() -> None:
    schedule = DailyAt.parse("08:30")
    now = MONDAY + dt.timedelta(hours=10)
    assert schedule.due_at(None, now) == MONDAY + dt.timedelta(hours=8, minutes=30)
    early = MONDAY + dt.timedelta(hours=7)
    assert schedule.due_at(None, early) == MONDAY - dt.timedelta(hours=24 - 8, minutes=-30)


def test_every_interval_counts_from_the_previous_start() -> None:
    schedule = Every(dt.timedelta(hours=6))
    assert schedule.due_at(None, MONDAY) == MONDAY
    assert schedule.due_at(MONDAY, MONDAY) == MONDAY + dt.timedelta(hours=6)
    assert schedule.describe() == "every 6 hours"


@pytest.mark.parametrize("text", ["25:00", "noon", "1:2:3", ""])
def test_bad_times_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        DailyAt.parse(text)


def test_daily_schedules_name_their_days() -> None:
    assert DailyAt.parse("07:00", WEEKDAYS).describe() == "weekdays at 07:00 UTC"
    assert DailyAt.parse("08:30").describe() == "every day at 08:30 UTC"
    assert DailyAt.parse("07:30", frozenset({0})).describe() == "Mondays at 07:30 UTC"
