"""The vector index inside PostgreSQL (search/pg_vectors.py over db/vector_sql.py, issue #11):
HNSW and exact answers agree, filters stay inside the search, rows copied without their
halfvec are filled in, related papers leave duplicates out. PostgreSQL runs only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from tests.backends import on_postgresql

from papertide.db import Database, embeddings, vector_sql, writes
from papertide.models import PaperRecord
from papertide.search import pg_vectors
from papertide.search.pg_vectors import PgVectorIndex, ensure_pg_index
from papertide.search.vectors import VectorIndex

pytestmark = pytest.mark.skipif(not on_postgresql(), reason="pgvector runs on PostgreSQL only")

MODEL = "test-model"
DIM = 384  # the dimension migration 0014 indexes; another one gets its index on demand
NOW = dt.datetime(2026, 9, 1, 12, 0)


def _vectors(n: int, dim: int = DIM, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, dim)).astype(np.float32)
    unit: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return unit


def _store(db: Database, rows: np.ndarray, model: str = MODEL) -> list[str]:
    ids = [f"2601.{i:05d}" for i in range(len(rows))]
    with db.write() as conn:
        writes.upsert_papers(conn, [PaperRecord(pid, title=f"Paper {pid}") for pid in ids])
        embeddings.upsert_vectors(conn, model, ids, rows, NOW)
    return ids


def _uses_hnsw(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a small corpus take the paths meant for a large one."""
    monkeypatch.setattr(pg_vectors, "EXACT_LIMIT", 10)
    monkeypatch.setattr(pg_vectors, "EXACT_FILTER_ROWS", 10)


def test_hnsw_agrees_with_exact_search_and_with_the_file_index(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _vectors(600)
    ids = _store(db, rows)
    index = ensure_pg_index(db, MODEL)
    assert (index.kind, len(index), index.dim) == ("pgvector", 600, DIM)
    query = rows[7] + 0.3 * rows[8]
    exact = index.search(query, 10)
    assert exact[0][0] == "2601.00007"
    _uses_hnsw(monkeypatch)
    approximate = index.search(query, 10)
    assert [pid for pid, _ in approximate] == [pid for pid, _ in exact]
    assert [s for _, s in approximate] == pytest.approx([s for _, s in exact], abs=1e-5)
    files = VectorIndex.build(tmp_path, MODEL, DIM, [(ids, rows)])
    assert [pid for pid, _ in files.search(query, 10)] == [pid for pid, _ in exact]


def test_a_filter_is_applied_inside_the_search(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _vectors(600)
    ids = _store(db, rows)
    index = ensure_pg_index(db, MODEL)
    # The query sits on paper 0; the allowed papers are every fifth one but not paper 0.
    allowed = set(ids[5::5])
    expected = index.search(rows[0], 20, allowed)  # exact over the allowed set
    assert len(expected) == 20 and {pid for pid, _ in expected} <= allowed
    _uses_hnsw(monkeypatch)
    scans: list[int] = []
    real = vector_sql.nearest_allowed

    def counted(*args: Any) -> list[tuple[str, float]]:
        scans.append(1)
        found: list[tuple[str, float]] = real(*args)
        return found

    monkeypatch.setattr(vector_sql, "nearest_allowed", counted)
    assert index.search(rows[0], 20, allowed) == expected
    assert scans == [1]  # through the graph, with an iterative scan
    # A scan that gives up early: the exact search over the set answers instead.
    monkeypatch.setattr(vector_sql, "nearest_allowed", lambda *a: [])
    assert index.search(rows[0], 20, allowed) == expected
    assert index.search(rows[0], 5, set()) == []


def test_rows_copied_without_a_halfvec_are_filled_in(db: Database) -> None:
    rows = _vectors(30)
    _store(db, rows)
    with db.write() as conn:
        conn.execute(
            sa.text("UPDATE paper_embedding SET embedding = NULL WHERE paper_id < :c"),
            {"c": "2601.00020"},
        )
    index = ensure_pg_index(db, MODEL)
    with db.read() as conn:
        unfilled = conn.execute(
            sa.text("SELECT count(*) FROM paper_embedding WHERE embedding IS NULL")
        ).scalar_one()
    assert unfilled == 0
    assert index.search(rows[3], 1) == [("2601.00003", pytest.approx(1.0, abs=1e-3))]


def test_another_dimension_gets_its_own_hnsw_index(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _vectors(50, dim=8)
    _store(db, rows)
    index = ensure_pg_index(db, MODEL, 8)
    with db.read() as conn:
        made = conn.execute(sa.text("SELECT to_regclass('ix_paper_embedding_hnsw_8')")).scalar()
    assert made is not None
    _uses_hnsw(monkeypatch)
    assert index.search(rows[4], 1)[0][0] == "2601.00004"


def test_related_papers_leave_the_paper_and_its_duplicates_out(db: Database) -> None:
    rows = _vectors(40)
    rows[1] = rows[0]  # one record under two ids
    rows[2] = rows[0] * 0.9 + rows[2] * 0.1
    _store(db, rows)
    index: PgVectorIndex = ensure_pg_index(db, MODEL)
    related = index.neighbours("2601.00000", 3)
    assert related[0][0] == "2601.00002"
    assert "2601.00000" not in dict(related) and "2601.00001" not in dict(related)
    assert "2601.00005" in index and "2609.99999" not in index
    assert index.vector("2609.99999") is None
