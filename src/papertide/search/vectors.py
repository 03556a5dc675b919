"""The vector index: the papers nearest to a query vector, persisted in the data directory.

Small corpora are searched exactly (one matrix-vector product over float32 rows); above
`EXACT_LIMIT` vectors an HNSW graph (usearch, float16, cosine) answers instead. Either way
the files (see search/vector_files.py) are opened memory-mapped, so the web processes of
one machine share one copy in the page cache. The table paper_embedding is the durable
copy: `ensure_index` rebuilds or catches up the files from it, and refuses vectors made by
another model than the configured one (issue #4).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from papertide.db import Database, embeddings
from papertide.search.embedder import model_dim, normalise
from papertide.search.vector_files import (
    HNSW_EXPANSION_SEARCH,
    IndexMeta,
    IndexMissing,
    Kind,
    VectorIndexError,
    base_path,
    drop_index,
    id_keys,
    index_folder,
    map_arrays,
    meta_path,
    patch_generation,
    read_meta,
    slug,
    stamp,
    usearch_index,
    write_generation,
    write_lock,
    write_meta,
)

__all__ = [
    "IndexMissing",
    "ModelChanged",
    "VectorIndex",
    "VectorIndexError",
    "check_model",
    "drop_index",
    "ensure_index",
    "rebuild_index",
    "slug",
]

EXACT_LIMIT = 20_000  # more vectors than this: HNSW (an exact scan costs ~1-2 ms per 20k)
EXACT_FILTER_ROWS = 20_000  # an allowed set this small is scored exactly even beside a graph
DUPLICATE_COSINE = 0.999  # a neighbour this close is the same paper (a duplicate record)
CHUNK_ROWS = 65_536  # exact scoring, a chunk of rows at a time
GRAPH_VISIT_COST = 32  # exact distances a filtered graph search costs per candidate asked for
DEAD_ROWS_LIMIT = 0.25  # rewrite a patched graph once this share of its rows are removed
# Cosines are kept to this many decimals: the stored vectors are float16 (3 significant
# digits), so further digits are the arithmetic's noise, and they differ by kernel.
SCORE_DECIMALS = 6

Matches = list[tuple[str, float]]
FloatRows = npt.NDArray[Any]


class ModelChanged(VectorIndexError):
    """Stored vectors were made by another model than the configured one."""


def _as_rows(vectors: FloatRows, dim: int) -> npt.NDArray[np.float32]:
    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim != 2 or rows.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {rows.shape}")
    return normalise(rows)


def _top(scores: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.intp]:
    """Positions of the k highest scores, best first (ties: lower position first)."""
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        return part[np.lexsort((part, -scores[part]))]
    return np.lexsort((np.arange(len(scores)), -scores))


def _id_array(paper_ids: Collection[str], width: int) -> npt.NDArray[np.bytes_]:
    """`paper_ids` as fixed-width bytes; ids that cannot be indexed (too long, empty) left out.

    numpy would silently cut a longer id to `width`, and so match another paper's id.
    """
    fitting = [pid for pid in paper_ids if 0 < len(pid) <= width]
    try:
        return np.array(fitting, dtype=f"S{width}")  # ASCII ids (all arXiv ids): fast path
    except UnicodeEncodeError:
        encoded = [key for key in (pid.encode() for pid in fitting) if len(key) <= width]
        return np.array(encoded, dtype=f"S{width}")


def _block_top(
    block: FloatRows, q: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The k best rows of `block` by dot product with `q`: positions and scores."""
    if block.dtype == np.float16:
        # numpy converts float16 slowly (~7x a float32 product); usearch's kernels do not.
        brute_force = usearch_index().search
        count = min(k, len(block))
        found = brute_force(block, q.astype(np.float16), count, "ip", exact=True, threads=1)
        distances = np.asarray(found.distances, dtype=np.float32)
        return np.asarray(found.keys, dtype=np.int64), 1.0 - distances
    scores = np.asarray(block @ q, dtype=np.float32)
    best = _top(scores, k).astype(np.int64)
    return best, scores[best]


def ranked(found: Iterable[tuple[str, float]]) -> Matches:
    """(id, cosine) pairs best first, cosines to SCORE_DECIMALS, equal cosines in id order.

    Two papers with one vector (one record under two ids) score alike only to the noise of
    the arithmetic: usearch's graph kernel and its exact one differ in the 7th decimal, and
    returns equal scores in an order of its own that differs between releases and processors,
    so such papers swapped places from one machine to the next (issue #10). Rounded, they tie,
    and the id is the one tie-breaker that survives a rebuild or a replaced vector. pgvector's
    answers are ranked by the same rule (search/pg_vectors.py).
    """
    rounded = [(pid, round(float(score), SCORE_DECIMALS)) for pid, score in found]
    return sorted(rounded, key=lambda match: (-match[1], match[0]))


