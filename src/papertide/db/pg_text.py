"""Keyword search on PostgreSQL full text: what db/fts.py does with FTS5 (issue #11).

`paper.search_text` (migration 0014) is a generated tsvector of the accent-folded title
(weight A), authors (B) and abstract (C) under the text search configuration `papertide`
(english stemming), with a GIN index. search/keyword.py hands db/fts.py FTS5 expressions of a
fixed shape (quoted words joined by AND or OR, maybe `authors : "a phrase"` first); they are
translated here into a tsquery whose words go through the same folding and stemming.

Ranking is `ts_rank` with the weights of FTS5's bm25() columns (title 2, authors 1,
abstract 1), normalised by document length; PostgreSQL has no BM25 (no IDF), so the order
of papers can differ from SQLite's. Snippets are `ts_headline` over the abstract.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

CONFIG = "papertide"
# ts_rank's weights are listed {D, C, B, A}: abstract (C) and authors (B) half the title (A).
WEIGHTS = "{0.1, 0.5, 0.5, 1.0}"
RANK = f"ts_rank('{WEIGHTS}', p.search_text, q.query, 1)"
_TOKEN = re.compile(r'authors\s*:\s*"(?P<phrase>[^"]*)"|"(?P<word>[^"]*)"|(?P<op>AND|OR)')


def tsquery(expression: str, params: dict[str, object]) -> str:
    """SQL for the tsquery of an FTS5 `expression` made by search/keyword.py.

    Its words are bound into `params`; an expression with no words matches nothing.
    """
    parts: list[str] = []
    operator = "&&"
    for found in _TOKEN.finditer(expression):
        if found.group("op"):
            operator = "&&" if found.group("op") == "AND" else "||"
            continue
        name = f"t{len([key for key in params if key.startswith('t')])}"
        if found.group("phrase") is not None:
            params[name] = found.group("phrase")
            term = f"phraseto_tsquery('{CONFIG}', papertide_fold(:{name}))"
        else:
            params[name] = found.group("word")
            term = f"plainto_tsquery('{CONFIG}', papertide_fold(:{name}))"
        parts.append(term if not parts else f" {operator} {term}")
    if not parts:
        return "NULL::tsquery"
    return "(" + "".join(parts) + ")"


def _headline(table: str, query: str | None = None) -> str:
    # The abstract's best window of about 28 words, matches between :mo and :mc. Angle
    # brackets are swapped for look-alikes meanwhile, or `<script>` would be a tag to the
    # parser, neither a word nor shown (the index reads them as spaces: migration 0014).
    abstract = f"translate({table}.abstract, '<>', '\u2039\u203a')"
    return (
        f"translate(ts_headline('{CONFIG}', {abstract}, {query or table + '.query'}, "
        "'StartSel=' || :mo || ', StopSel=' || :mc || ', MaxWords=28, MinWords=12, "
        "ShortWord=2, MaxFragments=1, FragmentDelimiter=…'), '\u2039\u203a', '<>')"
    )


def _source(expression: str, params: dict[str, object]) -> str:
    return f"paper p, (SELECT {tsquery(expression, params)} AS query) q"


def match(
    conn: sa.Connection,
    expression: str,
    filter_sql: str,
    params: dict[str, object],
    page: tuple[int, int],
    exclude: Sequence[str] = (),
) -> tuple[list[tuple[str, float, str]], int]:
    """fts.match on PostgreSQL: (id, rank, snippet) of the page (`limit`, `offset`) of
    matches by rank, and their total. `params` holds the filters' values and :mo / :mc."""
    limit, offset = page
    source = _source(expression, params)
    where = "p.search_text @@ q.query" + filter_sql
    if exclude:
        where += " AND p.id <> ALL(:exclude)"
        params["exclude"] = list(exclude)
    total = conn.execute(sa.text(f"SELECT count(*) FROM {source} WHERE {where}"), params)
    count = int(total.scalar_one())
    if not count:
        return [], 0
    rows = conn.execute(
        sa.text(
            f"SELECT best.id, best.score, {_headline('best')} AS snip FROM ("
            f"SELECT p.id, p.seq, p.abstract, {RANK} AS score, q.query FROM {source} "
            f"WHERE {where} ORDER BY score DESC, p.seq LIMIT :limit OFFSET :offset"
            ") best ORDER BY best.score DESC, best.seq"
        ),
        {**params, "limit": limit, "offset": offset},
    ).all()
    return [(row.id, float(row.score), row.snip or "") for row in rows], count


def ranked(
    conn: sa.Connection, expression: str, filter_sql: str, params: dict[str, object], limit: int
) -> list[tuple[str, float]]:
    """fts.ranked on PostgreSQL: the best `limit` papers as (id, rank)."""
    source = _source(expression, params)
    rows = conn.execute(
        sa.text(
            f"SELECT p.id, {RANK} AS score FROM {source} "
            f"WHERE p.search_text @@ q.query{filter_sql} "
            "ORDER BY score DESC, p.seq LIMIT :limit"
        ),
        {**params, "limit": limit},
    ).all()
    return [(row.id, float(row.score)) for row in rows]


def snippets_for(
    conn: sa.Connection, ids: Sequence[str], expression: str, marks: tuple[str, str]
) -> dict[str, str]:
    """fts.snippets_for on PostgreSQL: highlighted abstracts of those of `ids` that match."""
    params: dict[str, object] = {"ids": list(ids), "mo": marks[0], "mc": marks[1]}
    source = _source(expression, params)
    rows = conn.execute(
        sa.text(
            f"SELECT p.id, {_headline('p', 'q.query')} AS snip FROM {source} "
            "WHERE p.id = ANY(:ids) AND p.search_text @@ q.query"
        ),
        params,
    ).all()
    return {row.id: row.snip for row in rows if row.snip}


def author_rows(
    conn: sa.Connection, expression: str, filter_sql: str, params: dict[str, object], limit: int
) -> Sequence[sa.Row[Any]]:
    """The newest papers matching `expression` (ids and authors), for fts.author_ids."""
    source = _source(expression, params)
    return conn.execute(
        sa.text(
            f"SELECT p.id, p.authors FROM {source} "
            f"WHERE p.search_text @@ q.query{filter_sql} "
            "ORDER BY p.published_at DESC NULLS LAST, p.id LIMIT :limit"
        ),
        {**params, "limit": limit},
    ).all()
