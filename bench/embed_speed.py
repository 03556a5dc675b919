"""Bulk embedding speed of the built-in model, lever by lever (issue #12, point 3).

    python bench/embed_speed.py [--data ../shared/data] [--limit 1000] [--json]

Embeds the first --limit real arXiv abstracts (title + abstract, as `papertide reindex` does)
from DATA/arxiv_listings/*.jsonl.gz, once per configuration, and prints abstracts/s:

- baseline: the embedder as it was before issue #12 (256 tokens, length-sorted batches of 32,
  onnxruntime's ORT_ENABLE_ALL, 2 intra-op threads, no spinning), measured first and again
  last, so drift of a shared machine shows;
- each lever alone, everything else as the baseline: the token budget (128, as the model was
  trained), batches in input order instead of by length, the graph optimisation level,
  threading (1 thread, spinning), the batch size, dynamically quantised int8 MatMuls
  (search/quantize.py), several processes of one thread each (search.embed_pool, as
  `papertide reindex` runs);
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
from papertide.search.embedder import (
    DEFAULT_MODEL,
    FLOAT_MODEL,
    OnnxMiniLM,
    Vectors,
    paper_text,
)

console = Console(stderr=True)
ROOT = Path(__file__).resolve().parent
TARGET = 100.0  # abstracts/s, issue #12
BASELINE = {"max_tokens": 256, "batch_size": 32, "threads": 2, "int8_arithmetic": False}
DEFAULT = {"batch_size": 1, "int8_arithmetic": True}  # what OnnxMiniLM() does since issue #12


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


def levers() -> list[tuple[str, str, dict[str, Any]]]:
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
        ("batch 1", "one text a run", {"batch_size": 1}),
        ("int8 MatMuls", "MatMuls on int8 kernels (search/quantize.py)", {"int8_arithmetic": True}),
        ("int8, batch 1", "both: the default embedder in one process", DEFAULT),
    ]
    return rows


def cosines(vectors: Vectors, reference: Vectors) -> tuple[float, float]:
    both = np.sum(vectors * reference, axis=1)
    return float(both.min()), float(both.mean())


def measure(texts: list[str], processes: int) -> list[Result]:
    results: list[Result] = []
    references: dict[int, Vectors] = {}

    def record(name: str, what: str, embed: Callable[[Sequence[str]], Vectors], tokens: int):
        vectors, seconds = timed(embed, texts)
        reference = references.setdefault(tokens, vectors)
        cos_min, cos_mean = cosines(vectors, reference)
        result = Result(name, what, len(texts) / seconds, seconds, cos_min, cos_mean)
        console.print(f"{name:>16}: {result.rate:7.1f} abstracts/s  ({what})")
        results.append(result)

    for name, what, options in levers():
        settings = {**BASELINE, **options}
        try:
            embedder = OnnxMiniLM(**settings)
        except ImportError as exc:  # int8 MatMuls need the `onnx` package to convert
            console.print(f"[yellow]{name} skipped:[/yellow] {exc}")
            continue
        record(name, what, embedder.embed, settings["max_tokens"])
    float_pool = EmbedderPool(FLOAT_MODEL, processes, batch_size=BASELINE["batch_size"])
    with float_pool as pool:
        what = f"{processes} processes x 1 thread (float, batches of 32)"
        record(f"{processes} processes", what, pool.embed, 256)
    with EmbedderPool(DEFAULT_MODEL, processes) as pool:
        what = f"papertide reindex: the default embedder in {processes} processes x 1 thread"
        record("chosen", what, pool.embed, 256)
    embedder = OnnxMiniLM(**BASELINE)
    record("baseline again", "the baseline, measured last", embedder.embed, 256)
    return results


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
    Console(width=160).print(table)
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
    parser.add_argument("--limit", type=int, default=1000, help="abstracts embedded per run")
    parser.add_argument("--processes", type=int, default=default_processes())
    parser.add_argument("--json", action="store_true", help="print a JSON object last")
    args = parser.parse_args(argv)
    texts = abstracts(args.data, args.limit)
    results = measure(texts, args.processes)
    summary = report(results, len(texts), args.processes)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
