"""The vector index on PostgreSQL: pgvector's HNSW inside the database (issue #11).

Every host searches the same index, so a new web host has nothing to build and every host
ranks a query the same way. It answers what search/vectors.VectorIndex answers (search with
an allowed set, related papers, a paper's vector) and follows the same rules: exact scoring
for a small corpus or a small allowed set, ties in id order, duplicates left out of related
papers. A large allowed set is searched through the graph with pgvector 0.8's iterative scan,
and exactly when that scan gives up before finding enough.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from papertide.db import Database, embeddings, vector_sql
from papertide.search.embedder import normalise
from papertide.search.vectors import (
    DUPLICATE_COSINE,
    EXACT_FILTER_ROWS,
    EXACT_LIMIT,
    Matches,
    VectorIndex,
    check_model,
    ranked,
)

FILL_ROUNDS = 50  # batches of rows without a halfvec filled per ensure (100k rows)


class PgVectorIndex:
    """One model's vectors in PostgreSQL (pgvector), searched in the database. Thread-safe."""

    kind = "pgvector"

    def __init__(self, db: Database, model: str, dim: int, count: int) -> None:
        self.db = db
        self.model = model
        self.dim = dim
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __contains__(self, paper_id: object) -> bool:
        return isinstance(paper_id, str) and self.vector(paper_id) is not None

    def search(self, query: Any, k: int, allowed: Collection[str] | None = None) -> Matches:
        """The k nearest papers to `query` as (id, cosine), best first (ties by id)."""
        q = normalise(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
        if q.size != self.dim:
            raise ValueError(f"expected a vector of {self.dim} dimensions, got {q.size}")
        if k <= 0 or self.count == 0:
            return []
        text = vector_sql.literal(q)
        with self.db.read() as conn:
            if allowed is None:
                if self.count <= EXACT_LIMIT:
                    return ranked(vector_sql.exact(conn, self.model, self.dim, text, k))
                return ranked(vector_sql.nearest(conn, self.model, self.dim, text, k))
            ids = set(allowed)
            if not ids:
                return []
            if self.count <= EXACT_LIMIT or len(ids) <= EXACT_FILTER_ROWS:
                return ranked(vector_sql.exact(conn, self.model, self.dim, text, k, ids))
            found = vector_sql.nearest_allowed(conn, self.model, self.dim, text, k, ids)
            if len(found) >= k:
                return ranked(found)
            # The iterative scan gave up (a rare filter far from the query): exact is complete.
            return ranked(vector_sql.exact(conn, self.model, self.dim, text, k, ids))

    def neighbours(self, paper_id: str, k: int) -> Matches:
        """Related papers: the nearest to `paper_id`'s vector, without itself or duplicates."""
        query = self.vector(paper_id)
        if query is None or k <= 0:
            return []
        want = k + 8
        while True:
            found = self.search(query, want)
            kept = [(pid, s) for pid, s in found if pid != paper_id and s < DUPLICATE_COSINE]
            if len(kept) >= k or want >= self.count:
                return kept[:k]
            want *= 4

    def vector(self, paper_id: str) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """The stored vector of `paper_id`, or None."""
        with self.db.read() as conn:
            return vector_sql.stored_vector(conn, self.model, self.dim, paper_id)


# Vector files in the data directory (SQLite), or pgvector inside PostgreSQL.
PaperVectors = VectorIndex | PgVectorIndex


def ensure_pg_index(db: Database, model: str, dim: int | None = None) -> PgVectorIndex:
    """`model`'s index in PostgreSQL, ready: its HNSW index exists and every stored vector
    has its halfvec. Raises ModelChanged when the stored vectors were made by another model."""
    with db.read() as conn:
        dim = check_model(conn, model, dim)
    with db.write() as conn:
        vector_sql.ensure_hnsw(conn, dim)
    for _round in range(FILL_ROUNDS):
        with db.write() as conn:
            if not vector_sql.fill_missing(conn):
                break
    with db.read() as conn:
        count = embeddings.state(conn, model).count
    return PgVectorIndex(db, model, dim, count)
