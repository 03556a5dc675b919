"""RSS 2.0 and Atom 1.0 feeds (issue #13), read back with feedparser as a feed reader would."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import feedparser
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.digest.edition_scenario import add_subscriber
from tests.web.accounts_helpers import page_token, sign_up
from tests.web.conftest import (
    DATA,
    MATH_DAY,
    MATH_PAPER,
    OTHER_SAMPLE_DAY,
    SAMPLE_DAY,
    sample_items,
)

from papertide.db import accounts as account_rows
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.runner import run_import
from papertide.web.syndication import Channel, Entry, atom, rss

BASE = "http://127.0.0.1:8000"  # Settings.public_url's default: every link and GUID starts so
FORMATS = {"rss": ("rss20", "application/rss+xml"), "atom": ("atom10", "application/atom+xml")}


@pytest.fixture
def listings_client(tmp_path: Path, client: TestClient) -> TestClient:
    """`client`'s app with 1,500 real arXiv listings of April 2025 (categories and all)."""
    source = DATA / "arxiv_listings" / "arxiv_listings_2025-04.jsonl.gz"
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        listings = [line for _, line in zip(range(1_500), lines, strict=False)]
    (tmp_path / "listings.jsonl").write_text("".join(listings), encoding="utf-8")
    app = client.app
    run_import(app.state.db, arxiv_jsonl_source([tmp_path / "listings.jsonl"]))  # type: ignore[attr-defined]
    return client


def _upvote_order(day: str) -> list[str]:
    papers = [item["paper"] for item in sample_items(day)]
    ranked = sorted(papers, key=lambda p: (-p["upvotes"], p["submittedOnDailyAt"], p["id"]))
    return [p["id"] for p in ranked]


