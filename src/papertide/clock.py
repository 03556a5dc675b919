"""The one clock of Papertide (issue #10: it was defined ten times).

Times are stored and compared as naive UTC datetimes, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Now in UTC, without tzinfo, as every stored time is."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
