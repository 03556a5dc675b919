"""The keyword index shared through the database (search/text_snapshot.py, issue #11): a
fresh host downloads the snapshot instead of building, ranks exactly as the host that
published it, catches up by revision, and builds when the snapshot is unusable.

Publishing is gated on PostgreSQL in production (`worth_sharing`); these tests call
`publish` directly, or open the gate, so that every path runs on both backends."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.backends import on_postgresql
from tests.search.test_text_index import _ids, _records

from papertide import jobs
from papertide.config import Settings
from papertide.db import Database, keyword_snapshots, writes
from papertide.db.fts import Filters
from papertide.db.schema import keyword_snapshot, keyword_snapshot_chunk
from papertide.models import PaperRecord
from papertide.search import keyword, service, text_snapshot
from papertide.search.service import SearchService
from papertide.search.text_index import (
    FORMAT,
    State,
    TextIndex,
    ensure_text_index,
    index_root,
)

QUERIES = ("diffusion", "graph neural network", "reinforcement learning robots", "language")


@pytest.fixture
def loaded(db: Database, shared_data: Path) -> list[PaperRecord]:
    records = _records(shared_data, 600)
    with db.write() as conn:
        writes.write_batch(conn, records)
    return records


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The index roots a build ran in (the build itself still runs)."""
    calls: list[Path] = []
    real = TextIndex._build_locked.__func__  # type: ignore[attr-defined]

    def counted(cls: type[TextIndex], db: Database, root: Path, progress: Any) -> TextIndex:
        calls.append(root)
        return real(cls, db, root, progress)  # type: ignore[no-any-return]

    monkeypatch.setattr(TextIndex, "_build_locked", classmethod(counted))
    return calls


def _ranking(index: TextIndex, db: Database, query: str, filters: Filters = Filters()) -> Any:
    words = keyword.recall_words(keyword.terms(query))
    with db.read() as conn:
        return index.ranked(conn, words, filters, 100)


def _snapshots(db: Database) -> list[tuple[int, bool]]:
    query = sa.select(keyword_snapshot.c.id, keyword_snapshot.c.complete)
    with db.read() as conn:
        return [(row.id, bool(row.complete)) for row in conn.execute(query.order_by("id"))]


def _fresh_host(db: Database, folder: Path, phases: list[str] | None = None) -> TextIndex:
    return ensure_text_index(db, folder, on_phase=None if phases is None else phases.append)


def test_a_fresh_host_downloads_the_snapshot_and_ranks_exactly_alike(
    db: Database, tmp_path: Path, loaded: list[PaperRecord], builds: list[Path]
) -> None:
    first = ensure_text_index(db, tmp_path / "a")
    published = text_snapshot.publish(db, tmp_path / "a")
    assert (published.docs, published.watermark) == (600, first.state.watermark)
    assert published.byte_size > 0
    phases: list[str] = []
    second = _fresh_host(db, tmp_path / "b", phases)
    assert builds == [index_root(tmp_path / "a")]  # the fresh host built nothing
    assert phases == ["downloading snapshot"]
    assert second.state.watermark == first.state.watermark and len(second) == 600
    assert second.state.generation != first.state.generation
    # Same documents, same segments: the same BM25 scores, not just the same order.
    for query in QUERIES:
        assert _ranking(second, db, query) == _ranking(first, db, query), query
        assert _ranking(second, db, query), query
    filters = Filters(date_from=dt.date(2025, 9, 5))
    assert _ranking(second, db, "learning", filters) == _ranking(first, db, "learning", filters)
    # The downloaded generation is this host's own from now on: it reopens without the database.
    assert TextIndex.open(tmp_path / "b").state == second.state
    assert not list(index_root(tmp_path / "b").glob("*.tar*"))
    assert not list(index_root(tmp_path / "a").glob("*.tar*"))


def test_a_paper_written_after_the_snapshot_is_found_after_catch_up(
    db: Database, tmp_path: Path, loaded: list[PaperRecord], builds: list[Path]
) -> None:
    ensure_text_index(db, tmp_path / "a")
    text_snapshot.publish(db, tmp_path / "a")
    with db.write() as conn:
        writes.write_batch(conn, [PaperRecord("2509.99999", title="Axolotl regeneration")])
    fresh = _fresh_host(db, tmp_path / "b")
    assert len(builds) == 1
    assert len(fresh) == 601
    assert _ids(fresh, db, "axolotl") == ["2509.99999"]


