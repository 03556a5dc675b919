"""The search-latency corpora: ~80k real papers, and 1,000,000 papers grown from them.

Used by bench/search_latency.py; kept apart so the generator can be read (and reused) alone.

- The real corpus is the database bench/core.py imports (9,881 HF daily records and 74,728 arXiv
  listings: 80,317 papers), copied with SQLite's backup API so core.py's own file is never
  written to; imported afresh when core.py's is not there.
- The million corpus is a copy of the real one plus 919,683 papers recombined from the real arXiv
  listing records under new ids that no real paper has, inserted through
  `papertide.db.writes.upsert_papers` (the FTS5 index is kept in step by its triggers).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from papertide.clock import utcnow
from papertide.config import load_settings
from papertide.db.engine import Database
from papertide.db.migrate import upgrade
from papertide.db.writes import upsert_papers
from papertide.ingest.arxiv_jsonl import parse_listing
from papertide.models import PaperRecord

REAL_PAPERS = 80_317  # the real corpus (bench/core.py's EXPECTED_PAPERS)
MILLION = 1_000_000
SEED = 4
GENERATOR = 1  # bump when the generated records change, so a cached database is rebuilt
# New ids: YYMM.80000 .. YYMM.99999 from 1501 on. arXiv never numbered past ~25,000 a month
# in those years, and the real corpus is 2024-2026, so no generated id is a real paper's.
FIRST_NUMBER, PER_MONTH = 80_000, 20_000
BATCH = 2_000


def _count(db_file: Path) -> int:
    if not db_file.exists():
        return 0
    with sqlite3.connect(db_file) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM paper").fetchone()[0])
        except sqlite3.DatabaseError:
            return 0


def _meta(db_file: Path) -> dict[str, Any]:
    marker = db_file.with_suffix(".json")
    return json.loads(marker.read_text()) if marker.exists() else {}


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite file `source` (WAL included) at `target`."""
    for stale in target.parent.glob(f"{target.name}*"):
        stale.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    # The copy must be migrated (it may predate newer migrations) and leave no WAL behind.
    migrate(target)


def migrate(db_file: Path) -> None:
    """Bring `db_file` up to the current schema (a copy may predate newer migrations)."""
    db = Database(f"sqlite:///{db_file}")
    upgrade(db)
    db.dispose()


def real_corpus(data: Path, out: Path, core_db: Path, log: Callable[[str], None]) -> Path:
    """bench/out/search/real/papertide.db with the 80,317 real papers (copied or imported)."""
    target = out / "real" / "papertide.db"
    if _count(target) == REAL_PAPERS:
        migrate(target)
        return target
    if _count(core_db) == REAL_PAPERS:
        log(f"copying the real corpus from {core_db}")
        _copy(core_db, target)
        return target
    import core  # bench/core.py: the same import it times

    log("importing the real corpus (HF daily tarballs, arXiv listings)")
    settings = load_settings(None, data_dir=target.parent, load_demo=False)
    db, _figures = core.import_data(data, settings)
    db.dispose()
    return target


# -- the million corpus -------------------------------------------------------------------------


def _sentences(text: str | None) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", (text or "").strip()) if s]


