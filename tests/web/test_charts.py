"""Server-rendered SVG charts: well-formed, described, escaped, and right about the data."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from papertide.ranking.trending import StarSnapshot, TrendingEvents, Upvote
from papertide.web.charts import Series, history_charts, star_series, step_chart, upvote_series

NS = "{http://www.w3.org/2000/svg}"
DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 8, 20, 9, 30)


def day(d: int) -> dt.datetime:
    return dt.datetime(2026, 8, d)


def test_upvotes_are_cumulative_per_day_or_per_hour() -> None:
    votes = [
        Upvote("p", T0 + 4 * DAY),
        Upvote("p", T0, votes=10, imported=True),
        Upvote("p", T0 + dt.timedelta(hours=3)),
        Upvote("p", T0 + 4 * DAY + dt.timedelta(hours=1)),
    ]
    assert upvote_series(votes) == Series([(day(20), 11), (day(24), 13)], hourly=False)
    # Under three days of data: hour by hour.
    assert upvote_series(votes[1:3]) == Series(
        [(dt.datetime(2026, 8, 20, 9), 10), (dt.datetime(2026, 8, 20, 12), 11)], hourly=True
    )
    assert upvote_series([]) == Series([], hourly=False)


def test_stars_keep_the_last_count_of_each_day() -> None:
    snapshots = [
        StarSnapshot("r", 120, T0 + dt.timedelta(hours=6)),
        StarSnapshot("r", 100, T0),
        StarSnapshot("r", 90, T0 + 3 * DAY),
    ]
    assert star_series(snapshots) == Series([(day(20), 120), (day(23), 90)], hourly=False)


def test_the_svg_is_well_formed_accessible_and_escaped() -> None:
    hostile = 'Stars of <script>alert("x")</script> & co'
    series = Series([(day(1), 5), (day(3), 7), (day(11), 40)], hourly=False)
    chart = step_chart("Stars <b>", hostile, "caption", "Stars", series, zero_based=False)
    svg = str(chart.svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert chart.key == "stars-b"
    assert root.get("aria-labelledby") == "chart-stars-b-title chart-stars-b-desc"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.get("id") == "chart-stars-b-title"
    assert title.text == hostile  # escaped in the markup, the same text once parsed
    assert desc is not None and desc.text == (
        "Stars: 5 on August 1, 2026, 40 on August 11, 2026; "
        "3 days with a change, listed in the table below."
    )
    labels = [text.text for text in root.iter(f"{NS}text")]
    assert labels == ["40", "5", "Aug 1, 2026", "Aug 11, 2026"]  # not zero-based: 5 to 40
    assert len(list(root.iter(f"{NS}circle"))) == 3
    assert chart.rows == [
        ("August 1, 2026", "5"),
        ("August 3, 2026", "7"),
        ("August 11, 2026", "40"),
    ]


def test_the_line_steps_through_the_points() -> None:
    series = Series([(day(1), 0), (day(2), 10)], hourly=False)
    root = ET.fromstring(str(step_chart("u", "Upvotes", "c", "Upvotes", series).svg))
    path = root.find(f"{NS}path")
    assert path is not None
    # From (left, bottom) along the baseline to the right edge, then up to the top.
    assert path.get("d") == "M52.0,150.0H584.0V14.0"


def test_hourly_labels() -> None:
    at = dt.datetime(2026, 8, 21, 14)
    series = Series([(at, 3), (at + dt.timedelta(hours=5), 9)], hourly=True)
    chart = step_chart("u", "Upvotes", "c", "Upvotes", series)
    root = ET.fromstring(str(chart.svg))
    assert [t.text for t in root.iter(f"{NS}text")][2:] == [
        "Aug 21, 2026, 14:00",
        "Aug 21, 2026, 19:00",
    ]
    assert chart.rows[0] == ("August 21, 2026, 14:00 UTC", "3")
    assert root.findtext(f"{NS}desc", "").endswith(
        "2 hours with a change, listed in the table below."
    )


def test_a_single_point_and_no_points() -> None:
    chart = step_chart("u", "Upvotes", "c", "Upvotes", Series([(day(1), 3)], hourly=False))
    root = ET.fromstring(str(chart.svg))
    (circle,) = root.iter(f"{NS}circle")
    assert circle.get("cx") == "318.0"  # centred
    assert root.findtext(f"{NS}desc") == "Upvotes: 3 on August 1, 2026."
    with pytest.raises(ValueError):
        step_chart("u", "Upvotes", "c", "Upvotes", Series([], hourly=False))


def test_history_charts_for_a_paper() -> None:
    events = TrendingEvents(
        papers={"p": "o/r"},
        upvotes=[Upvote("p", T0, votes=4, imported=True), Upvote("other", T0)],
        snapshots=[StarSnapshot("o/r", 7, T0), StarSnapshot("x/y", 1, T0)],
    )
    upvotes, stars = history_charts("p", events)
    assert upvotes.caption == (
        "4 upvotes in all, of which 4 imported from Hugging Face "
        "(counted at 00:00 UTC on the day the paper was first featured)"
    )
    assert stars.rows == [("August 20, 2026, 09:00 UTC", "7")]
    assert history_charts("q", TrendingEvents(papers={"q": None})) == []
    many = TrendingEvents(
        papers={"p": None}, upvotes=[Upvote("p", T0 + i * DAY) for i in range(100)]
    )
    (chart,) = history_charts("p", many)
    assert len(re.findall("<circle", str(chart.svg))) == 1  # markers only up to 60 points