def _read(client: TestClient, url: str, fmt: str) -> Any:
    """The feed at `url`, parsed; it must be well-formed and of the format asked for."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    version, media_type = FORMATS[fmt]
    assert response.headers["content-type"].startswith(media_type)
    ET.fromstring(response.content)  # well-formed XML, whatever feedparser forgives
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == version
    return parsed


def _ids(parsed: Any) -> list[str]:
    return [entry.link.removeprefix(f"{BASE}/papers/") for entry in parsed.entries]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_daily_feed_holds_the_latest_days_by_upvotes(client: TestClient, fmt: str) -> None:
    parsed = _read(client, f"/feeds/daily.{fmt}", fmt)
    latest, earlier = _upvote_order(SAMPLE_DAY), _upvote_order(OTHER_SAMPLE_DAY)
    assert _ids(parsed) == (latest + earlier)[:50]
    feed = parsed.feed
    assert feed.title.startswith("Daily papers")
    assert feed.link == f"{BASE}/"
    assert any(
        link.rel == "self" and link.href == f"{BASE}/feeds/daily.{fmt}" for link in feed.links
    )
    first = parsed.entries[0]
    assert first.id == first.link == f"{BASE}/papers/{latest[0]}"
    # The entry is dated the day it was featured (RSS's pubDate, Atom's updated); Atom's
    # published is the arXiv date, before.
    featured = first.published_parsed if fmt == "rss" else first.updated_parsed
    assert featured[:3] == (2026, 8, 20)
    if fmt == "atom":
        assert first.published_parsed[:3] < (2026, 8, 20)
    paper = next(
        item["paper"] for item in sample_items(SAMPLE_DAY) if item["paper"]["id"] == latest[0]
    )
    assert first.title == " ".join(paper["title"].split())
    assert [author.name for author in first.authors][:1] == [paper["authors"][0]["name"]]
    assert len(first.summary) > 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_day_week_and_month_have_feeds(client: TestClient, fmt: str) -> None:
    day = _read(client, f"/feeds/papers/date/{SAMPLE_DAY}.{fmt}", fmt)
    assert _ids(day) == _upvote_order(SAMPLE_DAY)
    assert day.feed.link == f"{BASE}/papers/date/{SAMPLE_DAY}"
    week = _read(client, f"/feeds/papers/week/2026-W34.{fmt}", fmt)
    assert _ids(week) == _upvote_order(SAMPLE_DAY)
    month = _read(client, f"/feeds/papers/month/2025-09.{fmt}", fmt)
    assert _ids(month) == _upvote_order(OTHER_SAMPLE_DAY)
    empty = _read(client, f"/feeds/papers/month/2020-01.{fmt}", fmt)
    assert empty.entries == []


def test_a_paper_keeps_its_guid_from_feed_to_feed(client: TestClient) -> None:
    daily = {entry.link: entry.id for entry in _read(client, "/feeds/daily.rss", "rss").entries}
    day = _read(client, f"/feeds/papers/date/{SAMPLE_DAY}.atom", "atom").entries
    assert day and all(daily[entry.link] == entry.id == entry.link for entry in day)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/feeds/papers/date/2026-02-30.rss", 400),
        ("/feeds/papers/week/2026-W60.atom", 400),
        ("/feeds/daily.json", 400),
        ("/feeds/papers/year/2026.rss", 400),
        ("/feeds/search.rss", 400),
        ("/feeds/search.rss?q=x&from=yesterday", 400),
        ("/feeds/u/nobody/submissions.rss", 404),
        ("/feeds/category/cs.LG%22%3E.rss", 400),
    ],
)
def test_a_bad_feed_address_says_what_is_wrong(client: TestClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status


@pytest.mark.parametrize("fmt", FORMATS)
def test_trending_entries_open_with_why_they_trend(client: TestClient, fmt: str) -> None:
    parsed = _read(client, f"/feeds/trending.{fmt}?window=all", fmt)
    page = client.get("/papers/trending?window=all").text
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.summary.startswith("Trending score ")
        assert f'/papers/{entry.link.rsplit("/", 1)[1]}"' in page
    assert parsed.feed.link == f"{BASE}/papers/trending?window=all"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_category_feed_lists_its_newest_papers(listings_client: TestClient, fmt: str) -> None:
    parsed = _read(listings_client, f"/feeds/category/cs.CV.{fmt}", fmt)
    assert len(parsed.entries) == 50
    assert all("cs.CV" in [tag.term for tag in entry.tags] for entry in parsed.entries)
    published = [time.mktime(entry.published_parsed) for entry in parsed.entries]
    assert published == sorted(published, reverse=True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_search_feed_is_the_search_pages_results(listings_client: TestClient, fmt: str) -> None:
    page = listings_client.get("/papers?q=video&category=cs.CV").text
    parsed = _read(listings_client, f"/feeds/search.{fmt}?q=video&category=cs.CV", fmt)
    ids = _ids(parsed)
    assert ids and all(f'data-arxiv-id="{paper_id}"' in page for paper_id in ids[:20])
    assert parsed.feed.link == f"{BASE}/papers?q=video&category=cs.CV"


def test_a_members_submissions_have_a_feed(client: TestClient) -> None:
    submitted = [
        item["paper"]["id"]
        for day in (SAMPLE_DAY, OTHER_SAMPLE_DAY)
        for item in sample_items(day)
        if item["paper"]["submittedOnDailyBy"]["user"] == "taesiri"
    ]
    parsed = _read(client, "/feeds/u/taesiri/submissions.atom", "atom")
    assert submitted and sorted(_ids(parsed)) == sorted(submitted)


def test_latex_stays_readable_in_the_abstract(math_client: TestClient) -> None:
    parsed = _read(math_client, f"/feeds/papers/date/{MATH_DAY}.rss", "rss")
    (entry,) = [entry for entry in parsed.entries if entry.link.endswith(MATH_PAPER)]
    assert "$\\lambda=1$" in entry.summary


def test_characters_xml_cannot_hold_are_dropped_not_fatal() -> None:
    moment = dt.datetime(2026, 8, 20, tzinfo=dt.UTC)
    entry = Entry(
        f"{BASE}/papers/2608.00001", "A \x0btitle <b>&", f"{BASE}/papers/2608.00001",
        "An abstract with \x00 a NUL, \x1b an escape and $x<y$.", ["Ada"], ["cs.LG"],
        moment, moment,
    )  # fmt: skip
    channel = Channel("T", "D", f"{BASE}/", f"{BASE}/feeds/daily", [entry], moment)
    for document in (
        rss(channel, f"{BASE}/feeds/daily.rss"),
        atom(channel, f"{BASE}/feeds/daily.atom"),
    ):
        parsed = feedparser.parse(document)
        assert not parsed.bozo
        assert parsed.entries[0].title == "A title <b>&"
        assert parsed.entries[0].summary == "An abstract with a NUL, an escape and $x<y$."


def test_a_feed_is_cached_like_a_page_until_the_content_changes(client: TestClient) -> None:
    first = client.get("/feeds/daily.rss")
    again = client.get("/feeds/daily.rss")
    assert again.headers.get("x-papertide-cache") == "hit"
    assert again.content == first.content


_FEED_ADDRESS = re.compile(r'id="feed-rss">http://127\.0\.0\.1:8000(/feeds/personal/[\w-]+)\.rss<')


def _personal_address(client: TestClient, renew: bool = False) -> str:
    if renew:
        token = page_token(client)
        assert client.post("/settings/feed", data={"csrf_token": token}).status_code == 200
    found = _FEED_ADDRESS.search(client.get("/settings").text)
    assert found is not None, "no feed address in settings"
    return found.group(1)


def test_a_members_personal_feed_is_their_digest_selection(client: TestClient) -> None:
    sign_up(client, "alice")
    address = _personal_address(client, renew=True)
    reader = TestClient(client.app)  # a feed reader: no cookies, the address alone
    trending = _read(reader, f"{address}.rss", "rss")
    per_day = [min(10, len(sample_items(day))) for day in (SAMPLE_DAY, OTHER_SAMPLE_DAY)]
    assert len(trending.entries) == sum(per_day)  # ten a day at most (digest_max_papers)
    assert all(e.summary.startswith("Trending that day") for e in trending.entries)
    answer = reader.get(f"{address}.atom")
    assert answer.headers["cache-control"] == "private, max-age=300"
    assert "x-papertide-cache" not in reader.get(f"{address}.atom").headers

    # With a subscription of their own, the feed holds what its topics pick.
    app = client.app
    with app.state.db.read() as conn:  # type: ignore[attr-defined]
        alice = account_rows.account_by_username(conn, "alice")
    assert alice is not None
    add_subscriber(app.state.db, "alice@example.org", {"keywords": ["robot"]}, user_id=alice.id)  # type: ignore[attr-defined]
    picked = _read(reader, f"{address}.atom", "atom")
    matched = [e for e in picked.entries if e.summary.startswith("Matches keywords “robot”")]
    assert matched, [e.summary[:60] for e in picked.entries]
    for entry in matched:
        with app.state.db.read() as conn:  # type: ignore[attr-defined]
            paper_id = entry.link.rsplit("/", 1)[1]
            text = (entry.title + " " + conn.execute(
                sa.text("SELECT abstract FROM paper WHERE id = :id"), {"id": paper_id}
            ).scalar_one()).lower()  # fmt: skip
        assert "robot" in text, entry.title


def test_a_personal_feed_address_can_be_renewed_and_stopped(client: TestClient) -> None:
    sign_up(client, "alice")
    first = _personal_address(client, renew=True)
    reader = TestClient(client.app)
    assert reader.get(f"{first}.rss").status_code == 200
    second = _personal_address(client, renew=True)
    assert second != first
    assert reader.get(f"{first}.rss").status_code == 404
    assert reader.get(f"{second}.rss").status_code == 200
    user_id, _, signature = second.rsplit("/", 1)[1].partition("-")
    forged = f"/feeds/personal/{int(user_id) + 1}-{signature}.rss"
    assert reader.get(forged).status_code == 404
    client.post("/settings/feed/stop", data={"csrf_token": page_token(client)})
    assert reader.get(f"{second}.rss").status_code == 404
    assert _FEED_ADDRESS.search(client.get("/settings").text) is None
