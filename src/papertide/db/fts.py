"""Keyword search over SQLite FTS5 (the embedded backend; PostgreSQL gets tsvector later).

Takes an already-sanitised FTS5 MATCH expression from papertide.search.keyword.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

# Column weights for bm25(): title, authors, abstract.
TITLE_WEIGHT, AUTHORS_WEIGHT, ABSTRACT_WEIGHT = 2.0, 1.0, 1.0
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # replaced by <mark> after HTML escaping


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions applied inside the retriever, before ranking and paging."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    arxiv_id: str
    score: float
    snippet: str  # raw text with MARK_OPEN / MARK_CLOSE around matches


def _filter_sql(filters: Filters, params: dict[str, object]) -> str:
    clauses = []
    if filters.date_from:
        clauses.append("p.published_at >= :date_from")
        params["date_from"] = dt.datetime.combine(filters.date_from, dt.time())
    if filters.date_to:
        clauses.append("p.published_at < :date_to")
        params["date_to"] = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time())
    if filters.category:
        clauses.append("p.categories LIKE :category ESCAPE '\\'")
        escaped = filters.category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["category"] = f'%"{escaped}"%'
    return "".join(f" AND {clause}" for clause in clauses)


def match(
    conn: sa.Connection, expression: str, filters: Filters, limit: int, offset: int
) -> tuple[list[Hit], int]:
    """Rank papers matching the FTS5 `expression` by BM25; returns a page and the total."""
    params: dict[str, object] = {"q": expression, "limit": limit, "offset": offset}
    where = "paper_fts MATCH :q" + _filter_sql(filters, params)
    total = conn.execute(
        sa.text(
            f"SELECT count(*) FROM paper_fts JOIN paper p ON p.seq = paper_fts.rowid WHERE {where}"
        ),
        params,
    ).scalar_one()
    if not total:
        return [], 0
    rows = conn.execute(
        sa.text(
            "SELECT p.id, bm25(paper_fts, :wt, :wa, :wb) AS score, "
            "snippet(paper_fts, 2, :mo, :mc, '…', 28) AS snip "
            f"FROM paper_fts JOIN paper p ON p.seq = paper_fts.rowid WHERE {where} "
            "ORDER BY score LIMIT :limit OFFSET :offset"
        ),
        {
            **params,
            "wt": TITLE_WEIGHT,
            "wa": AUTHORS_WEIGHT,
            "wb": ABSTRACT_WEIGHT,
            "mo": MARK_OPEN,
            "mc": MARK_CLOSE,
        },
    )
    return [Hit(row.id, -row.score, row.snip or "") for row in rows], int(total)


def exact_title_ids(conn: sa.Connection, phrase_expression: str, title: str) -> list[str]:
    """Ids of papers whose title equals `title` (case- and space-insensitive)."""
    rows = conn.execute(
        sa.text(
            "SELECT p.id, p.title FROM paper_fts JOIN paper p ON p.seq = paper_fts.rowid "
            "WHERE paper_fts MATCH :q LIMIT 50"
        ),
        {"q": f"title : {phrase_expression}"},
    )
    wanted = " ".join(title.lower().split())
    return [row.id for row in rows if " ".join(row.title.lower().split()) == wanted]


def snippet_for(conn: sa.Connection, arxiv_id: str, expression: str) -> str:
    """The highlighted abstract snippet of one paper for `expression` ('' if none)."""
    value = conn.execute(
        sa.text(
            "SELECT snippet(paper_fts, 2, :mo, :mc, '…', 28) FROM paper_fts "
            "JOIN paper p ON p.seq = paper_fts.rowid WHERE paper_fts MATCH :q AND p.id = :id"
        ),
        {"q": expression, "id": arxiv_id, "mo": MARK_OPEN, "mc": MARK_CLOSE},
    ).scalar()
    return value or ""


def browse(
    conn: sa.Connection, filters: Filters, limit: int, offset: int
) -> tuple[list[Hit], int]:
    """Papers matching only the filters (no words), newest first."""
    params: dict[str, object] = {"limit": limit, "offset": offset}
    where = "1 = 1" + _filter_sql(filters, params)
    total = conn.execute(sa.text(f"SELECT count(*) FROM paper p WHERE {where}"), params).scalar_one()
    rows = conn.execute(
        sa.text(
            f"SELECT p.id FROM paper p WHERE {where} "
            "ORDER BY p.published_at DESC, p.id LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return [Hit(row.id, 0.0, "") for row in rows], int(total)
