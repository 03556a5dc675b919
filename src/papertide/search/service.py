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
        # Where the keyword index stands, for /healthz: "not opened yet", "downloading
        # snapshot", "building", "ready", or why it is unavailable.
        self.text_phase = "not opened yet"
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
                keyword_index=text,
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
        is opened on first use (or at start-up: `warm_up`): downloaded from the database's
        snapshot or built, in the request for a small corpus (under a second for the demo),
        else in a background thread while the database's full text answers (`papertide
        reindex` builds it ahead of time).
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
        self._start_text_index()
        return self._text

    def warm_up(self) -> None:
        """At start-up: on a large corpus, start opening the keyword index (downloading its
        snapshot or building it) in the background, so it is ready before the first searches
        rather than after. A small corpus is left to the first search, which opens it at once."""
        try:
            with self.db.read() as conn:
                papers = queries.paper_count(conn)
        except Exception as exc:  # the first search tries again; start-up goes on
            log.warning("could not count the papers at start-up: %s", exc)
            return
        if papers > SYNC_BUILD_PAPERS:
            self._start_text_index(background=True)

    def _start_text_index(self, background: bool | None = None) -> None:
        """Open the keyword index: in a thread if `background` (by default: if the corpus is
        too large to build within a request)."""
        with self._lock:
            if self._text is not None or time.monotonic() - self._text_checked_at < RECHECK_S:
                return
            self._text_checked_at = time.monotonic()
            if background is None:
                with self.db.read() as conn:
                    background = queries.paper_count(conn) > SYNC_BUILD_PAPERS
            if not background:
                self._open_text_index()
                return
            threading.Thread(
                target=self._open_text_index, name="papertide-keyword-index", daemon=True
            ).start()

    def _open_text_index(self) -> None:
        try:
            self._text = ensure_text_index(
                self.db, self.settings.data_dir, wait=False, on_phase=self._set_phase
            )
            self.text_phase = "ready"
        except Exception as exc:  # the database's full text answers meanwhile
            self.text_phase = f"unavailable: {exc}"
            log.warning("keyword index unavailable, using the database's full text: %s", exc)

    def _set_phase(self, phase: str) -> None:
        self.text_phase = phase
        log.info("keyword index: %s", phase)

    def readiness(self) -> dict[str, Any]:
        """For /healthz: how this host ranks right now. Search is ready whenever it can rank
        correctly: the database's own full text answers until the keyword index is opened.
        `keyword` names the engine ranking now; `keyword_index` where the index stands
        ("ready", "downloading snapshot", "building", ...)."""
        return {
            "ok": True,
            "keyword": "index" if self._text is not None else "database full text",
            "keyword_index": self.text_phase,
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
