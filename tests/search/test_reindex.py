"""Embedding papers (search/reindex.py), the `reindex` command and the `embed-new` job, with
the real int8 MiniLM over real arXiv abstracts."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from tests.backends import on_postgresql
from typer.testing import CliRunner

from papertide import cli, jobs
from papertide.cli import EXIT_CHANGED, EXIT_ERROR, EXIT_UNCHANGED, app
from papertide.config import Settings
from papertide.db import Database, embeddings, keyword_snapshots, writes
from papertide.db.embeddings import StoredModel
from papertide.db.migrate import upgrade
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.runner import run_import
from papertide.models import PaperRecord
from papertide.search.embedder import OnnxMiniLM, normalise, paper_text
from papertide.search.reindex import embed_missing, ensure_vectors, pending, refresh
from papertide.search.text_index import TextIndex
from papertide.search.vectors import ModelChanged, VectorIndex

PAPERS = 12
runner = CliRunner()


class HashingEmbedder:
    """A second, deliberately different model (the same size as MiniLM): hashed words."""

    name = "hashing-test"
    dim = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                rows[row, hash(word) % self.dim] += 1.0
        return normalise(rows)


@pytest.fixture(scope="module")
def minilm() -> OnnxMiniLM:
    return OnnxMiniLM(max_tokens=64)  # short inputs keep the suite quick; same model


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The first PAPERS real arXiv listing records of 2025-09, as an import file."""
    source = shared_data / "arxiv_listings" / "arxiv_listings_2025-09.jsonl.gz"
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        lines = list(itertools.islice(handle, PAPERS))
    path = tmp_path_factory.mktemp("listing") / "listing.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def papers_db(db: Database, listing: Path) -> Database:
    assert run_import(db, arxiv_jsonl_source([listing])).counts.papers_new == PAPERS
    return db


def _stored(db: Database, model: str) -> int:
    with db.read() as conn:
        return embeddings.count(conn, model)


def _host_index_count(data_dir: Path) -> int:
    """The vectors in the host's index files; on PostgreSQL there are none (all are in the
    database), so the count of the index every host searches there."""
    if not on_postgresql():
        return VectorIndex.open(data_dir, "minilm-int8-dynamic", 384).count
    assert not (data_dir / "vectors").exists()
    with Database(os.environ["PAPERTIDE_DATABASE_URL"]).read() as conn:
        return embeddings.count(conn, "minilm-int8-dynamic")


def test_embed_missing_is_incremental_and_resumable(
    papers_db: Database, minilm: OnnxMiniLM
) -> None:
    assert pending(papers_db, minilm) == PAPERS
    steps: list[int] = []
    assert embed_missing(papers_db, minilm, batch_size=4, limit=10, progress=steps.append) == 10
    assert steps == [4, 4, 2] and _stored(papers_db, minilm.name) == 10
    # As if interrupted: the next run carries on with the rest, then there is nothing to do.
    assert embed_missing(papers_db, minilm, batch_size=8) == PAPERS - 10
    assert embed_missing(papers_db, minilm) == 0
    assert pending(papers_db, minilm) == 0
    with papers_db.read() as conn:
        assert embeddings.stored_models(conn) == [StoredModel("minilm-int8-dynamic", 384, PAPERS)]


def test_stored_vectors_are_the_model_s_float16_vectors(
    papers_db: Database, minilm: OnnxMiniLM
) -> None:
    embed_missing(papers_db, minilm)
    with papers_db.read() as conn:
        [(ids, rows)] = list(embeddings.iter_vectors(conn, minilm.name, 384))
        paper = conn.execute(
            sa.text("SELECT title, abstract FROM paper WHERE id = :id"), {"id": ids[0]}
        ).one()
    assert rows.dtype == np.float16 and rows.shape == (PAPERS, 384)
    fresh = minilm.embed([paper_text(paper.title, paper.abstract)])[0]
    assert float(rows[0].astype(np.float32) @ fresh) > 0.999


def test_an_edited_paper_is_embedded_again(papers_db: Database, minilm: OnnxMiniLM) -> None:
    embed_missing(papers_db, minilm)
    with papers_db.read() as conn:
        first = conn.exec_driver_sql("SELECT id FROM paper ORDER BY seq LIMIT 1").scalar_one()
    with papers_db.write() as conn:
        new_version = PaperRecord(first, version=9, title="Retitled", abstract="A new abstract.")
        assert writes.upsert_papers(conn, [new_version]).papers_updated == 1
    assert pending(papers_db, minilm) == 1
    assert embed_missing(papers_db, minilm) == 1
    assert embed_missing(papers_db, minilm) == 0


