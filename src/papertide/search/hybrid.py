"""Hybrid search: BM25 and vector candidates fused into one ranking (issue #4).

Each retriever gathers its best candidates with the filters applied inside its own search
(FTS5 joins the filtered papers; the vector index searches only the allowed ids), so a
filter never empties a top-k cut. The two candidate lists are then fused: by default a
weighted sum of each paper's BM25 (divided by the best) and its cosine (min-max scaled over
the candidates, read from the stored vector when only BM25 found the paper);
docs/search.md has the measurements behind that choice. Exact arXiv ids, exact titles
and `author:` queries are pinned first, as on the keyword page. When the embedder is
missing, fails or is too slow, the keyword page's results are served, flagged as such.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from papertide.arxiv_ids import is_arxiv_id
from papertide.db import fts, queries
from papertide.db.fts import Filters
from papertide.models import SearchResults
from papertide.search import keyword
from papertide.search.highlight import snippet
from papertide.search.text_index import TextIndex

log = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]
EmbedQuery = Callable[[str], Any]  # text -> a vector (any array-like of the index's dim)
Ranking = list[tuple[str, float]]  # (paper id, score), best first

NOTICE_UNAVAILABLE = "Semantic search is unavailable right now: showing keyword matches only."
NOTICE_SLOW = "Semantic search took too long: showing keyword matches only."


class VectorSearch(Protocol):
    """What hybrid search needs of a vector index (papertide.search.vectors.VectorIndex)."""

    def __len__(self) -> int: ...

    def search(self, query: Any, k: int, allowed: Collection[str] | None = None) -> Ranking:
        """The k papers nearest `query` among `allowed` (None: all) as (id, cosine)."""
        ...


@dataclass(frozen=True, slots=True)
class Fusion:
    """How the keyword and semantic rankings become one (Settings' search_* fields).

    `convex`: BM25 / best BM25 plus cosine min-max scaled over the candidates, weighted.
    `rrf`: weighted reciprocal-rank fusion, the sum of weight / (k + rank).
    """

    method: Literal["convex", "rrf"] = "convex"
    keyword_weight: float = 1.0
    semantic_weight: float = 1.0
    rrf_k: int = 60
    candidates: int = 100  # from each retriever


DEFAULT_FUSION = Fusion()


def rrf(rankings: Sequence[tuple[Sequence[str], float]], k: int) -> Ranking:
    """Reciprocal-rank fusion of (ids best first, weight) lists: sum of weight / (k + rank)."""
    scores: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, paper_id in enumerate(ids, start=1):
            scores[paper_id] = scores.get(paper_id, 0.0) + weight / (k + rank)
    return _best_first(scores)


def min_max(scores: dict[str, float]) -> dict[str, float]:
    """Scores rescaled to [0, 1] over the given papers (all 1.0 when they are equal)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {paper_id: (score - low) / (high - low) for paper_id, score in scores.items()}


def max_scaled(scores: dict[str, float]) -> dict[str, float]:
    """Scores divided by the highest (BM25 is 0 for a paper with none of the words)."""
    top = max(scores.values(), default=0.0)
    if top <= 0.0:
        return dict.fromkeys(scores, 0.0)
    return {paper_id: max(0.0, score) / top for paper_id, score in scores.items()}


def convex(
    keyword_scores: dict[str, float],
    semantic_scores: dict[str, float],
    keyword_weight: float,
    semantic_weight: float,
) -> Ranking:
    """Weighted sum of BM25 / best BM25 and min-max normalised cosine; missing scores are 0."""
    keyword_norm, semantic_norm = max_scaled(keyword_scores), min_max(semantic_scores)
    fused = {
        paper_id: keyword_weight * keyword_norm.get(paper_id, 0.0)
        + semantic_weight * semantic_norm.get(paper_id, 0.0)
        for paper_id in keyword_norm.keys() | semantic_norm.keys()
    }
    return _best_first(fused)


def _best_first(scores: dict[str, float]) -> Ranking:
    # Ties broken by id, so the same inputs always give the same page.
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


class KeywordRetriever(Protocol):
    """A BM25 engine for hybrid's keyword candidates (search.text_index.TextIndex)."""

    def ranked(
        self, conn: sa.Connection, words: list[str], filters: Filters, limit: int
    ) -> Ranking:
        """The best `limit` papers with any of `words`, within the filters, best first."""
        ...


class Fts5Retriever:
    """The candidates from SQLite FTS5 (when the keyword index is not available)."""

    def ranked(
        self, conn: sa.Connection, words: list[str], filters: Filters, limit: int
    ) -> Ranking:
        return fts.ranked(conn, keyword.or_expression(words), filters, limit)


FTS5 = Fts5Retriever()


def keyword_candidates(
    conn: sa.Connection,
    words: list[str],
    filters: Filters,
    limit: int,
    retriever: KeywordRetriever = FTS5,
) -> Ranking:
    """The best `limit` papers by BM25 for any of the query's meaningful words."""
    if not words or limit <= 0:
        return []
    return retriever.ranked(conn, keyword.recall_words(words), filters, limit)


def semantic_candidates(
    index: VectorSearch, vector: Vector, allowed: Collection[str] | None, limit: int
) -> Ranking:
    """The `limit` papers nearest to `vector` among `allowed` (None: all), by cosine."""
    if limit <= 0 or (allowed is not None and not allowed):
        return []
    return list(index.search(vector, limit, allowed))


def fuse(
    keyword_hits: Ranking,
    semantic_hits: Ranking,
    index: VectorSearch,
    vector: Vector,
    fusion: Fusion,
) -> Ranking:
    """One ranking of the union of both candidate lists."""
    if fusion.method == "rrf":
        return rrf(
            [
                ([paper_id for paper_id, _ in keyword_hits], fusion.keyword_weight),
                ([paper_id for paper_id, _ in semantic_hits], fusion.semantic_weight),
            ],
            fusion.rrf_k,
        )
    keyword_scores, semantic_scores = dict(keyword_hits), dict(semantic_hits)
    # A paper only the keyword side found gets its true cosine: the index scores exactly a
    # small allowed set, in one call. A paper only the vector side found keeps BM25 0:
    # scoring it exactly would make FTS5 gather its term statistics again, costlier than
    # the whole ranking, and measured no better (docs/search.md).
    missing = [paper_id for paper_id in keyword_scores if paper_id not in semantic_scores]
    if missing:
        semantic_scores.update(index.search(vector, len(missing), missing))
    return convex(keyword_scores, semantic_scores, fusion.keyword_weight, fusion.semantic_weight)


class SemanticUnavailable(RuntimeError):
    """The query could not be embedded in time; the message is the notice to show."""


_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _embed_pool() -> ThreadPoolExecutor:
    # Query embeddings and vector searches run beside the keyword retrieval, and a stuck
    # embedder costs a request no more than its time budget. One small pool per process,
    # made on first use: two embed at once (CPU), two more may wait on PostgreSQL.
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="papertide-embed")
        return _pool