class VectorIndex:
    """One model's vectors on disk, searched exactly or through HNSW. Reads are thread-safe."""

    def __init__(self, folder: Path, meta: IndexMeta, arrays: dict[str, Any], graph: Any) -> None:
        self.folder = folder
        self.meta = meta
        self._ids: npt.NDArray[np.bytes_] = arrays["ids"]
        self._keys: npt.NDArray[np.uint64] = arrays["keys"]
        self._order: npt.NDArray[np.int64] = arrays["order"]
        self._vectors: FloatRows = arrays["vectors"]
        self._graph = graph
        self._stamp = stamp(self.meta_path)

    @property
    def model(self) -> str:
        return self.meta.model

    @property
    def dim(self) -> int:
        return self.meta.dim

    @property
    def kind(self) -> Kind:
        return self.meta.kind

    @property
    def count(self) -> int:
        return self.meta.count

    @property
    def meta_path(self) -> Path:
        return meta_path(self.folder, self.meta.model)

    def __len__(self) -> int:
        return self.meta.count

    def __contains__(self, paper_id: object) -> bool:
        return isinstance(paper_id, str) and self._row(paper_id) is not None

    # Opening and building.

    @classmethod
    def open(cls, data_dir: Path, model: str, dim: int) -> VectorIndex:
        """The index of `model` in `data_dir`, memory-mapped; IndexMissing if there is none."""
        folder = index_folder(data_dir)
        for _attempt in range(3):
            meta = read_meta(meta_path(folder, model))
            if meta.model != model or meta.dim != dim:
                raise IndexMissing(
                    f"the index file holds {meta.model} ({meta.dim} dimensions), "
                    f"not {model} ({dim})"
                )
            try:
                return cls._load(folder, meta)
            except FileNotFoundError:
                continue  # a writer replaced this generation meanwhile: read the new meta
        raise IndexMissing(f"the index files of {model} keep changing under us")

    @classmethod
    def _load(cls, folder: Path, meta: IndexMeta) -> VectorIndex:
        arrays = map_arrays(folder, meta)
        graph = None
        if meta.kind == "hnsw":
            Index = usearch_index().Index
            graph_path = Path(f"{base_path(folder, meta.model, meta.generation)}.usearch")
            if not graph_path.exists():
                raise FileNotFoundError(graph_path)
            graph = Index.restore(str(graph_path), view=True)
        return cls(folder, meta, arrays, graph)

    @classmethod
    def build(
        cls,
        data_dir: Path,
        model: str,
        dim: int,
        batches: Iterable[tuple[Sequence[str], FloatRows]],
        exact_limit: int = EXACT_LIMIT,
    ) -> VectorIndex:
        """Write a new index of `model` from (ids, vectors) batches, replacing any old one."""
        ids, rows = _collect(batches, dim)
        return cls._from_rows(data_dir, model, dim, ids, rows, exact_limit)

    @classmethod
    def _from_rows(
        cls,
        data_dir: Path,
        model: str,
        dim: int,
        ids: list[str],
        rows: npt.NDArray[np.float16],
        exact_limit: int,
    ) -> VectorIndex:
        folder = index_folder(data_dir)
        with write_lock(folder, model):
            empty = IndexMeta(model, dim, "exact", 0, 0, 1, "")
            return cls._load(folder, write_generation(folder, empty, ids, rows, exact_limit))

    # Reading.

    def search(self, query: FloatRows, k: int, allowed: Collection[str] | None = None) -> Matches:
        """The k nearest papers to `query` as (id, cosine), best first.

        With `allowed`, only those papers are candidates, inside the search: exactly when the
        set is small, else through the graph with oversampling and an exact fallback.
        """
        q = _as_rows(np.asarray(query, dtype=np.float32).reshape(1, -1), self.dim)[0]
        if k <= 0 or self.count == 0:
            return []
        if allowed is not None:
            rows = self._rows(allowed)
            if rows.size == 0:
                return []
            if self._graph is None or rows.size <= EXACT_FILTER_ROWS:
                return self._exact(q, k, rows)
            return self._filtered_graph(q, k, rows)
        if self._graph is None:
            return self._matches(*self._score_rows(q, k, None))
        return self._graph_search(q, k)

    def neighbours(self, paper_id: str, k: int) -> Matches:
        """Related papers: the nearest to `paper_id`'s vector, without itself or duplicates."""
        row = self._row(paper_id)
        if row is None or k <= 0:
            return []
        query = np.asarray(self._vectors[row], dtype=np.float32)
        want = k + 8
        while True:
            found = self.search(query, want)
            kept = [(pid, s) for pid, s in found if pid != paper_id and s < DUPLICATE_COSINE]
            if len(kept) >= k or want >= self.count:
                return kept[:k]
            want *= 4

    def vector(self, paper_id: str) -> npt.NDArray[np.float32] | None:
        """The stored vector of `paper_id`, or None."""
        row = self._row(paper_id)
        return None if row is None else np.asarray(self._vectors[row], dtype=np.float32)

    def ids(self) -> Iterator[str]:
        """Every indexed paper id (in no particular order)."""
        for start in range(0, len(self._order), CHUNK_ROWS):
            for value in self._ids[self._order[start : start + CHUNK_ROWS]].tolist():
                yield value.decode()

    def outdated(self) -> bool:
        """Whether another process has written a newer generation (reopen to see it)."""
        return stamp(self.meta_path) != self._stamp

    def _rows(self, paper_ids: Collection[str]) -> npt.NDArray[np.int64]:
        """The rows of those of `paper_ids` that are indexed, ascending, each once."""
        wanted = _id_array(paper_ids, self.meta.id_width)
        if wanted.size == 0 or self._keys.size == 0:
            return np.zeros(0, dtype=np.int64)
        keys = id_keys(wanted)
        by_key = np.argsort(keys)  # sorted needles: a far more cache-friendly binary search
        wanted, keys = wanted[by_key], keys[by_key]
        positions = np.minimum(np.searchsorted(self._keys, keys), self._keys.size - 1)
        hits = self._keys[positions] == keys
        rows = np.asarray(self._order[positions[hits]], dtype=np.int64)
        # A hash match is checked against the id itself.
        rows = rows[self._ids[rows] == wanted[hits]]
        return np.unique(rows)

    def _row(self, paper_id: str) -> int | None:
        rows = self._rows([paper_id])
        return int(rows[0]) if rows.size else None

    def _matches(self, rows: npt.NDArray[np.int64], scores: npt.NDArray[np.float32]) -> Matches:
        """(id, cosine) pairs, best first; equal scores in id order."""
        ids = self._ids[rows].tolist() if rows.size else []
        return ranked([(pid.decode(), s) for pid, s in zip(ids, scores.tolist(), strict=True)])

    def _score_rows(
        self, q: npt.NDArray[np.float32], k: int, rows: npt.NDArray[np.int64] | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Exact top k over `rows` (all rows when None), a chunk at a time."""
        total = self.meta.rows if rows is None else rows.size
        best_rows = np.zeros(0, dtype=np.int64)
        best_scores = np.zeros(0, dtype=np.float32)
        for start in range(0, total, CHUNK_ROWS):
            if rows is None:
                chunk = np.arange(start, min(start + CHUNK_ROWS, total), dtype=np.int64)
                block = self._vectors[start : start + CHUNK_ROWS]
            else:
                chunk = rows[start : start + CHUNK_ROWS]
                block = self._vectors[chunk]
            positions, scores = _block_top(np.asarray(block), q, k)
            best_rows = np.concatenate([best_rows, chunk[positions]])
            best_scores = np.concatenate([best_scores, scores])
            keep = _top(best_scores, k)
            best_rows, best_scores = best_rows[keep], best_scores[keep]
        return best_rows, best_scores

    def _exact(self, q: npt.NDArray[np.float32], k: int, rows: npt.NDArray[np.int64]) -> Matches:
        if self._graph is None and rows.size * 4 > self.meta.rows:
            # Most of a small corpus is allowed: one product over all rows beats a gather.
            scores = np.asarray(self._vectors, dtype=np.float32) @ q
            allowed = np.full_like(scores, -np.inf)
            allowed[rows] = scores[rows]
            best = _top(allowed, min(k, rows.size)).astype(np.int64)
            return self._matches(best, allowed[best])
        return self._matches(*self._score_rows(q, k, rows))

    def _graph_search(self, q: npt.NDArray[np.float32], k: int) -> Matches:
        # usearch explores max(expansion_search, count) candidates: asking for twice k lifts
        # recall@100 on real MiniLM vectors from ~0.96 to ~0.99 for ~0.5 ms more.
        fetch = min(self.count, max(2 * k, HNSW_EXPANSION_SEARCH))
        found = self._graph.search(q, count=fetch)
        rows = np.asarray(found.keys, dtype=np.int64)[:k]
        return self._matches(rows, 1.0 - np.asarray(found.distances, dtype=np.float32)[:k])

    def _filtered_graph(
        self, q: npt.NDArray[np.float32], k: int, rows: npt.NDArray[np.int64]
    ) -> Matches:
        # Oversample in proportion to how much of the corpus the filter keeps. A graph search
        # costs ~GRAPH_VISIT_COST distances per candidate asked for, in random order; past
        # that, scoring the allowed rows exactly is cheaper (and always complete).
        allowed = np.zeros(self.meta.rows, dtype=bool)
        allowed[rows] = True
        want = int(k * self.count / rows.size * 2) + 32
        while want * GRAPH_VISIT_COST < rows.size and want < self.count:
            found = self._graph.search(q, count=want)
            keys = np.asarray(found.keys, dtype=np.int64)
            keep = allowed[keys]
            if int(keep.sum()) >= k:
                scores = 1.0 - np.asarray(found.distances, dtype=np.float32)
                return self._matches(keys[keep][:k], scores[keep][:k])
            want *= 4
        return self._exact(q, k, rows)

    # Writing: every change is a new generation on disk, under the write lock.

    def add(self, ids: Sequence[str], vectors: FloatRows) -> None:
        """Add (or replace) the vectors of `ids`, then persist."""
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids but {len(vectors)} vectors")
        new_ids, new_rows = _dedupe(list(ids), _as_rows(vectors, self.dim).astype(np.float16))
        self._mutate(new_ids, new_rows, set(new_ids))

    def remove(self, ids: Collection[str]) -> int:
        """Remove `ids` (unknown ones are ignored), then persist; returns how many went."""
        with write_lock(self.folder, self.model):
            before = self.count
            self._mutate([], np.zeros((0, self.dim), np.float16), set(ids))
            return before - self.count

    def mark_synced(self, db_count: int, db_watermark: dt.datetime | None) -> None:
        """Record the database state this index reflects (`ensure_index` judges staleness by it)."""
        with write_lock(self.folder, self.model):
            self._adopt_latest()
            watermark = db_watermark.isoformat() if db_watermark else None
            self.meta = dataclasses.replace(self.meta, db_count=db_count, db_watermark=watermark)
            write_meta(self.folder, self.meta)
            self._stamp = stamp(self.meta_path)

    def is_synced(self, state: embeddings.EmbeddingState) -> bool:
        watermark = state.watermark.isoformat() if state.watermark else None
        return self.meta.db_count == state.count and self.meta.db_watermark == watermark

    def _adopt_latest(self) -> None:
        if self.outdated():
            latest = VectorIndex.open(self.folder.parent, self.model, self.dim)
            self.__dict__.update(latest.__dict__)

    def _mutate(self, ids: list[str], rows: npt.NDArray[np.float16], drop: set[str]) -> None:
        with write_lock(self.folder, self.model):
            self._adopt_latest()
            dropped = self._rows(drop) if drop else np.zeros(0, np.int64)
            if not ids and not dropped.size:
                return
            if self._graph is not None and not _needs_compaction(self.meta, dropped.size, ids):
                meta = patch_generation(
                    self.folder, self.meta, self._ids, self._vectors, dropped, ids, rows
                )
            else:
                live = np.setdiff1d(np.asarray(self._order, dtype=np.int64), dropped)
                old_ids = [value.decode() for value in self._ids[live].tolist()]
                old_rows = np.asarray(self._vectors[live], dtype=np.float16)
                all_rows = np.concatenate([old_rows, rows])
                meta = write_generation(
                    self.folder, self.meta, old_ids + ids, all_rows, EXACT_LIMIT
                )
            self.__dict__.update(VectorIndex._load(self.folder, meta).__dict__)


def _collect(
    batches: Iterable[tuple[Sequence[str], FloatRows]], dim: int
) -> tuple[list[str], npt.NDArray[np.float16]]:
    """All batches as one list of ids and one float16 matrix of unit rows (last vector wins)."""
    ids: list[str] = []
    parts: list[npt.NDArray[np.float16]] = []
    for batch_ids, vectors in batches:
        ids.extend(batch_ids)
        parts.append(_as_rows(vectors, dim).astype(np.float16))
    rows = np.concatenate(parts) if parts else np.zeros((0, dim), np.float16)
    return _dedupe(ids, rows)


def _dedupe(
    ids: list[str], rows: npt.NDArray[np.float16]
) -> tuple[list[str], npt.NDArray[np.float16]]:
    """The last vector of each id, in first-seen order."""
    last = {pid: position for position, pid in enumerate(ids)}
    if len(last) == len(ids):
        return ids, rows
    positions = sorted(last.values())
    return [ids[p] for p in positions], rows[positions]


def _needs_compaction(meta: IndexMeta, removed: int, added: list[str]) -> bool:
    """Rewrite rather than patch the graph: too many dead rows, or few enough for exact."""
    count = meta.count - removed + len(added)
    dead = meta.rows - meta.count + removed
    return count <= EXACT_LIMIT // 2 or dead > DEAD_ROWS_LIMIT * (meta.rows + len(added))


# Keeping the index in step with the database.


def check_model(conn: Any, model: str, dim: int | None = None) -> int:
    """The dimension of `model`'s vectors; ModelChanged if the table holds another model's.

    Vectors of two models are never searched together: the user must reindex first.
    """
    stored = embeddings.stored_models(conn)
    expected = dim if dim is not None else (stored[0].dim if stored else model_dim(model))
    others = [s for s in stored if (s.model, s.dim) != (model, expected)]
    if not others:
        return expected
    theirs = ", ".join(f"{s.model} ({s.dim} dimensions, {s.count} papers)" for s in others)
    ours = sum(s.count for s in stored if (s.model, s.dim) == (model, expected))
    unfinished = f" A reindex is unfinished: {ours} papers are done." if ours else ""
    raise ModelChanged(
        f"The stored paper vectors were made by {theirs}, but the configured embedding model "
        f"is {model} ({expected} dimensions); vectors of different models cannot be mixed."
        f"{unfinished} Run `papertide reindex` to embed every paper with {model}, or set "
        f"PAPERTIDE_EMBEDDING_MODEL back to {others[0].model}."
    )


def ensure_index(
    db: Database, data_dir: Path, embedder_name: str, dim: int | None = None
) -> VectorIndex:
    """The index of `embedder_name`, rebuilt or caught up from the database if missing or stale.

    Raises ModelChanged when the stored vectors were made by another model.
    """
    with db.read() as conn:
        dim = check_model(conn, embedder_name, dim)
        state = embeddings.state(conn, embedder_name)
    index = _open_or_none(data_dir, embedder_name, dim)
    if index is not None and index.is_synced(state):
        return index
    with write_lock(index_folder(data_dir), embedder_name):
        index = _open_or_none(data_dir, embedder_name, dim)  # another process may have synced
        if index is None or index.meta.db_watermark is None:
            return rebuild_index(db, data_dir, embedder_name, dim)
        return _catch_up(db, index)


def rebuild_index(
    db: Database, data_dir: Path, model: str, dim: int, exact_limit: int = EXACT_LIMIT
) -> VectorIndex:
    """Build `model`'s index afresh from every stored vector."""
    with write_lock(index_folder(data_dir), model):
        with db.read() as conn:
            # The state is read first: vectors written meanwhile are applied again (idempotently)
            # by the next catch-up, never missed.
            state = embeddings.state(conn, model)
            ids, rows = _collect(embeddings.iter_vectors(conn, model, dim), dim)
        index = VectorIndex._from_rows(data_dir, model, dim, ids, rows, exact_limit)
        index.mark_synced(state.count, state.watermark)
        return index


def _open_or_none(data_dir: Path, model: str, dim: int) -> VectorIndex | None:
    try:
        return VectorIndex.open(data_dir, model, dim)
    except IndexMissing:
        return None


def _catch_up(db: Database, index: VectorIndex) -> VectorIndex:
    """Apply what changed since the index was last synced; rebuild if that is simpler."""
    assert index.meta.db_watermark is not None
    since = dt.datetime.fromisoformat(index.meta.db_watermark)
    with db.read() as conn:
        state = embeddings.state(conn, index.model)
        if index.is_synced(state):
            return index
        changed = list(embeddings.iter_vectors(conn, index.model, index.dim, since=since))
        if sum(len(ids) for ids, _rows in changed) > max(1_000, state.count // 2):
            return rebuild_index(db, index.folder.parent, index.model, index.dim)
        if changed:
            index.add(
                [pid for ids, _rows in changed for pid in ids],
                np.concatenate([rows for _ids, rows in changed]),
            )
        if index.count != state.count:  # papers were deleted (or a writer raced us)
            stored = embeddings.vector_ids(conn, index.model)
            index.remove([pid for pid in index.ids() if pid not in stored])
        if index.count != state.count:
            return rebuild_index(db, index.folder.parent, index.model, index.dim)
        index.mark_synced(state.count, state.watermark)
        return index