def test_a_model_change_is_refused_then_reindexed(
    papers_db: Database, minilm: OnnxMiniLM, tmp_path: Path
) -> None:
    embed_missing(papers_db, minilm)
    ensure_vectors(papers_db, tmp_path, minilm.name)
    other = HashingEmbedder()
    with pytest.raises(ModelChanged, match="papertide reindex"):
        embed_missing(papers_db, other)
    # Interrupted half-way: neither model's index may be used meanwhile.
    embed_missing(papers_db, other, limit=10, replace_other_models=True)
    for name in (minilm.name, other.name):
        with pytest.raises(ModelChanged, match="reindex is unfinished"):
            ensure_vectors(papers_db, tmp_path, name, dim=384)
    done = refresh(papers_db, tmp_path, other, rebuild_all=True)
    assert done.embedded == PAPERS - 10 and done.vectors.count == len(done.keywords) == PAPERS
    assert _stored(papers_db, other.name) == PAPERS and _stored(papers_db, minilm.name) == 0
    index = ensure_vectors(papers_db, tmp_path, other.name)
    assert index.count == PAPERS
    # The old model's index files went with it (PostgreSQL's index is in the database: none).
    files = sorted(p.name for p in (tmp_path / "vectors").glob("*.json"))
    assert files == ([] if on_postgresql() else ["hashing-test.json"])
    assert refresh(papers_db, tmp_path, other, rebuild_all=True).embedded == 0


def test_reindex_command(
    papers_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.console, "width", 1000)
    args = ["reindex", "--database-url", papers_db.url, "--data-dir", str(tmp_path)]
    result = runner.invoke(app, [*args, "--batch-size", "16"])
    assert result.exit_code == EXIT_CHANGED, result.output
    assert f"Embedded {PAPERS} papers with minilm-int8-dynamic" in result.output
    # The bar shows the rate and the time left (issue #12), e.g. "12/12 4.1 papers/s 0:00:03".
    assert re.search(rf"{PAPERS}/{PAPERS} +[\d.,]+ papers/s", result.output), result.output
    assert _host_index_count(tmp_path) == PAPERS
    assert f"The keyword index holds {PAPERS} papers." in result.output
    assert len(TextIndex.open(tmp_path)) == PAPERS
    # On PostgreSQL the rebuilt keyword index is stored for new hosts (search/text_snapshot).
    stored = "Stored the keyword index for new hosts" in result.output
    assert stored == on_postgresql(), result.output
    with papers_db.read() as conn:
        snapshot = keyword_snapshots.latest(conn)
    assert (snapshot is not None and snapshot.docs == PAPERS) == on_postgresql()
    again = runner.invoke(app, args)
    assert again.exit_code == EXIT_UNCHANGED, again.output
    assert "Embedded 0 papers" in again.output
    rebuilt = runner.invoke(app, [*args, "--rebuild-only"])
    assert rebuilt.exit_code == EXIT_CHANGED, rebuilt.output
    kind = "pgvector" if on_postgresql() else "exact"
    assert f"holds {PAPERS} vectors ({kind})" in rebuilt.output
    wrong = runner.invoke(app, [*args, "--rebuild-only", "--model", "sentence-transformers:x"])
    assert wrong.exit_code == EXIT_ERROR, wrong.output
    assert "reindex failed" in wrong.output and "made by minilm-int8-dynamic" in wrong.output
    unknown = runner.invoke(app, [*args, "--model", "bert"])
    assert unknown.exit_code == EXIT_ERROR and "unknown embedding model" in unknown.output


def test_embed_new_job(tmp_path: Path, listing: Path) -> None:
    settings = Settings(data_dir=tmp_path, load_demo=False)
    db = Database(settings.resolved_database_url)
    upgrade(db)
    run_import(db, arxiv_jsonl_source([listing]))
    now = dt.datetime(2026, 9, 1, 2, 0)
    with jobs.http_client(settings) as http:
        ctx = jobs.Context(db, http, settings, now)
        outcome = jobs.run_job(db, "embed-new", lambda: jobs.embed_new(ctx, limit=10))
        assert outcome.status == "ok", outcome.message
        assert outcome.result is not None and outcome.result.report.records_read == 10
        assert "embedded 10 papers with minilm-int8-dynamic; the vector index holds 10" in (
            outcome.message or ""
        )
        second = jobs.embed_new(ctx)
    assert second.report.records_read == PAPERS - 10
    assert _host_index_count(tmp_path) == PAPERS
    assert f"the keyword index {PAPERS} papers" in second.report.notes[-1]
    db.dispose()
