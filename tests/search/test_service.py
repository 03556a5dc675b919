"""SearchService: the one search the page, the API and the digest's "like my upvotes" use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import DatabaseFactory

from papertide.bootstrap import open_database
from papertide.config import Settings
from papertide.db import Database
from papertide.search.service import SearchService


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory
) -> Iterator[tuple[Database, Settings]]:
    data_dir = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=data_dir, database_url=databases.url(data_dir), load_demo=True)
    db = open_database(settings)
    yield db, settings
    db.dispose()


def test_search_is_hybrid_and_pages_through_the_same_ranking(
    demo: tuple[Database, Settings],
) -> None:
    service = SearchService(*demo)
    first = service.run("robot manipulation policy learning", per_page=10)
    both = service.run("robot manipulation policy learning", per_page=20)
    second = service.run("robot manipulation policy learning", page=2, per_page=10)
    assert first.mode == "hybrid" and first.notice is None and service.unavailable is None
    assert [c.arxiv_id for c in first.cards + second.cards] == [c.arxiv_id for c in both.cards]
    assert len(both.cards) == 20 and both.total >= 20


def test_related_papers_are_neighbours_without_the_paper_itself(
    demo: tuple[Database, Settings],
) -> None:
    db, settings = demo
    service = SearchService(db, settings)
    paper_id = service.run("diffusion").cards[0].arxiv_id
    related = service.related(paper_id, k=6)
    assert len(related) == 6 and paper_id not in {card.arxiv_id for card in related}
    assert service.related("0000.00000") == []


def test_without_an_embedder_search_is_keyword_only_and_says_why(
    demo: tuple[Database, Settings],
) -> None:
    db, settings = demo
    broken = settings.model_copy(update={"embedding_model": "no-such-model"})
    service = SearchService(db, broken)
    results = service.run("robot manipulation")
    assert results.mode == "keyword" and results.cards
    assert (
        service.index() is None and service.unavailable and "no-such-model" in service.unavailable
    )
    assert service.related(results.cards[0].arxiv_id) == []
