"""The vector index's files in the data directory, and the lock its writers share.

For a model slug S, data_dir/vectors/ holds `S.json` (the meta, written last and
atomically), which names one generation G of:

- `S.G.ids`: row -> paper id, fixed-width bytes; b"" marks a removed row;
- `S.G.keys` and `S.G.order`: a 64-bit hash of each live id, sorted, and its row, so
  id -> row is a binary search over shared memory maps (checked against `ids`) rather
  than a dict of a million strings in every process;
- `S.G.vectors`: the rows (float32 for exact search; float16 beside a graph);
- `S.G.usearch`: the HNSW graph, whose keys are row numbers.

A write makes a new generation and then deletes the older ones' files; a process that has
them mapped keeps reading them until it reopens (POSIX unlink semantics).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from papertide.clock import utcnow

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: a single writer process is assumed
    fcntl = None  # type: ignore[assignment]

FORMAT = 2
HNSW_CONNECTIVITY, HNSW_EXPANSION_ADD, HNSW_EXPANSION_SEARCH = 16, 128, 64
ARRAYS = ("ids", "keys", "order", "vectors")
_GENERATION_FILE = r"\.(\d{8}T\d{6}-[0-9a-f]{6})\.(?:ids|keys|order|vectors|usearch)"
_HASH_OFFSET, _HASH_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)

Kind = Literal["exact", "hnsw"]


def usearch_index() -> Any:
    """usearch's `index` module, imported only after onnxruntime.

    Importing usearch first and onnxruntime afterwards crashes the process (a segfault in
    the native libraries they each bundle), so every use of usearch goes through here.
    """
    import onnxruntime  # noqa: F401
    import usearch.index

    return usearch.index


class VectorIndexError(RuntimeError):
    """The vector index cannot be used as it is."""


class IndexMissing(VectorIndexError):
    """No usable index files for this model in the data directory (yet)."""


@dataclass(frozen=True, slots=True)
class IndexMeta:
    model: str
    dim: int
    kind: Kind
    count: int  # live vectors
    rows: int  # rows in the files, removed ones included
    id_width: int
    generation: str
    # The database's vector count and newest embedded_at when the index was last synced.
    db_count: int | None = None
    db_watermark: str | None = None
    format: int = FORMAT


def slug(model: str) -> str:
    """A file-name-safe name for `model` (with a short hash when characters were replaced)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model)
    if safe == model:
        return safe
    return f"{safe}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"


def index_folder(data_dir: Path) -> Path:
    """Where the vector indexes of a data directory live."""
    return Path(data_dir) / "vectors"


def meta_path(folder: Path, model: str) -> Path:
    return folder / f"{slug(model)}.json"


def base_path(folder: Path, model: str, generation: str) -> Path:
    """The common prefix of one generation's files."""
    return folder / f"{slug(model)}.{generation}"