class _SearchFailed(RuntimeError):
    """The vector index failed (not the embedder): logged as such, keyword results served."""


def _start_semantic(
    embed_query: EmbedQuery,
    text: str,
    index: VectorSearch,
    allowed: Collection[str] | None,
    limit: int,
) -> Future[tuple[Vector, Ranking]]:
    """Embed the query and gather its semantic candidates in the pool, while the caller
    gathers the keyword ones: on PostgreSQL the vector search is a round trip of its own
    (7 ms at 1M papers), so running it beside tantivy saves the shorter of the two."""

    def run() -> tuple[Vector, Ranking]:
        vector = _unit_vector(embed_query(text), getattr(index, "dim", None))
        try:
            return vector, semantic_candidates(index, vector, allowed, limit)
        except Exception as exc:
            raise _SearchFailed(str(exc)) from exc

    return _embed_pool().submit(run)


def _unit_vector(value: Any, dim: int | None) -> Vector:
    vector = np.asarray(value, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not math.isfinite(norm) or norm == 0.0 or (dim is not None and vector.size != dim):
        raise SemanticUnavailable(NOTICE_UNAVAILABLE)
    return vector / norm


def _await_semantic(
    future: Future[tuple[Vector, Ranking]], deadline: float
) -> tuple[Vector, Ranking]:
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout as exc:
        future.cancel()
        raise SemanticUnavailable(NOTICE_SLOW) from exc
    except (SemanticUnavailable, _SearchFailed):
        raise
    except Exception as exc:
        log.warning("query embedding failed: %s", exc, exc_info=exc)
        raise SemanticUnavailable(NOTICE_UNAVAILABLE) from exc


def hybrid_search(
    conn: sa.Connection,
    query: str,
    *,
    embed_query: EmbedQuery | None,
    index: VectorSearch | None,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 20,
    fusion: Fusion = DEFAULT_FUSION,
    timeout_ms: float = 1000.0,
    keyword_index: TextIndex | None = None,
) -> SearchResults:
    """One page of hybrid results; keyword results (mode "keyword", with a notice) if needed.

    Deterministic for the same database, index and arguments (barring a timeout), so the
    page and the API show the same ranking. `keyword_index` ranks the keyword side (the
    database's full text does without it).
    """
    filters = filters or Filters()
    query = query.strip()
    page = max(1, page)
    parsed = keyword.parse_query(query)
    words = keyword.terms(parsed.text)
    if not words or is_arxiv_id(query):
        # Nothing for a vector to mean: filters only, an author alone, or an arXiv id.
        return keyword.search(conn, query, filters, page, per_page, keyword_index)

    def keyword_only(notice: str) -> SearchResults:
        results = keyword.search(conn, query, filters, page, per_page, keyword_index)
        return replace(results, mode="keyword", notice=notice)

    if embed_query is None or index is None or len(index) == 0:
        return keyword_only(NOTICE_UNAVAILABLE)
    deadline = time.monotonic() + timeout_ms / 1000.0
    allowed = fts.filtered_ids(conn, filters)
    future = _start_semantic(embed_query, parsed.text, index, allowed, fusion.candidates)
    pinned = keyword.pinned_ids(conn, query, filters)
    retriever = keyword_index or FTS5
    keyword_hits = keyword_candidates(conn, words, filters, fusion.candidates, retriever)
    try:
        vector, semantic_hits = _await_semantic(future, deadline)
        fused = fuse(keyword_hits, semantic_hits, index, vector, fusion)
    except SemanticUnavailable as exc:
        return keyword_only(str(exc))
    except Exception as exc:  # a broken index file must not take search down with it
        log.warning("vector search failed: %s", exc, exc_info=exc)
        return keyword_only(NOTICE_UNAVAILABLE)
    shown_first = set(pinned)
    ranked = [paper_id for paper_id, _ in fused if paper_id not in shown_first]
    return _page(conn, query, words, pinned, ranked, page, per_page)


def _page(
    conn: sa.Connection,
    query: str,
    words: list[str],
    pinned: list[str],
    ranked: list[str],
    page: int,
    per_page: int,
) -> SearchResults:
    ordered = pinned + ranked
    first = (page - 1) * per_page
    shown = ordered[first : first + per_page]
    abstracts = queries.abstracts_by_ids(conn, shown)
    marked = keyword.recall_words(words)
    raw = {paper_id: snippet(text, marked) for paper_id, text in abstracts.items()}
    cards = [
        replace(card, snippet_html=keyword.highlight(raw[card.arxiv_id]))
        if raw.get(card.arxiv_id)
        else card
        for card in queries.cards_by_ids(conn, shown)
    ]
    shown_pinned = max(0, min(len(pinned) - first, per_page))
    return SearchResults(
        query,
        len(ordered),
        page,
        per_page,
        cards,
        shown_pinned,
        mode="hybrid",
        notice=None,
        facet_ids=tuple(ordered[: keyword.FACET_DEPTH]),
    )
