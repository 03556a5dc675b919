"""The keyword engine of search: a tantivy BM25 index kept in step with the database.

It gathers hybrid search's keyword candidates and serves the keyword-only page (every word
required, exact counts) and the filter-only listing. Why not the database's full text:
SQLite's `bm25()` and PostgreSQL's `ts_rank` score every matching row before they can keep
the best few, and a common word matches most papers (FTS5 1.4 s for an any-word query at 1M
papers, p99 645 ms for the keyword page); tantivy prunes (block-max WAND), counts without
scoring, and answers in a few milliseconds (docs/benchmarks.md). The database's full text
answers when this index cannot be opened (yet).

The index lives in `<data_dir>/keyword-index/<generation>/`; `current.json` names the
generation and the highest `paper.revision` it holds. Every writer of the database raises
the revision of the papers it changes (db/writes.py), so catching up is "index every paper
above the watermark": the papers are deleted by `seq` and added again, which is idempotent,
so a crash between tantivy's commit and `current.json` only repeats work. One process
writes at a time (a file lock); a searcher that finds the lock taken searches what is
there, a moment stale, rather than wait.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from papertide.clock import utcnow
from papertide.db import fts, keyword_rows, queries
from papertide.db.engine import Database
from papertide.db.fts import Filters

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per data directory
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT = 2
# The title is indexed this many times over in the one text field: weight 2, as FTS5's column
# weights (title 2, authors 1, abstract 1). One field, not three with boosts, because
# tantivy's per-field IDF made title matches count far more than FTS5's one IDF per term
# (hybrid nDCG@10 on SciFact: 0.700 with three fields and boost 2, 0.726 with boost 1,
# 0.739 with one field and the title once, 0.742 with the title twice; docs/search.md).
TITLE_REPEATS = 2
# tantivy's en_stem plus accent folding, as FTS5's `remove_diacritics 2` ("cafe" finds "café").
TOKENIZER = "papertide_en"
_SPLIT = re.compile(r"[\W_]+", re.UNICODE)  # what the tokenizer splits on
_EARLIEST_DATE = dt.date(1678, 1, 1)  # tantivy's dates, with a margin
_LATEST_DATE = dt.date(2262, 1, 1)
WRITER_HEAP = 256_000_000
BATCH_ROWS = 5_000
Ranking = list[tuple[str, float]]
Progress = Callable[[int, int], None]  # (papers done, papers to do)


class TextIndexUnavailable(RuntimeError):
    """The keyword index cannot be used (missing, locked while building, or broken)."""


def index_root(data_dir: Path) -> Path:
    return data_dir / "keyword-index"


@dataclass(frozen=True, slots=True)
class State:
    generation: str
    watermark: int  # the highest paper.revision indexed
    docs: int
    format: int = FORMAT


def _schema() -> Any:
    tantivy = _tantivy()
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("seq", indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name=TOKENIZER, index_option="freq")
    builder.add_date_field("published", indexed=True, fast=True)
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("has_code", indexed=True)
    builder.add_integer_field("featured", indexed=True)
    return builder.build()


def _tantivy() -> Any:
    import tantivy

    return tantivy


def _open_index(folder: Path, create: bool = False) -> Any:
    """A tantivy index in `folder` (new if `create`), with Papertide's tokenizer registered."""
    tantivy = _tantivy()
    index = tantivy.Index(_schema(), path=str(folder), reuse=not create)
    analyzer = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )
    index.register_tokenizer(TOKENIZER, analyzer)
    return index


def _read_state(root: Path) -> State | None:
    try:
        raw = json.loads((root / "current.json").read_text(encoding="utf-8"))
        state = State(str(raw["generation"]), int(raw["watermark"]), int(raw["docs"]))
        return state if int(raw.get("format", 0)) == FORMAT else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(root: Path, state: State) -> None:
    temporary = root / f"current.json.{os.getpid()}.tmp"
    payload = {
        "format": state.format,
        "generation": state.generation,
        "watermark": state.watermark,
        "docs": state.docs,
    }
    temporary.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(temporary, root / "current.json")


