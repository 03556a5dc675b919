"""Hybrid search (search/hybrid.py): fusion, pinning, filters, fallback, determinism."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa
from tests.conftest import DatabaseFactory

from papertide.db import Database, embeddings, fts, writes
from papertide.db.fts import Filters
from papertide.db.migrate import upgrade
from papertide.models import PaperRecord, SearchResults
from papertide.search import keyword
from papertide.search.hybrid import (
    NOTICE_SLOW,
    NOTICE_UNAVAILABLE,
    Fusion,
    convex,
    fuse,
    hybrid_search,
    max_scaled,
    min_max,
    rrf,
)
from papertide.search.pg_vectors import PaperVectors as VectorIndex
from papertide.search.reindex import ensure_vectors
from papertide.search.text_index import TextIndex, ensure_text_index

# Four directions of meaning: molecules, proteins, images, language.
MOLECULES, PROTEINS, IMAGES, LANGUAGE = np.eye(4, dtype=np.float32)
PAPERS = {
    # id: (title, abstract, categories, published, vector)
    "2401.00001": (
        "Message passing on molecule graphs",
        "We learn molecule properties with graph networks over atoms.",
        ["cs.LG"],
        dt.datetime(2024, 1, 5),
        MOLECULES,
    ),
    "2401.00002": (
        "Graph transformers for chemistry",
        "Attention over atoms and bonds predicts molecule energies.",
        ["cs.LG"],
        dt.datetime(2024, 1, 9),
        0.9 * MOLECULES + 0.1 * PROTEINS,
    ),
    "2401.00003": (
        "Predicting protein structure",
        "Protein folding with deep networks and a molecule-level loss.",
        ["q-bio.BM"],
        dt.datetime(2024, 2, 1),
        PROTEINS + 0.1 * MOLECULES,
    ),
    "2401.00004": (
        "Image segmentation at scale",
        "Pixels, masks and a billion images.",
        ["cs.CV"],
        dt.datetime(2024, 3, 1),
        IMAGES,
    ),
    "2401.00005": (
        "Instruction tuning for language models",
        "Language models follow instructions after tuning.",
        ["cs.CL"],
        dt.datetime(2024, 4, 1),
        LANGUAGE,
    ),
    "2401.00006": (
        "Chemistry language models",
        "Molecule generation with language models and graph decoding.",
        ["cs.CL"],
        dt.datetime(2024, 5, 1),
        0.6 * MOLECULES + 0.8 * LANGUAGE,
    ),
    "2401.00007": (
        "Equivariant learning on atoms and bonds",
        "Chemical property prediction that respects rotations.",
        ["cs.LG"],
        dt.datetime(2024, 6, 1),
        0.95 * MOLECULES + 0.05 * IMAGES,
    ),
}
AUTHORS = {
    "2401.00001": ["Ada Lovelace", "Alan Turing"],
    "2401.00006": ["Grace Hopper", "Ada Lovelace"],
    "2401.00004": ["Ada Smith", "John Lovelace"],
}
QUERY_VECTORS = {
    "molecule graph": MOLECULES,
    "chemical prediction": 0.95 * MOLECULES + 0.05 * IMAGES,
    "Predicting protein structure": PROTEINS,
    "pixels": IMAGES,
}


def embed(text: str) -> np.ndarray:
    """A stand-in embedder: a fixed vector per known query, the language direction otherwise."""
    return QUERY_VECTORS.get(text, LANGUAGE)


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory
) -> Iterator[tuple[Database, VectorIndex]]:
    folder = tmp_path_factory.mktemp("hybrid")
    db = Database(databases.url(folder))
    upgrade(db)
    records = [
        PaperRecord(
            pid,
            title=title,
            abstract=abstract,
            authors=AUTHORS.get(pid, ["Someone Else"]),
            categories=categories,
            published_at=published,
        )
        for pid, (title, abstract, categories, published, _) in PAPERS.items()
    ]
    with db.write() as conn:
        writes.upsert_papers(conn, records)
    ids = list(PAPERS)
    vectors = np.stack([PAPERS[pid][4] for pid in ids])
    with db.write() as conn:
        embeddings.upsert_vectors(conn, "test-model", ids, vectors, dt.datetime(2024, 7, 1))
    # The app's index on this backend: files on SQLite, pgvector on PostgreSQL.
    index = ensure_vectors(db, folder, "test-model", 4)
    yield db, index
    db.dispose()


@pytest.fixture
def conn(corpus: tuple[Database, VectorIndex]) -> Iterator[sa.Connection]:
    with corpus[0].read() as connection:
        yield connection


@pytest.fixture
def index(corpus: tuple[Database, VectorIndex]) -> VectorIndex:
    return corpus[1]


@pytest.fixture(params=["full text", "keyword-index"])
def keyword_index(
    request: pytest.FixtureRequest,
    corpus: tuple[Database, VectorIndex],
    tmp_path_factory: pytest.TempPathFactory,
) -> TextIndex | None:
    """Each keyword engine hybrid search can use: the database's full text (None) and the
    tantivy index."""
    if request.param == "full text":
        return None
    return ensure_text_index(corpus[0], tmp_path_factory.mktemp("keyword"))


def _ids(results: SearchResults) -> list[str]:
    return [card.arxiv_id for card in results.cards]


def _search(conn: sa.Connection, index: VectorIndex, query: str, **kwargs: object) -> SearchResults:
    return hybrid_search(conn, query, embed_query=embed, index=index, **kwargs)  # type: ignore[arg-type]


# Fusion math on hand-made rankings.


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    fused = rrf([(["a", "b", "c"], 1.0), (["c", "a"], 1.0)], k=1)
    assert [pid for pid, _ in fused] == ["a", "c", "b"]
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 2 + 1 / 3)
    assert scores["c"] == pytest.approx(1 / 4 + 1 / 2)
    assert scores["b"] == pytest.approx(1 / 3)


def test_rrf_weights_and_ties() -> None:
    # A zero weight leaves the other ranking as it was; equal scores are ordered by id.
    assert [pid for pid, _ in rrf([(["x", "y"], 0.0), (["y", "x"], 2.0)], k=60)] == ["y", "x"]
    tied = rrf([(["b"], 1.0), (["a"], 1.0)], k=60)
    assert tied == [("a", pytest.approx(1 / 61)), ("b", pytest.approx(1 / 61))]
    assert rrf([], k=60) == []


def test_min_max() -> None:
    assert min_max({"a": 3.0, "b": 1.0, "c": 2.0}) == {"a": 1.0, "b": 0.0, "c": 0.5}
    assert min_max({"a": 7.0, "b": 7.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_convex_combination() -> None:
    keyword_scores = {"a": 10.0, "b": 5.0, "c": 0.0}  # normalised: 1, 0.5, 0
    semantic_scores = {"a": 0.2, "b": 0.6, "c": 1.0}  # normalised: 0, 0.5, 1
    fused = dict(convex(keyword_scores, semantic_scores, 1.0, 3.0))
    assert fused == pytest.approx({"a": 1.0, "b": 0.5 + 1.5, "c": 3.0})
    ranked = convex(keyword_scores, semantic_scores, 3.0, 1.0)
    assert [pid for pid, _ in ranked] == ["a", "b", "c"]
    # A paper only one side scored gets 0 from the other.
    assert dict(convex({"a": 1.0}, {"b": 1.0}, 1.0, 2.0)) == {"a": 1.0, "b": 2.0}


def test_max_scaled() -> None:
    assert max_scaled({"a": 4.0, "b": 1.0}) == {"a": 1.0, "b": 0.25}
    assert max_scaled({"a": 0.0}) == {"a": 0.0}
    assert max_scaled({}) == {}


def test_convex_fusion_reads_missing_cosines_from_stored_vectors(index: VectorIndex) -> None:
    query = MOLECULES
    keyword_hits = [("2401.00002", 3.0), ("2401.00006", 2.0), ("2401.00001", 1.5)]
    semantic_hits = [("2401.00001", 1.0)]
    fused = dict(fuse(keyword_hits, semantic_hits, index, query, Fusion()))

    def cosine(paper_id: str) -> float:
        vector = PAPERS[paper_id][4]
        return float(np.dot(vector, query) / np.linalg.norm(vector))

    expected = convex(dict(keyword_hits), {pid: cosine(pid) for pid, _ in keyword_hits}, 1.0, 1.0)
    assert fused == pytest.approx(dict(expected), rel=1e-3)
    # Graph transformers: best BM25, and close in meaning too, so first.
    assert max(fused, key=fused.__getitem__) == "2401.00002"
    assert fused["2401.00002"] > 1.5 > fused["2401.00006"]


def test_rrf_fusion_through_search(conn: sa.Connection, index: VectorIndex) -> None:
    results = _search(conn, index, "molecule graph", fusion=Fusion(method="rrf", rrf_k=60))
    assert results.mode == "hybrid"
    assert _ids(results)[0] == "2401.00001"  # first in both lists


# Hybrid ranking, pinning and filters.


def test_hybrid_finds_papers_keyword_search_misses(
    conn: sa.Connection, index: VectorIndex, keyword_index: TextIndex | None
) -> None:
    results = _search(conn, index, "molecule graph", keyword_index=keyword_index)
    assert (results.mode, results.notice) == ("hybrid", None)
    assert _ids(results)[:2] == ["2401.00001", "2401.00002"]
    # 2401.00007 has neither word; only its vector brings it in.
    assert "2401.00007" in _ids(results)
    assert "2401.00007" not in _ids(keyword.search(conn, "molecule graph"))
    assert results.total == len(results.cards)
    assert "<mark>molecule</mark>" in (results.cards[0].snippet_html or "")


def test_exact_title_is_pinned_first(conn: sa.Connection, index: VectorIndex) -> None:
    results = _search(conn, index, "Predicting protein structure")
    assert (results.mode, results.pinned) == ("hybrid", 1)
    assert _ids(results)[0] == "2401.00003"
    assert _ids(results).count("2401.00003") == 1


def test_exact_arxiv_id_is_pinned(conn: sa.Connection, index: VectorIndex) -> None:
    results = _search(conn, index, "arXiv:2401.00004v2")
    assert (_ids(results), results.pinned, results.notice) == (["2401.00004"], 1, None)


def test_author_query_pins_that_authors_papers(conn: sa.Connection, index: VectorIndex) -> None:
    results = _search(conn, index, "author:Ada Lovelace")
    # Newest first; "Ada Smith, John Lovelace" is not Ada Lovelace.
    assert _ids(results) == ["2401.00006", "2401.00001"]
    assert (results.pinned, results.total) == (2, 2)
    with_words = _search(conn, index, 'author:"ada lovelace" molecule graph')
    assert with_words.mode == "hybrid"
    assert with_words.pinned == 2
    assert _ids(with_words)[:2] == ["2401.00006", "2401.00001"]
    assert len(set(_ids(with_words))) == len(with_words.cards) > 2
    filtered = _search(conn, index, "author:Lovelace", filters=Filters(category="cs.CV"))
    assert _ids(filtered) == ["2401.00004"]


def test_filters_apply_inside_both_retrievers(
    conn: sa.Connection, index: VectorIndex, keyword_index: TextIndex | None
) -> None:
    # 2401.00001 is first for both retrievers; with one candidate each, a filter applied
    # after the cut would leave nothing.
    fusion = Fusion(candidates=1)

    def _search(
        conn: sa.Connection, index: VectorIndex, query: str, **kwargs: object
    ) -> SearchResults:
        return hybrid_search(
            conn,
            query,
            embed_query=embed,
            index=index,
            keyword_index=keyword_index,
            **kwargs,  # type: ignore[arg-type]
        )

    unfiltered = _search(conn, index, "molecule graph", fusion=fusion)
    assert _ids(unfiltered) == ["2401.00001"]
    for filters in (
        Filters(category="cs.CL"),
        Filters(date_from=dt.date(2024, 4, 1)),
        Filters(date_to=dt.date(2024, 1, 1)),
    ):
        results = _search(conn, index, "molecule graph", filters=filters, fusion=fusion)
        assert "2401.00001" not in _ids(results)
        allowed = fts.filtered_ids(conn, filters)
        assert allowed is not None and set(_ids(results)) <= allowed
    # The best allowed paper of each retriever is found, however deep it ranked unfiltered.
    only_cl = Filters(category="cs.CL")
    assert _ids(_search(conn, index, "molecule graph", filters=only_cl, fusion=fusion)) == [
        "2401.00006"
    ]
    assert _ids(_search(conn, index, "molecule graph", filters=only_cl)) == [
        "2401.00006",
        "2401.00005",
    ]
    empty = _search(conn, index, "molecule graph", filters=Filters(category="astro-ph"))
    assert (empty.total, empty.cards) == (0, [])


def test_no_filters_means_no_allowed_set(conn: sa.Connection) -> None:
    assert fts.filtered_ids(conn, Filters()) is None
    assert fts.filtered_ids(conn, Filters(category="cs.CV")) == {"2401.00004"}
    assert fts.filtered_ids(conn, Filters(has_code=True)) == set()
    assert fts.filtered_ids(conn, Filters(featured=True)) == set()


# Falling back to keyword results.


def _keyword_page(conn: sa.Connection, query: str) -> list[str]:
    return _ids(keyword.search(conn, query))


def test_missing_embedder_or_index_serves_keyword_results(
    conn: sa.Connection, index: VectorIndex
) -> None:
    for embed_query, vectors in ((None, index), (embed, None)):
        results = hybrid_search(conn, "molecule graph", embed_query=embed_query, index=vectors)
        assert (results.mode, results.notice) == ("keyword", NOTICE_UNAVAILABLE)
        assert _ids(results) == _keyword_page(conn, "molecule graph")


def test_embedder_exception_serves_keyword_results(
    conn: sa.Connection, index: VectorIndex, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(text: str) -> np.ndarray:
        raise RuntimeError("model file vanished")

    results = hybrid_search(conn, "molecule graph", embed_query=broken, index=index)
    assert (results.mode, results.notice) == ("keyword", NOTICE_UNAVAILABLE)
    assert _ids(results) == _keyword_page(conn, "molecule graph")
    assert "model file vanished" in caplog.text


def test_vector_index_failure_serves_keyword_results(
    conn: sa.Connection, index: VectorIndex, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenIndex:
        def __len__(self) -> int:
            return len(index)

        def search(self, query: object, k: int, allowed: object = None) -> list[tuple[str, float]]:
            raise OSError("index file truncated")

    results = hybrid_search(conn, "molecule graph", embed_query=embed, index=BrokenIndex())
    assert (results.mode, results.notice) == ("keyword", NOTICE_UNAVAILABLE)
    assert _ids(results) == _keyword_page(conn, "molecule graph")
    assert "index file truncated" in caplog.text


@pytest.mark.parametrize("bad", [np.zeros(4), np.full(4, np.nan), np.ones(3)])
def test_unusable_vector_serves_keyword_results(
    conn: sa.Connection, index: VectorIndex, bad: np.ndarray
) -> None:
    results = hybrid_search(conn, "molecule graph", embed_query=lambda _: bad, index=index)
    assert (results.mode, results.notice) == ("keyword", NOTICE_UNAVAILABLE)


def test_slow_embedder_serves_keyword_results_within_the_budget(
    conn: sa.Connection, index: VectorIndex
) -> None:
    release = threading.Event()

    def stuck(text: str) -> np.ndarray:
        release.wait(5)
        return embed(text)

    try:
        started = time.monotonic()
        results = hybrid_search(
            conn, "molecule graph", embed_query=stuck, index=index, timeout_ms=100
        )
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert (results.mode, results.notice) == ("keyword", NOTICE_SLOW)
    assert _ids(results) == _keyword_page(conn, "molecule graph")
    assert elapsed < 2.0


def test_no_words_is_the_keyword_page(conn: sa.Connection, index: VectorIndex) -> None:
    results = _search(conn, index, "", filters=Filters(category="cs.LG"))
    assert (results.mode, results.notice) == ("keyword", None)
    assert set(_ids(results)) == {"2401.00001", "2401.00002", "2401.00007"}


# The same ranking for every caller (the page and the API call this one function).


def test_same_query_same_results(conn: sa.Connection, index: VectorIndex) -> None:
    first = _search(conn, index, "molecule graph", per_page=5)
    again = _search(conn, index, "  molecule graph ", per_page=5)
    assert first == again


def test_pages_concatenate_to_the_full_ranking(conn: sa.Connection, index: VectorIndex) -> None:
    everything = _search(conn, index, "Predicting protein structure", per_page=100)
    assert everything.total == len(everything.cards) >= 4
    pages = [
        _search(conn, index, "Predicting protein structure", page=n, per_page=2)
        for n in range(1, 5)
    ]
    assert [page.pinned for page in pages] == [1, 0, 0, 0]
    assert {page.total for page in pages} == {everything.total}
    assert [pid for page in pages for pid in _ids(page)] == _ids(everything)[:8]
