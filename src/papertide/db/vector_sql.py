"""Vector search inside PostgreSQL with pgvector (issue #11; migration 0014).

`paper_embedding.embedding` is a halfvec beside the portable float16 blob; each dimension has
a partial HNSW index on `embedding::halfvec(dim)` (cosine), so every query here names the
dimension as a literal: that is what lets the planner match the index (a bound parameter
would hide the partial index's predicate from a generic plan).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from papertide.db.engine import Database

Matches = list[tuple[str, float]]
FILL_BATCH = 2_000
# Candidates an HNSW scan keeps in its queue: at least this, and twice what is asked for
# (the same rule the usearch graph follows on SQLite: search/vectors.py).
EF_SEARCH = 100
# Rows a filtered, iterative HNSW scan may visit before giving up (then: exact over the set).
MAX_SCAN_TUPLES = 40_000
HNSW_BUILD_MEMORY = "512MB"  # at least this much maintenance_work_mem to build an index


def literal(vector: npt.NDArray[Any]) -> str:
    """`vector` in pgvector's text form: '[0.1,0.2,...]' (float16 values are exact in it)."""
    values = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
    return "[" + ",".join(repr(value) for value in values) + "]"


def _dim(dim: int) -> int:
    if not isinstance(dim, int) or not 0 < dim <= 4_000:
        raise ValueError(f"unsupported vector dimension: {dim!r}")
    return dim


def searches_vectors(db: Database) -> bool:
    """Whether `db` searches vectors itself (PostgreSQL with pgvector) rather than the host's
    vector files doing it (SQLite)."""
    return db.dialect == "postgresql"


def ensure_hnsw(conn: sa.Connection, dim: int) -> None:
    """The HNSW index for vectors of `dim` dimensions (migration 0014 made the default's).

    Looked up first: CREATE INDEX IF NOT EXISTS would lock the table even when it exists.
    """
    d = _dim(dim)
    name = f"ix_paper_embedding_hnsw_{d}"
    if conn.execute(sa.text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None:
        return
    # The build keeps its graph in maintenance_work_mem and slows down once it no longer
    # fits: 80,317 vectors took 74.6 s with the default 64 MB and 28.0 s with 512 MB. Raised
    # for this transaction only, never lowered.
    conn.execute(
        sa.text(
            "SELECT set_config('maintenance_work_mem', greatest("
            "pg_size_bytes(current_setting('maintenance_work_mem')), pg_size_bytes(:least)"
            ") / 1024 || 'kB', true)"
        ),
        {"least": HNSW_BUILD_MEMORY},
    )
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS ix_paper_embedding_hnsw_{d} ON paper_embedding "
        f"USING hnsw ((embedding::halfvec({d})) halfvec_cosine_ops) WHERE dim = {d}"
    )


def hnsw_dims(conn: sa.Connection) -> list[int]:
    """The dimensions that have an HNSW index (`ensure_hnsw`'s names), ascending."""
    names = conn.execute(
        sa.text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'paper_embedding' "
            "AND indexname LIKE 'ix\\_paper\\_embedding\\_hnsw\\_%'"
        )
    ).scalars()
    return sorted(int(name.rsplit("_", 1)[1]) for name in names)


def drop_hnsw(conn: sa.Connection, dim: int) -> None:
    """Drop the HNSW index of `dim` dimensions, if there is one (for a bulk fill)."""
    conn.exec_driver_sql(f"DROP INDEX IF EXISTS ix_paper_embedding_hnsw_{_dim(dim)}")


def missing_count(conn: sa.Connection) -> int:
    """Stored vectors that have no halfvec yet."""
    query = "SELECT count(*) FROM paper_embedding WHERE embedding IS NULL"
    return int(conn.execute(sa.text(query)).scalar_one())


def fill(conn: sa.Connection, ids: Sequence[str], vectors: Sequence[npt.NDArray[Any]]) -> None:
    """Set the halfvec of each of `ids` (rows the caller has just written) to its vector."""
    if not ids:
        return
    conn.execute(
        sa.text("UPDATE paper_embedding SET embedding = CAST(:v AS halfvec) WHERE paper_id = :id"),
        [{"id": pid, "v": literal(row)} for pid, row in zip(ids, vectors, strict=True)],
    )