def new_generation() -> str:
    """A name for a new generation folder: sortable by time, unique."""
    return utcnow().strftime("%Y%m%dT%H%M%S-") + secrets.token_hex(3)


def drop_other_generations(root: Path, keep: str) -> None:
    """Delete every generation folder but `keep` (the writer lock held)."""
    for other in root.iterdir():
        if other.is_dir() and other.name != keep:
            # Readers of an old generation keep their open files (POSIX unlink semantics).
            shutil.rmtree(other, ignore_errors=True)


@contextlib.contextmanager
def _writer_lock(root: Path, wait: bool) -> Iterator[bool]:
    """Hold the index's writer lock; yields False (holding nothing) if busy and not `wait`."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "writer.lock", "a+b") as handle:
        if fcntl is not None:
            flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
            try:
                fcntl.flock(handle, flags)
            except BlockingIOError:
                yield False
                return
        yield True  # released when the file closes


def _as_list(value: Any) -> list[str]:
    names = json.loads(value) if isinstance(value, str) else value
    return [name for name in names or [] if isinstance(name, str)]


def _document(row: Any) -> Any:
    tantivy = _tantivy()
    doc = tantivy.Document()
    doc.add_integer("seq", int(row.seq))
    title = row.title or ""
    authors = " ; ".join(_as_list(row.authors))
    doc.add_text("text", "\n".join([*[title] * TITLE_REPEATS, authors, row.abstract or ""]))
    published = row.published_at
    if isinstance(published, str):
        published = dt.datetime.fromisoformat(published)
    if published is not None:
        doc.add_date("published", published.replace(tzinfo=dt.UTC))
    for category in _as_list(row.categories):
        doc.add_text("categories", category)
    doc.add_integer("has_code", int(bool(row.has_code)))
    doc.add_integer("featured", int(bool(row.featured)))
    return doc


class TextIndex:
    """A generation of the keyword index, open for searching (and catching up)."""

    def __init__(self, root: Path, state: State) -> None:
        self.root = root
        self.state = state
        self._schema = _schema()
        self._index = _open_index(root / state.generation)
        self._index.reload()
        self._searcher = self._index.searcher()
        self._lock = threading.Lock()

    # Opening and building.

    @classmethod
    def open(cls, data_dir: Path) -> TextIndex:
        root = index_root(data_dir)
        state = _read_state(root)
        if state is None or not (root / state.generation / "meta.json").exists():
            raise TextIndexUnavailable(f"no keyword index in {root}")
        try:
            return cls(root, state)
        except (OSError, ValueError) as exc:
            raise TextIndexUnavailable(f"keyword index in {root} cannot be opened: {exc}") from exc

    @classmethod
    def build(cls, db: Database, data_dir: Path, progress: Progress | None = None) -> TextIndex:
        """Index every paper afresh into a new generation, then switch to it."""
        root = index_root(data_dir)
        with _writer_lock(root, wait=True):
            return cls._build_locked(db, root, progress)

    @classmethod
    def _build_locked(cls, db: Database, root: Path, progress: Progress | None) -> TextIndex:
        generation = new_generation()
        folder = root / generation
        folder.mkdir(parents=True)
        index = _open_index(folder, create=True)
        writer = index.writer(WRITER_HEAP, 2)
        docs = 0
        with db.read() as conn:
            # Read the watermark in the same snapshot as the rows: a paper changed
            # meanwhile has a higher revision and is indexed by the next catch-up.
            watermark = keyword_rows.max_revision(conn)
            total = queries.paper_count(conn)
            for row in keyword_rows.index_rows(conn, batch=BATCH_ROWS):
                writer.add_document(_document(row))
                docs += 1
                if progress is not None and docs % BATCH_ROWS == 0:
                    progress(docs, total)
        writer.commit()
        writer.wait_merging_threads()
        if progress is not None:
            progress(docs, docs)
        _write_state(root, State(generation, watermark, docs))
        drop_other_generations(root, generation)
        return cls(root, State(generation, watermark, docs))

    # Keeping up with the database.

    def catch_up(self, db: Database, wait: bool = False) -> bool:
        """Index the papers changed since the watermark; False if another process is at it."""
        with self._lock:
            fresher = _read_state(self.root)
            if fresher is not None and fresher != self.state:
                self._switch(fresher)
            with db.read() as conn:
                if keyword_rows.max_revision(conn) <= self.state.watermark:
                    return True
            with _writer_lock(self.root, wait) as held:
                if not held:
                    return False
                fresher = _read_state(self.root)
                if fresher is not None and fresher != self.state:
                    self._switch(fresher)
                self._apply_changes(db)
            return True

    def _apply_changes(self, db: Database) -> None:
        writer = self._index.writer(WRITER_HEAP // 4, 1)
        changed = 0
        with db.read() as conn:
            watermark = keyword_rows.max_revision(conn)
            rows = keyword_rows.index_rows(conn, self.state.watermark, watermark, BATCH_ROWS)
            for row in rows:
                writer.delete_documents_by_term("seq", int(row.seq))
                writer.add_document(_document(row))
                changed += 1
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()
        self._searcher = self._index.searcher()
        state = State(self.state.generation, watermark, int(self._searcher.num_docs))
        _write_state(self.root, state)
        self.state = state
        log.info("keyword index: %d papers re-indexed up to revision %d", changed, watermark)

    def _switch(self, state: State) -> None:
        if state.generation != self.state.generation:
            self._index = _open_index(self.root / state.generation)
        self._index.reload()
        self._searcher = self._index.searcher()
        self.state = state

    # Searching.

    def __len__(self) -> int:
        return int(self._searcher.num_docs)

    def ranked(
        self, conn: sa.Connection, words: list[str], filters: Filters, limit: int
    ) -> Ranking:
        """The best `limit` papers with any of `words` (BM25, title weighted), within filters."""
        query = self._query(words, filters, every=False)
        if query is None or limit <= 0:
            return []
        return self._ranking(conn, self._searcher.search(query, limit, count=False).hits)

    def match(
        self,
        conn: sa.Connection,
        words: list[str],
        filters: Filters,
        limit: int,
        offset: int = 0,
        exclude: Sequence[str] = (),
        every: bool = True,
    ) -> tuple[Ranking, int]:
        """A page of the papers with every one of `words` (any of them unless `every`) within
        the filters, BM25 best first, less the papers `exclude`s; and how many match in all.

        The count is exact: tantivy counts the matches without scoring them, and skips the
        blocks that cannot reach the page while it ranks.
        """
        query = self._query(words, filters, every, fts.seqs_by_id(conn, exclude))
        if query is None:
            return [], 0
        found = self._searcher.search(query, max(1, limit), count=True, offset=offset)
        hits = found.hits if limit > 0 else []
        return self._ranking(conn, hits), int(found.count or 0)

    def browse(
        self, conn: sa.Connection, filters: Filters, limit: int, offset: int = 0
    ) -> tuple[list[str], int]:
        """A page of the papers within the filters (no words), newest first, and how many."""
        tantivy = _tantivy()
        clauses = [(tantivy.Occur.Must, query) for query in self._filter_queries(filters)]
        if not clauses:
            query = tantivy.Query.all_query()
        else:
            query = clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        found = self._searcher.search(
            query, max(1, limit), count=True, order_by_field="published", offset=offset
        )
        hits = found.hits if limit > 0 else []
        return [paper_id for paper_id, _ in self._ranking(conn, hits)], int(found.count or 0)

    def _query(
        self, words: list[str], filters: Filters, every: bool, exclude: Collection[int] = ()
    ) -> Any:
        """The tantivy query for `words` (all or any) within the filters, less the papers
        whose seq is in `exclude`; None when no word is left to search for."""
        # Split as the tokenizer does, so no word becomes a phrase (positions are not kept).
        # The parts are letters and digits only, so none of it reads as query syntax.
        parts = [part for word in words for part in _SPLIT.split(word) if part]
        if not parts:
            return None
        tantivy = _tantivy()
        text_query = self._index.parse_query(
            " ".join(dict.fromkeys(parts)), ["text"], conjunction_by_default=every
        )
        clauses = [(tantivy.Occur.Must, text_query)]
        clauses += [
            (tantivy.Occur.Must, tantivy.Query.const_score_query(query, 0.0))
            for query in self._filter_queries(filters)
        ]
        if exclude:
            seqs = tantivy.Query.term_set_query(self._schema, "seq", sorted(exclude))
            clauses.append((tantivy.Occur.MustNot, seqs))
        return clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)

    def _ranking(self, conn: sa.Connection, hits: list[tuple[Any, Any]]) -> Ranking:
        """(paper id, score) for tantivy's hits, in their order (papers deleted meanwhile
        left out)."""
        if not hits:
            return []
        seqs = self._searcher.fast_field_values("seq", [address for _score, address in hits])
        ids = fts.ids_by_seq(conn, [seq for seq in seqs if seq is not None])
        return [
            (ids[seq], float(score))
            for (score, _address), seq in zip(hits, seqs, strict=True)
            if seq in ids
        ]

    def _filter_queries(self, filters: Filters) -> list[Any]:
        tantivy = _tantivy()
        schema, queries = self._schema, []
        # tantivy keeps dates as nanoseconds in 64 bits (years 1678 to 2262): a bound beyond
        # them holds every paper, so it is no bound at all.
        low = high = None
        if filters.date_from and filters.date_from > _EARLIEST_DATE:
            low = dt.datetime.combine(filters.date_from, dt.time(), dt.UTC)
        if filters.date_to and filters.date_to < _LATEST_DATE:
            high = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        if low or high:
            queries.append(
                tantivy.Query.range_query(
                    schema,
                    "published",
                    tantivy.FieldType.Date,
                    low,
                    high,
                    include_lower=True,
                    include_upper=not high,
                )
            )
        if filters.category:
            queries.append(tantivy.Query.term_query(schema, "categories", filters.category))
        if filters.has_code:
            queries.append(tantivy.Query.term_query(schema, "has_code", 1))
        if filters.featured:
            queries.append(tantivy.Query.term_query(schema, "featured", 1))
        return queries


def ensure_text_index(
    db: Database,
    data_dir: Path,
    progress: Progress | None = None,
    wait: bool = True,
    on_phase: Callable[[str], None] | None = None,
) -> TextIndex:
    """The keyword index, caught up with the database. A host without one downloads the
    snapshot the database holds (search/text_snapshot.py), or else builds it; `on_phase`
    hears which ("downloading snapshot", "building")."""
    try:
        index = TextIndex.open(data_dir)
    except TextIndexUnavailable:
        with _writer_lock(index_root(data_dir), wait) as held:
            if not held:
                raise TextIndexUnavailable("the keyword index is being built") from None
            try:
                index = TextIndex.open(data_dir)  # another process built it meanwhile
            except TextIndexUnavailable:
                index = _restore_or_build(db, index_root(data_dir), progress, on_phase)
    return _caught_up(index, db, wait)


def _restore_or_build(
    db: Database,
    root: Path,
    progress: Progress | None,
    on_phase: Callable[[str], None] | None,
) -> TextIndex:
    # Imported here: text_snapshot builds on this module's state file and lock.
    from papertide.search import text_snapshot

    restored = text_snapshot.restore_locked(db, root, on_phase)
    if restored is not None:
        return restored
    if on_phase is not None:
        on_phase("building")
    return TextIndex._build_locked(db, root, progress)


def _caught_up(index: TextIndex, db: Database, wait: bool = True) -> TextIndex:
    index.catch_up(db, wait=wait)
    return index
