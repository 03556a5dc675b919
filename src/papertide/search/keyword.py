"""Keyword search: turn whatever a user typed into a safe BM25 query, pin exact matches.

User text never reaches FTS5 as syntax: words are extracted and quoted, so `"`, `*`,
`NEAR`, `-` or unbalanced parentheses cannot cause an error.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

import sqlalchemy as sa

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import fts, queries
from papertide.db.fts import Filters
from papertide.models import SearchResults

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 32


def terms(query: str) -> list[str]:
    """The searchable words of a query, lowercased, at most MAX_TERMS."""
    return [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]


def _quoted(words: list[str]) -> list[str]:
    return [f'"{w}"' for w in words]


def and_expression(words: list[str]) -> str:
    return " AND ".join(_quoted(words))


def or_expression(words: list[str]) -> str:
    return " OR ".join(_quoted(words))


def highlight(snippet: str) -> str:
    """Escape a raw snippet for HTML and turn the match markers into <mark> tags."""
    escaped = html.escape(snippet)
    return escaped.replace(fts.MARK_OPEN, "<mark>").replace(fts.MARK_CLOSE, "</mark>")


def _pinned_ids(conn: sa.Connection, query: str, words: list[str]) -> list[str]:
    try:
        arxiv = parse_arxiv_id(query)
    except InvalidArxivId:
        arxiv = None
    if arxiv is not None:
        return [arxiv.base] if queries.get_paper(conn, arxiv.base) else []
    if len(words) < 2:
        return []
    return fts.exact_title_ids(conn, '"' + " ".join(words) + '"', query)


def search(
    conn: sa.Connection,
    query: str,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SearchResults:
    """BM25 over title, authors and abstract; all words required, any word as a fallback."""
    filters = filters or Filters()
    query = query.strip()
    words = terms(query)
    page = max(1, page)
    pinned = _pinned_ids(conn, query, words)
    hits: list[fts.Hit] = []
    total = 0
    # The results are the pinned papers, then the ranking without them; `first` is where
    # this page starts in that list.
    first = (page - 1) * per_page
    if words:
        offset = max(0, first - len(pinned))
        limit = max(0, first + per_page - len(pinned) - offset)
        hits, total = fts.match(conn, and_expression(words), filters, limit, offset, pinned)
        if total == 0 and not pinned and len(words) > 1:
            hits, total = fts.match(conn, or_expression(words), filters, limit, offset)
        total += len(pinned)
    elif filters != Filters():
        hits, total = fts.browse(conn, filters, per_page, first)
    snippets = {hit.arxiv_id: highlight(hit.snippet) for hit in hits}
    ranked = [hit.arxiv_id for hit in hits if hit.arxiv_id not in pinned]
    shown_pinned = pinned[first : first + per_page]
    for arxiv_id in shown_pinned:
        if arxiv_id not in snippets and words:
            snippets[arxiv_id] = highlight(fts.snippet_for(conn, arxiv_id, or_expression(words)))
    ordered = (shown_pinned + ranked)[:per_page]
    cards = [
        replace(card, snippet_html=snippets.get(card.arxiv_id) or None)
        for card in queries.cards_by_ids(conn, ordered)
    ]
    return SearchResults(query, total, page, per_page, cards, len(shown_pinned))
