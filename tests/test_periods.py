import datetime as dt

import pytest

from papertide.periods import InvalidPeriod, parse_period, period_containing


def test_parses_a_day_a_week_and_a_month() -> None:
    day = parse_period("day", "2026-08-20")
    week = parse_period("week", "2026-W34")
    month = parse_period("month", "2026-02")
    assert (day.start, day.end, day.slug, day.url) == (
        dt.date(2026, 8, 20),
        dt.date(2026, 8, 20),
        "2026-08-20",
        "/papers/date/2026-08-20",
    )
    assert (week.start, week.end, week.url) == (
        dt.date(2026, 8, 17),
        dt.date(2026, 8, 23),
        "/papers/week/2026-W34",
    )
    assert (month.start, month.end, month.url) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
        "/papers/month/2026-02",
    )


def test_headings() -> None:
    assert parse_period("day", "2026-08-20").heading == "August 20, 2026"
    assert parse_period("week", "2026-W34").heading == "Week 34, 2026 (Aug 17 – Aug 23)"
    assert parse_period("month", "2024-12").heading == "December 2024"


def test_iso_week_belongs_to_its_iso_year() -> None:
    # 2024-12-30 is the Monday of ISO week 1 of 2025.
    week = period_containing("week", dt.date(2024, 12, 31))
    assert week.slug == "2025-W01"
    assert parse_period("week", "2020-W53").start == dt.date(2020, 12, 28)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("day", "2025-13-45"),
        ("day", "2025-02-29"),
        ("day", "0000-01-01"),
        ("day", "2025-1-1"),
        ("day", "20250101"),
        ("day", "garbage"),
        ("day", "2025-01-01\n"),
        ("day", "２０２５-01-01"),
        ("week", "2025-W60"),
        ("week", "2025-W00"),
        ("week", "2025-W53"),  # 2025 has 52 ISO weeks
        ("week", "2025-W1"),
        ("week", "9999-W52"),  # its Sunday would be in year 10000
        ("month", "2025-13"),
        ("month", "2025-00"),
        ("month", "2025-1"),
        ("month", "2025-01-01"),
    ],
)
def test_rejects_what_is_not_a_real_period(kind: str, text: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(kind, text)  # type: ignore[arg-type]
