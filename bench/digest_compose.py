"""Digest composition (issue #6): build an edition for 100,000 subscribers with topics, then
render every delivery, on the ~80k-paper benchmark database.

    python bench/digest_compose.py [--out bench/out] [--subscribers 100000] [--fresh] [--json]

Starts from the database bench/core.py builds (bench/out/data/papertide.db; run
`python bench/core.py --no-load` first if it is missing) and never writes to it: it copies it
to bench/out/digest/ with SQLite's backup API, adds confirmed subscribers with varied topics
(a fifth trending only, the rest categories, keywords, a saved search or a mix, drawn from the
words of the papers' titles so that some match and many do not), then for the daily and the
weekly edition times `build_edition` (the frozen selections, written in batches) and the
rendering of every delivery (text + HTML, with the signed links). The baselines of the same
run: one digest rendered over and over (the floor of a render), and renders with a fresh
Renderer each time (what the compiled templates and the cached paper fragments save).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from core import copy_of_core_database
from papertide.bootstrap import open_database
from papertide.config import Settings
from papertide.db import Database
from papertide.db.schema import daily_entry, delivery, paper, subscriber
from papertide.digest.compose import Digest, Kind, Recipient, Topics, digest_of
from papertide.digest.editions import build_edition, paper_data
from papertide.digest.render import DigestLinks, Renderer

ROOT = Path(__file__).resolve().parent.parent
SEED = 6
PREFIX = "bench-reader-"
TARGET_S = 60.0
console = Console(stderr=True)


def _vocabulary(conn: sa.Connection, rng: random.Random) -> dict[str, list[str]]:
    """Words, phrases, categories and searches to draw topics from: half from the last month's
    featured papers (they can match), half from the whole corpus (most cannot)."""
    last = conn.execute(sa.select(sa.func.max(daily_entry.c.date))).scalar_one()
    recent = conn.execute(
        sa.select(paper.c.title)
        .join(daily_entry, daily_entry.c.paper_id == paper.c.id)
        .where(daily_entry.c.date > last - dt.timedelta(days=30))
    ).scalars()
    corpus = conn.execute(
        sa.select(paper.c.title, paper.c.categories).order_by(paper.c.seq).limit(20_000)
    ).all()
    words: Counter[str] = Counter()
    phrases: Counter[str] = Counter()
    for title in [*recent, *(row.title for row in corpus[:5000])]:
        tokens = re.findall(r"[a-z][a-z0-9-]{3,}", title.lower())
        words.update(tokens)
        phrases.update(" ".join(pair) for pair in itertools.pairwise(tokens))
    categories: Counter[str] = Counter(c for row in corpus for c in (row.categories or []))
    queries = [
        line.strip()
        for line in (ROOT / "bench" / "queries.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return {
        "words": [w for w, _ in words.most_common(3000)],
        "phrases": [p for p, _ in phrases.most_common(1500)],
        "categories": [c for c, _ in categories.most_common(60)],
        "searches": queries
        + [f"{a} {b}" for a, b in zip(*[iter(rng.sample(list(words), 400))] * 2, strict=False)],
    }


def _topics(rng: random.Random, vocabulary: dict[str, list[str]]) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.2:
        return {}
    topics: dict[str, Any] = {}
    if roll < 0.5 or rng.random() < 0.2:
        topics["categories"] = rng.sample(vocabulary["categories"], rng.randint(1, 3))
    if 0.4 <= roll < 0.85 or rng.random() < 0.2:
        pool = vocabulary["words"] if rng.random() < 0.6 else vocabulary["phrases"]
        topics["keywords"] = rng.sample(pool, rng.randint(1, 5))
    if roll >= 0.85:
        topics["search"] = rng.choice(vocabulary["searches"])
    if rng.random() < 0.05:
        topics["like_upvotes"] = True  # no accounts and no vector index here: matches nothing
    return topics


def add_subscribers(db: Database, count: int) -> int:
    """Confirmed subscribers with varied topics, once per copy (deterministic)."""
    with db.write() as conn:
        have = conn.execute(
            sa.select(sa.func.count())
            .select_from(subscriber)
            .where(subscriber.c.email_key.like(f"{PREFIX}%"))
        ).scalar_one()
        if have >= count:
            return int(have)
        conn.execute(subscriber.delete().where(subscriber.c.email_key.like(f"{PREFIX}%")))
        rng = random.Random(SEED)
        vocabulary = _vocabulary(conn, rng)
        now = dt.datetime(2026, 8, 1)
        rows = [
            {
                "email": f"{PREFIX}{i}@example.org",
                "email_key": f"{PREFIX}{i}@example.org",
                "frequency": "daily",
                "topics": _topics(rng, vocabulary),
                "status": "confirmed",
                "token_salt": f"{rng.getrandbits(128):032x}",
                "created_at": now,
                "confirmed_at": now,
            }
            for i in range(count)
        ]
        for start in range(0, count, 10_000):
            conn.execute(subscriber.insert(), rows[start : start + 10_000])
    return count


def reset_editions(db: Database, kind: str) -> None:
    """Forget earlier runs' editions and point every subscriber at `kind`."""
    with db.write() as conn:
        for table in ("digest_paper", "delivery", "edition"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(subscriber.update().values(frequency=kind))


def render_all(db: Database, settings: Settings, edition_id: int) -> dict[str, Any]:
    """Render every delivery of the edition as the sender would: links, topics, both bodies."""
    started = time.perf_counter()
    with db.read() as conn:
        kind, period, papers_ids = conn.execute(
            sa.text("SELECT kind, period, papers FROM edition WHERE id = :id"), {"id": edition_id}
        ).one()
        papers = paper_data(conn, json.loads(papers_ids), settings.public_url)
        rows = conn.execute(
            sa.select(
                subscriber.c.id,
                subscriber.c.email,
                subscriber.c.token_salt,
                subscriber.c.topics,
                delivery.c.papers,
            )
            .join(subscriber, subscriber.c.id == delivery.c.subscriber_id)
            .where(delivery.c.edition_id == edition_id, delivery.c.status == "pending")
        ).all()
    read_s = time.perf_counter() - started
    renderer = Renderer(settings.site_name)
    size = 0
    sample: tuple[Digest, DigestLinks] | None = None
    for row in rows:
        recipient = Recipient(row.id, row.email, Topics.parse(row.topics))
        digest = digest_of(recipient, cast(Kind, kind), period, row.papers, papers)
        links = DigestLinks.for_subscriber(
            settings.public_url, settings.secret_key, row.id, row.token_salt
        )
        text, html = renderer.render(digest, links)
        size += len(text) + len(html)
        if sample is None or len(digest.papers) > len(sample[0].papers):
            sample = (digest, links)
    seconds = time.perf_counter() - started
    return {
        "rendered": len(rows),
        "seconds": round(seconds, 2),
        "read_s": round(read_s, 2),
        "mean_bytes": round(size / max(len(rows), 1)),
        "sample": sample,
    }


def baselines(sample: tuple[Digest, DigestLinks], site_name: str) -> dict[str, float]:
    """µs per render: the same digest again and again; and with a fresh Renderer each time."""
    digest, links = sample
    renderer = Renderer(site_name)
    renderer.render(digest, links)
    n = 20_000
    started = time.perf_counter()
    for _ in range(n):
        renderer.render(digest, links)
    same = (time.perf_counter() - started) / n * 1e6
    n_cold = 300
    started = time.perf_counter()
    for _ in range(n_cold):
        Renderer(site_name).render(digest, links)
    cold = (time.perf_counter() - started) / n_cold * 1e6
    return {"same_digest_us": round(same, 1), "fresh_renderer_us": round(cold, 1)}


def run(db: Database, settings: Settings, kind: Kind, now: dt.datetime) -> dict[str, Any]:
    reset_editions(db, kind)
    started = time.perf_counter()
    summary = build_edition(db, kind, now, settings, vectors=None)
    build_s = time.perf_counter() - started
    assert summary.edition_id is not None
    rendered = render_all(db, settings, summary.edition_id)
    total = build_s + rendered["seconds"]
    with db.read() as conn:
        top = json.loads(
            conn.execute(
                sa.text("SELECT papers FROM edition WHERE id = :id"), {"id": summary.edition_id}
            ).scalar_one()
        )[: settings.digest_max_papers]
        personal = sum(
            json.loads(papers) != top
            for papers in conn.execute(
                sa.text("SELECT papers FROM delivery WHERE edition_id = :id"),
                {"id": summary.edition_id},
            ).scalars()
        )
    composed = summary.pending + summary.skipped
    return {
        "period": summary.period,
        "papers": summary.papers,
        "pending": summary.pending,
        "skipped": summary.skipped,
        "personal": personal,  # deliveries other than the edition's top papers
        "build_s": round(build_s, 2),
        "render_s": rendered["seconds"],
        "render_read_s": rendered["read_s"],
        "total_s": round(total, 2),
        "composed_per_s": round(composed / total),
        "built_per_s": round(composed / build_s),
        "rendered_per_s": round(rendered["rendered"] / rendered["seconds"]),
        "mean_message_bytes": rendered["mean_bytes"],
        "baseline": baselines(rendered["sample"], settings.site_name),
        "mean_render_us": round(rendered["seconds"] / max(rendered["rendered"], 1) * 1e6, 1),
    }


def print_table(figures: dict[str, Any]) -> None:
    table = Table(
        title=f"Digests for {figures['subscribers']:,} subscribers ({figures['machine']})"
    )
    columns = ("edition", "papers", "pending / skipped", "personal", "build", "render")
    for column in (*columns, "total", "digests/s", "target"):
        table.add_column(column)
    for kind in ("daily", "weekly"):
        f = figures[kind]
        ok = "[green]met[/green]" if f["total_s"] < TARGET_S else "[red]missed[/red]"
        table.add_row(
            f"{kind} {f['period']}",
            str(f["papers"]),
            f"{f['pending']:,} / {f['skipped']:,}",
            f"{f['personal']:,}",
            f"{f['build_s']} s",
            f"{f['render_s']} s",
            f"{f['total_s']} s",
            f"{f['composed_per_s']:,}",
            f"< {TARGET_S:.0f} s {ok}",
        )
    Console(width=160).print(table)
    for kind in ("daily", "weekly"):
        f, b = figures[kind], figures[kind]["baseline"]
        Console(width=160).print(
            f"{kind}: a render costs {f['mean_render_us']} µs on average; the same digest "
            f"again {b['same_digest_us']} µs ({f['mean_render_us'] / b['same_digest_us']:.2f}×), "
            f"a fresh Renderer {b['fresh_renderer_us']} µs "
            f"({b['fresh_renderer_us'] / f['mean_render_us']:.0f}× the cached render)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="copy the database again")
    parser.add_argument("--json", action="store_true", help="print all figures as one JSON line")
    args = parser.parse_args()
    out = args.out.resolve()
    settings = copy_of_core_database(out, "digest", args.fresh)
    db = open_database(settings)  # migrates the copy to the current schema
    with console.status(f"adding {args.subscribers:,} subscribers"):
        add_subscribers(db, args.subscribers)
    with db.read() as conn:
        last = conn.execute(sa.select(sa.func.max(daily_entry.c.date))).scalar_one()
    # The Monday after the last featured day: the daily edition of that Friday, the weekly one
    # of its week.
    now = dt.datetime.combine(last + dt.timedelta(days=7 - last.weekday()), dt.time(9))
    figures: dict[str, Any] = {
        "machine": f"{len(os.sched_getaffinity(0))} CPUs, Python {sys.version.split()[0]}",
        "subscribers": args.subscribers,
        "now": now.isoformat(),
    }
    for kind in ("daily", "weekly"):
        with console.status(f"building and rendering the {kind} edition"):
            figures[kind] = run(db, settings, cast(Kind, kind), now)
    db.dispose()
    print_table(figures)
    if args.json:
        print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
