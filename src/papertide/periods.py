"""Feed periods (a day, an ISO week, a month): strict parsing of URL slugs and their labels."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["day", "week", "month"]

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_URL_PREFIX: dict[PeriodKind, str] = {"day": "date", "week": "week", "month": "month"}
# The years a URL may name (issue #10): wide enough for any paper, narrow enough that a period's
# neighbours and the day after its end (search filters, pagers) stay inside `datetime`'s range.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


class InvalidPeriod(ValueError):
    """A date, week or month string that is not a real one (shown to the user as a 400)."""


@dataclass(frozen=True, slots=True)
class Period:
    """A closed range of featured dates: one day, one ISO week (Monday first) or one month."""

    kind: PeriodKind
    start: dt.date
    end: dt.date

    @property
    def slug(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"{self.start.year:04d}-{self.start.month:02d}"

    @property
    def url(self) -> str:
        return f"/papers/{_URL_PREFIX[self.kind]}/{self.slug}"

    @property
    def heading(self) -> str:
        if self.kind == "day":
            return long_date(self.start)
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year} ({short_date(self.start)} – {short_date(self.end)})"
        return f"{calendar.month_name[self.start.month]} {self.start.year}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def period_containing(kind: PeriodKind, day: dt.date) -> Period:
    """The day, ISO week or month that `day` falls in."""
    if kind == "day":
        return Period("day", day, day)
    if kind == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return Period("week", monday, monday + dt.timedelta(days=6))
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def parse_period(kind: PeriodKind, text: str) -> Period:
    """Parse `YYYY-MM-DD`, `YYYY-Www` or `YYYY-MM` strictly; raise InvalidPeriod otherwise."""
    try:
        if kind == "day":
            period = period_containing("day", _parse_day(text))
        elif kind == "week":
            period = _parse_week(text)
        else:
            period = _parse_month(text)
    except (ValueError, OverflowError) as exc:  # OverflowError: the week of 9999-12-31
        raise InvalidPeriod(_EXPECTED[kind].format(text=text)) from exc
    if not EARLIEST_YEAR <= period.start.year <= period.end.year <= LATEST_YEAR:
        raise InvalidPeriod(f"“{text}” is out of range: years {EARLIEST_YEAR}–{LATEST_YEAR} only.")
    return period


_EXPECTED: dict[PeriodKind, str] = {
    "day": "“{text}” is not a date; use YYYY-MM-DD, for example 2025-06-30.",
    "week": "“{text}” is not an ISO week; use YYYY-Www, for example 2025-W27.",
    "month": "“{text}” is not a month; use YYYY-MM, for example 2025-06.",
}


def _parse_day(text: str) -> dt.date:
    match = _DAY.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day = (int(group) for group in match.groups())
    return dt.date(year, month, day)


def _parse_week(text: str) -> Period:
    match = _WEEK.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, week = int(match[1]), int(match[2])
    monday = dt.date.fromisocalendar(year, week, 1)  # ValueError for week 0, 54, or 53 too many
    return period_containing("week", monday)


def _parse_month(text: str) -> Period:
    match = _MONTH.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return period_containing("month", dt.date(int(match[1]), int(match[2]), 1))


def long_date(day: dt.date) -> str:
    """`August 20, 2026`."""
    return f"{calendar.month_name[day.month]} {day.day}, {day.year}"


def short_date(day: dt.date) -> str:
    """`Aug 20`."""
    return f"{calendar.month_abbr[day.month]} {day.day}"
