"""The one search entry point of the web app: the page and the JSON API both call it, so
they rank identically.

The embedder and the vector index load on first use (not at start-up, so tests and the
first page stay fast) and the index is re-checked against the database now and then, so
papers embedded by the worker appear without a restart. When either cannot be had, search
degrades to keyword results and says why.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np

from papertide.config import Settings
from papertide.db import queries, vector_sql
from papertide.db.engine import Database
from papertide.db.fts import Filters
from papertide.models import PaperCard, SearchResults
from papertide.search import hybrid
from papertide.search.embedder import Embedder, load_embedder
from papertide.search.pg_vectors import PaperVectors, ensure_pg_index
from papertide.search.text_index import TextIndex, ensure_text_index
from papertide.search.vectors import ensure_index

__all__ = ["PaperVectors", "SearchService"]

log = logging.getLogger(__name__)
RECHECK_S = 60.0
SYNC_BUILD_PAPERS = 20_000  # a keyword index this small is built within the request


class SearchService:
    """Runs searches and related-paper lookups with the configured retrievers."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.fusion = hybrid.Fusion(
            keyword_weight=settings.search_keyword_weight,
            semantic_weight=settings.search_semantic_weight,
        )
        self._lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._index: PaperVectors | None = None
        self._checked_at = -RECHECK_S
        self._text: TextIndex | None = None
        self._text_checked_at = -RECHECK_S
        self.unavailable: str | None = None  # why semantic search is off, if it is

    def run(
        self, query: str, filters: Filters | None = None, page: int = 1, per_page: int = 20
    ) -> SearchResults:
        index = self.index()
        text = self.text_index()
        embed = self._embed_query if self._embedder is not None else None
        with self.db.read() as conn:
            return hybrid.hybrid_search(
                conn,
                query,
                embed_query=embed,
                index=index,
                filters=filters,
                page=page,
                per_page=per_page,
                fusion=self.fusion,
                timeout_ms=self.settings.embedding_timeout_ms,
                keyword_retriever=text or hybrid.FTS5,
            )

    def with_facets(self, results: SearchResults) -> SearchResults:
        """`results` with their facet counts (for the page; the API does without)."""
        if not results.facet_ids:
            return results
        with self.db.read() as conn:
            return replace(results, facets=queries.facet_counts(conn, results.facet_ids))

    def text_index(self) -> TextIndex | None:
        """The keyword index, caught up with the database; None (FTS5 serves) if unavailable.

        Catching up costs one indexed max() per search when nothing changed. A missing index
        is built on first use: in the request for a small corpus (under a second for the
        demo), else in a background thread while FTS5 answers (`papertide reindex` builds it
        ahead of time).
        """
        text = self._text
        if text is not None:
            try:
                text.catch_up(self.db, wait=False)
            except Exception as exc:  # a stale index beats no search
                log.warning("keyword index catch-up failed: %s", exc)
            return text
        if time.monotonic() - self._text_checked_at < RECHECK_S:
            return None
        with self._lock:
            if self._text is None and time.monotonic() - self._text_checked_at >= RECHECK_S:
                self._text_checked_at = time.monotonic()
                with self.db.read() as conn:
                    papers = queries.paper_count(conn)
                if papers <= SYNC_BUILD_PAPERS:
                    self._open_text_index()
                else:
                    threading.Thread(
                        target=self._open_text_index, name="papertide-keyword-index", daemon=True
                    ).start()
        return self._text

    def _open_text_index(self) -> None:
        try:
            self._text = ensure_text_index(self.db, self.settings.data_dir, wait=False)
        except Exception as exc:  # FTS5 answers meanwhile
            log.warning("keyword index unavailable, using FTS5: %s", exc)

    def readiness(self) -> dict[str, Any]:
        """For /healthz: how this host ranks right now. Search is ready whenever it can rank
        correctly: the database's own full text answers until the keyword index is built."""
        return {
            "ok": True,
            "keyword": "index" if self._text is not None else "database full text",
            "semantic": "off: " + self.unavailable if self.unavailable else "on",
        }

    def related(self, arxiv_id: str, k: int = 6) -> list[PaperCard]:
        """Nearest neighbours of a paper's own vector (itself and duplicates left out)."""
        index = self.index()
        if index is None or arxiv_id not in index:
            return []
        neighbours = [paper_id for paper_id, _score in index.neighbours(arxiv_id, k)]
        with self.db.read() as conn:
            return queries.cards_by_ids(conn, neighbours)

    def index(self) -> PaperVectors | None:
        """The vector index, loaded (and kept in step with the database) lazily."""
        if time.monotonic() - self._checked_at < RECHECK_S:
            return self._index
        with self._lock:
            if time.monotonic() - self._checked_at >= RECHECK_S:
                self._load()
                self._checked_at = time.monotonic()
        return self._index

    def _load(self) -> None:
        model = self.settings.embedding_model
        try:
            if self._embedder is None:
                self._embedder = load_embedder(model, threads=1)
            self._index = self._ensure_index(model, self._embedder.dim)
            self.unavailable = None
        except Exception as exc:  # search must keep working on keywords whatever happened
            log.warning("semantic search is off: %s", exc)
            self._index, self.unavailable = None, str(exc)

    def _ensure_index(self, model: str, dim: int) -> PaperVectors:
        if vector_sql.searches_vectors(self.db):
            return ensure_pg_index(self.db, model, dim)  # nothing to build on this host
        return ensure_index(self.db, self.settings.data_dir, model, dim)

    def _embed_query(self, text: str) -> Any:
        assert self._embedder is not None
        return np.asarray(self._embedder.embed([text])[0])
