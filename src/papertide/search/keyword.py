"""Keyword search: turn whatever a user typed into a safe BM25 query, pin exact matches.

User text never reaches FTS5 as syntax: words are extracted and quoted, so `"`, `*`,
`NEAR`, `-` or unbalanced parentheses cannot cause an error.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import sqlalchemy as sa

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import fts, queries
from papertide.db.fts import Filters
from papertide.models import SearchResults
from papertide.search.highlight import snippet as highlight_snippet

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 32
MAX_AUTHOR_PAPERS = 100
FACET_DEPTH = 200  # the facets of a search count its first this-many results
# `author:"Jane Doe" rest` or `author:Jane Doe` (the name runs to the end of the query).
_AUTHOR = re.compile(r'(?i)(?:^|\s)author:\s*(?:"(?P<quoted>[^"]*)"?|(?P<bare>.+))')
# Words too common to help a ranking; left out of the any-word query that gathers hybrid
# candidates, where they would only make FTS5 walk the longest posting lists.
_STOP_WORDS = """
a an and are as at be been but by can do does for from had has have how i if in into is it
its not of on or our that the their them then there these they this those to was we were
what when which while who why will with
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query split into its free text and an optional `author:` name."""

    text: str
    author: str | None = None


def parse_query(query: str) -> ParsedQuery:
    """Pull an `author:` name out of a query; the rest is searched as words."""
    found = _AUTHOR.search(query)
    if found is None:
        return ParsedQuery(query.strip())
    name = found.group("quoted") if found.group("quoted") is not None else found.group("bare")
    rest = (query[: found.start()] + " " + query[found.end() :]).strip()
    name = " ".join(name.split())
    return ParsedQuery(" ".join(rest.split()), name) if name else ParsedQuery(query.strip())


def terms(query: str) -> list[str]:
    """The searchable words of a query, lowercased, at most MAX_TERMS."""
    return [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]


def _quoted(words: list[str]) -> list[str]:
    return [f'"{w}"' for w in words]


def and_expression(words: list[str]) -> str:
    return " AND ".join(_quoted(words))


def or_expression(words: list[str]) -> str:
    return " OR ".join(_quoted(words))


def recall_words(words: list[str]) -> list[str]:
    """The words that carry meaning, once each (all of them when every word is a stop word)."""
    kept = [w for w in words if w not in STOP_WORDS] or words
    return list(dict.fromkeys(kept))


def recall_expression(words: list[str]) -> str:
    """An FTS5 query for any of the words that carry meaning."""
    return or_expression(recall_words(words))


def highlight(snippet: str) -> str:
    """Escape a raw snippet for HTML and turn the match markers into <mark> tags."""
    escaped = html.escape(snippet)
    return escaped.replace(fts.MARK_OPEN, "<mark>").replace(fts.MARK_CLOSE, "</mark>")


def pinned_ids(conn: sa.Connection, query: str, filters: Filters | None = None) -> list[str]:
    """Papers shown before any ranking: an exact arXiv id, an exact title, or an author's.

    An arXiv id or title names one paper, so it is shown whatever the filters; an `author:`
    query lists that author's papers (newest first) within the filters.
    """
    parsed = parse_query(query)
    if parsed.author is not None:
        return _author_ids(conn, parsed, filters or Filters())
    words = terms(query)
    try:
        arxiv = parse_arxiv_id(query)
    except InvalidArxivId:
        arxiv = None
    if arxiv is not None:
        return [arxiv.base] if queries.get_paper(conn, arxiv.base) else []
    if len(words) < 2:
        return []
    return fts.exact_title_ids(conn, query)


def _author_ids(conn: sa.Connection, parsed: ParsedQuery, filters: Filters) -> list[str]:
    return author_ids(conn, parsed.author or "", parsed.text, filters)


def author_ids(
    conn: sa.Connection,
    name: str,
    text: str = "",
    filters: Filters | None = None,
    limit: int = MAX_AUTHOR_PAPERS,
) -> list[str]:
    """The newest papers with an author named `name` (its words in order within one author's
    name) that also hold every word of `text`."""
    name_words = terms(name)
    if not name_words:
        return []
    expression = "authors : " + '"' + " ".join(name_words) + '"'
    words = terms(text)
    if words:
        # `author:Doe diffusion`: the author's papers that have every other word.
        expression += " AND " + and_expression(words)
    return fts.author_ids(conn, expression, name, filters or Filters(), limit)


class KeywordIndex(Protocol):
    """A keyword index that serves the keyword page (search.text_index.TextIndex)."""

    def match(
        self,
        conn: sa.Connection,
        words: list[str],
        filters: Filters,
        limit: int,
        offset: int = 0,
        exclude: Sequence[str] = (),
        every: bool = True,
    ) -> tuple[list[tuple[str, float]], int]:
        """A page of the papers with every (or any) of the words, best first; the count."""
        ...

    def browse(
        self, conn: sa.Connection, filters: Filters, limit: int, offset: int = 0
    ) -> tuple[list[str], int]:
        """A page of the papers within the filters, newest first; the count."""
        ...


def search(
    conn: sa.Connection,
    query: str,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 20,
    index: KeywordIndex | None = None,
) -> SearchResults:
    """BM25 over title, authors and abstract; all words required, any word as a fallback.

    Ranked by the keyword `index` when there is one, else by the database's full text
    (FTS5, or PostgreSQL's): the same words and filters, exact counts either way.
    """
    filters = filters or Filters()
    query = query.strip()
    page = max(1, page)
    if index is not None:
        return _search_index(conn, index, query, filters, page, per_page)
    parsed = parse_query(query)
    words = terms(parsed.text)
    pinned = pinned_ids(conn, query, filters)
    hits: list[fts.Hit] = []
    total = 0
    # The results are the pinned papers, then the ranking without them; `first` is where
    # this page starts in that list.
    first = (page - 1) * per_page
    basis: list[str] = list(pinned)
    if words:
        offset = max(0, first - len(pinned))
        limit = max(0, first + per_page - len(pinned) - offset)
        expression = and_expression(words)
        hits, total = fts.match(conn, expression, filters, limit, offset, pinned)
        if total == 0 and not pinned and len(words) > 1:
            expression = or_expression(words)
            hits, total = fts.match(conn, expression, filters, limit, offset)
        if total:
            best = fts.ranked(conn, expression, filters, FACET_DEPTH)
            basis += [paper_id for paper_id, _ in best if paper_id not in pinned]
        total += len(pinned)
    elif parsed.author is not None:
        total = len(pinned)
    elif filters != Filters():
        hits, total = fts.browse(conn, filters, per_page, first)
        basis = [hit.arxiv_id for hit in fts.browse(conn, filters, FACET_DEPTH, 0)[0]]
    snippets = {hit.arxiv_id: highlight(hit.snippet) for hit in hits}
    ranked = [hit.arxiv_id for hit in hits if hit.arxiv_id not in pinned]
    shown_pinned = pinned[first : first + per_page]
    missing = [arxiv_id for arxiv_id in shown_pinned if arxiv_id not in snippets]
    if missing and words:
        found = fts.snippets_for(conn, missing, or_expression(words))
        snippets.update({arxiv_id: highlight(raw) for arxiv_id, raw in found.items()})
    ordered = (shown_pinned + ranked)[:per_page]
    cards = [
        replace(card, snippet_html=snippets.get(card.arxiv_id) or None)
        for card in queries.cards_by_ids(conn, ordered)
    ]
    return SearchResults(
        query, total, page, per_page, cards, len(shown_pinned), facet_ids=tuple(basis[:FACET_DEPTH])
    )


def _search_index(
    conn: sa.Connection,
    index: KeywordIndex,
    query: str,
    filters: Filters,
    page: int,
    per_page: int,
) -> SearchResults:
    """`search` ranked by the keyword index: the first FACET_DEPTH papers (ranked, or newest
    first for filters alone) serve both the facets and any page within them."""
    parsed = parse_query(query)
    words = terms(parsed.text)
    pinned = pinned_ids(conn, query, filters)
    first = (page - 1) * per_page
    # Where this page lies in the ranking without the pinned papers, and how deep to cut.
    start = max(0, first - len(pinned))
    stop = max(0, first + per_page - len(pinned))
    ranked: list[str] = []
    total = 0
    if words:

        def cut(limit: int, offset: int, every: bool) -> tuple[list[str], int]:
            hits, count = index.match(conn, words, filters, limit, offset, pinned, every)
            return [paper_id for paper_id, _ in hits], count

        every = True
        ranked, total = cut(FACET_DEPTH, 0, every)
        if total == 0 and not pinned and len(words) > 1:
            every = False
            ranked, total = cut(FACET_DEPTH, 0, every)
        page_ids = ranked[start:stop] if stop <= FACET_DEPTH else cut(stop - start, start, every)[0]
    elif parsed.author is None and filters != Filters():
        ranked, total = index.browse(conn, filters, FACET_DEPTH, 0)
        if stop <= FACET_DEPTH:
            page_ids = ranked[start:stop]
        else:
            page_ids = index.browse(conn, filters, stop - start, start)[0]
    else:
        page_ids = []
    shown_pinned = pinned[first : first + per_page]
    ordered = (shown_pinned + page_ids)[:per_page]
    snippets: dict[str, str] = {}
    if words:
        marked = recall_words(words)
        for paper_id, text in queries.abstracts_by_ids(conn, ordered).items():
            raw = highlight_snippet(text, marked)
            if raw:
                snippets[paper_id] = highlight(raw)
    cards = [
        replace(card, snippet_html=snippets.get(card.arxiv_id) or None)
        for card in queries.cards_by_ids(conn, ordered)
    ]
    basis = (pinned + ranked)[:FACET_DEPTH]
    return SearchResults(
        query,
        total + len(pinned),
        page,
        per_page,
        cards,
        len(shown_pinned),
        facet_ids=tuple(basis),
    )


def marked_html(text: str, query: str) -> str:
    """All of `text`, escaped for HTML, with the query's words in <mark> tags (as the search
    page marks its snippets); the API's `highlightedTitle` and `highlightedSummary`."""
    words = recall_words(terms(parse_query(query).text))
    raw = highlight_snippet(text, words, window=len(text) + 1) if words else ""
    return highlight(raw) if raw else html.escape(" ".join(text.split()))
