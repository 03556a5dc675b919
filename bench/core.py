"""Core figures of issue #2 on this machine: import, page and search latency, load.

    python bench/core.py [--data ../shared/data] [--out bench/out] [--quick] [--json]

Reads the real data in ../shared/data (never the package's demo), imports it into a fresh
SQLite database under --out, times pages in-process, runs keyword searches, then serves the
same database with `papertide serve --workers 2` and drives it with wrk. See
docs/benchmarks.md for what each figure measures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote, urlsplit

from rich.console import Console
from rich.table import Table

import loadtest
from papertide.bootstrap import open_database
from papertide.config import Settings, load_settings
from papertide.db import queries
from papertide.db.engine import Database
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.search.keyword import search
from papertide.web.app import create_app
from papertide.web.periods import period_containing

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_PAPERS = 80_317  # 9,877 HF daily papers + 74,728 arXiv listings - 4,288 in both
PAGE_TARGET_MS, SEARCH_TARGET_MS = 10.0, 20.0
LOAD_TARGET_RPS, LOAD_TARGET_P99_MS = 2_000.0, 60.0

console = Console(stderr=True)


@dataclass(frozen=True, slots=True)
class Latency:
    name: str
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    def as_dict(self) -> dict[str, float | int]:
        return {"n": len(self.samples_ms), "p50_ms": round(self.p50, 3), "p99_ms": round(self.p99, 3)}


def import_data(data: Path, settings: Settings) -> tuple[Database, dict[str, Any]]:
    """Fresh database, HF daily tarballs then arXiv listings; papers/s for each and in all."""
    db_file = settings.data_dir / "papertide.db"
    for stale in settings.data_dir.glob("papertide.db*"):
        stale.unlink()
    db = open_database(settings)
    sources = [
        ("hf_daily", HfDailySource(sorted((data / "hf_daily_papers/raw_by_month").glob("*.tar.gz")))),
        ("arxiv_listings", arxiv_jsonl_source(sorted((data / "arxiv_listings").glob("*.jsonl.gz")))),
    ]
    figures: dict[str, Any] = {"database": str(db_file)}
    started = time.perf_counter()
    for name, source in sources:
        with console.status(f"importing {name}"):
            t0 = time.perf_counter()
            result = run_import(db, source)
            seconds = time.perf_counter() - t0
        counts = result.counts
        written = counts.papers_new + counts.papers_updated + counts.papers_unchanged
        figures[name] = {
            "records": result.report.records_read,
            "papers_new": counts.papers_new,
            "seconds": round(seconds, 2),
            "records_per_s": round(result.report.records_read / seconds, 1),
            "papers_per_s": round(written / seconds, 1),
            "skipped": len(result.report.problems),
        }
    figures["seconds"] = round(time.perf_counter() - started, 2)
    with db.read() as conn:
        figures["papers"] = queries.paper_count(conn)
    figures["papers_per_s"] = round(figures["papers"] / figures["seconds"], 1)
    assert figures["papers"] == EXPECTED_PAPERS, f"{figures['papers']} papers, not {EXPECTED_PAPERS}"
    figures["db_mib"] = round(db_file.stat().st_size / 2**20, 1)
    return db, figures


async def asgi_get(app: Any, target: str) -> bytes:
    """GET `target` by calling the ASGI app directly: routing, middleware, DB, templates.

    What is left out is only what a server adds around the app (HTTP parsing, sockets).
    """
    parts = urlsplit(target)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(parts.path),
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"accept", b"text/html")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != 200:
        raise RuntimeError(f"GET {target} answered {status}")
    return b"".join(chunks)


async def _timed(name: str, call: Callable[[int], Awaitable[object]], n: int) -> Latency:
    for i in range(min(20, n)):  # warm caches, templates and the connection pool
        await call(i)
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - t0) * 1000)
    return Latency(name, samples)


def busy_targets(db: Database) -> dict[str, Any]:
    """The busiest featured day, its week and month, and paper ids featured that day."""
    with db.read() as conn:
        cards, _ = queries.feed(conn, dt.date.min, dt.date.max)
    per_day = Counter(card.featured_on for card in cards)
    day, count = max(per_day.items(), key=lambda item: (item[1], item[0] or dt.date.min))
    assert day is not None
    return {
        "day": day,
        "day_papers": count,
        "paper_ids": [card.arxiv_id for card in cards if card.featured_on == day],
    }


def page_urls(targets: dict[str, Any]) -> dict[str, str]:
    day = targets["day"]
    return {
        "/ (latest day)": "/",
        f"day ({targets['day_papers']} papers)": period_containing("day", day).url,
        "week (30 a page)": period_containing("week", day).url,
        "month (30 a page)": period_containing("month", day).url,
    }


async def page_latencies(
    app: Any, targets: dict[str, Any], search_queries: list[str], n: int
) -> tuple[list[Latency], dict[str, int]]:
    results, sizes = [], {}
    for name, url in page_urls(targets).items():
        sizes[name] = len(await asgi_get(app, url))
        results.append(await _timed(name, lambda _i, url=url: asgi_get(app, url), n))
    ids = targets["paper_ids"]
    results.append(
        await _timed("paper page", lambda i: asgi_get(app, f"/papers/{ids[i % len(ids)]}"), n)
    )
    searches = [f"/papers?q={quote_plus(q)}" for q in search_queries]
    results.append(
        await _timed("/papers?q= (search page)", lambda i: asgi_get(app, searches[i % len(searches)]), n)
    )
    return results, sizes


def search_latencies(db: Database, search_queries: list[str], rounds: int) -> tuple[Latency, list[tuple[str, float]]]:
    """search() directly, one pooled connection per call as the route does it."""
    per_query: dict[str, list[float]] = {q: [] for q in search_queries}
    for round_number in range(rounds + 1):
        for q in search_queries:
            t0 = time.perf_counter()
            with db.read() as conn:
                search(conn, q)
            if round_number:  # the first round only warms up
                per_query[q].append((time.perf_counter() - t0) * 1000)
    samples = [ms for values in per_query.values() for ms in values]
    slowest = sorted(((q, statistics.median(v)) for q, v in per_query.items()), key=lambda x: -x[1])
    return Latency("search() direct", samples), slowest[:5]


def load_figures(settings: Settings, out: Path, seconds: int, day_url: str, page_bytes: int) -> dict[str, Any]:
    """wrk at 64 connections against `papertide serve --workers 2` and the baseline app."""
    if loadtest.wrk_path() is None:
        console.print("[red]wrk is not installed (apt-get install -y wrk): no load figures.[/red]")
        return {"skipped": "wrk is not installed"}
    port = loadtest.free_port()
    serve = [
        sys.executable, "-m", "papertide", "serve", "--workers", "2", "--port", str(port),
        "--database-url", settings.resolved_database_url, "--no-demo",
    ]
    figures: dict[str, Any] = {}
    with console.status("wrk: papertide serve --workers 2"), loadtest.running_server(
        serve, port, out / "serve.log"
    ) as base:
        figures["latest_day"] = loadtest.run_wrk(base + "/", seconds).as_dict()
        figures["busy_day"] = loadtest.run_wrk(base + day_url, seconds).as_dict()
        figures["static_css"] = loadtest.run_wrk(base + "/static/style.css", seconds).as_dict()
    port = loadtest.free_port()
    baseline = [
        sys.executable, "-m", "uvicorn", "baseline_app:create", "--factory",
        "--app-dir", str(Path(__file__).parent), "--workers", "2", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--log-level", "info",
    ]
    env = {"BASELINE_BYTES": str(page_bytes)}
    with console.status("wrk: constant-page baseline"), loadtest.running_server(
        baseline, port, out / "baseline.log", env
    ) as base:
        figures["baseline"] = loadtest.run_wrk(base + "/", seconds).as_dict()
    figures["baseline"]["bytes"] = page_bytes
    for name in ("latest_day", "busy_day", "static_css"):
        figures[name]["ratio_to_baseline"] = round(
            figures[name]["req_per_s"] / figures["baseline"]["req_per_s"], 3
        )
    return figures


def read_queries(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _verdict(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]missed[/red]"


def print_table(figures: dict[str, Any]) -> None:
    table = Table(title=f"Papertide core figures ({figures['machine']})")
    for column in ("figure", "value", "p50", "p99", "target", ""):
        table.add_column(column, justify="left" if column in ("figure", "target") else "right")
    imp = figures["import"]
    for name in ("hf_daily", "arxiv_listings"):
        if name in imp:
            f = imp[name]
            table.add_row(f"import {name}", f"{f['papers_per_s']:,.0f} papers/s", "", "",
                          f"{f['records']:,} records in {f['seconds']} s", "")
    if "papers_per_s" in imp:
        table.add_row("import total", f"{imp['papers_per_s']:,.0f} papers/s", "", "",
                      f"{imp['papers']:,} papers in {imp['seconds']} s", "")
    for name, f in figures["pages"].items():
        target = SEARCH_TARGET_MS if name.startswith("/papers?q=") else PAGE_TARGET_MS
        table.add_row(f"page {name}", f"n={f['n']}", f"{f['p50_ms']:.2f} ms", f"{f['p99_ms']:.2f} ms",
                      f"p50 < {target:.0f} ms", _verdict(f["p50_ms"] < target))
    f = figures["search"]["direct"]
    table.add_row("search() direct", f"n={f['n']}", f"{f['p50_ms']:.2f} ms", f"{f['p99_ms']:.2f} ms",
                  f"p50 < {SEARCH_TARGET_MS:.0f} ms", _verdict(f["p50_ms"] < SEARCH_TARGET_MS))
    for name, f in figures["load"].items():
        if not isinstance(f, dict):
            table.add_row("load", str(f), "", "", "", "[red]skipped[/red]")
            continue
        ratio = f" ({f['ratio_to_baseline']:.0%} of baseline)" if "ratio_to_baseline" in f else ""
        ok = f["req_per_s"] >= LOAD_TARGET_RPS and f["p99_ms"] < LOAD_TARGET_P99_MS
        table.add_row(f"wrk {name}", f"{f['req_per_s']:,.0f} req/s{ratio}", f"{f['p50_ms']:.1f} ms",
                      f"{f['p99_ms']:.1f} ms", "≥ 2,000 req/s, p99 < 60 ms",
                      _verdict(ok) if name in ("latest_day", "busy_day") else "")
    out = Console(width=max(Console().width, 120))
    out.print(table)
    slow = ", ".join(f"{q!r} {ms:.1f} ms" for q, ms in figures["search"]["slowest_p50"])
    out.print(f"Slowest queries (median): {slow}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--quick", action="store_true", help="fewer requests, 5 s load runs")
    parser.add_argument("--json", action="store_true", help="print all figures as one JSON line")
    parser.add_argument("--reuse-db", action="store_true",
                        help="skip the import when --out already holds the full database")
    parser.add_argument("--no-load", action="store_true", help="skip the wrk load tests")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out = args.out.resolve()
    settings = load_settings(None, data_dir=out / "data", load_demo=False)
    n, rounds, seconds = (100, 3, 5) if args.quick else (500, 15, 15)
    figures: dict[str, Any] = {"machine": f"{_cpus()} CPUs, Python {sys.version.split()[0]}",
                               "quick": args.quick}
    db = open_database(settings) if args.reuse_db else None
    if db is not None and _count(db) == EXPECTED_PAPERS:
        figures["import"] = {"skipped": "--reuse-db", "papers": EXPECTED_PAPERS}
    else:
        if db is not None:
            db.dispose()
        db, figures["import"] = import_data(args.data, settings)
    search_queries = read_queries(Path(__file__).parent / "queries.txt")
    targets = busy_targets(db)
    figures["busy_day"] = targets["day"].isoformat()
    app = create_app(settings)
    with console.status("timing pages in-process"):
        pages, sizes = asyncio.run(page_latencies(app, targets, search_queries, n))
    figures["pages"] = {lat.name: lat.as_dict() for lat in pages}
    figures["page_bytes"] = sizes
    with console.status("timing search()"):
        direct, slowest = search_latencies(db, search_queries, rounds)
    figures["search"] = {"direct": direct.as_dict(), "page": figures["pages"]["/papers?q= (search page)"],
                         "queries": len(search_queries), "slowest_p50": [(q, round(ms, 2)) for q, ms in slowest]}
    app.state.db.dispose()
    db.dispose()
    if args.no_load:
        figures["load"] = {"skipped": "--no-load"}
    else:
        day_url = page_urls(targets)[next(k for k in sizes if k.startswith("day"))]
        figures["load"] = load_figures(settings, out, seconds, day_url, sizes["/ (latest day)"])
    print_table(figures)
    if args.json:
        print(json.dumps(figures, default=str))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _count(db: Database) -> int:
    with db.read() as conn:
        return queries.paper_count(conn)


if __name__ == "__main__":
    main()
