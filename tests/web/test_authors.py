"""Author pages and feeds (issue #14): a name's papers, as arXiv writes the name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import page_token, sign_up
from tests.web.conftest import SAMPLE_DAY, SAMPLES, card_ids, make_app

from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.runner import run_import

ABSTRACT = "We study how names are matched on author pages, with care for every detail."


def _listing(paper_id: str, title: str, authors: list[str], day: str) -> str:
    record = {
        "id": paper_id,
        "title": title,
        "authors": authors,
        "categories": ["cs.DL"],
        "comments": None,
        "abstract": ABSTRACT,
        "listing_dates": [day],
    }
    return json.dumps(record) + "\n"


def _client(tmp_path: Path) -> TestClient:
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")
    listings = tmp_path / "names.jsonl"
    listings.write_text(
        _listing("2601.00001", "Doe's first", ["Jane Doe", "Ada Byron"], "2026-01-05")
        + _listing("2601.00002", "Doe's second", ["Ada Byron", "jane  doe"], "2026-01-04")
        + _listing("2601.00003", "Another Doe", ["Mary Jane Doe"], "2026-01-07")
        + _listing("2601.00004", "Not Doe", ["Jane Doe-Smith", "John Doe"], "2026-01-08"),
        encoding="utf-8",
    )
    run_import(app.state.db, arxiv_jsonl_source([listings]))
    return TestClient(app)


def test_an_author_page_lists_exactly_that_names_papers_newest_first(tmp_path: Path) -> None:
    client = _client(tmp_path)
    page = client.get("/authors/Jane%20Doe")
    assert page.status_code == 200
    # Newest first, spelled as the newest writes it; not Mary Jane Doe, nor Jane Doe-Smith.
    assert card_ids(page.text) == ["2601.00001", "2601.00002"]
    assert 'href="/authors/Ada%20Byron">Ada Byron</a> <span class="count">2</span>' in page.text
    assert 'href="/papers?category=cs.DL">cs.DL</a>' in page.text
    assert "as arXiv writes it" in page.text
    spelled = client.get("/authors/JANE%20DOE", follow_redirects=False)
    assert spelled.status_code == 301 and spelled.headers["location"] == "/authors/Jane%20Doe"
    assert client.get("/authors/Nobody%20Here").status_code == 404


def test_a_paper_page_links_its_authors_and_an_author_has_a_feed(tmp_path: Path) -> None:
    client = _client(tmp_path)
    paper = client.get("/papers/2601.00001").text
    assert '<a href="/authors/Jane%20Doe">Jane Doe</a>, <a href="/authors/Ada%20Byron">' in paper
    page = client.get("/authors/Ada%20Byron").text
    assert 'type="application/rss+xml"' in page and "/feeds/authors/Ada%20Byron.rss" in page
    feed = feedparser.parse(client.get("/feeds/authors/Ada%20Byron.atom").content)
    assert not feed.bozo and feed.version == "atom10"
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == ["2601.00001", "2601.00002"]
    assert client.get("/feeds/authors/Nobody.rss").status_code == 404


def _recent_listing(tmp_path: Path, client: TestClient) -> str:
    """A paper listed today by Ada Byron, about tide pools (new for follows)."""
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date().isoformat()
    listings = tmp_path / "today.jsonl"
    listings.write_text(
        _listing("2601.00099", "Tide pools at dawn", ["Ada Byron"], today)
        .replace("We study how names", "Tide pool ecology and how names"),
        encoding="utf-8",
    )  # fmt: skip
    run_import(client.app.state.db, arxiv_jsonl_source([listings]))  # type: ignore[attr-defined]
    return "2601.00099"


def test_followed_authors_and_saved_searches_reach_the_personal_feed(tmp_path: Path) -> None:
    client = _client(tmp_path)
    sign_up(client, "alice")
    author = client.get("/authors/Ada%20Byron").text
    assert 'action="/authors/Ada%20Byron/follow"' in author
    follow = client.post(
        "/authors/Ada%20Byron/follow",
        data={"csrf_token": page_token(client)},
        follow_redirects=False,
    )
    assert follow.status_code == 303
    assert "Following ✓" in client.get("/authors/Ada%20Byron").text
    search = client.get("/papers?q=ecology&category=cs.DL").text
    assert 'action="/searches"' in search
    saved = client.post(
        "/searches",
        data={"csrf_token": page_token(client), "q": "ecology", "category": "cs.DL"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    mine = client.get("/lists").text
    assert ">Ada Byron</a>" in mine and "“ecology” in cs.DL" in mine
    # Each follow has its own feed too: the author's papers, the saved search's matches.
    feeds = re.findall(r'<a href="(/feeds/[^"]+)"[^>]*>feed</a>', mine)
    assert feeds == [
        "/feeds/authors/Ada%20Byron.atom",
        "/feeds/search.atom?q=ecology&amp;category=cs.DL",
    ]

    new = _recent_listing(tmp_path, client)
    for url in feeds:
        entries = feedparser.parse(client.get(url.replace("&amp;", "&")).content).entries
        assert new in {e.link.rsplit("/", 1)[1] for e in entries}
    client.post("/settings/feed", data={"csrf_token": page_token(client)})
    address = re.search(r'id="feed-rss">http://127\.0\.0\.1:8000(/feeds/personal/[\w-]+)\.rss<',
                        client.get("/settings").text)  # fmt: skip
    assert address is not None
    feed = feedparser.parse(TestClient(client.app).get(address.group(1) + ".atom").content)
    reasons = {e.link.rsplit("/", 1)[1]: e.summary.split("\n")[0] for e in feed.entries}
    assert reasons[new].startswith("By Ada Byron, whom you follow.")
    assert "2601.00001" not in reasons  # Ada's old papers are not news

    # Unfollowing the author leaves the saved search, which finds the paper too.
    follow_id = re.search(
        r'action="/follows/(\d+)/remove"', client.get("/authors/Ada%20Byron").text
    )
    assert follow_id is not None
    client.post(f"/follows/{follow_id.group(1)}/remove", data={"csrf_token": page_token(client)})
    feed = feedparser.parse(TestClient(client.app).get(address.group(1) + ".atom").content)
    reasons = {e.link.rsplit("/", 1)[1]: e.summary.split("\n")[0] for e in feed.entries}
    assert reasons[new].startswith("Matches your saved search “ecology” in cs.DL.")
    refused = client.post("/searches", data={"csrf_token": page_token(client), "q": " "})
    assert refused.status_code == 400
