"""Embedding in several processes (search/embed_pool.py), with the real int8 MiniLM."""

from __future__ import annotations

import numpy as np

from papertide.search.embed_pool import EmbedderPool, default_processes
from papertide.search.embedder import DEFAULT_MODEL, OnnxMiniLM

TEXTS = [
    "Graph neural networks for molecule property prediction.",
    "short",
    "Diffusion models generate images by iterative denoising. " * 6,
    "A survey of retrieval-augmented generation.",
    "Protein structure prediction with transformers.",
]


def test_a_pool_gives_each_text_its_own_vector_in_order() -> None:
    alone = OnnxMiniLM(threads=1, max_tokens=64).embed(TEXTS)
    with EmbedderPool(DEFAULT_MODEL, processes=2, max_tokens=64) as pool:
        assert (pool.name, pool.dim) == (DEFAULT_MODEL, 384)
        together = pool.embed(TEXTS)
        assert pool.embed(TEXTS[:1]).shape == (1, 384)  # fewer texts than processes
        assert pool.embed([]).shape == (0, 384)
    assert together.shape == (len(TEXTS), 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.sum(together * alone, axis=1), 1.0, atol=1e-4)


def test_default_processes_is_one_a_core_within_limits() -> None:
    assert 1 <= default_processes() <= 8
