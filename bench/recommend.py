"""For you against readers made from arXiv authors (issue #14), beside arxiv-sanity-lite's method.

    python bench/recommend.py ../shared/data/recommend/readers-train.jsonl [--limit N] [--json]
        [--start K]
        [--listings ../shared/data/arxiv_listings] [--out bench/out] [--fresh]
        [--no-baseline] [--no-latency]

The listings go into a throwaway Papertide (SQLite, migrated by open_database, imported by
the arxiv-jsonl importer: a paper's `published_at` is its first listing date, its day); the
first N readers each become a member who upvotes their seed papers, and for each day with a
held paper the app's own `ForYouService.for_you` ranks that day's papers for them. A held
paper's rank gives hit@10, MRR and the percentile rank (1 = first, 0 = last). The same readers
and days are ranked by arxiv-sanity-lite's recommender, reimplemented here (bench/sanity.py).
Then the latency of `for_you` for a member with 200 upvotes on a day of 500 papers, and of the
For-you page itself (`/papers/for-you` through the whole app, as that member, signed in).
With --json the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import core
import sanity
from papertide.auth import sessions
from papertide.bootstrap import open_database
from papertide.clock import utcnow
from papertide.config import load_settings
from papertide.db import Database, votes
from papertide.db import accounts as stored_accounts
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.runner import run_import
from papertide.models import Account
from papertide.ranking.personal import ForYouService
from papertide.web.app import create_app
from papertide.web.auth import SESSION_COOKIE

ROOT = Path(__file__).resolve().parent.parent
TARGET_HIT10 = 0.40
TARGET_PAGE_P50_MS = 20
LATENCY_UPVOTES = 200
LATENCY_DAY = 500
console = Console(stderr=True)


@dataclass(frozen=True, slots=True)
class Reader:
    name: str
    seed: list[str]
    held: list[str]


@dataclass(slots=True)
class Ranks:
    """Where each held paper landed: (rank, candidates) pairs."""

    found: list[tuple[int, int]] = field(default_factory=list)

    def add(self, ranked: list[str], held: str) -> None:
        self.found.append((ranked.index(held) + 1, len(ranked)))

    def figures(self) -> dict[str, float]:
        n = len(self.found) or 1
        return {
            "hit@10": round(sum(r <= 10 for r, _ in self.found) / n, 4),
            "mrr": round(sum(1 / r for r, _ in self.found) / n, 4),
            "percentile": round(sum(1 - (r - 1) / max(c - 1, 1) for r, c in self.found) / n, 4),
            "held": len(self.found),
        }


def read_readers(path: Path, limit: int | None, start: int = 0) -> list[Reader]:
    """Readers `start` .. `start + limit - 1` of the file (all from `start` without a limit)."""
    readers = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number < start:
                continue
            row = json.loads(line)
            readers.append(Reader(row["reader"], row["seed"], row["held"]))
            if limit is not None and len(readers) >= limit:
                break
    return readers


def read_listings(files: list[Path]) -> dict[str, dict[str, Any]]:
    """Every listed paper with a listing date (the baseline reads them; the app imports them)."""
    papers: dict[str, dict[str, Any]] = {}
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("listing_dates"):
                    papers[row["id"]] = row
    return papers


def base_database(listings: list[Path], out: Path, fresh: bool) -> Path:
    """A migrated database with every listing imported, built once and reused."""
    folder = out / "recommend" / "base"
    target = folder / "papertide.db"
    if target.exists() and not fresh:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("papertide.db*"):
        stale.unlink()
    db = open_database(load_settings(None, data_dir=folder, load_demo=False))
    with console.status(f"importing {len(listings)} listing files"):
        result = run_import(db, arxiv_jsonl_source(listings))
    db.dispose()
    console.print(f"imported: {result.summary()}")
    return target


def copy_database(source: Path, folder: Path) -> Database:
    """A private copy of the base database (SQLite's backup API), opened as the app does."""
    original = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    copy = sqlite3.connect(folder / "papertide.db")
    original.backup(copy)
    copy.close()
    original.close()
    return open_database(load_settings(None, data_dir=folder, load_demo=False))


def member(db: Database, name: str, upvoted: list[str]) -> Account:
    """An account that upvoted `upvoted` (no password: it never logs in)."""
    now = utcnow()
    with db.write() as conn:
        account = stored_accounts.create_user(
            conn, f"r{name}", f"{name}@readers.invalid", "!", "member", now
        )
        for arxiv_id in upvoted:
            votes.set_upvote(conn, account.id, arxiv_id, True, now)
    return account


def held_days(reader: Reader, papers: dict[str, dict[str, Any]]) -> dict[dt.date, list[str]]:
    days: dict[dt.date, list[str]] = defaultdict(list)
    for arxiv_id in reader.held:
        days[dt.date.fromisoformat(papers[arxiv_id]["listing_dates"][0])].append(arxiv_id)
    return dict(sorted(days.items()))


def evaluate(
    db: Database,
    service: ForYouService,
    readers: list[Reader],
    papers: dict[str, dict[str, Any]],
    baseline: sanity.Sanity | None,
) -> tuple[Ranks, Ranks, float]:
    ours, theirs = Ranks(), Ranks()
    seconds = 0.0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("readers", total=len(readers))
        for reader in readers:
            account = member(db, reader.name, reader.seed)
            for day, held in held_days(reader, papers).items():
                started = time.perf_counter()
                ranked = [s.arxiv_id for s in service.for_you(account, day).ranked]
                seconds += time.perf_counter() - started
                if baseline is not None:
                    other = baseline.rank(reader.seed, day)
                for arxiv_id in held:
                    ours.add(ranked, arxiv_id)
                    if baseline is not None:
                        theirs.add(other, arxiv_id)
            progress.advance(task)
    return ours, theirs, seconds


def latency(db: Database, service: ForYouService, repeats: int, folder: Path) -> dict[str, Any]:
    """for_you, and the For-you page, for a member with 200 upvotes on a day of 500 papers
    (the busiest day's first 500 kept, the rest moved a year on), warm as a serving process is."""
    with db.read() as conn:
        day, _ = conn.exec_driver_sql(
            "SELECT date(published_at) AS d, count(*) FROM paper GROUP BY d "
            "ORDER BY count(*) DESC LIMIT 1"
        ).one()
        ids = [
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT id FROM paper WHERE date(published_at) = ? ORDER BY id", (day,)
            )
        ]
        total = conn.exec_driver_sql("SELECT count(*) FROM paper").scalar_one()
    with db.write() as conn:  # the bench's own copy: trim the day to exactly 500 papers
        for arxiv_id in ids[LATENCY_DAY:]:
            conn.exec_driver_sql(
                "UPDATE paper SET published_at = datetime(published_at, '+400 days') WHERE id = ?",
                (arxiv_id,),
            )
        others = [
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT id FROM paper WHERE date(published_at) < ? ORDER BY id", (day,)
            )
        ]
    account = member(db, "latency", random.Random(14).sample(others, LATENCY_UPVOTES))
    when = dt.date.fromisoformat(day)
    service.for_you(account, when)  # the day's and the upvotes' vectors, as after one request
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        page = service.for_you(account, when)
        samples.append((time.perf_counter() - started) * 1000)
    assert len(page.ranked) == LATENCY_DAY and page.upvotes == LATENCY_UPVOTES
    rendered = page_samples(folder, service, account, when, repeats)
    return {
        "papers": int(total),
        "upvotes": LATENCY_UPVOTES,
        "day": LATENCY_DAY,
        "n": repeats,
        **percentiles(samples),
        "page": percentiles(rendered),
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 2),
    }


