"""The HF-compatible JSON API, checked with the real `huggingface_hub` client (HfApi)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import paginate
from tests.conftest import SHARED_DATA
from tests.live_server import serve
from tests.web.conftest import OTHER_SAMPLE_DAY, SAMPLE_DAY, SAMPLES, make_app, sample_items

from papertide.ingest.arxiv_snapshot import arxiv_snapshot_source
from papertide.ingest.runner import run_import

Z_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    """The real app on a free localhost port, with two real HF days imported."""
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json", SAMPLES / f"{OTHER_SAMPLE_DAY}.json")
    with serve(app) as url:
        yield url


def test_list_daily_papers_with_the_real_client(endpoint: str) -> None:
    api = HfApi(endpoint=endpoint)
    papers = list(api.list_daily_papers(date=SAMPLE_DAY, sort="trending"))
    expected = sample_items(SAMPLE_DAY)
    assert {p.id for p in papers} == {item["paper"]["id"] for item in expected}  # type: ignore[index]
    upvotes = [p.upvotes for p in papers]
    assert upvotes == sorted(upvotes, reverse=True)
    first = papers[0]
    assert first.title and first.summary and first.authors
    assert first.submitted_at is not None and first.submitted_at.date().isoformat() == SAMPLE_DAY
    assert first.published_at is not None and first.published_at < first.submitted_at
    assert first.submitted_by is not None and first.submitted_by.username
    with_repo = [p for p in papers if p.github_repo]
    assert with_repo and with_repo[0].github_repo.startswith("https://github.com/")


def test_paper_info_and_unknown_paper(endpoint: str) -> None:
    api = HfApi(endpoint=endpoint)
    paper_id = str(sample_items(SAMPLE_DAY)[0]["paper"]["id"])  # type: ignore[index]
    info = api.paper_info(paper_id)
    assert info.id == paper_id and info.title
    with pytest.raises(HfHubHTTPError) as raised:
        api.paper_info("2401.99999")
    assert raised.value.response.status_code == 404


def test_search_ranks_as_the_page_does(endpoint: str) -> None:
    import httpx

    api = HfApi(endpoint=endpoint)
    found = [p.id for p in api.list_papers(query="agents", limit=20)]
    page = httpx.get(f"{endpoint}/papers", params={"q": "agents"}).text
    on_page = re.findall(r'class="card-title"><a href="/papers/([^"]+)"', page)
    assert found and found == on_page[: len(found)]


def test_datetimes_end_in_z_and_bad_input_is_400(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json"))
    (item, *_) = client.get("/api/daily_papers").json()
    assert Z_TIME.match(item["publishedAt"]) and Z_TIME.match(item["paper"]["publishedAt"])
    assert item["title"] == item["paper"]["title"] and "numComments" in item
    assert item["submittedBy"]["user"]
    for bad in ("date=2026-13-01", "week=2026-W60", "month=nope", "date=2026-08-20&week=2026-W34"):
        response = client.get(f"/api/daily_papers?{bad}")
        assert response.status_code == 400, bad
        assert "error" in response.json()
    assert client.get("/api/daily_papers?limit=0").status_code == 400
    assert client.get("/api/papers/not-an-id").status_code == 400


def test_submitter_filter_and_paging(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json"))
    everyone = client.get(f"/api/daily_papers?date={SAMPLE_DAY}&limit=100").json()
    submitter = everyone[0]["submittedBy"]["user"]
    mine = client.get(f"/api/daily_papers?date={SAMPLE_DAY}&submitter={submitter}").json()
    assert mine and all(item["submittedBy"]["user"] == submitter for item in mine)
    page0 = client.get(f"/api/daily_papers?date={SAMPLE_DAY}&limit=5&p=0").json()
    page1 = client.get(f"/api/daily_papers?date={SAMPLE_DAY}&limit=5&p=1").json()
    assert len(page0) == len(page1) == 5
    assert not {i["paper"]["id"] for i in page0} & {i["paper"]["id"] for i in page1}


# The real `huggingface_hub` client and `hf papers` CLI on every papers method, each value
# checked against the recorded Hugging Face day it was imported from (issue #13).

ZETTA = "2608.16590"  # featured on SAMPLE_DAY by Xin64, with code and a project page
SEMAPLC = "2608.18565"  # claimed by an organization, with media
WITHDRAWN = "0704.0156"  # arXiv snapshot: withdrawn by its v2 of 2008-03-05 04:28:27


def _recorded(arxiv_id: str) -> dict[str, Any]:
    (item,) = [i for i in sample_items(SAMPLE_DAY) if i["paper"]["id"] == arxiv_id]  # type: ignore[index]
    return item


def _recorded_ids(day: str) -> set[str]:
    return {str(item["paper"]["id"]) for item in sample_items(day)}  # type: ignore[index]


def _z(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_daily_item_carries_what_hugging_face_recorded(endpoint: str) -> None:
    papers = {p.id: p for p in HfApi(endpoint=endpoint).list_daily_papers(date=SAMPLE_DAY)}
    assert set(papers) == _recorded_ids(SAMPLE_DAY)
    for item in sample_items(SAMPLE_DAY):
        recorded: dict[str, Any] = item["paper"]  # type: ignore[assignment]
        got = papers[recorded["id"]]
        assert got.title == " ".join(recorded["title"].split())
        assert got.upvotes == recorded["upvotes"]
        assert got.comments == item["numComments"]
        assert [a.name for a in got.authors or []] == [a["name"] for a in recorded["authors"]]
        assert got.published_at == _z(recorded["publishedAt"])  # the arXiv date
        assert got.submitted_at == _z(f"{SAMPLE_DAY}T00:00:00.000Z")  # the featured day
        assert got.github_repo == recorded.get("githubRepo")
        assert got.github_stars == recorded.get("githubStars")
        assert got.discussion_id == recorded["discussionId"]
        assert getattr(got, "thumbnail", None) == item["thumbnail"]
        submitter = recorded["submittedOnDailyBy"]
        assert got.submitted_by is not None and got.submitted_by.username == submitter["user"]
        assert got.submitted_by.fullname == submitter["fullname"]
        assert got.submitted_by.avatar_url == submitter["avatarUrl"]
        organization = item.get("organization")
        assert (got.organization and got.organization.name) == (
            organization and organization["name"]
        )
    assert getattr(papers[SEMAPLC], "mediaUrls", None) == _recorded(SEMAPLC)["mediaUrls"]
    assert not hasattr(papers[ZETTA], "mediaUrls")  # absent where HF had none, as HF does


def test_paper_info_values_and_read_paper(endpoint: str) -> None:
    api = HfApi(endpoint=endpoint)
    recorded: dict[str, Any] = _recorded(SEMAPLC)["paper"]
    info = api.paper_info(SEMAPLC)
    assert (info.id, info.title, info.upvotes) == (SEMAPLC, recorded["title"], 59)
    assert info.discussion_id == recorded["discussionId"]
    assert info.organization is not None and info.organization.name == "Midea-AIRC"
    assert info.organization.fullname == "Midea AI Research Center"
    assert info.github_repo == "https://github.com/midea-ai/SemaPLC" and info.github_stars == 30
    assert info.submitted_by is not None and info.submitted_by.username == "Allenyltu"
    assert info.submitted_at == _z(f"{SAMPLE_DAY}T00:00:00.000Z")
    assert not hasattr(info, "withdrawnAt") and getattr(info, "withdrawn", None) is False
    text = api.read_paper(ZETTA)
    assert text.startswith("# Zetta ζ: An Efficient Closed-Loop Embodied Harness")
    assert "- Code: https://github.com/air-embodied-brain/Zetta-Embodiment (152 stars)" in text
    assert "- Featured: 2026-08-20 by Xin Ding" in text and "## Abstract" in text
    with pytest.raises(HfHubHTTPError) as raised:
        api.read_paper("2401.99999")
    assert raised.value.response.status_code == 404


def test_withdrawn_papers_say_when(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    snapshot = SHARED_DATA / "arxiv_kaggle_format" / "arxiv_browse_kaggle_format.jsonl"
    run_import(app.state.db, arxiv_snapshot_source([snapshot]))
    with serve(app) as url:
        info = HfApi(endpoint=url).paper_info(WITHDRAWN)
        assert getattr(info, "withdrawn", None) is True
        assert getattr(info, "withdrawnAt", None) == "2008-03-05T04:28:27.000Z"
        repos = httpx.get(f"{url}/api/arxiv/{WITHDRAWN}/repos").json()
    assert repos == {
        "models": [],
        "datasets": [],
        "spaces": [],
        "githubRepo": None,
        "githubStars": None,
    }


def test_search_marks_matches_and_no_query_lists_the_newest(endpoint: str) -> None:
    api = HfApi(endpoint=endpoint)
    found = list(api.list_papers(query="harness", limit=5))
    assert ZETTA in [p.id for p in found]
    zetta = next(p for p in found if p.id == ZETTA)
    assert zetta.highlightedTitle == (  # type: ignore[attr-defined]
        "Zetta ζ: An Efficient Closed-Loop Embodied <mark>Harness</mark> for Self-Evolving "
        "Physical Intelligence"
    )
    assert "closed-loop embodied <mark>harness</mark> that evolves" in zetta.highlightedSummary  # type: ignore[attr-defined]
    newest = list(api.list_papers())
    listing = httpx.get(f"{endpoint}/api/papers", params={"limit": 50}).json()
    assert [p.id for p in newest] == [item["paper"]["id"] for item in listing]
    dates = [p.published_at for p in newest]
    assert len(newest) == 22 and dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert newest[0].id == "2608.19197" and not hasattr(newest[0], "highlightedTitle")
    assert len(list(api.list_papers(limit=3))) == 3


def test_paginate_follows_the_cursor_through_every_paper(endpoint: str) -> None:
    pages = []
    url: str | None = f"{endpoint}/api/papers?limit=5"
    while url:
        response = httpx.get(url)
        pages.append([item["paper"]["id"] for item in response.json()])
        url = response.links.get("next", {}).get("url")
    assert [len(page) for page in pages] == [5, 5, 5, 5, 2]
    walked = list(paginate(f"{endpoint}/api/papers", params={"limit": 5}, headers={}))
    ids = [item["paper"]["id"] for item in walked]
    assert ids == [i for page in pages for i in page] and len(set(ids)) == 22
    assert set(ids) == _recorded_ids(SAMPLE_DAY) | _recorded_ids(OTHER_SAMPLE_DAY)
    published = [_z(item["paper"]["publishedAt"]) for item in walked]
    assert published == sorted(published, reverse=True)
    assert httpx.get(f"{endpoint}/api/papers?cursor=bm9wZQ").status_code == 400


def test_limits_stop_at_hugging_faces_100(endpoint: str) -> None:
    for path in ("/api/daily_papers", "/api/papers/search?q=agents&", "/api/papers"):
        join = "" if path.endswith("&") else "?"
        assert httpx.get(f"{endpoint}{path}{join}limit=100").status_code == 200, path
        for bad in (0, 101):
            response = httpx.get(f"{endpoint}{path}{join}limit={bad}")
            assert response.status_code == 400 and "limit" in response.json()["error"], path


def test_repos_of_a_paper(endpoint: str) -> None:
    repos = httpx.get(f"{endpoint}/api/arxiv/{ZETTA}v1/repos").json()
    assert repos == {
        "models": [],
        "datasets": [],
        "spaces": [],
        "githubRepo": "https://github.com/air-embodied-brain/Zetta-Embodiment",
        "githubStars": 152,
    }
    assert httpx.get(f"{endpoint}/api/arxiv/2401.99999/repos").json()["models"] == []
    assert httpx.get(f"{endpoint}/api/arxiv/not-an-id/repos").status_code == 400


def test_the_paper_page_answers_markdown_when_asked(endpoint: str) -> None:
    markdown = httpx.get(f"{endpoint}/papers/{ZETTA}.md").text
    asked = httpx.get(f"{endpoint}/papers/{ZETTA}", headers={"Accept": "text/markdown"})
    assert asked.headers["content-type"] == "text/markdown; charset=utf-8"
    assert asked.text == markdown and asked.headers["vary"] == "Accept"
    # The page is cached per address: asking again for HTML still gets HTML, and vice versa.
    browser = "text/html,application/xhtml+xml,*/*;q=0.8"
    for _ in range(2):
        page = httpx.get(f"{endpoint}/papers/{ZETTA}", headers={"Accept": browser})
        assert page.headers["content-type"].startswith("text/html") and "<html" in page.text
        again = httpx.get(f"{endpoint}/papers/{ZETTA}", headers={"Accept": "text/markdown"})
        assert again.text == markdown
    moved = httpx.get(f"{endpoint}/papers/{ZETTA}v2.md")
    assert moved.status_code == 301 and moved.headers["location"] == f"/papers/{ZETTA}.md"


def _hf(endpoint: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(tmp_path / "hf-home"),  # no saved token, no cache of the real Hub
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
    }
    hf = Path(sys.executable).with_name("hf")
    return subprocess.run(
        [str(hf), "papers", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_hf_papers_cli(endpoint: str, tmp_path: Path) -> None:
    listed = json.loads(
        _hf(endpoint, tmp_path, "ls", "--date", SAMPLE_DAY, "--format", "json").stdout
    )
    by_id = {row["id"]: row for row in listed}
    assert set(by_id) == _recorded_ids(SAMPLE_DAY)
    assert by_id[ZETTA]["upvotes"] == 92 and by_id[ZETTA]["submitted_by_name"] == "Xin Ding"
    assert by_id[ZETTA]["github_stars"] == 152
    searched = json.loads(_hf(endpoint, tmp_path, "search", "harness", "--format", "json").stdout)
    assert ZETTA in [row["id"] for row in searched]
    info = json.loads(_hf(endpoint, tmp_path, "info", SEMAPLC, "--format", "json").stdout)
    assert info["title"].startswith("SemaPLC")
    assert info["discussion_id"] == "6a866443db13816030683e91"
    assert info["organization"]["name"] == "Midea-AIRC" and info["github_stars"] == 30
    read = _hf(endpoint, tmp_path, "read", ZETTA)
    assert read.returncode == 0 and read.stdout.startswith("# Zetta ζ")
    missing = _hf(endpoint, tmp_path, "info", "2401.99999")
    assert missing.returncode != 0 and "not found" in missing.stderr
