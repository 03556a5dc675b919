"""Requests/s and p99 for the JSON API and the feeds under load (issue #13).

    python bench/api_feeds.py [--data ../shared/data] [--out bench/out] [--seconds 10] [--json]

Imports Hugging Face's daily papers (all of ../shared/data/hf_daily_papers/normalized, ~9,900
papers) into a fresh SQLite database under --out/api, serves it with `papertide serve --workers
2` and drives it with wrk at 64 connections: `/api/daily_papers` for the busiest day and for the
latest day (the `huggingface_hub` client's `list_daily_papers`), a cached Atom feed, the same
feed asked again with its ETag (a feed reader's poll: 304), then the constant-response app
(bench/baseline_app.py) serving as many bytes as the API list, in the same run. Target: a cached
API list at >= 10,000 requests/s on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

import loadtest
from papertide.bootstrap import open_database
from papertide.config import load_settings
from papertide.db import queries
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import

ROOT = Path(__file__).resolve().parent.parent
TARGET_RPS = 10_000.0
console = Console(stderr=True)


def build_database(data: Path, out: Path) -> tuple[str, str]:
    """A fresh database of HF's daily papers; its URL and its busiest day."""
    settings = load_settings(None, data_dir=out, load_demo=False)
    for stale in out.glob("papertide.db*"):
        stale.unlink()
    files = sorted((data / "hf_daily_papers" / "normalized").glob("*.jsonl.gz"))
    if not files:
        raise SystemExit(f"no HF daily papers under {data}: pass --data ../shared/data")
    db = open_database(settings)
    with console.status(f"importing {len(files)} files of HF daily papers"):
        run_import(db, HfDailySource(files))
    with db.read() as conn:
        cards, _ = queries.feed(conn, dt.date.min, dt.date.max)
    db.dispose()
    per_day = Counter(card.featured_on for card in cards if card.featured_on)
    busiest = max(per_day.items(), key=lambda item: (item[1], item[0]))[0]
    return settings.resolved_database_url, busiest.isoformat()


def load(database_url: str, busiest: str, out: Path, seconds: int) -> dict[str, Any]:
    port = loadtest.free_port()
    serve = [
        *(sys.executable, "-m", "papertide", "serve", "--workers", "2", "--port", str(port)),
        *("--database-url", database_url, "--no-demo"),
    ]
    urls = {
        "/api/daily_papers, busiest day": f"/api/daily_papers?date={busiest}",
        "/api/daily_papers, latest day": "/api/daily_papers",
        "/feeds/daily.atom": "/feeds/daily.atom",
    }
    figures: dict[str, Any] = {}
    with loadtest.running_server(serve, port, out / "serve.log") as base:
        sizes = {name: len(httpx.get(base + url, timeout=30).content) for name, url in urls.items()}
        etag = httpx.get(base + urls["/feeds/daily.atom"], timeout=30).headers["etag"]
        runs = {name: (url, ()) for name, url in urls.items()}
        runs["/feeds/daily.atom, If-None-Match (304)"] = (
            urls["/feeds/daily.atom"],
            (f"If-None-Match: {etag}",),
        )
        for name, (url, headers) in runs.items():
            with console.status(f"wrk {name} ({seconds} s)"):
                result = loadtest.run_wrk(base + url, seconds, headers=headers).as_dict()
            figures[name] = {**result, "bytes": sizes.get(name, 0)}
    api_bytes = sizes["/api/daily_papers, latest day"]
    port = loadtest.free_port()
    baseline = [
        *(sys.executable, "-m", "uvicorn", "baseline_app:create", "--factory"),
        *("--app-dir", str(Path(__file__).parent), "--workers", "2", "--port", str(port)),
        *("--loop", "uvloop", "--http", "httptools", "--log-level", "info", "--no-access-log"),
    ]
    with (
        loadtest.running_server(
            baseline, port, out / "baseline.log", {"BASELINE_BYTES": str(api_bytes)}
        ) as base,
        console.status(f"wrk baseline ({seconds} s)"),
    ):
        figures["constant response (baseline)"] = {
            **loadtest.run_wrk(base + "/", seconds).as_dict(),
            "bytes": api_bytes,
        }
    constant = figures["constant response (baseline)"]["req_per_s"]
    for row in figures.values():
        row["ratio_to_baseline"] = round(row["req_per_s"] / constant, 3)
    return figures


def print_table(figures: dict[str, Any]) -> None:
    table = Table(
        title="API and feeds under load: wrk, 64 connections, `papertide serve --workers 2`"
    )
    for column in ("what", "req/s", "p50", "p99", "bytes", "vs constant", "target"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for name, row in figures.items():
        target = ""
        if name.startswith("/api/"):
            met = row["req_per_s"] >= TARGET_RPS and row["errors"] == 0
            target = f">= {TARGET_RPS:,.0f}/s: " + (
                "[green]met[/green]" if met else "[red]missed[/red]"
            )
        table.add_row(
            name,
            f"{row['req_per_s']:,.0f}",
            f"{row['p50_ms']:.2f} ms",
            f"{row['p99_ms']:.2f} ms",
            f"{row['bytes']:,}",
            f"{row['ratio_to_baseline']:.0%}",
            target,
        )
    Console(width=150).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run's length")
    parser.add_argument(
        "--json", action="store_true", help="print the figures as one JSON line last"
    )
    args = parser.parse_args()
    if loadtest.wrk_path() is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    out = (args.out / "api").resolve()
    out.mkdir(parents=True, exist_ok=True)
    database_url, busiest = build_database(args.data, out)
    figures = load(database_url, busiest, out, args.seconds)
    print_table(figures)
    if args.json:
        machine = f"{len(os.sched_getaffinity(0))} CPUs, Python {sys.version.split()[0]}"
        print(json.dumps({"machine": machine, "busiest_day": busiest, "load": figures}))


if __name__ == "__main__":
    main()