def page_samples(
    folder: Path, service: ForYouService, account: Account, day: dt.date, repeats: int
) -> list[float]:
    """`/papers/for-you?date=DAY` through the whole app (middleware, session, the member's
    follows, cards, template), signed in as `account`; the app shares the warm ranker."""
    settings = load_settings(None, data_dir=folder, load_demo=False)
    app = create_app(settings)
    app.state.for_you = service  # warm already, as a serving process is after start-up
    lifetime = dt.timedelta(days=settings.session_lifetime_days)
    cookie = f"{SESSION_COOKIE}={sessions.start(app.state.db, account.id, lifetime)}"
    target = f"/papers/for-you?date={day.isoformat()}"

    async def run() -> list[float]:
        body = await core.asgi_get(app, target, "signed-in", cookie)
        assert b'class="card' in body, "the For-you page did not render its cards"
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            await core.asgi_get(app, target, "signed-in", cookie)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    try:
        return asyncio.run(run())
    finally:
        app.state.db.dispose()


def show(ours: dict[str, float], theirs: dict[str, float] | None, readers: int) -> None:
    table = Table(title=f"For you, {readers} readers, {ours['held']} held papers")
    for column in ("ranker", "hit@10", "MRR", "percentile"):
        table.add_column(column)
    table.add_row("Papertide For you", *(f"{ours[k]:.3f}" for k in ("hit@10", "mrr", "percentile")))
    if theirs is not None:
        table.add_row(
            "arxiv-sanity-lite (tf-idf 1-2 grams, linear SVM C=0.01)",
            *(f"{theirs[k]:.3f}" for k in ("hit@10", "mrr", "percentile")),
        )
    table.add_row("target", f"{TARGET_HIT10:.3f}", "", "")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("readers", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="the first N readers")
    parser.add_argument(
        "--start",
        type=int,
        default=0,
        help="skip the file's first readers (1000: readers the ranker's weights never saw)",
    )
    parser.add_argument("--listings", type=Path, default=ROOT.parent / "shared/data/arxiv_listings")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--fresh", action="store_true", help="re-import the listings")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--repeats", type=int, default=200, help="latency samples")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    listings = sorted(args.listings.glob("*.jsonl.gz"))
    if not listings:
        raise SystemExit(f"no *.jsonl.gz under {args.listings}")
    readers = read_readers(args.readers, args.limit, args.start)
    papers = read_listings(listings)
    source = base_database(listings, args.out, args.fresh)
    with tempfile.TemporaryDirectory(prefix="recommend-") as folder:
        db = copy_database(source, Path(folder))
        service = ForYouService(db)
        started = time.perf_counter()
        service.warm()
        warm_s = time.perf_counter() - started
        baseline = None
        if not args.no_baseline:
            with console.status("arxiv-sanity-lite's tf-idf over the corpus"):
                days = {d for r in readers for d in held_days(r, papers)}
                baseline = sanity.Sanity(papers, days)
        ours, theirs, seconds = evaluate(db, service, readers, papers, baseline)
        timing = None if args.no_latency else latency(db, service, args.repeats, Path(folder))
        db.dispose()
    figures = ours.figures()
    other = theirs.figures() if baseline is not None else None
    show(figures, other, len(readers))
    calls = len({(r.name, d) for r in readers for d in held_days(r, papers)})
    print(
        f"for_you: {calls} calls, {1000 * seconds / max(calls, 1):.1f} ms each on average; "
        f"term statistics counted once in {warm_s:.1f} s"
    )
    if timing is not None:
        page = timing["page"]
        print(
            f"latency at {timing['papers']:,} papers, {timing['upvotes']} upvotes, a day of "
            f"{timing['day']}: for_you p50 {timing['p50_ms']} ms, p99 {timing['p99_ms']} ms; "
            f"the page p50 {page['p50_ms']} ms, p99 {page['p99_ms']} ms "
            f"(target p50 <= {TARGET_PAGE_P50_MS} ms)"
        )
    if args.json:
        result: dict[str, Any] = {**figures, "readers": len(readers), "target_hit@10": TARGET_HIT10}
        result["baseline"] = other
        result["latency"] = timing
        result["warm_s"] = round(warm_s, 1)
        print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
