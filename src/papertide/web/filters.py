"""Jinja2 filters shared by the page templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from papertide.markup import render_comment
from papertide.periods import long_date as _long_date

SHOWN_AUTHORS = 3


def short_authors(authors: Sequence[str]) -> str:
    """`A, B, C et al. (12 authors)` for long lists, every name for short ones."""
    if len(authors) <= SHOWN_AUTHORS + 1:
        return ", ".join(authors)
    return f"{', '.join(authors[:SHOWN_AUTHORS])} et al. ({len(authors)} authors)"


def compact_number(value: int | None) -> str:
    """`950`, `1.2k`, `12k`, `3.4M`."""
    if value is None:
        return ""
    for threshold, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= threshold:
            scaled = value / threshold
            text = f"{scaled:.1f}" if abs(scaled) < 10 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return str(value)


def long_date(value: dt.date | dt.datetime | None) -> str:
    """`August 20, 2026` for a date or a datetime."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return _long_date(value)


def is_http_url(value: str | None) -> bool:
    """Whether a user-provided link is a plain http(s) URL (never `javascript:` and the like)."""
    if not value:
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def comment_html(source: str) -> Markup:
    """A comment's Markdown as sanitised HTML (papertide.markup), safe to output as is."""
    return Markup(render_comment(source))


FILTERS: dict[str, Callable[..., Any]] = {
    "comment_html": comment_html,
    "short_authors": short_authors,
    "compact_number": compact_number,
    "long_date": long_date,
    "is_http_url": is_http_url,
}