def fill_missing(conn: sa.Connection, batch: int = FILL_BATCH) -> int:
    """Give a halfvec to up to `batch` rows that have only the blob (written by a copy or
    before migration 0014); returns how many were filled (0: none left)."""
    rows = conn.execute(
        sa.text(
            "SELECT paper_id, dim, vector FROM paper_embedding "
            "WHERE embedding IS NULL ORDER BY paper_id LIMIT :n"
        ),
        {"n": batch},
    ).all()
    fill(conn, [row.paper_id for row in rows], [_decode(row.vector) for row in rows])
    return len(rows)


def _decode(blob: bytes) -> npt.NDArray[np.float16]:
    return np.frombuffer(blob, dtype="<f2")  # db/embeddings' STORED_DTYPE


def _where(d: int) -> str:
    return f"dim = {d} AND model = :model AND embedding IS NOT NULL"


def _distance(d: int) -> str:
    return f"embedding::halfvec({d}) <=> CAST(:q AS halfvec({d}))"


def nearest(conn: sa.Connection, model: str, dim: int, query: str, k: int) -> Matches:
    """The k nearest papers to `query` (a `literal`) through the HNSW index, as (id, cosine)."""
    d = _dim(dim)
    _scan_settings(conn, k, iterative=False)
    rows = conn.execute(
        sa.text(
            f"SELECT paper_id, {_distance(d)} AS distance FROM paper_embedding "
            f"WHERE {_where(d)} ORDER BY {_distance(d)} LIMIT :k"
        ),
        {"q": query, "model": model, "k": k},
    ).all()
    return [(row.paper_id, 1.0 - float(row.distance)) for row in rows]


def nearest_allowed(
    conn: sa.Connection, model: str, dim: int, query: str, k: int, allowed: Collection[str]
) -> Matches:
    """The k nearest among `allowed` through the HNSW index with an iterative scan (pgvector
    0.8): it goes on past the first candidates until k allowed papers are found, or until
    MAX_SCAN_TUPLES rows were visited (then fewer come back, and the caller goes exact)."""
    d = _dim(dim)
    _scan_settings(conn, k, iterative=True)
    rows = conn.execute(
        sa.text(
            f"SELECT paper_id, {_distance(d)} AS distance FROM paper_embedding "
            f"WHERE {_where(d)} AND paper_id = ANY(:ids) "
            f"ORDER BY {_distance(d)} LIMIT :k"
        ),
        {"q": query, "model": model, "k": k, "ids": list(allowed)},
    ).all()
    return [(row.paper_id, 1.0 - float(row.distance)) for row in rows]


def exact(
    conn: sa.Connection,
    model: str,
    dim: int,
    query: str,
    k: int,
    allowed: Collection[str] | None = None,
) -> Matches:
    """The k nearest by an exact scan (of `allowed`, or of all), ties in id order.

    `+ 0` keeps the planner off the HNSW index: the ORDER BY no longer matches its operator.
    """
    d = _dim(dim)
    params: dict[str, object] = {"q": query, "model": model, "k": k}
    where = _where(d)
    if allowed is not None:
        where += " AND paper_id = ANY(:ids)"
        params["ids"] = list(allowed)
    rows = conn.execute(
        sa.text(
            f"SELECT paper_id, {_distance(d)} AS distance FROM paper_embedding WHERE {where} "
            f"ORDER BY ({_distance(d)}) + 0, paper_id LIMIT :k"
        ),
        params,
    ).all()
    return [(row.paper_id, 1.0 - float(row.distance)) for row in rows]


def stored_vector(
    conn: sa.Connection, model: str, dim: int, paper_id: str
) -> npt.NDArray[np.float32] | None:
    """The stored vector of `paper_id` for `model`, or None."""
    row = conn.execute(
        sa.text(
            "SELECT vector FROM paper_embedding "
            "WHERE paper_id = :id AND model = :model AND dim = :dim"
        ),
        {"id": paper_id, "model": model, "dim": dim},
    ).first()
    return None if row is None else _decode(row.vector).astype(np.float32)


def _scan_settings(conn: sa.Connection, k: int, iterative: bool) -> None:
    # Local to the transaction the search runs in (SET LOCAL), never the connection's default.
    settings = {
        "hnsw.ef_search": str(min(1_000, max(EF_SEARCH, 2 * k))),
        "hnsw.iterative_scan": "strict_order" if iterative else "off",
        "hnsw.max_scan_tuples": str(MAX_SCAN_TUPLES),
    }
    names = [f"set_config(:n{i}, :v{i}, true)" for i in range(len(settings))]
    params = {f"n{i}": name for i, name in enumerate(settings)}
    params |= {f"v{i}": value for i, value in enumerate(settings.values())}
    conn.execute(sa.text("SELECT " + ", ".join(names)), params)
