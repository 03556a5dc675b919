"""Core figures of issue #2 on this machine: import, page and search latency, load.

    python bench/core.py [--data ../shared/data] [--out bench/out] [--quick] [--json]

Reads the real data in ../shared/data (never the package's demo), imports it into a fresh
SQLite database under --out, times pages in-process, runs keyword searches, then serves the
same database with `papertide serve --workers 2` and drives it with wrk. docs/benchmarks.md
says what each figure measures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import json
import os
import sqlite3
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

import loadtest
import report
from papertide.auth import accounts, sessions
from papertide.bootstrap import open_database
from papertide.config import Settings, load_settings
from papertide.db import queries, votes
from papertide.db.engine import Database
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.periods import period_containing
from papertide.search.keyword import search
from papertide.web.app import create_app
from papertide.web.auth import SESSION_COOKIE
from papertide.web.cache import PageCache

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_PAPERS = 80_317  # 9,877 HF daily papers + 74,728 arXiv listings - 4,288 in both
MEMBER_UPVOTES = 200  # the signed-in visitor's votes: half on the busiest day, half elsewhere

console = Console(stderr=True)


@dataclass(frozen=True, slots=True)
class Latency:
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n": len(self.samples_ms),
            "p50_ms": round(self.p50, 3),
            "p99_ms": round(self.p99, 3),
        }


def copy_database(source: Path, target: Path, fresh: bool) -> None:
    """A consistent copy of `source` (SQLite's backup API); the source is opened read-only,
    so a benchmark that writes (votes, subscribers) never touches this one's database."""
    if target.exists() and not fresh:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(target.name + "*"):
        stale.unlink()
    with console.status(f"copying {source} to {target}"):
        original = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        original.backup(copy)
        copy.close()
        original.close()


def copy_of_core_database(out: Path, folder: str, fresh: bool) -> Settings:
    """Settings for a private copy (under `out/folder`) of the database this benchmark built,
    for the benchmarks that add to it; exits with what to run when there is none yet."""
    source = out / "data" / "papertide.db"
    if not source.exists():
        raise SystemExit(f"{source} is missing: run `python bench/core.py --no-load` first")
    copy_database(source, out / folder / "papertide.db", fresh)
    return load_settings(None, data_dir=out / folder, load_demo=False)


def import_data(data: Path, settings: Settings) -> tuple[Database, dict[str, Any]]:
    """Fresh database, HF daily tarballs then arXiv listings; papers/s for each and in all."""
    db_file = settings.data_dir / "papertide.db"
    for stale in settings.data_dir.glob("papertide.db*"):
        stale.unlink()
    db = open_database(settings)
    hf_files = sorted((data / "hf_daily_papers" / "raw_by_month").glob("*.tar.gz"))
    listing_files = sorted((data / "arxiv_listings").glob("*.jsonl.gz"))
    if not hf_files or not listing_files:
        raise SystemExit(f"no input under {data}: pass --data ../shared/data")
    sources = [
        ("hf_daily", HfDailySource(hf_files)),
        ("arxiv_listings", arxiv_jsonl_source(listing_files)),
    ]
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    for name, source in sources:
        with console.status(f"importing {name}"):
            t0 = time.perf_counter()
            result = run_import(db, source)
            seconds = time.perf_counter() - t0
        counts = result.counts
        figures[name] = {
            "records": result.report.records_read,
            "papers_new": counts.papers_new,
            "seconds": round(seconds, 2),
            "papers_per_s": round(result.report.records_read / seconds, 1),
            "skipped": len(result.report.problems),
        }
    figures["seconds"] = round(time.perf_counter() - started, 2)
    figures["papers"] = _count(db)
    figures["papers_per_s"] = round(figures["papers"] / figures["seconds"], 1)
    assert figures["papers"] == EXPECTED_PAPERS, (
        f"{figures['papers']} papers, not {EXPECTED_PAPERS}"
    )
    figures["db_mib"] = round(
        sum(f.stat().st_size for f in settings.data_dir.glob("papertide.db*")) / 2**20, 1
    )
    figures["database"] = str(db_file)
    return db, figures


def bench_member(db: Database, busy: dict[str, Any], settings: Settings) -> str:
    """A real member with MEMBER_UPVOTES upvotes, signed in: their session cookie."""
    name = f"bench{int(time.time())}"
    account = accounts.sign_up(
        db, name, f"{name}@example.org", "a bench member's password", min_password_length=8
    )
    with db.read() as conn:
        others, _ = queries.feed(conn, dt.date.min, dt.date.max, limit=MEMBER_UPVOTES)
    on_the_day = busy["ids"][: MEMBER_UPVOTES // 2]
    chosen = [*on_the_day, *(c.arxiv_id for c in others if c.arxiv_id not in on_the_day)]
    with db.write() as conn:
        for paper_id in chosen[:MEMBER_UPVOTES]:
            votes.set_upvote(conn, account.id, paper_id, True, dt.datetime.now(dt.UTC))
    lifetime = dt.timedelta(days=settings.session_lifetime_days)
    return f"{SESSION_COOKIE}={sessions.start(db, account.id, lifetime)}"


async def asgi_get(app: Any, target: str, mode: str = "cached", cookie: str = "") -> bytes:
    """GET `target` by calling the ASGI app directly: middleware, routing, DB, templates.

    What is left out is only what a server adds around the app (HTTP parsing, sockets).
    `rendered` calls the routes without the middleware, so without the page cache: the cost
    of queries and templates. `signed-in` sends `cookie`, a member's session.
    """
    parts = urlsplit(target)
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"text/html")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
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
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
        "app": app,
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

    await (_below_page_cache(app) if mode == "rendered" else app)(scope, receive, send)
    if status != 200:
        raise RuntimeError(f"GET {target} answered {status}")
    return b"".join(chunks)


def _below_page_cache(app: Any) -> Any:
    """What the page cache hands a request it cannot answer: routing, queries, templates."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    layer = app.middleware_stack
    while not isinstance(layer, PageCache):
        layer = layer.app
    return layer.app


async def _timed(call: Callable[[int], Awaitable[object]], n: int) -> Latency:
    for i in range(min(20, n)):  # warm the templates, the connection pool and the page cache
        await call(i)
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - t0) * 1000)
    return Latency(samples)


def busy_targets(db: Database) -> dict[str, Any]:
    """The busiest featured day, and the ids of the papers featured that day."""
    with db.read() as conn:
        cards, _ = queries.feed(conn, dt.date.min, dt.date.max)
    per_day = Counter(card.featured_on for card in cards if card.featured_on)
    day, count = max(per_day.items(), key=lambda item: (item[1], item[0]))
    return {"day": day, "papers": count, "ids": [c.arxiv_id for c in cards if c.featured_on == day]}


def page_urls(busy: dict[str, Any], search_queries: list[str]) -> dict[str, list[str]]:
    """Each page measured, with the URLs its requests cycle through."""
    day = busy["day"]
    return {
        "/ (latest day)": ["/"],
        f"day, {busy['papers']} papers": [period_containing("day", day).url],
        "week, 30 a page": [period_containing("week", day).url],
        "month, 30 a page": [period_containing("month", day).url],
        "paper page": [f"/papers/{arxiv_id}" for arxiv_id in busy["ids"]],
        "search page /papers?q=": [f"/papers?q={quote_plus(q)}" for q in search_queries],
    }


async def page_latencies(
    app: Any, pages: dict[str, list[str]], n: int, cookie: str
) -> dict[str, Any]:
    """Each page rendered (no cache), replayed from the page cache (anonymous), and as the
    signed-in member sees it (the members' copy finished for them, web/splice.py)."""
    figures: dict[str, Any] = {}
    for name, urls in pages.items():
        figures[name] = {"bytes": len(await asgi_get(app, urls[0]))}
        for mode in ("rendered", "cached", "signed-in"):

            def get(i: int, urls: list[str] = urls, mode: str = mode) -> Awaitable[bytes]:
                who = cookie if mode == "signed-in" else ""
                return asgi_get(app, urls[i % len(urls)], mode, who)

            figures[name][mode] = (await _timed(get, n)).as_dict()
    return figures


def search_latencies(db: Database, search_queries: list[str], rounds: int) -> dict[str, Any]:
    """search() directly, one pooled connection per call as the search page does it."""
    per_query: dict[str, list[float]] = {q: [] for q in search_queries}
    for round_number in range(rounds + 1):
        for q in search_queries:
            t0 = time.perf_counter()
            with db.read() as conn:
                search(conn, q)
            if round_number:  # the first round only warms up
                per_query[q].append((time.perf_counter() - t0) * 1000)
    samples = [ms for values in per_query.values() for ms in values]
    medians = sorted(((statistics.median(v), q) for q, v in per_query.items()), reverse=True)
    return {
        **Latency(samples).as_dict(),
        "queries": len(search_queries),
        "slowest": [[q, round(ms, 2)] for ms, q in medians[:5]],
    }


def load_figures(
    settings: Settings, out: Path, seconds: int, day_url: str, page_bytes: int, cookie: str
) -> dict[str, Any]:
    """wrk at 64 connections against `papertide serve --workers 2` and the baseline app."""
    if loadtest.wrk_path() is None:
        console.print("[red]wrk is not installed (apt-get install -y wrk): no load figures.[/red]")
        return {"skipped": "wrk is not installed"}
    port = loadtest.free_port()
    serve = [
        *(sys.executable, "-m", "papertide", "serve", "--workers", "2", "--port", str(port)),
        *("--database-url", settings.resolved_database_url, "--no-demo"),
    ]
    runs = {
        "/ cached": ("/", ()),
        "/ signed-in": ("/", (f"Cookie: {cookie}",)),
        "busy day cached": (day_url, ()),
        "/static/style.css": ("/static/style.css", ()),
    }
    figures: dict[str, Any] = {}
    with loadtest.running_server(serve, port, out / "serve.log") as base:
        for name, (path, headers) in runs.items():
            with console.status(f"wrk {name} ({seconds} s)"):
                figures[name] = loadtest.run_wrk(base + path, seconds, headers=headers).as_dict()
    port = loadtest.free_port()
    baseline = [
        *(sys.executable, "-m", "uvicorn", "baseline_app:create", "--factory"),
        *("--app-dir", str(Path(__file__).parent), "--workers", "2", "--port", str(port)),
        *("--loop", "uvloop", "--http", "httptools", "--log-level", "info", "--no-access-log"),
    ]
    env = {"BASELINE_BYTES": str(page_bytes)}
    with (
        loadtest.running_server(baseline, port, out / "baseline.log", env) as base,
        console.status(f"wrk baseline ({seconds} s)"),
    ):
        figures["baseline"] = {
            **loadtest.run_wrk(base + "/", seconds).as_dict(),
            "bytes": page_bytes,
        }
    for name in runs:
        figures[name]["ratio_to_baseline"] = round(
            figures[name]["req_per_s"] / figures["baseline"]["req_per_s"], 3
        )
    return figures


def keyword_index_ready(app: Any, timeout_s: float = 900.0) -> str:
    """Start the keyword index as `papertide serve` does at start-up and wait for it: the
    search page is timed on what a running host serves, not on the fallback during a build."""
    search = app.state.search
    search.warm_up()
    deadline = time.monotonic() + timeout_s
    while search.text_index() is None or search.text_phase != "ready":
        if time.monotonic() > deadline or search.text_phase.startswith("unavailable"):
            return search.text_phase
        time.sleep(0.5)
    return "ready"


def embedding_speed(data: Path, count: int) -> dict[str, Any]:
    """Abstracts a second through the built-in embedder, as `papertide reindex` embeds them:
    real arXiv abstracts with their titles, in the embedder's own batches."""
    from papertide.search.embedder import DEFAULT_MODEL, load_embedder, paper_text

    texts: list[str] = []
    listing = sorted((data / "arxiv_listings").glob("*.jsonl.gz"))[-1]
    with gzip.open(listing, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            texts.append(paper_text(record["title"], record.get("abstract") or ""))
            if len(texts) == count:
                break
    embedder = load_embedder(DEFAULT_MODEL)
    embedder.embed(texts[:8])  # load the model, warm the session
    started = time.perf_counter()
    embedder.embed(texts)
    seconds = time.perf_counter() - started
    per_s = round(len(texts) / seconds, 1)
    return {"model": embedder.name, "abstracts": len(texts), "per_s": per_s}


def read_queries(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--quick", action="store_true", help="100 requests a page, 5 s wrk runs")
    parser.add_argument(
        "--json", action="store_true", help="print all figures as one JSON line last"
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="skip the import when --out already holds the full database",
    )
    parser.add_argument("--no-load", action="store_true", help="skip the wrk load tests")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out = args.out.resolve()
    settings = load_settings(None, data_dir=out / "data", load_demo=False)
    n, rounds, seconds = (100, 3, 5) if args.quick else (500, 15, 15)
    figures: dict[str, Any] = {
        "machine": f"{len(os.sched_getaffinity(0))} CPUs, Python {sys.version.split()[0]}",
        "quick": args.quick,
    }
    db = open_database(settings) if args.reuse_db else None
    if db is not None and _count(db) == EXPECTED_PAPERS:
        figures["import"] = {"skipped": "--reuse-db", "papers": EXPECTED_PAPERS}
    else:
        if db is not None:
            db.dispose()
        db, figures["import"] = import_data(args.data, settings)
    search_queries = read_queries(Path(__file__).parent / "queries.txt")
    busy = busy_targets(db)
    figures["busy_day"] = busy["day"].isoformat()
    pages = page_urls(busy, search_queries)
    cookie = bench_member(db, busy, settings)
    app = create_app(settings)
    with console.status("opening the keyword index (the search page's engine), as a host does"):
        ready = keyword_index_ready(app)
    figures["keyword_index"] = ready
    with console.status("timing pages in-process"):
        figures["pages"] = asyncio.run(page_latencies(app, pages, n, cookie))
    with console.status("timing the built-in embedder"):
        figures["embedding"] = embedding_speed(args.data, 64 if args.quick else 256)
    with console.status("timing search()"):
        figures["search"] = search_latencies(db, search_queries, rounds)
    app.state.db.dispose()
    db.dispose()
    if args.no_load:
        figures["load"] = {"skipped": "--no-load"}
    else:
        day_url = next(urls[0] for name, urls in pages.items() if name.startswith("day"))
        latest_bytes = figures["pages"]["/ (latest day)"]["bytes"]
        figures["load"] = load_figures(settings, out, seconds, day_url, latest_bytes, cookie)
    report.print_table(figures)
    if args.json:
        print(json.dumps(figures, default=str))


def _count(db: Database) -> int:
    with db.read() as conn:
        count: int = queries.paper_count(conn)
        return count


if __name__ == "__main__":
    main()
