"""Trending page latency (issue #5) with ~80k papers and ~10k upvotes, in-process.

    python bench/trending.py [--out bench/out] [--upvotes 10000] [--quick] [--fresh] [--json]

Starts from the 80k-paper database bench/core.py builds (bench/out/data/papertide.db; run
`python bench/core.py --no-load` first if it is missing) and never writes to it: it copies it
to bench/out/trending/, adds synthetic users (a fifth of them new accounts), ~10k upvotes on
recently featured papers and 6-hourly star snapshots of their repositories (what the
github-stars job would have recorded), then times requests through the ASGI app as
bench/core.py does, with the daily page as the baseline of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from core import Latency, asgi_get, copy_of_core_database
from papertide.db import Database
from papertide.db.schema import daily_entry, paper, repo_stars, upvote, user
from papertide.db.writes import bump_content_version
from papertide.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
USERS = 2_000
NEW_SHARE = 0.2  # of the synthetic users, accounts younger than 7 days at the end
RECENT_DAYS = 30
SEED = 5
PREFIX = "bench-voter-"

console = Console(stderr=True)


def add_activity(db: Database, upvotes: int) -> dict[str, int]:
    """Synthetic users, upvotes and star snapshots, once per copy (deterministic)."""
    with db.write() as conn:
        have = conn.execute(
            sa.select(sa.func.count()).select_from(user).where(user.c.username.like(f"{PREFIX}%"))
        ).scalar_one()
        if have:
            return _counts(conn)
        rng = random.Random(SEED)
        last_day = conn.execute(sa.select(sa.func.max(daily_entry.c.date))).scalar_one()
        end = dt.datetime.combine(last_day, dt.time(23))
        voters = _add_users(conn, rng, end)
        recent, older = _featured(conn, last_day)
        _add_upvotes(conn, rng, voters, recent, older, upvotes, end)
        _add_stars(conn, rng, recent, end)
        bump_content_version(conn)
        return _counts(conn)


def _add_users(
    conn: sa.Connection, rng: random.Random, end: dt.datetime
) -> list[tuple[int, dt.datetime]]:
    rows = []
    for i in range(USERS):
        if rng.random() < NEW_SHARE:
            created = end - dt.timedelta(hours=rng.uniform(24, 7 * 24))
        else:
            created = end - dt.timedelta(days=rng.uniform(30, 700))
        name = f"{PREFIX}{i}"
        rows.append({"username": name, "username_key": name, "created_at": created})
    conn.execute(user.insert(), rows)
    found = conn.execute(
        sa.select(user.c.id, user.c.created_at).where(user.c.username.like(f"{PREFIX}%"))
    )
    return [(row.id, row.created_at) for row in found]


def _featured(conn: sa.Connection, last_day: dt.date) -> tuple[list[Any], list[Any]]:
    """Featured papers of the last RECENT_DAYS days, and all the others."""
    rows = conn.execute(
        sa.select(
            daily_entry.c.paper_id,
            sa.func.min(daily_entry.c.date).label("day"),
            paper.c.imported_upvotes,
            paper.c.github_repo,
        )
        .join(paper, paper.c.id == daily_entry.c.paper_id)
        .group_by(daily_entry.c.paper_id, paper.c.imported_upvotes, paper.c.github_repo)
    ).all()
    start = last_day - dt.timedelta(days=RECENT_DAYS - 1)
    return [r for r in rows if r.day >= start], [r for r in rows if r.day < start]


def _add_upvotes(
    conn: sa.Connection,
    rng: random.Random,
    voters: list[tuple[int, dt.datetime]],
    recent: list[Any],
    older: list[Any],
    target: int,
    end: dt.datetime,
) -> None:
    """85 % on recent papers (popular ones more), 15 % on any older featured paper."""
    weights = [row.imported_upvotes + 1 for row in recent]
    seen: set[tuple[int, str]] = set()
    rows = []
    while len(rows) < target:
        row = rng.choices(recent, weights)[0] if rng.random() < 0.85 else rng.choice(older)
        voter, created = rng.choice(voters)
        key = (voter, row.paper_id)
        if key in seen:
            continue
        seen.add(key)
        featured = dt.datetime.combine(row.day, dt.time())
        at = featured + dt.timedelta(hours=rng.expovariate(1 / 30))
        at = min(max(at, created + dt.timedelta(hours=1)), end)
        rows.append({"user_id": key[0], "paper_id": row.paper_id, "created_at": at})
    conn.execute(upvote.insert(), rows)


def _add_stars(
    conn: sa.Connection, rng: random.Random, recent: list[Any], end: dt.datetime
) -> None:
    """A snapshot every 6 hours (at 03, 09, 15, 21 h) from the featured day to the end."""
    repos = {row.github_repo.lower(): row.day for row in recent if row.github_repo}
    known = dict(  # HF's count on the featured day, where it gave one
        conn.execute(
            sa.select(repo_stars.c.repo, sa.func.max(repo_stars.c.stars)).group_by(
                repo_stars.c.repo
            )
        ).all()
    )
    rows = []
    for repo, day in sorted(repos.items()):
        stars = known.get(repo, rng.randint(0, 500))
        per_snapshot = rng.choice([0.5, 2, 5, 20, 80])  # most repositories slow, a few take off
        at = dt.datetime.combine(day, dt.time(3))
        while at <= end:
            stars += max(0, round(rng.gauss(per_snapshot, per_snapshot)))
            rows.append({"repo": repo, "stars": stars, "observed_at": at})
            at += dt.timedelta(hours=6)
    conn.execute(repo_stars.insert(), rows)


def _counts(conn: sa.Connection) -> dict[str, int]:
    def count(table: sa.Table) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    return {
        "papers": count(paper),
        "featured": int(
            conn.execute(sa.select(sa.func.count(sa.distinct(daily_entry.c.paper_id)))).scalar_one()
        ),
        "users": count(user),
        "upvotes": count(upvote),
        "star_snapshots": count(repo_stars),
    }


async def _time(app: Any, urls: list[str], n: int, uncached: bool, before: Any = None) -> Latency:
    for i in range(min(20, n)):
        if before:
            before()
        await asgi_get(app, urls[i % len(urls)], uncached)
    samples = []
    for i in range(n):
        if before:
            before()
        t0 = time.perf_counter()
        await asgi_get(app, urls[i % len(urls)], uncached)
        samples.append((time.perf_counter() - t0) * 1000)
    return Latency(samples)


def pages(week: str, top_paper: str) -> dict[str, list[str]]:
    return {
        "daily page / (baseline)": ["/"],
        "trending 7 days": ["/papers/trending"],
        "trending 30 days": ["/papers/trending?window=30d"],
        "trending all": ["/papers/trending?window=all"],
        "trending all, page 2": ["/papers/trending?window=all&p=2"],
        "paper page with charts": [f"/papers/{top_paper}"],
        "API week, newest first": [f"/api/daily_papers?week={week}"],
        "API week sort=trending": [f"/api/daily_papers?week={week}&sort=trending"],
    }


async def measure(app: Any, n: int, cold_n: int) -> dict[str, Any]:
    service = app.state.trending
    top = service.window("7d").trending[0].paper_id
    clock = service.window("7d").clock
    year, week, _ = clock.isocalendar()
    figures: dict[str, Any] = {}
    for name, urls in pages(f"{year}-W{week:02d}", top).items():
        figures[name] = {"bytes": len(await asgi_get(app, urls[0], True))}
        figures[name]["rendered"] = (await _time(app, urls, n, True)).as_dict()
        if not urls[0].startswith("/api/"):
            figures[name]["cached"] = (await _time(app, urls, n, False)).as_dict()
    for window in ("7d", "30d", "all"):
        url = "/papers/trending" + ("" if window == "7d" else f"?window={window}")
        cold = await _time(app, [url], cold_n, True, before=service.forget)
        figures[f"trending {window}, first view after a change"] = {"rendered": cold.as_dict()}
    baseline = figures["daily page / (baseline)"]["rendered"]["p50_ms"]
    for value in figures.values():
        value["ratio_to_daily"] = round(value["rendered"]["p50_ms"] / baseline, 2)
    figures["top_7d"] = [[s.paper_id, round(s.score, 2)] for s in service.window("7d").trending[:5]]
    return figures


def print_table(figures: dict[str, Any]) -> None:
    table = Table(title="Trending page latency, in-process (ms)")
    for column in ("page", "rendered p50", "p99", "× daily", "cached p50", "p99", "bytes"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for name, value in figures["pages"].items():
        if name == "top_7d":
            continue
        rendered, cached = value["rendered"], value.get("cached")
        table.add_row(
            name,
            f"{rendered['p50_ms']:.2f}",
            f"{rendered['p99_ms']:.2f}",
            f"{value['ratio_to_daily']:.2f}",
            f"{cached['p50_ms']:.2f}" if cached else "",
            f"{cached['p99_ms']:.2f}" if cached else "",
            f"{value.get('bytes', ''):,}" if "bytes" in value else "",
        )
    Console().print(table)
    Console().print(f"data: {figures['data']}; {figures['machine']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--upvotes", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="100 requests a page, not 500")
    parser.add_argument("--fresh", action="store_true", help="copy the database again")
    parser.add_argument("--json", action="store_true", help="print all figures as one JSON line")
    args = parser.parse_args()
    out = args.out.resolve()
    settings = copy_of_core_database(out, "trending", args.fresh)
    app = create_app(settings)  # migrates the copy to the current schema
    with console.status("adding synthetic users, upvotes and star snapshots"):
        data = add_activity(app.state.db, args.upvotes)
    n, cold_n = (100, 20) if args.quick else (500, 50)
    figures: dict[str, Any] = {
        "machine": f"{len(os.sched_getaffinity(0))} CPUs, Python {sys.version.split()[0]}",
        "data": data,
    }
    with console.status("timing pages in-process"):
        figures["pages"] = asyncio.run(measure(app, n, cold_n))
    app.state.db.dispose()
    print_table(figures)
    if args.json:
        print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
