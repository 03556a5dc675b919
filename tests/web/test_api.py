"""The HF-compatible JSON API, checked with the real `huggingface_hub` client (HfApi)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from tests.live_server import serve
from tests.web.conftest import OTHER_SAMPLE_DAY, SAMPLE_DAY, SAMPLES, make_app, sample_items

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