def test_a_snapshot_left_unfinished_by_a_crash_is_ignored(
    db: Database,
    tmp_path: Path,
    loaded: list[PaperRecord],
    builds: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ensure_text_index(db, tmp_path / "a")
    monkeypatch.setattr(text_snapshot, "CHUNK_BYTES", 64 * 1024)

    def crash(*_args: Any) -> None:
        raise KeyboardInterrupt  # the process dies: nothing cleans up after it

    with monkeypatch.context() as dying:
        dying.setattr(keyword_snapshots, "complete", crash)
        dying.setattr(text_snapshot, "_forget", lambda *_args: None)
        with pytest.raises(KeyboardInterrupt):
            text_snapshot.publish(db, tmp_path / "a")
    [(_abandoned, complete)] = _snapshots(db)
    assert not complete
    with db.read() as conn:
        assert keyword_snapshots.latest(conn) is None
        assert conn.execute(sa.select(sa.func.count()).select_from(keyword_snapshot_chunk)).scalar()
    fresh = _fresh_host(db, tmp_path / "b")
    assert len(fresh) == 600 and len(builds) == 2  # built, not downloaded


def test_completing_a_snapshot_keeps_one_and_clears_abandoned_ones(db: Database) -> None:
    now = dt.datetime(2026, 12, 3, 12, 0)
    with db.write() as conn:
        old = keyword_snapshots.begin(conn, FORMAT, 1, 1, 3, "x", now - dt.timedelta(hours=5))
        keyword_snapshots.add_chunk(conn, old, 0, b"old")
        keyword_snapshots.complete(conn, old, now - dt.timedelta(hours=5))
        abandoned = keyword_snapshots.begin(conn, FORMAT, 2, 2, 3, "x", now - dt.timedelta(hours=2))
        keyword_snapshots.add_chunk(conn, abandoned, 0, b"abc")
        running = keyword_snapshots.begin(conn, FORMAT, 3, 3, 3, "x", now - dt.timedelta(minutes=1))
        new = keyword_snapshots.begin(conn, FORMAT, 4, 4, 3, "x", now)
        keyword_snapshots.add_chunk(conn, new, 0, b"new")
        assert keyword_snapshots.complete(conn, new, now) == 2
    # The new one, and the one another publisher is still writing.
    assert _snapshots(db) == [(running, False), (new, True)]
    with db.read() as conn:
        assert list(keyword_snapshots.chunks(conn, new)) == [b"new"]
        assert list(keyword_snapshots.chunks(conn, old)) == []


def _break(db: Database, how: str) -> None:
    with db.write() as conn:
        snapshot = keyword_snapshots.latest(conn)
        assert snapshot is not None
        chunks = keyword_snapshot_chunk.c
        last = conn.execute(
            sa.select(sa.func.max(chunks.ordinal)).where(chunks.snapshot_id == snapshot.id)
        ).scalar_one()
        assert last >= 2, "the test wants several chunks"
        where = sa.and_(chunks.snapshot_id == snapshot.id, chunks.ordinal == last // 2)
        if how == "truncated":
            conn.execute(keyword_snapshot_chunk.delete().where(chunks.ordinal == last))
        else:  # the same length, other bytes
            data = conn.execute(sa.select(chunks.data).where(where)).scalar_one()
            garbled = bytes(b ^ 0x5A for b in data)
            conn.execute(keyword_snapshot_chunk.update().where(where).values(data=garbled))


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("truncated", "bytes stored of the"),
        ("corrupt", "SHA-256"),
    ],
)
def test_a_truncated_or_corrupt_snapshot_falls_back_to_building(
    db: Database,
    tmp_path: Path,
    loaded: list[PaperRecord],
    builds: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    how: str,
    reason: str,
) -> None:
    monkeypatch.setattr(text_snapshot, "CHUNK_BYTES", 64 * 1024)
    ensure_text_index(db, tmp_path / "a")
    text_snapshot.publish(db, tmp_path / "a")
    _break(db, how)
    phases: list[str] = []
    with caplog.at_level(logging.WARNING, logger=text_snapshot.__name__):
        fresh = _fresh_host(db, tmp_path / "b", phases)
    assert phases == ["downloading snapshot", "building"]
    assert len(builds) == 2 and len(fresh) == 600
    assert _ids(fresh, db, "diffusion")
    logged = caplog.text
    assert "cannot be used" in logged and reason in logged, logged
    assert "building" in logged
    # Nothing of the failed download is left beside the built generation.
    root = index_root(tmp_path / "b")
    assert [p.name for p in root.iterdir() if p.is_dir()] == [fresh.state.generation]
    assert not list(root.glob("*.tar*"))


