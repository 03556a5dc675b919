"""A new host's keyword index: built from the database, or downloaded as a snapshot (issue #11).

    python bench/keyword_snapshot.py [--source bench/out/search/real/papertide.db]
                                     [--out bench/out/keyword-snapshot] [--postgresql]
                                     [--database-url URL] [--json]

--source is a SQLite corpus (bench/search_latency.py's `real` corpus: 80,317 real papers). It
is copied under --out and migrated there (the source is only read). With --postgresql its
papers and daily entries (all the keyword index reads) are also copied into a private
PostgreSQL (bench/pg_corpus.py's server, under --out/pg) and measured there too; with
--database-url, that database is measured instead of a copy (it must be migrated and hold
papers).

For each database, in this process and on this machine's disk:
- build: `TextIndex.build` (what a host without a snapshot does), seconds;
- the archive: plain tar and zlib level 1 (what TAR_GZIP would choose), size and time;
- publish: `text_snapshot.publish` (pack under the writer lock, then store the chunks);
- fresh host: `ensure_text_index` in an empty data directory, which downloads the snapshot,
  checks it, unpacks it and opens it (a build would fail the run), then reopening it;
- the first search on the downloaded index, to show it is usable at once.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from papertide.db import Database
from papertide.db.fts import Filters
from papertide.db.migrate import upgrade
from papertide.search import keyword, text_snapshot
from papertide.search.text_index import TextIndex, ensure_text_index, index_root

ROOT = Path(__file__).resolve().parent.parent
console = Console(stderr=True)
QUERY = "graph neural networks for molecules"


def measure(url: str, out: Path) -> dict[str, Any]:
    """The figures of one database (see the module docstring)."""
    db = Database(url)
    figures: dict[str, Any] = {"backend": db.dialect}
    worker, host = out / "worker", out / "host"
    for folder in (worker, host):
        shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    built = TextIndex.build(db, worker)
    figures["papers"] = len(built)
    figures["build_s"] = round(time.perf_counter() - started, 2)
    console.print(f"[{db.dialect}] built {len(built):,} papers in {figures['build_s']} s")
    figures["index_mib"] = _mib(_folder_size(index_root(worker) / built.state.generation))
    figures |= _archives(index_root(worker) / built.state.generation, out)
    published = text_snapshot.publish(db, worker)
    figures["snapshot_mib"] = _mib(published.byte_size)
    figures["pack_s"] = round(published.pack_s, 2)
    figures["store_s"] = round(published.store_s, 2)
    console.print(f"[{db.dialect}] {published.summary()}")
    figures |= _fresh_host(db, host)
    db.dispose()
    return figures


def _archives(folder: Path, out: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, level in (("tar", None), ("tar_zlib1", 1)):
        archive = out / f"{name}.bench"
        started = time.perf_counter()
        text_snapshot.pack(folder, archive, level)
        figures[f"{name}_s"] = round(time.perf_counter() - started, 2)
        figures[f"{name}_mib"] = _mib(archive.stat().st_size)
        archive.unlink()
    return figures


def _fresh_host(db: Database, host: Path) -> dict[str, Any]:
    def refuse(*_args: Any) -> TextIndex:
        raise AssertionError("the fresh host built its index instead of downloading it")

    build = TextIndex._build_locked
    TextIndex._build_locked = refuse  # type: ignore[method-assign,assignment]
    try:
        started = time.perf_counter()
        index = ensure_text_index(db, host)
        restored = time.perf_counter() - started
    finally:
        TextIndex._build_locked = build  # type: ignore[method-assign]
    started = time.perf_counter()
    reopened = TextIndex.open(host)
    reopen = time.perf_counter() - started
    words = keyword.recall_words(keyword.terms(QUERY))
    started = time.perf_counter()
    with db.read() as conn:
        hits = reopened.ranked(conn, words, Filters(), 100)
    first_search = time.perf_counter() - started
    assert hits and len(index) == len(reopened)
    return {
        "download_open_s": round(restored, 2),
        "reopen_s": round(reopen, 3),
        "first_search_ms": round(first_search * 1000, 1),
    }


def _folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def _mib(size: int) -> float:
    return round(size / 2**20, 1)


def sqlite_copy(source: Path, out: Path) -> str:
    """A migrated copy of the SQLite corpus under `out` (remade when the source changed)."""
    target = out / "papertide.db"
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        out.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
            original.backup(copy)
    url = f"sqlite:///{target}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    return url


def postgresql_copy(source: Path, out: Path) -> tuple[Any, str]:
    """The private server and a copy of the corpus's papers and daily entries in it."""
    import pg_corpus  # bench/, beside this script
    from papertide.db.schema import daily_entry, paper, user

    server = pg_corpus.start_server(out)
    name = "keyword_snapshot"
    pg_corpus.create_database(server, name)
    url = pg_corpus.database_url(server, name)
    db = Database(url)
    upgrade(db)
    started = time.perf_counter()
    for table in (paper, user, daily_entry):
        pg_corpus._copy_table(db, table, pg_corpus._rows(source, table))
    with db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    console.print(f"copied the papers into PostgreSQL in {time.perf_counter() - started:.0f} s")
    db.dispose()
    return server, url


def report(results: list[dict[str, Any]]) -> None:
    table = Table("figure", *[result["backend"] for result in results])
    for key in results[0]:
        if key != "backend":
            table.add_row(key, *[str(result.get(key, "")) for result in results])
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    default = ROOT / "bench" / "out" / "search" / "real" / "papertide.db"
    parser.add_argument("--source", type=Path, default=default)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "keyword-snapshot")
    parser.add_argument("--postgresql", action="store_true", help="also on a private PostgreSQL")
    parser.add_argument("--database-url", help="measure this database instead of a copy")
    parser.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    args = parser.parse_args()
    results = []
    if args.database_url:
        results.append(measure(args.database_url, args.out / "given"))
    else:
        if not args.skip_sqlite:
            url = sqlite_copy(args.source, args.out / "sqlite")
            results.append(measure(url, args.out / "sqlite"))
        if args.postgresql:
            server, url = postgresql_copy(args.source, args.out)
            results.append(measure(url, args.out / "postgresql"))
            del server
    report(results)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
