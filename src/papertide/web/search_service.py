"""The one search entry point of the web app: the page and the JSON API both call it, so
they rank identically."""

from __future__ import annotations

from papertide.config import Settings
from papertide.db.engine import Database
from papertide.db.fts import Filters
from papertide.models import SearchResults
from papertide.search.keyword import search as keyword_search


class SearchService:
    """Runs a search against the app's database with the configured retrievers."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def run(
        self, query: str, filters: Filters | None = None, page: int = 1, per_page: int = 20
    ) -> SearchResults:
        with self.db.read() as conn:
            return keyword_search(conn, query, filters, page=page, per_page=per_page)