def stamp(path: Path) -> tuple[int, int] | None:
    """What changes when a file is replaced (inode, mtime); None when it is missing."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns)


def read_meta(path: Path) -> IndexMeta:
    """The meta file at `path`; IndexMissing if it is absent, unreadable or of another format."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexMissing(f"no vector index at {path}") from exc
    except ValueError as exc:
        raise IndexMissing(f"the vector index meta file {path} is unreadable: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise IndexMissing(f"the vector index meta file {path} is not of format {FORMAT}")
    names = {field.name for field in dataclasses.fields(IndexMeta)}
    try:
        return IndexMeta(**{key: value for key, value in raw.items() if key in names})
    except TypeError as exc:
        raise IndexMissing(f"the vector index meta file {path} is incomplete: {exc}") from exc


def write_meta(folder: Path, meta: IndexMeta) -> None:
    """Replace the meta file atomically: readers see the old one or the new one."""
    path = meta_path(folder, meta.model)
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_text(json.dumps(dataclasses.asdict(meta), indent=1), encoding="utf-8")
    os.replace(temporary, path)


def new_generation() -> str:
    return f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def map_arrays(folder: Path, meta: IndexMeta) -> dict[str, Any]:
    """The arrays of `meta`'s generation, memory-mapped read-only."""
    base = base_path(folder, meta.model, meta.generation)
    id_type = np.dtype(f"S{meta.id_width}")
    vector_type = np.float32 if meta.kind == "exact" else np.float16
    shapes: dict[str, tuple[Any, tuple[int, ...]]] = {
        "ids": (id_type, (meta.rows,)),
        "keys": (np.uint64, (meta.count,)),
        "order": (np.int64, (meta.count,)),
        "vectors": (vector_type, (meta.rows, meta.dim)),
    }
    return {name: _map(Path(f"{base}.{name}"), *shapes[name]) for name in ARRAYS}


def _map(path: Path, dtype: Any, shape: tuple[int, ...]) -> Any:
    if not path.exists():
        raise FileNotFoundError(path)
    if 0 in shape:  # numpy cannot memory-map an empty file
        return np.zeros(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def write_arrays(
    base: Path,
    ids: npt.NDArray[np.bytes_],
    vectors: npt.NDArray[Any],
) -> int:
    """Write one generation's arrays; the id lookup is derived here. Returns the live count."""
    live = np.flatnonzero(ids != b"")
    keys = id_keys(ids[live])
    by_key = np.argsort(keys, kind="stable")
    order = live[by_key].astype(np.int64)
    arrays = {"ids": ids, "keys": keys[by_key], "order": order, "vectors": vectors}
    for name in ARRAYS:
        with open(f"{base}.{name}", "wb") as handle:
            np.ascontiguousarray(arrays[name]).tofile(handle)
    return len(order)


def id_keys(ids: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint64]:
    """A 64-bit FNV-style hash of each fixed-width id, 8 bytes at a time (vectorised)."""
    width = -(-max(ids.dtype.itemsize, 1) // 8) * 8
    words = np.ascontiguousarray(ids, dtype=f"S{width}").view("<u8").reshape(len(ids), width // 8)
    keys = np.full(len(ids), _HASH_OFFSET, dtype=np.uint64)
    for column in words.T:
        keys = (keys ^ column) * _HASH_PRIME  # wraps modulo 2**64, as intended
    return keys


def generation_files(folder: Path, model: str) -> Iterator[tuple[Path, str]]:
    """Every generation file of `model` in `folder`, with its generation."""
    pattern = re.compile(re.escape(slug(model)) + _GENERATION_FILE)
    for path in folder.glob(f"{slug(model)}.*"):
        found = pattern.fullmatch(path.name)
        if found:
            yield path, found.group(1)


def delete_other_generations(folder: Path, model: str, keep: str) -> None:
    for path, generation in generation_files(folder, model):
        if generation != keep:
            path.unlink(missing_ok=True)


def drop_index(data_dir: Path, model: str) -> None:
    """Delete the index files of `model` (the database keeps the vectors)."""
    folder = index_folder(data_dir)
    if not folder.is_dir():
        return
    with write_lock(folder, model):
        meta_path(folder, model).unlink(missing_ok=True)
        for path, _generation in generation_files(folder, model):
            path.unlink(missing_ok=True)


def write_generation(
    folder: Path,
    meta: IndexMeta,
    ids: list[str],
    rows: npt.NDArray[np.float16],
    exact_limit: int,
) -> IndexMeta:
    """Write a compact generation of `ids` (exact or HNSW by size) and switch to it.

    `meta` gives the model and dimension, and the database state it was synced with.
    """
    kind: Kind = "exact" if len(ids) <= exact_limit else "hnsw"
    width = max([len(pid.encode()) for pid in ids] + [1])
    generation = new_generation()
    base = base_path(folder, meta.model, generation)
    id_array = np.array([pid.encode() for pid in ids], dtype=f"S{width}")
    stored = rows.astype(np.float32 if kind == "exact" else np.float16, copy=False)
    write_arrays(base, id_array, stored)
    if kind == "hnsw":
        Index = usearch_index().Index
        graph = Index(
            ndim=meta.dim,
            metric="cos",
            dtype="f16",
            connectivity=HNSW_CONNECTIVITY,
            expansion_add=HNSW_EXPANSION_ADD,
            expansion_search=HNSW_EXPANSION_SEARCH,
        )
        graph.add(np.arange(len(ids), dtype=np.uint64), rows)
        graph.save(f"{base}.usearch")
    new_meta = dataclasses.replace(
        meta, kind=kind, count=len(ids), rows=len(ids), id_width=width, generation=generation
    )
    return switch_to(folder, new_meta)


def patch_generation(
    folder: Path,
    meta: IndexMeta,
    old_ids: npt.NDArray[np.bytes_],
    old_vectors: npt.NDArray[Any],
    dropped: npt.NDArray[np.int64],
    ids: list[str],
    rows: npt.NDArray[np.float16],
) -> IndexMeta:
    """A new HNSW generation: `dropped` rows removed from the graph, `ids` appended."""
    Index = usearch_index().Index

    width = max([len(pid.encode()) for pid in ids] + [meta.id_width])
    graph = Index.restore(f"{base_path(folder, meta.model, meta.generation)}.usearch")
    if graph is None:
        raise IndexMissing(f"the HNSW graph of {meta.model} is unreadable")
    if dropped.size:
        graph.remove(dropped.astype(np.uint64))
    if ids:
        graph.add(np.arange(meta.rows, meta.rows + len(ids), dtype=np.uint64), rows)
    new_ids = np.array([pid.encode() for pid in ids], dtype=f"S{width}")
    id_array = np.concatenate([np.asarray(old_ids, dtype=f"S{width}"), new_ids])
    id_array[dropped] = b""
    generation = new_generation()
    base = base_path(folder, meta.model, generation)
    vectors = np.concatenate([np.asarray(old_vectors, dtype=np.float16), rows])
    count = write_arrays(base, id_array, vectors)
    graph.save(f"{base}.usearch")
    new_meta = dataclasses.replace(
        meta, count=count, rows=len(id_array), id_width=width, generation=generation
    )
    return switch_to(folder, new_meta)


def switch_to(folder: Path, meta: IndexMeta) -> IndexMeta:
    """Point the meta file at `meta`'s generation, then delete older generations' files."""
    write_meta(folder, meta)
    delete_other_generations(folder, meta.model, meta.generation)
    return meta


_process_locks: dict[Path, threading.RLock] = {}
_process_locks_guard = threading.Lock()
_lock_depth: dict[Path, int] = {}  # read and written only by the thread holding the RLock


@contextmanager
def write_lock(folder: Path, model: str) -> Iterator[None]:
    """One writer of a model's index at a time, across threads and processes.

    Re-entrant within a thread: ensure_index holds it while it builds or adds.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / f"{slug(model)}.lock").resolve()
    with _process_locks_guard:
        lock = _process_locks.setdefault(path, threading.RLock())
    with lock, ExitStack() as stack:
        depth = _lock_depth.get(path, 0)
        if depth == 0:
            handle = stack.enter_context(open(path, "a+b"))
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        _lock_depth[path] = depth + 1
        try:
            yield
        finally:
            _lock_depth[path] = depth