def test_an_archive_that_is_no_index_falls_back_to_building(
    db: Database,
    tmp_path: Path,
    loaded: list[PaperRecord],
    builds: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ensure_text_index(db, tmp_path / "a")
    # Stored intact (size and checksum match) but not a tar of an index.
    monkeypatch.setattr(
        text_snapshot, "pack", lambda _folder, archive, _level: archive.write_bytes(b"no tar")
    )
    text_snapshot.publish(db, tmp_path / "a")
    with caplog.at_level(logging.WARNING, logger=text_snapshot.__name__):
        fresh = _fresh_host(db, tmp_path / "b")
    assert len(builds) == 2 and len(fresh) == 600
    assert "cannot be read" in caplog.text


def test_a_snapshot_of_another_format_is_ignored(
    db: Database, tmp_path: Path, loaded: list[PaperRecord], builds: list[Path]
) -> None:
    ensure_text_index(db, tmp_path / "a")
    text_snapshot.publish(db, tmp_path / "a")
    with db.write() as conn:
        conn.execute(keyword_snapshot.update().values(format=FORMAT + 1))
    fresh = _fresh_host(db, tmp_path / "b")
    assert len(builds) == 2 and len(fresh) == 600


def test_when_the_stored_snapshot_is_replaced() -> None:
    def stored(format: int = FORMAT) -> keyword_snapshots.Snapshot:
        return keyword_snapshots.Snapshot(1, format, 10, 100_000, 1, "x", dt.datetime(2026, 12, 3))

    current = State("g", 100, 100_000)
    assert text_snapshot.stale_reason(None, None, current) == "no snapshot stored"
    assert "format" in (text_snapshot.stale_reason(stored(FORMAT - 1), 0, current) or "")
    # A newer release's snapshot is left to the newer hosts.
    assert text_snapshot.stale_reason(stored(FORMAT + 1), 5_000, current) is None
    assert text_snapshot.stale_reason(stored(), 1_000, current) is None  # 1% of 100,000
    assert "1001 papers changed" in (text_snapshot.stale_reason(stored(), 1_001, current) or "")


def _job(db: Database, tmp_path: Path) -> jobs.Outcome:
    settings = Settings(data_dir=tmp_path, load_demo=False)
    with jobs.http_client(settings) as http:
        ctx = jobs.Context(db, http, settings, dt.datetime(2026, 12, 3))
        return jobs.run_job(db, "keyword-snapshot", lambda: jobs.keyword_snapshot(ctx))


def test_the_job_publishes_once_then_only_when_enough_changed(
    db: Database,
    tmp_path: Path,
    loaded: list[PaperRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text_snapshot, "worth_sharing", lambda _db: True)  # SQLite too
    first = _job(db, tmp_path / "worker")
    assert first.status == "ok" and first.result is not None, first.message
    assert first.result.changed and first.result.counts["papers"] == 600
    assert "no snapshot stored" in (first.message or "")
    [(published, complete)] = _snapshots(db)
    assert complete
    second = _job(db, tmp_path / "worker")
    assert second.result is not None and not second.result.changed
    assert "is current: 0 papers changed" in (second.message or "")
    assert _snapshots(db) == [(published, True)]
    with db.write() as conn:
        writes.write_batch(conn, [PaperRecord(f"2509.9999{n}", title="Axolotl") for n in range(3)])
    assert _job(db, tmp_path / "worker").result.changed is False  # type: ignore[union-attr]
    monkeypatch.setattr(text_snapshot, "REPUBLISH_PAPERS", 2)
    monkeypatch.setattr(text_snapshot, "REPUBLISH_SHARE", 0.0)
    third = _job(db, tmp_path / "worker")
    assert third.result is not None and third.result.counts["papers"] == 603, third.message
    [(newest, complete)] = _snapshots(db)  # the older one is gone
    assert complete
    assert newest > published


@pytest.mark.skipif(on_postgresql(), reason="SQLite's own rule")
def test_on_sqlite_the_job_and_reindex_store_nothing(
    db: Database, tmp_path: Path, loaded: list[PaperRecord]
) -> None:
    outcome = _job(db, tmp_path / "worker")
    assert outcome.result is not None and not outcome.result.changed
    assert "SQLite" in (outcome.message or "")
    assert not (tmp_path / "worker" / "keyword-index").exists()  # not even built
    from papertide.search.reindex import share_keyword_index

    ensure_text_index(db, tmp_path / "host")
    assert share_keyword_index(db, tmp_path / "host") is None
    assert _snapshots(db) == []


def test_the_job_is_scheduled_unless_turned_off(tmp_path: Path) -> None:
    every = {job.name: job for job in jobs.scheduled_jobs(Settings(data_dir=tmp_path))}
    schedule = every["keyword-snapshot"].schedule
    assert schedule is not None and schedule.describe() == "every 6 hours"
    off = Settings(data_dir=tmp_path, schedule_keyword_snapshot_hours=0)
    assert "keyword-snapshot" not in {job.name for job in jobs.scheduled_jobs(off)}


def test_a_new_web_host_fetches_its_index_at_start_up_and_says_so(
    db: Database,
    tmp_path: Path,
    loaded: list[PaperRecord],
    builds: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ensure_text_index(db, tmp_path / "worker")
    text_snapshot.publish(db, tmp_path / "worker")
    monkeypatch.setattr(service, "SYNC_BUILD_PAPERS", 100)  # 600 papers: a "large" corpus
    search = SearchService(db, Settings(data_dir=tmp_path / "web", load_demo=False))
    assert search.readiness()["keyword_index"] == "not opened yet"
    seen: list[str] = []
    real = search._set_phase

    def record(phase: str) -> None:
        seen.append(phase)
        real(phase)

    monkeypatch.setattr(search, "_set_phase", record)
    search.warm_up()
    deadline = time.monotonic() + 60
    while search.text_phase != "ready" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen == ["downloading snapshot"]
    assert search.readiness()["keyword"] == "index"
    assert search.readiness()["keyword_index"] == "ready"
    assert len(builds) == 1
