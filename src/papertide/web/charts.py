"""Charts drawn on the server as inline SVG (no JavaScript, no chart CDN): the paper page's
upvote and GitHub star history (issue #5).

Every chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says what it shows
in words, and comes with its data as rows for a table, so it reads without sight or images.
All text is XML-escaped here; the SVG is then marked safe for the templates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from papertide.periods import long_date, short_date
from papertide.ranking.trending import StarSnapshot, TrendingEvents, Upvote
from papertide.web.filters import compact_number

WIDTH, HEIGHT = 600, 180
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 30  # margins around the plot, in SVG units
MAX_MARKERS = 60  # a dot per point up to this many points
HOURLY_SPAN = dt.timedelta(days=3)  # data spanning less than this is drawn hour by hour
_KEY = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True, slots=True)
class Series:
    """Values at the end of each hour or day that changed them, in time order."""

    points: list[tuple[dt.datetime, int]]
    hourly: bool  # points are hours (the data spans under HOURLY_SPAN), else days

    def label(self, at: dt.datetime, short: bool = False) -> str:
        """`August 21, 2026` (`Aug 21, 2026`), with `, 14:00 UTC` (`, 14:00`) when hourly."""
        day = f"{short_date(at.date())}, {at.year}" if short else long_date(at.date())
        if not self.hourly:
            return day
        return f"{day}, {at:%H:%M}" + ("" if short else " UTC")


@dataclass(frozen=True, slots=True)
class Chart:
    """One series as a step line (`svg`), described in words and as table rows."""

    key: str
    title: str
    caption: str
    unit: str
    svg: Markup
    rows: list[tuple[str, str]]  # (when, value) for the text fallback


def upvote_series(upvotes: Iterable[Upvote]) -> Series:
    """Cumulative upvotes (imported ones included) after each hour or day that had any."""
    events = sorted((vote.at, vote.votes) for vote in upvotes)
    hourly = _is_short([at for at, _ in events])
    totals: dict[dt.datetime, int] = {}
    total = 0
    for at, votes in events:
        total += votes
        totals[_bucket(at, hourly)] = total
    return Series(list(totals.items()), hourly)


def star_series(snapshots: Iterable[StarSnapshot]) -> Series:
    """The star count observed last in each hour or day that has a snapshot."""
    ordered = sorted((snapshot.at, snapshot.stars) for snapshot in snapshots)
    hourly = _is_short([at for at, _ in ordered])
    last = {_bucket(at, hourly): stars for at, stars in ordered}
    return Series(list(last.items()), hourly)


def history_charts(paper_id: str, events: TrendingEvents) -> list[Chart]:
    """The paper's upvote chart and its repository's star chart (each only if it has data)."""
    charts = []
    votes = [vote for vote in events.upvotes if vote.paper_id == paper_id]
    upvotes = upvote_series(votes)
    if upvotes.points:
        imported = sum(vote.votes for vote in votes if vote.imported)
        total = upvotes.points[-1][1]
        caption = f"{total:,} upvote{'' if total == 1 else 's'} in all"
        if imported:
            caption += (
                f", of which {imported:,} imported from Hugging Face "
                "(counted at 00:00 UTC on the day the paper was first featured)"
            )
        charts.append(step_chart("upvotes", "Upvotes over time", caption, "Upvotes", upvotes))
    repo = events.papers.get(paper_id)
    stars = star_series(snapshot for snapshot in events.snapshots if snapshot.repo == repo)
    if repo and stars.points:
        at, count = stars.points[-1]
        caption = f"GitHub stars of {repo} as observed: {count:,} on {stars.label(at)}"
        title = f"GitHub stars of {repo} over time"
        charts.append(step_chart("stars", title, caption, "Stars", stars, zero_based=False))
    return charts


def step_chart(
    key: str, title: str, caption: str, unit: str, series: Series, zero_based: bool = True
) -> Chart:
    """A step line through the series' points, the y axis from 0 or from the lowest value."""
    points = series.points
    if not points:
        raise ValueError("a chart needs at least one point")
    key = _KEY.sub("-", key.lower()).strip("-") or "chart"
    lo = 0 if zero_based else min(value for _, value in points)
    hi = max(max(value for _, value in points), lo + 1)
    first, last = points[0][0], points[-1][0]
    span = (last - first).total_seconds()

    def x(at: dt.datetime) -> float:
        if span == 0:
            return LEFT + (WIDTH - LEFT - RIGHT) / 2
        return LEFT + (at - first).total_seconds() / span * (WIDTH - LEFT - RIGHT)

    def y(value: int) -> float:
        return HEIGHT - BOTTOM - (value - lo) / (hi - lo) * (HEIGHT - TOP - BOTTOM)

    svg = _svg(key, title, _describe(unit, series), series, lo, hi, x, y)
    rows = [(series.label(at), f"{value:,}") for at, value in points]
    return Chart(key, title, caption, unit, Markup(svg), rows)


def _describe(unit: str, series: Series) -> str:
    (first, start), (last, end) = series.points[0], series.points[-1]
    if len(series.points) == 1:
        return f"{unit}: {end:,} on {series.label(last)}."
    periods = "hours" if series.hourly else "days"
    return (
        f"{unit}: {start:,} on {series.label(first)}, {end:,} on {series.label(last)}; "
        f"{len(series.points)} {periods} with a change, listed in the table below."
    )


def _svg(
    key: str,
    title: str,
    description: str,
    series: Series,
    lo: int,
    hi: int,
    x: Callable[[dt.datetime], float],
    y: Callable[[int], float],
) -> str:
    points = series.points
    ids = f"chart-{key}-title chart-{key}-desc"
    left, right, bottom = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM
    path = [f"M{x(points[0][0]):.1f},{y(points[0][1]):.1f}"]
    for at, value in points[1:]:
        path.append(f"H{x(at):.1f}V{y(value):.1f}")
    markers = points if len(points) <= MAX_MARKERS else points[-1:]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{ids}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="chart-{key}-title">{_text(title)}</title>',
        f'<desc id="chart-{key}-desc">{_text(description)}</desc>',
        f'<g class="chart-axes" stroke="currentColor" stroke-opacity="0.25">'
        f'<line x1="{left}" y1="{TOP}" x2="{right}" y2="{TOP}"/>'
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/></g>',
        '<g class="chart-labels" fill="currentColor" font-size="12">',
        _label(left - 6, TOP + 4, compact_number(hi), "end"),
        _label(left - 6, bottom + 4, compact_number(lo), "end"),
        _label(left, HEIGHT - 8, series.label(points[0][0], short=True), "start"),
    ]
    if points[-1][0] != points[0][0]:
        parts.append(_label(right, HEIGHT - 8, series.label(points[-1][0], short=True), "end"))
    parts += [
        "</g>",
        f'<path class="chart-line" d="{"".join(path)}" fill="none" stroke="currentColor" '
        'stroke-width="2"/>',
        '<g class="chart-points" fill="currentColor">',
        *(f'<circle cx="{x(at):.1f}" cy="{y(value):.1f}" r="3"/>' for at, value in markers),
        "</g></svg>",
    ]
    return "".join(parts)


def _is_short(times: Sequence[dt.datetime]) -> bool:
    return bool(times) and max(times) - min(times) < HOURLY_SPAN


def _bucket(at: dt.datetime, hourly: bool) -> dt.datetime:
    if hourly:
        return at.replace(minute=0, second=0, microsecond=0)
    return dt.datetime.combine(at.date(), dt.time())


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{_text(text)}</text>'


def _text(value: str) -> str:
    return escape(value, quote=True)
