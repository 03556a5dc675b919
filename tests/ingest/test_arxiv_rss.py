"""arXiv's daily announcement feed on the real 1,504-item, empty and error feeds, replayed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import httpx
import pytest
from tests.replay import Replay, response

from papertide.db import Database, queries, writes
from papertide.ingest.arxiv_api import ArxivFeedError
from papertide.ingest.arxiv_rss import (
    Announcement,
    ArxivListings,
    listing_url,
    parse_rss,
    split_authors,
)
from papertide.ingest.base import Report
from papertide.ingest.http import HttpClient, HttpOptions
from papertide.ingest.runner import run_import
from papertide.models import PaperRecord

# The archives the recorded feed was asked for (its channel <link>).
ARCHIVES = ["astro-ph", "cond-mat", "physics", "quant-ph", "math", "cs", "econ", "eess"]
ARCHIVES += ["gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin", "nucl-ex"]
ARCHIVES += ["nucl-th", "q-bio", "q-fin", "stat"]
FEED_URL = "https://rss.arxiv.org/rss/" + "+".join(ARCHIVES)
ANNOUNCED = dt.datetime(2024, 11, 28, 5, 0)  # Thu, 28 Nov 2024 00:00:00 -0500


@pytest.fixture(scope="module")
def feeds(shared_data: Path) -> Path:
    return shared_data / "fixtures" / "arxiv_rss" / "jmmeus-aioarxiv"


@pytest.fixture(scope="module")
def announcements(feeds: Path) -> list[Announcement]:
    return parse_rss((feeds / "rss_mock_feed.xml").read_bytes())


def _by_id(announcements: list[Announcement], arxiv_id: str) -> Announcement:
    (found,) = [a for a in announcements if a.paper.arxiv_id == arxiv_id]
    return found


def _http(replay: Replay, **options: object) -> HttpClient:
    return HttpClient(HttpOptions(**options), transport=replay.transport, sleep=replay.sleep)  # type: ignore[arg-type]


def test_listing_url_joins_categories_with_plus() -> None:
    assert listing_url(["cs.LG", "cs.CL"]) == "https://rss.arxiv.org/rss/cs.LG+cs.CL"
    assert listing_url(["cs.AI"], "http://mirror.example/rss/") == "http://mirror.example/rss/cs.AI"
    with pytest.raises(ValueError, match="category"):
        listing_url([])


def test_the_real_feed_parses_every_item(announcements: list[Announcement]) -> None:
    assert len(announcements) == 1504
    assert Counter(a.announce_type for a in announcements) == {
        "new": 926,
        "replace": 569,
        "cross": 9,
    }
    assert len({a.paper.arxiv_id for a in announcements}) == 1504
    assert all(a.paper.title and a.paper.abstract and a.paper.authors for a in announcements)


def test_a_new_item(announcements: list[Announcement]) -> None:
    first = announcements[0]
    assert first.announce_type == "new"
    paper = first.paper
    assert (paper.arxiv_id, paper.version) == ("2411.17700", 1)
    assert paper.title == (
        "Exploring the Impact of Generative AI on Cross-Border E-Commerce Brand Building in "
        "Chinese Tianjin's Manufacturing Sector"
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith("This study investigates the influence of generative")
    assert paper.abstract.endswith("regression and structural equations (PLS-SEM).")
    assert paper.authors == ["Jun Cui"]
    assert paper.categories == ["cs.CY"]
    assert (paper.published_at, paper.updated_at) == (ANNOUNCED, None)


def test_authors_lose_affiliations_and_keep_suffixes(announcements: list[Announcement]) -> None:
    fog = _by_id(announcements, "2411.17753").paper
    assert fog.authors == [
        "Aleteia Araujo",
        "Breno Costa",
        "Joao Bachiega Jr",
        "Leonardo R. Carvalho",
        "Rajkumar Buyya",
    ]
    assert split_authors("A (Univ X, Dept (Y)), B,  C  ") == ["A", "B", "C"]


def test_cross_and_replace_items(announcements: list[Announcement]) -> None:
    cross = _by_id(announcements, "2202.06515")
    assert cross.announce_type == "cross"
    assert cross.paper.version == 3
    assert cross.paper.categories == ["astro-ph.CO", "astro-ph.GA", "physics.flu-dyn"]
    # A later version: the announcement dates this version, not the paper's first.
    assert (cross.paper.published_at, cross.paper.updated_at) == (None, ANNOUNCED)
    replace = _by_id(announcements, "1401.3665")  # a 4-digit id from 2014
    assert replace.announce_type == "replace"
    assert (replace.paper.version, replace.paper.authors) == (4, ["Peter Keevash"])
    assert replace.paper.title == "The existence of designs"


def test_empty_feed_is_no_announcements(feeds: Path) -> None:
    assert parse_rss((feeds / "empty_rss_mock_feed.xml").read_bytes()) == []


def test_error_feed_raises_with_arxivs_message(feeds: Path) -> None:
    with pytest.raises(ArxivFeedError, match="Bad archive 'astroph'") as info:
        parse_rss(
            (feeds / "error_rss_mock_feed.xml").read_bytes(), "https://rss.arxiv.org/rss/astroph"
        )
    assert info.value.url == "https://rss.arxiv.org/rss/astroph"


def test_item_id_falls_back_to_the_link_and_a_bad_item_is_reported(feeds: Path) -> None:
    xml = (feeds / "rss_mock_feed.xml").read_text(encoding="utf-8")
    xml = xml.replace("oai:arXiv.org:2411.17700v1", "oai:example.org:x", 1)
    report = Report()
    from_link = parse_rss(xml, "feed.xml", report)[0].paper
    assert (from_link.arxiv_id, from_link.version) == ("2411.17700", None)
    xml = xml.replace("https://arxiv.org/abs/2411.17700<", "https://example.org/x<", 1)
    parsed = parse_rss(xml, "feed.xml", report)
    assert len(parsed) == 1503
    assert parsed[0].paper.arxiv_id == "2411.17701"
    assert [str(p) for p in report.problems] == [
        "feed.xml:item 1: no arXiv id in the item's guid 'oai:example.org:x' "
        "or link 'https://example.org/x'"
    ]


def test_doctype_is_refused() -> None:
    xml = '<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file:///etc/passwd"><rss><channel/></rss>'
    with pytest.raises(ArxivFeedError, match="DOCTYPE"):
        parse_rss(xml)


def test_run_listings_stores_new_and_cross_and_updates_known_replacements(
    db: Database, feeds: Path
) -> None:
    with db.write() as conn:
        writes.write_batch(
            conn, [PaperRecord("2410.11112", title="Old title", version=2, categories=["cs.LG"])]
        )
    replay = Replay()
    replay.add(FEED_URL, 200, (feeds / "rss_mock_feed.xml").read_bytes())
    with _http(replay) as http:
        first = run_import(db, ArxivListings(http, ARCHIVES))
        again = run_import(db, ArxivListings(http, ARCHIVES))
    assert (first.counts.papers_new, first.counts.papers_updated) == (926 + 9, 1)
    assert first.report.problems == []
    assert first.report.records_read == 1504
    assert first.report.notes == [
        f"{FEED_URL}: 926 new, 9 cross, 569 replace, 0 replace-cross",
        "568 replacements of papers we do not have were ignored",
    ]
    assert (again.counts.papers_new, again.counts.papers_updated) == (0, 0)
    assert again.counts.papers_unchanged == 935 + 1
    assert not again.counts.changed
    with db.read() as conn:
        assert queries.paper_count(conn) == 1 + 935
        replaced = queries.get_paper(conn, "2410.11112")
        assert queries.get_paper(conn, "1401.3665") is None  # a replacement creates nothing
        cross = queries.get_paper(conn, "2411.16552")
    assert replaced is not None and cross is not None
    assert (replaced.version, replaced.title) == (3, "Differentiable Weightless Neural Networks")
    assert replaced.categories == ["cs.LG", "cs.AI"]
    assert replaced.updated_at == ANNOUNCED
    assert cross.categories == ["stat.AP", "cs.LG", "econ.EM", "stat.ME", "stat.ML"]


def test_replace_cross_updates_and_unknown_types_are_ignored(db: Database, feeds: Path) -> None:
    xml = (feeds / "rss_mock_feed.xml").read_text(encoding="utf-8")
    start = xml.index("oai:arXiv.org:2410.11112v3")
    xml = xml[:start] + xml[start:].replace(">replace<", ">replace-cross<", 1)
    xml = xml.replace(">new<", ">withdrawal<", 1)  # 2411.17700, a type we do not know
    with db.write() as conn:
        writes.write_batch(conn, [PaperRecord("2410.11112", title="Old title", version=2)])
    replay = Replay()
    replay.add("https://rss.arxiv.org/rss/cs.LG", 200, xml)
    with _http(replay) as http:
        result = run_import(db, ArxivListings(http, ["cs.LG"]))
    assert result.report.notes[:2] == [
        "https://rss.arxiv.org/rss/cs.LG: 925 new, 9 cross, 568 replace, 1 replace-cross",
        "ignored 1 item(s) of unknown announce type 'withdrawal'",
    ]
    assert (result.counts.papers_new, result.counts.papers_updated) == (934, 1)
    with db.read() as conn:
        replaced = queries.get_paper(conn, "2410.11112")
        assert queries.get_paper(conn, "2411.17700") is None
    assert replaced is not None and replaced.version == 3


def test_run_listings_on_an_empty_day(db: Database, feeds: Path) -> None:
    replay = Replay()
    replay.add(
        "https://rss.arxiv.org/rss/cs.LG", 200, (feeds / "empty_rss_mock_feed.xml").read_bytes()
    )
    with _http(replay) as http:
        result = run_import(db, ArxivListings(http, ["cs.LG"]))
    assert result.report.records_read == 0
    assert not result.counts.changed
    assert result.report.notes == [
        "https://rss.arxiv.org/rss/cs.LG: 0 new, 0 cross, 0 replace, 0 replace-cross"
    ]


def test_timeout_is_retried_then_succeeds(db: Database, feeds: Path) -> None:
    replay = Replay()
    body = (feeds / "rss_mock_feed.xml").read_bytes()
    replay.add(FEED_URL, [httpx.ReadTimeout("slow"), response(200, body)])
    with _http(replay, backoff_s=2.0) as http:
        result = run_import(db, ArxivListings(http, ARCHIVES))
    assert replay.slept == [2.0]
    assert len(replay.requests) == 2
    assert result.counts.papers_new == 935


def test_truncated_feed_raises_naming_the_url_and_writes_nothing(db: Database, feeds: Path) -> None:
    body = (feeds / "rss_mock_feed.xml").read_bytes()
    replay = Replay()
    replay.add(FEED_URL, 200, body[: len(body) // 3])
    with _http(replay) as http, pytest.raises(ArxivFeedError) as info:
        run_import(db, ArxivListings(http, ARCHIVES))
    assert info.value.url == FEED_URL
    assert "not well-formed XML (truncated?)" in str(info.value)
    with db.read() as conn:
        assert queries.paper_count(conn) == 0


def test_error_feed_fails_the_run(db: Database, feeds: Path) -> None:
    replay = Replay()
    replay.add(
        "https://rss.arxiv.org/rss/astroph", 200, (feeds / "error_rss_mock_feed.xml").read_bytes()
    )
    with _http(replay) as http, pytest.raises(ArxivFeedError, match="Valid archive names are"):
        run_import(db, ArxivListings(http, ["astroph"]))


def test_an_item_with_an_unreadable_date_is_reported_not_stored_without_one(
    feeds: Path,
) -> None:
    """Issue #10: a date that does not parse skips the item; it is never stored as NULL."""
    xml = (feeds / "rss_mock_feed.xml").read_text(encoding="utf-8")
    channel_date = "<pubDate>Thu, 28 Nov 2024 00:00:00 -0500</pubDate>"
    first_item = xml.index("<item>")
    second_date = xml.index(channel_date, xml.index(channel_date, first_item) + 1)
    xml = (
        xml[:second_date]
        + "<pubDate>the day after</pubDate>"
        + xml[second_date + len(channel_date) :]
    )
    report = Report()
    parsed = parse_rss(xml, "feed.xml", report)
    assert len(parsed) == 1503
    assert [str(p) for p in report.problems] == [
        "feed.xml:item 2: pubDate: not an RFC 2822 date: 'the day after'"
    ]
    assert all(a.paper.published_at or a.paper.updated_at for a in parsed)


def test_a_feed_whose_own_date_is_unreadable_is_refused(feeds: Path) -> None:
    xml = (feeds / "empty_rss_mock_feed.xml").read_text(encoding="utf-8")
    xml = xml.replace("Thu, 28 Nov 2024 00:00:00 -0500", "someday")
    with pytest.raises(ArxivFeedError, match="the channel's pubDate: not an RFC 2822 date"):
        parse_rss(xml, "feed.xml")
