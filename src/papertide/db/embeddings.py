"""Paper embeddings: one float16 vector per paper, with the model and dimension that made it.

Every vector index is rebuilt from this table, so it is the one durable copy; the model
name stored with each row is how a model change is detected (issue #4).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from papertide.db import vector_sql
from papertide.db.schema import paper, paper_embedding

STORED_DTYPE = np.dtype("<f2")  # float16, little-endian, whatever the machine


@dataclass(frozen=True, slots=True)
class StoredModel:
    model: str
    dim: int
    count: int


@dataclass(frozen=True, slots=True)
class EmbeddingState:
    """How many vectors a model has and when the newest was written: an index compares these."""

    count: int
    watermark: dt.datetime | None


@dataclass(frozen=True, slots=True)
class PendingPaper:
    seq: int
    arxiv_id: str
    title: str
    abstract: str


def to_blobs(vectors: npt.NDArray[np.floating]) -> list[bytes]:
    """One float16 little-endian blob per row."""
    rows = np.ascontiguousarray(vectors, dtype=STORED_DTYPE)
    return [row.tobytes() for row in rows]


def from_blobs(blobs: Sequence[bytes], dim: int) -> npt.NDArray[np.float16]:
    """The rows of `blobs` as one (n, dim) float16 array."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float16)
    flat = np.frombuffer(b"".join(blobs), dtype=STORED_DTYPE)
    return flat.reshape(len(blobs), dim).astype(np.float16, copy=False)


def upsert_vectors(
    conn: sa.Connection,
    model: str,
    ids: Sequence[str],
    vectors: npt.NDArray[np.floating],
    now: dt.datetime,
) -> int:
    """Store one vector per id for `model`, replacing whatever vector the paper had.

    Ids of papers that no longer exist (deleted while they were embedded) are skipped;
    returns how many vectors were stored.
    """
    if len(ids) != len(vectors):
        raise ValueError(f"{len(ids)} ids but {len(vectors)} vectors")
    if not ids:
        return 0
    dim = int(vectors.shape[1])
    present = set(conn.execute(sa.select(paper.c.id).where(paper.c.id.in_(list(ids)))).scalars())
    rows = [
        {"paper_id": pid, "model": model, "dim": dim, "vector": blob, "embedded_at": now}
        for pid, blob in zip(ids, to_blobs(vectors), strict=True)
        if pid in present
    ]
    # Delete then insert: portable across SQLite and PostgreSQL, inside the caller's transaction.
    conn.execute(paper_embedding.delete().where(paper_embedding.c.paper_id.in_(list(present))))
    if rows:
        conn.execute(paper_embedding.insert(), rows)
        if conn.dialect.name == "postgresql":
            # The searchable copy of each vector (pgvector halfvec; migration 0014).
            halves = np.asarray(vectors, dtype=STORED_DTYPE)
            kept = [(pid, row) for pid, row in zip(ids, halves, strict=True) if pid in present]
            vector_sql.fill(conn, [pid for pid, _ in kept], [row for _, row in kept])
    return len(rows)


def iter_vectors(
    conn: sa.Connection,
    model: str,
    dim: int,
    since: dt.datetime | None = None,
    batch_size: int = 10_000,
) -> Iterator[tuple[list[str], npt.NDArray[np.float16]]]:
    """All (ids, vectors) of `model` in id order, a batch at a time (flat memory at 1M papers).

    With `since`, only vectors written at or after that time.
    """
    last = ""
    while True:
        query = (
            sa.select(paper_embedding.c.paper_id, paper_embedding.c.vector)
            .where(
                paper_embedding.c.model == model,
                paper_embedding.c.dim == dim,
                paper_embedding.c.paper_id > last,
            )
            .order_by(paper_embedding.c.paper_id)
            .limit(batch_size)
        )
        if since is not None:
            query = query.where(paper_embedding.c.embedded_at >= since)
        rows = conn.execute(query).all()
        if not rows:
            return
        last = rows[-1].paper_id
        yield [row.paper_id for row in rows], from_blobs([row.vector for row in rows], dim)


def vector_ids(conn: sa.Connection, model: str) -> set[str]:
    """The ids of every paper with a vector made by `model`."""
    rows = conn.execute(
        sa.select(paper_embedding.c.paper_id).where(paper_embedding.c.model == model)
    )
    return set(rows.scalars())


def _pending_condition(model: str, dim: int) -> sa.ColumnElement[bool]:
    # A paper edited after it was embedded (a new version's abstract) counts as pending too.
    return sa.or_(
        paper_embedding.c.paper_id.is_(None),
        paper_embedding.c.model != model,
        paper_embedding.c.dim != dim,
        paper.c.modified_at > paper_embedding.c.embedded_at,
    )


def _joined() -> sa.FromClause:
    return paper.outerjoin(paper_embedding, paper_embedding.c.paper_id == paper.c.id)


def pending_papers(
    conn: sa.Connection, model: str, dim: int, after_seq: int = 0, limit: int = 64
) -> list[PendingPaper]:
    """Papers with no current vector for `model`, in `seq` order from after `after_seq`."""
    rows = conn.execute(
        sa.select(paper.c.seq, paper.c.id, paper.c.title, paper.c.abstract)
        .select_from(_joined())
        .where(paper.c.seq > after_seq, _pending_condition(model, dim))
        .order_by(paper.c.seq)
        .limit(limit)
    )
    return [PendingPaper(row.seq, row.id, row.title, row.abstract or "") for row in rows]


def count_pending(conn: sa.Connection, model: str, dim: int) -> int:
    """How many papers `pending_papers` would go through."""
    query = sa.select(sa.func.count()).select_from(_joined()).where(_pending_condition(model, dim))
    return int(conn.execute(query).scalar_one())


def count(conn: sa.Connection, model: str | None = None) -> int:
    """How many vectors are stored (for `model`, or in all)."""
    query = sa.select(sa.func.count()).select_from(paper_embedding)
    if model is not None:
        query = query.where(paper_embedding.c.model == model)
    return int(conn.execute(query).scalar_one())


def stored_models(conn: sa.Connection) -> list[StoredModel]:
    """Each (model, dim) with vectors in the table, most vectors first."""
    rows = conn.execute(
        sa.select(paper_embedding.c.model, paper_embedding.c.dim, sa.func.count()).group_by(
            paper_embedding.c.model, paper_embedding.c.dim
        )
    ).all()
    counts = Counter({(row[0], int(row[1])): int(row[2]) for row in rows})
    return [StoredModel(model, dim, n) for (model, dim), n in counts.most_common()]


def state(conn: sa.Connection, model: str) -> EmbeddingState:
    """The count of `model`'s vectors and the time of the newest one.

    Two queries rather than one: each can be answered from an index alone.
    """
    where = paper_embedding.c.model == model
    total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
    newest = conn.execute(sa.select(sa.func.max(paper_embedding.c.embedded_at)).where(where))
    return EmbeddingState(int(total), newest.scalar())
