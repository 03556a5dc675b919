"""Bulk-snapshot import throughput and peak memory (issue #3), at growing file sizes.

    python bench/snapshot.py [--data ../shared/data] [--out bench/out] [--sizes 100000,1000000]
                             [--json] [--profile] [--tracemalloc]

Builds, once and deterministically (fixed seed), snapshot files of N lines in the exact Kaggle
`arxiv-metadata-oai-snapshot` line format by recombining the 1,130 real records of
`arxiv_kaggle_format/arxiv_browse_kaggle_format.jsonl` under new unique ids. Then, for each
size, a fresh migrated SQLite database under --out and `run_import(db,
arxiv_snapshot_source([file]))` in a subprocess of its own, so that peak memory is that of one
import. docs/benchmarks.md says what each figure measures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from procstat import mib, status_kib

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("arxiv_kaggle_format") / "arxiv_browse_kaggle_format.jsonl"
SEED = 3
GENERATOR = 1  # bump when the generated lines change, so cached files are rebuilt
PER_MONTH = 10_000  # ids YYMM.00001 .. YYMM.10000, from 1501 on (five-digit numbers)
SAMPLE_EVERY = 20  # batches (of 500 records) between two memory samples in the child

console = Console(stderr=True)


# -- generating the snapshot files ------------------------------------------------------------


def _months() -> Iterator[str]:
    year, month = 15, 1
    while True:
        yield f"{year:02d}{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _sentences(abstract: str | None) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", (abstract or "").strip()) if s]


def _lines(rows: list[dict[str, Any]], n: int, seed: int) -> Iterator[str]:
    """`n` Kaggle-format lines mixed from `rows`: ids new and unique, fields from different rows.

    Each line takes its versions, update date, categories, license and report number from one
    real record, its title from a second, its authors (and submitter) from a third, its
    comments, journal-ref and DOI from a fourth, and its abstract from the first sentences of a
    fifth followed by the last sentences of a sixth.
    """
    rng = random.Random(seed)
    sentences = [_sentences(row["abstract"]) for row in rows]
    months = _months()
    month = ""
    for i in range(n):
        if i % PER_MONTH == 0:
            month = next(months)
        base, titled, authored, noted = (rows[rng.randrange(len(rows))] for _ in range(4))
        head, tail = (sentences[rng.randrange(len(rows))] for _ in range(2))
        cut_head = rng.randint(1, max(1, len(head)))
        cut_tail = rng.randrange(len(tail)) if tail else 0
        abstract = " ".join(head[:cut_head] + tail[cut_tail:])
        line = {
            "id": f"{month}.{i % PER_MONTH + 1:05d}",
            "submitter": authored["submitter"],
            "authors": authored["authors"],
            "title": titled["title"],
            "comments": noted["comments"],
            "journal-ref": noted["journal-ref"],
            "doi": noted["doi"],
            "report-no": base["report-no"],
            "categories": base["categories"],
            "license": base["license"],
            "abstract": f"  {abstract}\n",
            "versions": base["versions"],
            "update_date": base["update_date"],
            "authors_parsed": authored["authors_parsed"],
        }
        yield json.dumps(line, ensure_ascii=False) + "\n"


def snapshot_file(data: Path, out: Path, n: int, seed: int = SEED) -> Path:
    """The generated file of `n` lines under `out` (built once; reused when already there)."""
    path = out / f"snapshot-{n}-seed{seed}-g{GENERATOR}.jsonl"
    if path.exists():
        return path
    source = data / SOURCE
    if not source.exists():
        raise SystemExit(f"no {source}: pass --data ../shared/data")
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    partial = path.with_suffix(".partial")
    status = console.status(f"generating {n:,} lines from {len(rows):,} real records")
    with status, partial.open("w", encoding="utf-8") as handle:
        handle.writelines(_lines(rows, n, seed))
    partial.rename(path)
    return path


# -- the import, in a child process -----------------------------------------------------------


def child_import(db_file: Path, snapshot: Path, profile: Path | None, traced: bool) -> None:
    """Import `snapshot` into the migrated `db_file`; print the figures as one JSON line."""
    import tracemalloc

    from papertide.db.engine import Database
    from papertide.ingest.arxiv_snapshot import arxiv_snapshot_source
    from papertide.ingest.runner import run_import

    db = Database(f"sqlite:///{db_file}")
    before = status_kib()
    samples: list[tuple[int, int, int]] = []  # (records so far, RssAnon KiB, RssFile KiB)
    batches = 0

    def progress(_advance: int) -> None:
        nonlocal batches
        batches += 1
        if batches % SAMPLE_EVERY == 0:
            status = status_kib()
            samples.append((batches * 500, status["RssAnon"], status["RssFile"]))

    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(run_import, db, arxiv_snapshot_source([snapshot]), progress)
        profiler.dump_stats(profile)
    else:
        result = run_import(db, arxiv_snapshot_source([snapshot]), progress)
    seconds = time.perf_counter() - started
    heap_peak = tracemalloc.get_traced_memory()[1] if traced else None
    db.dispose()
    end = status_kib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "records": result.report.records_read,
                "papers_new": result.counts.papers_new,
                "skipped": len(result.report.problems),
                "rss_before_kib": before["VmRSS"],
                "vm_hwm_kib": end["VmHWM"],
                "rss_anon_end_kib": end["RssAnon"],
                "rss_file_end_kib": end["RssFile"],
                "rss_samples": samples,
                "heap_peak_bytes": heap_peak,
            }
        )
    )


# -- the parent -------------------------------------------------------------------------------


def fresh_database(out: Path, n: int) -> Path:
    """A new, migrated SQLite database for the import of `n` lines."""
    from papertide.db.engine import Database
    from papertide.db.migrate import upgrade

    db_file = out / f"snapshot-{n}.db"
    for stale in out.glob(f"{db_file.name}*"):
        stale.unlink()
    db = Database(f"sqlite:///{db_file}")
    upgrade(db)
    db.dispose()
    return db_file


def measure(
    out: Path, n: int, snapshot: Path, profile: Path | None = None, traced: bool = False
) -> dict[str, Any]:
    """One import of `snapshot` (n lines) in a child process; its figures."""
    db_file = fresh_database(out, n)
    command = [sys.executable, __file__, "--child", str(db_file), str(snapshot)]
    if profile is not None:
        command += ["--profile-to", str(profile)]
    if traced:
        command.append("--tracemalloc")
    label = "profiled " if profile else "traced " if traced else ""
    with console.status(f"{label}import of {n:,} lines (child process)"):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the import child failed:\n{done.stderr}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    with sqlite3.connect(db_file) as conn:
        papers = conn.execute("SELECT count(*) FROM paper").fetchone()[0]
    assert child["records"] == n and papers == n, f"{child['records']} read, {papers} stored of {n}"
    samples = child["rss_samples"]
    anon_peak = max([anon for _, anon, _ in samples] + [child["rss_anon_end_kib"]])
    file_peak = max([file for _, _, file in samples] + [child["rss_file_end_kib"]])
    return {
        "lines": n,
        "file_mib": mib(snapshot.stat().st_size / 1024),
        "seconds": round(child["seconds"], 1),
        "records_per_s": round(n / child["seconds"], 1),
        "peak_rss_mib": mib(child["vm_hwm_kib"]),
        "peak_rss_anon_mib": mib(anon_peak),
        "peak_rss_file_mib": mib(file_peak),
        "rss_before_import_mib": mib(child["rss_before_kib"]),
        "rss_anon_mib_by_records": {
            str(records): mib(anon)
            for records, anon, _ in samples[:: max(1, len(samples) // 10)] + samples[-1:]
        },
        "heap_peak_mib": (
            round(child["heap_peak_bytes"] / 2**20, 1) if child["heap_peak_bytes"] else None
        ),
        "db_mib": mib(sum(f.stat().st_size for f in out.glob(f"{db_file.name}*")) / 1024),
        "papers": papers,
    }


def print_table(figures: dict[str, Any]) -> None:
    table = Table(title=f"Bulk snapshot import ({figures['machine']})")
    for column in (
        "lines",
        "file",
        "time",
        "records/s",
        "peak RSS",
        "peak anon RSS",
        "peak file-backed RSS",
        "database",
    ):
        table.add_column(column, justify="right")
    for f in figures["runs"]:
        table.add_row(
            f"{f['lines']:,}",
            f"{f['file_mib']:,.0f} MiB",
            f"{f['seconds']:,} s",
            f"{f['records_per_s']:,.0f}",
            f"{f['peak_rss_mib']} MiB",
            f"{f['peak_rss_anon_mib']} MiB",
            f"{f['peak_rss_file_mib']} MiB",
            f"{f['db_mib']:,.0f} MiB",
        )
    out = Console(width=max(Console().width, 130))
    out.print(table)
    if "ratios" in figures:
        r = figures["ratios"]
        out.print(
            f"{r['sizes']}: peak RSS x{r['peak_rss']}, peak anon RSS x{r['peak_rss_anon']}, "
            f"records/s x{r['records_per_s']} (flat memory: about 1.0)"
        )
    for f in figures["runs"]:
        curve = ", ".join(f"{int(k):,}: {v}" for k, v in f["rss_anon_mib_by_records"].items())
        out.print(f"{f['lines']:,} lines, anon RSS (MiB) after N records: {curve}")
    if "traced" in figures:
        t = figures["traced"]
        out.print(f"tracemalloc, {t['lines']:,} lines: peak Python heap {t['heap_peak_mib']} MiB")
    if "profile" in figures:
        p = figures["profile"]
        out.print(
            f"cProfile, {p['lines']:,} lines ({p['seconds_under_cprofile']} s under the profiler),"
            " top by own time (full list in snapshot.txt):"
        )
        for line in p["top_tottime"]:
            out.print(line, highlight=False, markup=False)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        help="comma-separated line counts (default 100000,1000000)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print all figures as one JSON line last"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also an import of the smallest size under tracemalloc (peak Python heap)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also a cProfile'd import of the smallest size (top costs to out/snapshot.prof)",
    )
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def _top_costs(profile: Path, count: int = 15) -> list[str]:
    import io
    import pstats

    text = io.StringIO()
    pstats.Stats(str(profile), stream=text).sort_stats("tottime").print_stats(count)
    (profile.with_suffix(".txt")).write_text(text.getvalue())
    return [line for line in text.getvalue().splitlines() if re.match(r"\s+\d", line)]


def main() -> None:
    args = parse_args()
    if args.child:
        child_import(args.child[0], args.child[1], args.profile_to, args.tracemalloc)
        return
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    files = {n: snapshot_file(args.data, out, n) for n in sizes}
    figures: dict[str, Any] = {
        "machine": f"{len(os.sched_getaffinity(0))} CPUs, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}",
        "seed": SEED,
        "runs": [measure(out, n, files[n]) for n in sizes],
    }
    if len(sizes) > 1:
        small, large = figures["runs"][0], figures["runs"][-1]
        figures["ratios"] = {
            "sizes": f"{large['lines']:,} / {small['lines']:,}",
            "peak_rss": round(large["peak_rss_mib"] / small["peak_rss_mib"], 2),
            "peak_rss_anon": round(large["peak_rss_anon_mib"] / small["peak_rss_anon_mib"], 2),
            "records_per_s": round(large["records_per_s"] / small["records_per_s"], 2),
        }
    if args.tracemalloc:
        traced = measure(out, sizes[0], files[sizes[0]], traced=True)
        figures["traced"] = {"lines": sizes[0], "heap_peak_mib": traced["heap_peak_mib"]}
    if args.profile:
        profile = out / "snapshot.prof"
        profiled = measure(out, sizes[0], files[sizes[0]], profile=profile)
        figures["profile"] = {
            "lines": sizes[0],
            "seconds_under_cprofile": profiled["seconds"],
            "top_tottime": _top_costs(profile),
        }
    print_table(figures)
    if args.json:
        print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
