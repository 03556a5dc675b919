"""Embedding papers: incrementally as they arrive, or all of them again for a new model.

Each batch is embedded and then committed on its own, so an interrupted run loses at most
one batch and the next run carries on where it stopped (issue #4). `refresh` is the one code
path of the worker's `embed-new` job and of `papertide reindex` (issue #10).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from papertide.clock import utcnow
from papertide.db import Database, embeddings, vector_sql
from papertide.search import text_snapshot
from papertide.search.embedder import Embedder, paper_text
from papertide.search.pg_vectors import PaperVectors, ensure_pg_index
from papertide.search.text_index import Progress as KeywordProgress
from papertide.search.text_index import TextIndex, ensure_text_index
from papertide.search.text_snapshot import Published
from papertide.search.vector_files import IndexMissing, drop_index, index_folder, read_meta
from papertide.search.vectors import check_model, ensure_index, rebuild_index

Progress = Callable[[int], None]


def pending(db: Database, embedder: Embedder) -> int:
    """How many papers have no current vector for `embedder` (for a progress bar's total)."""
    with db.read() as conn:
        return embeddings.count_pending(conn, embedder.name, embedder.dim)


def embed_missing(
    db: Database,
    embedder: Embedder,
    batch_size: int = 64,
    progress: Progress | None = None,
    limit: int | None = None,
    replace_other_models: bool = False,
) -> int:
    """Embed the papers that have no vector for `embedder` (or one older than the paper).

    Refuses (ModelChanged) when the stored vectors were made by another model, unless
    `replace_other_models`, which `reindex` sets. Returns how many papers were embedded.
    """
    if not replace_other_models:
        with db.read() as conn:
            check_model(conn, embedder.name, embedder.dim)
    done, after = 0, 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        # Stamped with the time before the texts are read: a paper edited meanwhile is newer
        # than its vector, so the next run embeds it again.
        started = utcnow()
        with db.read() as conn:
            papers = embeddings.pending_papers(conn, embedder.name, embedder.dim, after, size)
        if not papers:
            break
        vectors = embedder.embed([paper_text(p.title, p.abstract) for p in papers])
        with db.write() as conn:
            ids = [p.arxiv_id for p in papers]
            embeddings.upsert_vectors(conn, embedder.name, ids, vectors, started)
        done += len(papers)
        after = papers[-1].seq
        if progress is not None:
            progress(len(papers))
    return done


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What a refresh did: how many papers it embedded, and both search indexes after it."""

    embedded: int
    vectors: PaperVectors
    keywords: TextIndex


def refresh(
    db: Database,
    data_dir: Path,
    embedder: Embedder,
    *,
    rebuild_all: bool = False,
    limit: int | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
    keyword_progress: KeywordProgress | None = None,
) -> Refreshed:
    """Embed the papers without a current vector for `embedder`, then bring both search
    indexes up to date. Resumable: after an interruption, run it again.

    The worker's `embed-new` job catches the indexes up, at most `limit` papers a run.
    `papertide reindex` (`rebuild_all`) replaces another model's vectors, then rebuilds both
    indexes from the database and drops other models' index files.
    """
    embedded = embed_missing(
        db, embedder, batch_size, progress, limit, replace_other_models=rebuild_all
    )
    if rebuild_all:
        vectors, keywords = rebuild_indexes(
            db, data_dir, embedder.name, embedder.dim, keyword_progress
        )
    else:
        vectors = ensure_vectors(db, data_dir, embedder.name, embedder.dim)
        keywords = ensure_text_index(db, data_dir, keyword_progress)
    return Refreshed(embedded, vectors, keywords)


def rebuild_indexes(
    db: Database,
    data_dir: Path,
    model: str,
    dim: int | None = None,
    keyword_progress: KeywordProgress | None = None,
) -> tuple[PaperVectors, TextIndex]:
    """Both search indexes built afresh from the database (`papertide reindex --rebuild-only`)."""
    return rebuild(db, data_dir, model, dim), TextIndex.build(db, data_dir, keyword_progress)


def share_keyword_index(db: Database, data_dir: Path) -> Published | None:
    """After a rebuild: store the keyword index for new hosts to download (PostgreSQL only,
    search/text_snapshot.py); None where there is nothing to share it with."""
    if not text_snapshot.worth_sharing(db):
        return None
    return text_snapshot.publish(db, data_dir)


def ensure_vectors(
    db: Database, data_dir: Path, model: str, dim: int | None = None
) -> PaperVectors:
    """`model`'s vector index, caught up: the files on SQLite, pgvector on PostgreSQL."""
    if vector_sql.searches_vectors(db):
        return ensure_pg_index(db, model, dim)
    return ensure_index(db, data_dir, model, dim)


def rebuild(db: Database, data_dir: Path, model: str, dim: int | None = None) -> PaperVectors:
    """Rebuild `model`'s index from the database and delete the index files of other models
    (on PostgreSQL the index lives in the database: it is only made ready).

    Raises ModelChanged while the database still holds other models' vectors.
    """
    with db.read() as conn:
        dim = check_model(conn, model, dim)
    if vector_sql.searches_vectors(db):
        return ensure_pg_index(db, model, dim)
    index = rebuild_index(db, data_dir, model, dim)
    folder = index_folder(data_dir)
    for meta_file in folder.glob("*.json"):
        try:
            other = read_meta(meta_file).model
        except IndexMissing:
            continue
        if other != model:
            drop_index(data_dir, other)
    return index
