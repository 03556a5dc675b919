"""When scheduled jobs are due (pure: no clock, no I/O; times are naive UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

WEEKDAYS = frozenset(range(5))  # Monday..Friday
EVERY_DAY = frozenset(range(7))


class Schedule(Protocol):
    """Answers: given when a job last started, when is it next due?"""

    def due_at(self, last_started: dt.datetime | None, now: dt.datetime) -> dt.datetime:
        """The time the job is due; at or before `now` means it should run now."""
        ...

    def describe(self) -> str:
        ...


DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True, slots=True)
class DailyAt:
    """At HH:MM UTC on the given weekdays (0 = Monday)."""

    time: dt.time
    days: frozenset[int] = EVERY_DAY

    @classmethod
    def parse(cls, text: str, days: frozenset[int] = EVERY_DAY) -> DailyAt:
        """`"01:30"` -> DailyAt(01:30); raises ValueError naming the bad text."""
        try:
            hours, minutes = (int(part) for part in text.strip().split(":"))
            return cls(dt.time(hours, minutes), days)
        except ValueError as exc:
            raise ValueError(f"schedule time {text!r} is not HH:MM (24-hour, UTC)") from exc

    def _slots_around(self, moment: dt.datetime) -> list[dt.datetime]:
        day = moment.date()
        candidates = (day + dt.timedelta(days=offset) for offset in range(-8, 9))
        return [dt.datetime.combine(d, self.time) for d in candidates if d.weekday() in self.days]

    def due_at(self, last_started: dt.datetime | None, now: dt.datetime) -> dt.datetime:
        if last_started is None:
            # Never ran: due at the latest slot already passed (so a fresh worker catches up).
            past = [slot for slot in self._slots_around(now) if slot <= now]
            return past[-1] if past else now
        return min(slot for slot in self._slots_around(last_started) if slot > last_started)

    def describe(self) -> str:
        if self.days == WEEKDAYS:
            which = "weekdays"
        elif self.days == EVERY_DAY:
            which = "every day"
        else:
            which = ", ".join(DAY_NAMES[day] for day in sorted(self.days))
        return f"{which} at {self.time:%H:%M} UTC"


@dataclass(frozen=True, slots=True)
class Every:
    """Every `interval`, counted from the previous start."""

    interval: dt.timedelta

    def due_at(self, last_started: dt.datetime | None, now: dt.datetime) -> dt.datetime:
        return now if last_started is None else last_started + self.interval

    def describe(self) -> str:
        hours = self.interval.total_seconds() / 3600
        return f"every {hours:g} hours"
