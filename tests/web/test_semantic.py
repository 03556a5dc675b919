"""Hybrid search, related papers and "more like this" on the demo data (shipped vectors)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import DatabaseFactory

from papertide.config import Settings
from papertide.web.app import create_app

CARD_IDS = re.compile(r'class="card-title"><a href="/papers/([^"]+)"')


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory
) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=data_dir, database_url=databases.url(data_dir), load_demo=True)
    with TestClient(create_app(settings)) as client:
        yield client


def _first_paper(client: TestClient) -> str:
    return CARD_IDS.findall(client.get("/").text)[0]


def test_search_is_hybrid_and_api_ranks_the_same(demo: TestClient) -> None:
    page = demo.get("/papers", params={"q": "robot manipulation policy learning"})
    assert page.status_code == 200
    assert "hybrid: keywords and meaning" in page.text
    on_page = CARD_IDS.findall(page.text)
    api = demo.get("/api/papers/search", params={"q": "robot manipulation policy learning"})
    assert [item["paper"]["id"] for item in api.json()][: len(on_page)] == on_page
    assert len(on_page) == 20


def test_paper_page_lists_related_papers(demo: TestClient) -> None:
    paper_id = _first_paper(demo)
    page = demo.get(f"/papers/{paper_id}")
    assert 'id="related"' in page.text
    section = page.text.split('id="related"')[1].split("</section>")[0]
    related = re.findall(r'<li><a href="/papers/([^"]+)">', section)
    assert len(related) == 6 and paper_id not in related


def test_more_like_this(demo: TestClient) -> None:
    paper_id = _first_paper(demo)
    page = demo.get("/papers", params={"like": paper_id})
    ids = CARD_IDS.findall(page.text)
    assert len(ids) == 20 and paper_id not in ids
    assert "most like" in page.text


def test_without_an_embedder_search_says_keyword_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, load_demo=True, embedding_model="no-such-model")
    client = TestClient(create_app(settings))
    page = client.get("/papers", params={"q": "robot manipulation"})
    assert page.status_code == 200
    assert "keyword only" in page.text and "Semantic search is unavailable" in page.text
    assert CARD_IDS.findall(page.text)
    assert 'id="related"' not in client.get(f"/papers/{_first_paper(client)}").text
