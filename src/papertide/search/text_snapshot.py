"""The keyword index shared through the database, so a new host downloads it (issue #11).

Building the tantivy keyword index (search/text_index.py) takes ~80 s and more at 1M papers;
downloading a packed copy of it takes seconds. So a worker packs its index's current
generation (a tar of the folder, taken under the index's writer lock so that no writer
changes a file meanwhile) and stores it in `keyword_snapshot` in ~8 MiB chunks, marked
complete last (db/keyword_snapshots.py). A host with no usable index of its own downloads
the newest complete snapshot of this FORMAT into a new generation folder, checks its size
and SHA-256, makes it current with the snapshot's watermark, and then catches up by revision
as any index does. No snapshot, or a broken one: it builds, as before, and logs why.

Publishing happens only on PostgreSQL (`worth_sharing`): on SQLite every process runs on one
machine and shares one data directory, hence one index, so a snapshot would only take space.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from papertide.clock import utcnow
from papertide.db import keyword_rows, keyword_snapshots
from papertide.db.engine import Database
from papertide.db.keyword_snapshots import Snapshot
from papertide.search.text_index import (
    FORMAT,
    State,
    TextIndex,
    TextIndexUnavailable,
    _read_state,
    _write_state,
    _writer_lock,
    drop_other_generations,
    ensure_text_index,
    index_root,
    new_generation,
)

log = logging.getLogger(__name__)

CHUNK_BYTES = 8 * 2**20
# Plain tar (None) or gzip at this level. Plain: tantivy's files are compressed already
# (bench/keyword_snapshot.py measures what zlib level 1 would save: docs/search.md).
# Readers take either.
TAR_GZIP: int | None = None
# tantivy's own lock files: meaningless on another host.
_LEFT_OUT = frozenset({".tantivy-writer.lock", ".tantivy-meta.lock"})
# The job publishes again once this many papers changed since the stored snapshot, or this
# share of the index if larger: a new host catches up on fewer than that (~1 s per 10,000).
REPUBLISH_PAPERS = 1_000
REPUBLISH_SHARE = 0.01


class SnapshotBroken(ValueError):
    """A stored snapshot that cannot be used (truncated, corrupt, not an index)."""


@dataclass(frozen=True, slots=True)
class Published:
    """A snapshot just stored, and what it cost."""

    snapshot_id: int
    watermark: int
    docs: int
    byte_size: int
    pack_s: float
    store_s: float

    def summary(self) -> str:
        return (
            f"keyword index snapshot {self.snapshot_id} stored: {self.docs} papers up to "
            f"revision {self.watermark}, {self.byte_size / 2**20:.1f} MiB "
            f"(packed in {self.pack_s:.1f} s, stored in {self.store_s:.1f} s)"
        )


def worth_sharing(db: Database) -> bool:
    """Whether hosts of `db` have indexes of their own to seed (PostgreSQL). On SQLite all
    processes share one machine and one data directory, so one index: nothing to share."""
    return db.dialect == "postgresql"


# Publishing.


def publish(db: Database, data_dir: Path) -> Published:
    """Pack this host's keyword index and store it as the database's snapshot.

    The writer lock is held only while packing (a local copy); the upload commits one chunk
    per transaction, and completing it deletes the previous snapshot.
    """
    root = index_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    handle, name = tempfile.mkstemp(prefix="snapshot-", suffix=".tar", dir=root)
    os.close(handle)
    archive = Path(name)
    try:
        with _writer_lock(root, wait=True):
            state = _read_state(root)
            if state is None or not (root / state.generation / "meta.json").exists():
                raise TextIndexUnavailable(f"no keyword index in {root} to publish")
            pack(root / state.generation, archive, TAR_GZIP)
        packed = time.perf_counter()
        snapshot_id, size = _store(db, archive, state)
    finally:
        archive.unlink(missing_ok=True)
    done = time.perf_counter()
    published = Published(
        snapshot_id, state.watermark, state.docs, size, packed - started, done - packed
    )
    log.info("%s", published.summary())
    return published


def pack(folder: Path, archive: Path, zlib_level: int | None = None) -> None:
    """A generation folder into a tar file (gzip at `zlib_level` if given: see TAR_GZIP)."""
    with (
        tarfile.open(archive, "w")
        if zlib_level is None
        else tarfile.open(archive, "w:gz", compresslevel=zlib_level)
    ) as tar:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name not in _LEFT_OUT:
                tar.add(path, arcname=path.name, recursive=False)


def _store(db: Database, archive: Path, state: State) -> tuple[int, int]:
    size, digest = _measure(archive)
    with db.write() as conn:
        snapshot_id = keyword_snapshots.begin(
            conn, FORMAT, state.watermark, state.docs, size, digest, utcnow()
        )
    try:
        with open(archive, "rb") as source:
            for ordinal, data in enumerate(iter(lambda: source.read(CHUNK_BYTES), b"")):
                with db.write() as conn:
                    keyword_snapshots.add_chunk(conn, snapshot_id, ordinal, data)
        with db.write() as conn:
            keyword_snapshots.complete(conn, snapshot_id, utcnow())
    except BaseException:
        _forget(db, snapshot_id)
        raise
    return snapshot_id, size


def _measure(archive: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with open(archive, "rb") as source:
        while data := source.read(CHUNK_BYTES):
            digest.update(data)
    return archive.stat().st_size, digest.hexdigest()


def _forget(db: Database, snapshot_id: int) -> None:
    """Delete a snapshot that could not be finished (the next publisher would, in an hour)."""
    try:
        with db.write() as conn:
            keyword_snapshots.delete(conn, [snapshot_id])
    except Exception as exc:  # the database is what failed: leave it to the next publisher
        log.warning("could not delete unfinished keyword snapshot %d: %s", snapshot_id, exc)


@dataclass(frozen=True, slots=True)
class Refresh:
    """What the scheduled job did: the snapshot it stored, if any, and why (not)."""

    published: Published | None
    reason: str

    def summary(self) -> str:
        if self.published is None:
            return f"keyword-snapshot: nothing to do ({self.reason})"
        return f"keyword-snapshot: {self.published.summary()} ({self.reason})"


def refresh(db: Database, data_dir: Path) -> Refresh:
    """Catch this host's keyword index up, and publish it when the stored snapshot is
    missing, of an older FORMAT, or too far behind (the worker's `keyword-snapshot` job)."""
    if not worth_sharing(db):
        return Refresh(None, "SQLite: every process shares this machine's index")
    index = ensure_text_index(db, data_dir)
    with db.read() as conn:
        stored = keyword_snapshots.latest(conn)
        changed = None if stored is None else keyword_rows.changed_since(conn, stored.watermark)
    reason = stale_reason(stored, changed, index.state)
    if reason is not None:
        return Refresh(publish(db, data_dir), reason)
    assert stored is not None
    if stored.format > FORMAT:
        return Refresh(None, f"snapshot {stored.id} is a newer release's (format {stored.format})")
    return Refresh(None, f"snapshot {stored.id} is current: {changed} papers changed since")


def stale_reason(stored: Snapshot | None, changed: int | None, state: State) -> str | None:
    """Why the stored snapshot should be replaced by this index, or None if it need not."""
    if stored is None or changed is None:
        return "no snapshot stored"
    if stored.format < FORMAT:
        return f"the stored snapshot is format {stored.format}, this version reads {FORMAT}"
    if stored.format > FORMAT:
        return None  # a newer release's worker stored it: leave it to the newer hosts
    limit = max(REPUBLISH_PAPERS, int(REPUBLISH_SHARE * state.docs))
    if changed > limit and state.watermark > stored.watermark:
        return f"{changed} papers changed since the stored snapshot (more than {limit})"
    return None


# Restoring.


def restore_locked(
    db: Database, root: Path, on_phase: Callable[[str], None] | None = None
) -> TextIndex | None:
    """The newest complete snapshot, downloaded into a new generation and made current; None
    (logged) when there is none or it is broken. The caller holds the writer lock."""
    for leftover in root.glob("*.tar.part"):  # a download killed half-way
        leftover.unlink(missing_ok=True)
    tried: set[int] = set()
    while True:
        with db.read() as conn:
            snapshot = keyword_snapshots.latest(conn, FORMAT)
        if snapshot is None:
            # Expected on SQLite, where nothing publishes one (`worth_sharing`).
            level = logging.INFO if worth_sharing(db) else logging.DEBUG
            log.log(level, "keyword index: no snapshot of format %d in the database", FORMAT)
            return None
        if snapshot.id in tried:
            log.warning("keyword index: no usable snapshot in the database, building")
            return None
        tried.add(snapshot.id)
        if on_phase is not None:
            on_phase("downloading snapshot")
        try:
            return _restore(db, root, snapshot)
        except SnapshotBroken as exc:
            # If a newer snapshot completed meanwhile (deleting this one), the loop takes it.
            log.warning("keyword index snapshot %d cannot be used: %s", snapshot.id, exc)


def _restore(db: Database, root: Path, snapshot: Snapshot) -> TextIndex:
    started = time.perf_counter()
    generation = new_generation()
    folder = root / generation
    archive = root / f"{generation}.tar.part"
    try:
        _download(db, snapshot, archive)
        downloaded = time.perf_counter()
        _unpack(archive, folder)
        state = State(generation, snapshot.watermark, snapshot.docs)
        index = _opened(root, state)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        archive.unlink(missing_ok=True)
    _write_state(root, state)
    drop_other_generations(root, generation)
    log.info(
        "keyword index: snapshot %d (%d papers, revision %d, %.1f MiB) downloaded in %.1f s, "
        "opened in %.1f s",
        snapshot.id,
        snapshot.docs,
        snapshot.watermark,
        snapshot.byte_size / 2**20,
        downloaded - started,
        time.perf_counter() - downloaded,
    )
    return index


def _download(db: Database, snapshot: Snapshot, archive: Path) -> None:
    digest, size = hashlib.sha256(), 0
    with db.read() as conn, open(archive, "wb") as out:
        for data in keyword_snapshots.chunks(conn, snapshot.id):
            out.write(data)
            digest.update(data)
            size += len(data)
            if size > snapshot.byte_size:
                break
    if size != snapshot.byte_size:
        raise SnapshotBroken(f"{size} bytes stored of the {snapshot.byte_size} it should hold")
    if digest.hexdigest() != snapshot.sha256:
        raise SnapshotBroken("its SHA-256 is not the one it was stored with")


def _unpack(archive: Path, folder: Path) -> None:
    """The archive's files into `folder`: plain files with plain names only."""
    folder.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = member.name
                if not member.isfile() or "/" in name or name.startswith(".."):
                    raise SnapshotBroken(f"unexpected entry {name!r} in the archive")
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                with source, open(folder / name, "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK_BYTES)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SnapshotBroken(f"the archive cannot be read: {exc}") from exc
    if not (folder / "meta.json").exists():
        raise SnapshotBroken("the archive holds no tantivy index (no meta.json)")


def _opened(root: Path, state: State) -> TextIndex:
    try:
        return TextIndex(root, state)
    except Exception as exc:  # tantivy says ValueError; anything else is as broken
        raise SnapshotBroken(f"tantivy cannot open it: {exc}") from exc
