"""Bulk embedding in several processes: one model per process, each on its own core.

On this 2-core machine two processes of one onnxruntime thread each embed faster than one
process of two threads: tokenising, padding and pooling run in Python between the model's
calls and hold the GIL, and the small operators of a 6-layer model do not split well over
threads (bench/embed_speed.py; issue #12). `EmbedderPool` is an `Embedder` like any other, so
`papertide reindex` hands it to the same `refresh` as the worker's one-process embedder.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from papertide.search.embedder import Embedder, Vectors, load_embedder, model_dim

_worker: Embedder | None = None  # the model of a pool's process, loaded once by _start


def _start(name: str, threads: int, max_tokens: int | None, batch_size: int | None) -> None:
    global _worker
    _worker = load_embedder(name, threads, max_tokens, batch_size)


def _embed(texts: list[str]) -> Vectors:
    assert _worker is not None, "the pool's initializer loads the model"
    return _worker.embed(texts)


def default_processes() -> int:
    """One process a core, at most 8 (a model takes ~150 MB of memory a process)."""
    return max(1, min(8, os.cpu_count() or 1))


class EmbedderPool:
    """`processes` copies of the embedder `name`, each with one thread; `embed` splits the
    texts between them and returns the vectors in the texts' order. Close it (or use `with`)."""

    def __init__(
        self,
        name: str,
        processes: int,
        threads_each: int = 1,
        max_tokens: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.name = name
        self.dim = model_dim(name)
        self.processes = processes
        # Spawned, not forked: a forked copy of a process that has loaded onnxruntime (and its
        # thread pool) or usearch can hang or crash.
        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            processes,
            mp_context=context,
            initializer=_start,
            initargs=(name, threads_each, max_tokens, batch_size),
        )

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Contiguous shares: each process sorts its own share by length and batches it.
        shares = np.array_split(np.arange(len(texts)), min(self.processes, len(texts)))
        parts = self._executor.map(_embed, [[texts[i] for i in share] for share in shares])
        return np.vstack(list(parts)).astype(np.float32, copy=False)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EmbedderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