def listing_records(data: Path) -> list[PaperRecord]:
    """Every real arXiv listing record, parsed as the importer parses it."""
    records = []
    for path in sorted((data / "arxiv_listings").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records.extend(parse_listing(json.loads(line)) for line in handle if line.strip())
    if not records:
        raise SystemExit(f"no arXiv listings under {data}: pass --data ../shared/data")
    return records


def _ids(n: int) -> Iterator[str]:
    year, month, i = 15, 1, 0
    while i < n:
        for number in range(FIRST_NUMBER, FIRST_NUMBER + PER_MONTH):
            if i == n:
                return
            yield f"{year:02d}{month:02d}.{number:05d}"
            i += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def recombined(records: list[PaperRecord], n: int, seed: int = SEED) -> Iterator[PaperRecord]:
    """`n` new papers mixed from `records`: new unique ids, fields from different real papers.

    Each takes its categories, date and version from one real record, its title from a second,
    its authors from a third, its comments from a fourth, and its abstract from the first
    sentences of a fifth followed by the last sentences of a sixth.
    """
    rng = random.Random(seed)
    sentences = [_sentences(r.abstract) for r in records]
    pick = len(records)
    for arxiv_id in _ids(n):
        base, titled, authored, noted = (records[rng.randrange(pick)] for _ in range(4))
        head, tail = (sentences[rng.randrange(pick)] for _ in range(2))
        cut_head = rng.randint(1, max(1, len(head)))
        cut_tail = rng.randrange(len(tail)) if tail else 0
        yield dataclasses.replace(
            base,
            arxiv_id=arxiv_id,
            title=titled.title,
            authors=authored.authors,
            comments=noted.comments,
            abstract=" ".join(head[:cut_head] + tail[cut_tail:]) or None,
        )


def million_corpus(
    data: Path, out: Path, real_db: Path, log: Callable[[str], None], n: int = MILLION
) -> tuple[Path, dict[str, Any]]:
    """bench/out/search/million/papertide.db: the real corpus plus recombined papers to `n`.

    Built once (a marker file records the generator version); its build figures are returned
    each time from that marker.
    """
    target = out / "million" / "papertide.db"
    meta = _meta(target)
    if meta.get("generator") == GENERATOR and meta.get("papers") == n and _count(target) == n:
        migrate(target)
        return target, meta
    log(f"building the {n:,}-paper corpus: copying the real one")
    _copy(real_db, target)
    records = listing_records(data)
    extra = n - _count(target)
    db = Database(f"sqlite:///{target}")
    started = time.perf_counter()
    new = 0
    batch: list[PaperRecord] = []
    for record in recombined(records, extra):
        batch.append(record)
        if len(batch) == BATCH:
            with db.write() as conn:
                new += upsert_papers(conn, batch).papers_new
            batch = []
            if new % 100_000 == 0:
                log(f"{new:,} / {extra:,} recombined papers inserted")
    if batch:
        with db.write() as conn:
            new += upsert_papers(conn, batch).papers_new
    seconds = time.perf_counter() - started
    with db.write() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    papers = _count(target)
    assert new == extra and papers == n, f"{new} new of {extra}, {papers} papers, not {n}"
    meta = {
        "generator": GENERATOR,
        "seed": SEED,
        "papers": papers,
        "real_papers": REAL_PAPERS,
        "recombined_papers": extra,
        "source_records": len(records),
        "insert_seconds": round(seconds, 1),
        "insert_papers_per_s": round(extra / seconds, 1),
        "db_mib_without_vectors": round(target.stat().st_size / 2**20, 1),
    }
    target.with_suffix(".json").write_text(json.dumps(meta))
    return target, meta


# -- vectors ------------------------------------------------------------------------------------
#
# Embedding all 80k abstracts with the int8 MiniLM takes 40-60 minutes on two shared cores, and a
# million far longer, so only a seeded sample of real papers is embedded for real (cached under
# --out, keyed by model). Every other paper gets a mixed vector: a normalised random convex
# combination of 2-3 real vectors (an anchor and some of its 20 nearest neighbours in the sample,
# so mixes stay on the manifold real embeddings lie on) plus small Gaussian noise.

MIX_NEIGHBOURS = 20
MIX_NOISE = 0.005  # per dimension: a noise vector of norm ~0.1 before normalising


def real_sample_vectors(
    db_file: Path, out: Path, embedder: Any, n: int, log: Callable[[str], None]
) -> tuple[list[str], Any, dict[str, Any]]:
    """(ids, vectors, figures) of `n` seeded-random real papers embedded by `embedder` (cached)."""
    import numpy as np

    from papertide.search.embedder import paper_text

    cache = out / f"real-vectors-{embedder.name.replace('/', '_')}-{n}-seed{SEED}.npz"
    if cache.exists():
        saved = np.load(cache)
        figures = json.loads(str(saved["figures"]))
        return [str(i) for i in saved["ids"]], saved["vectors"], figures
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("SELECT id, title, abstract FROM paper ORDER BY seq").fetchall()
    chosen = sorted(random.Random(SEED).sample(range(len(rows)), min(n, len(rows))))
    texts = [paper_text(rows[i][1], rows[i][2] or "") for i in chosen]
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    started = time.perf_counter()
    step = 256
    for start in range(0, len(texts), step):
        vectors[start : start + step] = embedder.embed(texts[start : start + step])
        if (start // step) % 8 == 7:
            done = min(start + step, len(texts))
            rate = done / (time.perf_counter() - started)
            log(f"embedded {done:,} / {len(texts):,} real papers ({rate:.0f}/s)")
    seconds = time.perf_counter() - started
    figures = {
        "papers": len(texts),
        "seconds": round(seconds, 1),
        "papers_per_s": round(len(texts) / seconds, 1),
    }
    ids = [rows[i][0] for i in chosen]
    np.savez(cache, ids=np.array(ids), vectors=vectors, figures=json.dumps(figures))
    return ids, vectors, figures


class VectorMixer:
    """Mixed vectors from a real sample, deterministic per paper position."""

    def __init__(self, vectors: Any, seed: int = SEED) -> None:
        import numpy as np

        self.real = np.asarray(vectors, dtype=np.float32)
        similarity = self.real @ self.real.T
        np.fill_diagonal(similarity, -np.inf)
        self.neighbours = np.argpartition(-similarity, MIX_NEIGHBOURS, axis=1)[:, :MIX_NEIGHBOURS]
        self.seed = seed

    def mixed(self, start: int, count: int) -> Any:
        """`count` mixed vectors for paper positions start .. start + count - 1."""
        import numpy as np

        from papertide.search.embedder import normalise

        rng = np.random.default_rng((self.seed, start))
        anchors = rng.integers(0, len(self.real), count)
        picks = self.neighbours[anchors[:, None], rng.integers(0, MIX_NEIGHBOURS, (count, 2))]
        weights = rng.dirichlet(np.ones(3), count).astype(np.float32)
        weights[rng.random(count) < 0.5, 2] = 0.0  # half of them mix two vectors, half three
        parts = np.stack([self.real[anchors], self.real[picks[:, 0]], self.real[picks[:, 1]]], 1)
        mixed = (weights[..., None] * parts).sum(axis=1)
        mixed += rng.normal(0.0, MIX_NOISE, mixed.shape).astype(np.float32)
        return normalise(mixed)


def store_vectors(
    db_file: Path,
    model: str,
    real: dict[str, Any],
    mixer: VectorMixer,
    log: Callable[[str], None],
    batch: int = 5_000,
) -> dict[str, int]:
    """A vector for every paper of `db_file` through db/embeddings: real where sampled, else mixed.

    Mixed vectors depend only on the paper's position (seq order), so the first 80,317 papers of
    the million corpus get the same vectors as the real corpus.
    """

    from papertide.db import embeddings

    with sqlite3.connect(db_file) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM paper ORDER BY seq")]
    db = Database(f"sqlite:///{db_file}")
    # Stamped now, after the papers were written: db/embeddings treats an older vector as stale.
    now = utcnow()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        vectors = mixer.mixed(start, len(chunk))
        for row, paper_id in enumerate(chunk):
            if paper_id in real:
                vectors[row] = real[paper_id]
        with db.write() as conn:
            embeddings.upsert_vectors(conn, model, chunk, vectors, now)
        if (start // batch) % 40 == 39:
            log(f"stored {start + len(chunk):,} / {len(ids):,} vectors")
    db.dispose()
    return {"real": sum(1 for i in ids if i in real), "mixed": sum(1 for i in ids if i not in real)}


def vector_count(db_file: Path, model: str) -> int:
    with sqlite3.connect(db_file) as conn:
        query = "SELECT count(*) FROM paper_embedding WHERE model = ?"
        return int(conn.execute(query, (model,)).fetchone()[0])
