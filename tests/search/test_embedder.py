"""Embedders (search/embedder.py): the real int8 MiniLM through onnxruntime, on real abstracts."""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from papertide.search.embedder import (
    DEFAULT_MODEL,
    FLOAT_MODEL,
    EmbedderUnavailable,
    OnnxMiniLM,
    load_embedder,
    model_dim,
    paper_text,
)


@pytest.fixture(scope="module")
def minilm() -> OnnxMiniLM:
    return OnnxMiniLM()


@pytest.fixture(scope="module")
def papers(shared_data: Path) -> list[dict[str, str]]:
    """The first 16 real arXiv listing records of 2025-09."""
    listing = shared_data / "arxiv_listings" / "arxiv_listings_2025-09.jsonl.gz"
    with gzip.open(listing, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in itertools.islice(handle, 16)]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_vectors_are_float32_unit_rows(minilm: OnnxMiniLM) -> None:
    vectors = minilm.embed(["graph neural networks", "a much longer sentence " * 10, "x"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


def test_paraphrase_is_closer_than_unrelated_text(minilm: OnnxMiniLM) -> None:
    cat, paraphrase, bank, diffusion, denoising = minilm.embed(
        [
            "A cat sits on the mat.",
            "There is a cat sitting on a mat.",
            "Quarterly revenue of the bank increased by four percent.",
            "Diffusion models generate images by iterative denoising.",
            "Image synthesis with denoising diffusion probabilistic models.",
        ]
    )
    assert _cos(cat, paraphrase) > 0.85
    assert _cos(cat, bank) < 0.2
    assert _cos(diffusion, denoising) > _cos(diffusion, cat) + 0.4


def test_batching_does_not_change_a_text_s_vector(minilm: OnnxMiniLM) -> None:
    # Batches are sorted by length and padded; a text must embed the same alone.
    texts = ["short", "a medium length sentence about retrieval", "long " * 300, "mid text"]
    together = minilm.embed(texts)
    alone = np.vstack([minilm.embed([text]) for text in texts])
    assert np.all(np.sum(together * alone, axis=1) > 0.999)


def test_long_texts_are_truncated_not_rejected(minilm: OnnxMiniLM) -> None:
    head = "Transformers for protein structure prediction. "
    # ~1,400 and ~2,800 tokens: both are cut at 256, so they are the same text.
    vectors = minilm.embed([head * 200, head * 400, head * 5])
    assert vectors.shape == (3, 384)
    assert _cos(vectors[0], vectors[1]) > 0.9999
    assert _cos(vectors[0], vectors[2]) < 0.99


def test_a_title_finds_its_own_abstract(minilm: OnnxMiniLM, papers: list[dict[str, str]]) -> None:
    titles = minilm.embed([paper["title"] for paper in papers])
    abstracts = minilm.embed([paper_text("", paper["abstract"]) for paper in papers])
    best = np.argmax(titles @ abstracts.T, axis=1)
    assert (best == np.arange(len(papers))).sum() >= len(papers) - 1


def test_paper_text_joins_title_and_abstract() -> None:
    assert paper_text("Attention Is All You Need", "We propose\n  the Transformer.") == (
        "Attention Is All You Need. We propose the Transformer."
    )
    assert paper_text("Why?", "Because.") == "Why? Because."
    assert paper_text("Only a title", "") == "Only a title"


def test_load_embedder_by_name() -> None:
    embedder = load_embedder(DEFAULT_MODEL, threads=1)
    assert (embedder.name, embedder.dim) == ("minilm-int8-dynamic", 384)
    assert model_dim(DEFAULT_MODEL) == 384
    floating = load_embedder(FLOAT_MODEL, threads=1)
    assert (floating.name, floating.dim, model_dim(FLOAT_MODEL)) == ("minilm-int8", 384, 384)
    with pytest.raises(ValueError, match=r"unknown embedding model 'bert'.*minilm-int8"):
        load_embedder("bert")
    with pytest.raises(ValueError, match="unknown embedding model"):
        load_embedder("sentence-transformers:")


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="sentence-transformers is installed here",
)
def test_sentence_transformers_without_the_library_says_what_to_install() -> None:
    with pytest.raises(EmbedderUnavailable, match="pip install sentence-transformers"):
        load_embedder("sentence-transformers:allenai/specter2_base")


def test_int8_arithmetic_keeps_the_float_model_s_vectors_close(
    minilm: OnnxMiniLM, papers: list[dict[str, str]]
) -> None:
    # The default runs the MatMuls on int8 kernels (issue #12): vectors move a little, so they
    # carry their own model name, but each paper stays nearest to its own float vector.
    floating = OnnxMiniLM(int8_arithmetic=False)
    assert (minilm.name, floating.name) == (DEFAULT_MODEL, FLOAT_MODEL)
    texts = [paper_text(paper["title"], paper["abstract"]) for paper in papers]
    int8, reference = minilm.embed(texts), floating.embed(texts)
    assert np.all(np.sum(int8 * reference, axis=1) > 0.98)
    assert np.array_equal(np.argmax(int8 @ reference.T, axis=1), np.arange(len(texts)))
