"""Keyword search over SQLite FTS5, or PostgreSQL full text (db/pg_text.py, issue #11).

Takes an already-sanitised FTS5 MATCH expression from papertide.search.keyword; on
PostgreSQL db/pg_text.py translates it into a tsquery.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from papertide.db import pg_text
from papertide.text import title_key, words

# Column weights for bm25(): title, authors, abstract.
TITLE_WEIGHT, AUTHORS_WEIGHT, ABSTRACT_WEIGHT = 2.0, 1.0, 1.0
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # replaced by <mark> after HTML escaping


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions applied inside the retriever, before ranking and paging."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category: str | None = None
    has_code: bool = False  # only papers with a GitHub repository
    featured: bool = False  # only papers featured on some day


@dataclass(frozen=True, slots=True)
class Hit:
    arxiv_id: str
    score: float
    snippet: str  # raw text with MARK_OPEN / MARK_CLOSE around matches


def _on_postgresql(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _filter_sql(conn: sa.Connection, filters: Filters, params: dict[str, object]) -> str:
    clauses = []
    if filters.date_from:
        clauses.append("p.published_at >= :date_from")
        params["date_from"] = dt.datetime.combine(filters.date_from, dt.time())
    if filters.date_to and filters.date_to < dt.date.max:  # the last day ever bounds nothing
        clauses.append("p.published_at < :date_to")
        params["date_to"] = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time())
    if filters.category:
        # PostgreSQL's json type has no LIKE: its text (as written) has.
        json_text = "::text" if _on_postgresql(conn) else ""
        clauses.append(f"p.categories{json_text} LIKE :category ESCAPE '\\'")
        escaped = filters.category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["category"] = f'%"{escaped}"%'
    if filters.has_code:
        clauses.append("p.github_repo IS NOT NULL")
    if filters.featured:
        clauses.append("EXISTS (SELECT 1 FROM daily_entry d WHERE d.paper_id = p.id)")
    return "".join(f" AND {clause}" for clause in clauses)


def match(
    conn: sa.Connection,
    expression: str,
    filters: Filters,
    limit: int,
    offset: int,
    exclude: Sequence[str] = (),
) -> tuple[list[Hit], int]:
    """Rank papers matching the FTS5 `expression` by BM25; returns a page and the total.

    Papers in `exclude` (pinned ones, shown apart) are left out of both.
    """
    values: dict[str, object] = {"mo": MARK_OPEN, "mc": MARK_CLOSE}
    filter_sql = _filter_sql(conn, filters, values)
    if _on_postgresql(conn):
        found, count = pg_text.match(conn, expression, filter_sql, values, (limit, offset), exclude)
        return [Hit(*row) for row in found], count
    params: dict[str, object] = {"q": expression, "limit": limit, "offset": offset, **values}
    # Without filters the index alone answers: joining paper for every match (tens of
    # thousands for a broad word) cost more than the ranking itself (issue #2). The triggers
    # of migration 0001 keep the index and paper in step, so the answers are the same.
    source = "paper_fts JOIN paper p ON p.seq = paper_fts.rowid" if filter_sql else "paper_fts"
    where = "paper_fts MATCH :q" + filter_sql
    if exclude:
        names = [f"x{i}" for i in range(len(exclude))]
        params.update(zip(names, exclude, strict=True))
        where += " AND paper_fts.rowid NOT IN (SELECT seq FROM paper WHERE id IN ({}))".format(
            ", ".join(f":{name}" for name in names)
        )
    total = conn.execute(
        sa.text(f"SELECT count(*) FROM {source} WHERE {where}"), params
    ).scalar_one()
    if not total:
        return [], 0
    rows = conn.execute(
        sa.text(
            "SELECT paper_fts.rowid AS seq, bm25(paper_fts, :wt, :wa, :wb) AS score, "
            "snippet(paper_fts, 2, :mo, :mc, '…', 28) AS snip "
            f"FROM {source} WHERE {where} "
            "ORDER BY score, paper_fts.rowid LIMIT :limit OFFSET :offset"
        ),
        {
            **params,
            "wt": TITLE_WEIGHT,
            "wa": AUTHORS_WEIGHT,
            "wb": ABSTRACT_WEIGHT,
            "mo": MARK_OPEN,
            "mc": MARK_CLOSE,
        },
    ).all()
    ids = ids_by_seq(conn, [row.seq for row in rows])
    hits = [Hit(ids[row.seq], -row.score, row.snip or "") for row in rows if row.seq in ids]
    return hits, int(total)


def ids_by_seq(conn: sa.Connection, seqs: list[int]) -> dict[int, str]:
    if not seqs:
        return {}
    rows = conn.execute(
        sa.text("SELECT seq, id FROM paper WHERE seq IN :seqs").bindparams(
            sa.bindparam("seqs", expanding=True)
        ),
        {"seqs": seqs},
    )
    return {row.seq: row.id for row in rows}


def exact_title_ids(conn: sa.Connection, title: str) -> list[str]:
    """Ids of papers whose title has the same words as `title` (case, accents and
    punctuation aside): one lookup in the title_key index."""
    key = title_key(title)
    if key is None:
        return []
    rows = conn.execute(
        sa.text("SELECT id FROM paper WHERE title_key = :key ORDER BY id LIMIT 50"), {"key": key}
    )
    return [row.id for row in rows]


def browse(conn: sa.Connection, filters: Filters, limit: int, offset: int) -> tuple[list[Hit], int]:
    """Papers matching only the filters (no words), newest first."""
    params: dict[str, object] = {"limit": limit, "offset": offset}
    where = "1 = 1" + _filter_sql(conn, filters, params)
    total = conn.execute(
        sa.text(f"SELECT count(*) FROM paper p WHERE {where}"), params
    ).scalar_one()
    rows = conn.execute(
        sa.text(
            f"SELECT p.id FROM paper p WHERE {where} "
            "ORDER BY p.published_at DESC, p.id LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return [Hit(row.id, 0.0, "") for row in rows], int(total)


def _bm25_params() -> dict[str, object]:
    return {"wt": TITLE_WEIGHT, "wa": AUTHORS_WEIGHT, "wb": ABSTRACT_WEIGHT}


def ranked(
    conn: sa.Connection, expression: str, filters: Filters, limit: int
) -> list[tuple[str, float]]:
    """The best `limit` papers for `expression` as (id, BM25 score, higher is better).

    The candidate list of hybrid search (issue #4): no snippets and no count, so it stays
    cheap for a few hundred candidates.
    """
    values: dict[str, object] = {}
    filter_sql = _filter_sql(conn, filters, values)
    if _on_postgresql(conn):
        return pg_text.ranked(conn, expression, filter_sql, values, limit)
    params: dict[str, object] = {"q": expression, "limit": limit, **_bm25_params(), **values}
    source = "paper_fts JOIN paper p ON p.seq = paper_fts.rowid" if filter_sql else "paper_fts"
    rows = conn.execute(
        sa.text(
            "SELECT paper_fts.rowid AS seq, bm25(paper_fts, :wt, :wa, :wb) AS score "
            f"FROM {source} WHERE paper_fts MATCH :q{filter_sql} "
            "ORDER BY score, paper_fts.rowid LIMIT :limit"
        ),
        params,
    ).all()
    ids = ids_by_seq(conn, [row.seq for row in rows])
    return [(ids[row.seq], -float(row.score)) for row in rows if row.seq in ids]


def snippets_for(conn: sa.Connection, ids: Sequence[str], expression: str) -> dict[str, str]:
    """Highlighted abstract snippets of the given papers; papers that do not match are absent."""
    if not ids:
        return {}
    if _on_postgresql(conn):
        return pg_text.snippets_for(conn, ids, expression, (MARK_OPEN, MARK_CLOSE))
    seqs = seqs_by_id(conn, ids)
    if not seqs:
        return {}
    rows = conn.execute(
        sa.text(
            "SELECT rowid AS seq, snippet(paper_fts, 2, :mo, :mc, '…', 28) AS snip "
            "FROM paper_fts WHERE paper_fts MATCH :q AND rowid IN :seqs"
        ).bindparams(sa.bindparam("seqs", expanding=True)),
        {"q": expression, "seqs": list(seqs), "mo": MARK_OPEN, "mc": MARK_CLOSE},
    ).all()
    return {seqs[row.seq]: row.snip for row in rows if row.snip}


def seqs_by_id(conn: sa.Connection, ids: Sequence[str]) -> dict[int, str]:
    """{seq: id} for the papers `ids` names (unknown ids left out)."""
    if not ids:
        return {}
    rows = conn.execute(
        sa.text("SELECT seq, id FROM paper WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        ),
        {"ids": list(ids)},
    )
    return {row.seq: row.id for row in rows}


def filtered_ids(conn: sa.Connection, filters: Filters) -> set[str] | None:
    """Ids of every paper the filters allow, or None when there are no filters (all allowed).

    The vector retriever searches inside this set, so a filter never empties a top-k cut.
    """
    params: dict[str, object] = {}
    filter_sql = _filter_sql(conn, filters, params)
    if not filter_sql:
        return None
    rows = conn.execute(sa.text(f"SELECT p.id FROM paper p WHERE 1 = 1{filter_sql}"), params)
    return {row.id for row in rows}


def author_ids(
    conn: sa.Connection, expression: str, name: str, filters: Filters, limit: int
) -> list[str]:
    """Ids of papers matching `expression`, newest first, with an author named `name`.

    `expression` holds the name's words as a phrase in the authors column (and maybe more);
    each author is then checked, so "Jane Doe" does not match "Jane Smith, John Doe".
    """
    values: dict[str, object] = {}
    filter_sql = _filter_sql(conn, filters, values)
    if _on_postgresql(conn):
        rows = pg_text.author_rows(conn, expression, filter_sql, values, limit * 4)
    else:
        rows = conn.execute(
            sa.text(
                "SELECT p.id, p.authors FROM paper_fts JOIN paper p ON p.seq = paper_fts.rowid "
                f"WHERE paper_fts MATCH :q{filter_sql} "
                "ORDER BY p.published_at DESC, p.id LIMIT :limit"
            ),
            {"q": expression, "limit": limit * 4, **values},
        ).all()
    wanted = words(name)
    found = [row.id for row in rows if any(_contains(words(a), wanted) for a in _authors(row))]
    return found[:limit]


def _contains(words: list[str], wanted: list[str]) -> bool:
    size = len(wanted)
    return size > 0 and any(words[i : i + size] == wanted for i in range(len(words) - size + 1))


def _authors(row: sa.Row[Any]) -> list[str]:
    value = row.authors
    names = json.loads(value) if isinstance(value, str) else value
    return [name for name in names or [] if isinstance(name, str)]
