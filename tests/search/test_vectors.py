"""The vector index (search/vectors.py): exact and HNSW search, filters inside the retriever,
persistence, catching up with the database, and refusing another model's vectors."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from papertide.db import Database, embeddings, writes
from papertide.models import PaperRecord
from papertide.search import vectors
from papertide.search.embedder import DEFAULT_MODEL, OnnxMiniLM, paper_text
from papertide.search.vector_files import drop_index, index_folder
from papertide.search.vectors import (
    IndexMissing,
    ModelChanged,
    VectorIndex,
    ensure_index,
)

MODEL = "minilm-int8"
NOW = dt.datetime(2026, 9, 1, 12, 0)


@pytest.fixture(scope="module")
def real(shared_data: Path) -> tuple[list[str], np.ndarray]:
    """40 real papers of 2025-09 and their MiniLM vectors (128 tokens, to keep this quick)."""
    listing = shared_data / "arxiv_listings" / "arxiv_listings_2025-09.jsonl.gz"
    with gzip.open(listing, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in itertools.islice(handle, 40)]
    texts = [paper_text(r["title"], r["abstract"]) for r in records]
    return [r["id"] for r in records], OnnxMiniLM(max_tokens=128).embed(texts)


@pytest.fixture(scope="module")
def mixed(real: tuple[list[str], np.ndarray]) -> tuple[list[str], np.ndarray]:
    """1,500 vectors mixed from the real ones (as the 1M-paper benchmark grows its corpus)."""
    rng = np.random.default_rng(7)
    base = real[1]
    picks = rng.integers(0, len(base), size=(1_500, 3))
    weights = rng.dirichlet([1.0, 1.0, 1.0], size=1_500)
    rows = np.einsum("nk,nkd->nd", weights, base[picks]) + rng.normal(0, 0.01, (1_500, 384))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return [f"2601.{i:05d}" for i in range(1_500)], rows.astype(np.float32)


def _store(db: Database, ids: list[str], rows: np.ndarray, model: str = MODEL) -> None:
    with db.write() as conn:
        writes.upsert_papers(conn, [PaperRecord(pid, title=f"Paper {pid}") for pid in ids])
        embeddings.upsert_vectors(conn, model, ids, rows, NOW)


def _graph_filtering_for_small_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a 1,500-vector graph take the oversampling path (meant for large corpora)."""
    monkeypatch.setattr(vectors, "EXACT_FILTER_ROWS", 10)
    monkeypatch.setattr(vectors, "GRAPH_VISIT_COST", 1)


def _count_calls(monkeypatch: pytest.MonkeyPatch, method: str) -> list[int]:
    """A one-element list counting calls of VectorIndex.`method` (which still runs)."""
    calls = [0]
    original = getattr(VectorIndex, method)

    def counted(self: VectorIndex, *args: object) -> object:
        calls[0] += 1
        return original(self, *args)

    monkeypatch.setattr(VectorIndex, method, counted)
    return calls


def test_exact_and_hnsw_agree_on_the_top_ten(
    tmp_path: Path, mixed: tuple[list[str], np.ndarray]
) -> None:
    ids, rows = mixed
    exact = VectorIndex.build(tmp_path / "a", MODEL, 384, [(ids, rows)])
    graph = VectorIndex.build(tmp_path / "b", MODEL, 384, [(ids, rows)], exact_limit=0)
    assert (exact.kind, graph.kind) == ("exact", "hnsw")
    rng = np.random.default_rng(3)
    overlaps, same_first = [], 0
    for row in rng.choice(len(ids), 25, replace=False):
        query = rows[row] + rng.normal(0, 0.02, 384)
        a, b = exact.search(query, 10), graph.search(query, 10)
        assert a[0][0] == ids[row]
        # The graph is approximate (and its build order varies with threads and CPUs):
        # it may rarely miss the true first, never often.
        same_first += b[0][0] == a[0][0]
        overlaps.append(len({pid for pid, _ in a} & {pid for pid, _ in b}) / 10)
        scores = dict(a)
        for pid, score in b:
            if pid in scores:
                assert score == pytest.approx(scores[pid], abs=2e-3)
    assert same_first >= 23
    assert np.mean(overlaps) >= 0.95


@pytest.mark.parametrize("exact_limit", [10**6, 0], ids=["exact", "hnsw"])
def test_filters_apply_inside_the_retriever(
    tmp_path: Path,
    mixed: tuple[list[str], np.ndarray],
    exact_limit: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids, rows = mixed
    index = VectorIndex.build(tmp_path, MODEL, 384, [(ids, rows)], exact_limit=exact_limit)
    nearest = ids[0]
    assert index.search(rows[0], 1)[0][0] == nearest
    others = ids[1:]
    # A large allowed set: through the graph (with oversampling) when there is one.
    _graph_filtering_for_small_sets(monkeypatch)
    exact_calls = _count_calls(monkeypatch, "_exact")
    found = index.search(rows[0], 20, allowed=set(others))
    assert exact_calls == ([1] if exact_limit else [0])
    assert len(found) == 20 and nearest not in dict(found)
    assert found == sorted(found, key=lambda match: -match[1])
    # A small one, scored exactly: only the allowed papers, even the far ones.
    allowed = {ids[700], ids[900], "not-indexed", ""}
    found = index.search(rows[0], 10, allowed=allowed)
    assert {pid for pid, _ in found} == {ids[700], ids[900]}
    assert index.search(rows[0], 10, allowed=set()) == []
    assert index.search(rows[0], 10, allowed={"2601.999999999"}) == []


def test_filtered_graph_search_equals_exact_search_over_the_allowed_set(
    tmp_path: Path, mixed: tuple[list[str], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, rows = mixed
    graph = VectorIndex.build(tmp_path / "g", MODEL, 384, [(ids, rows)], exact_limit=0)
    exact = VectorIndex.build(tmp_path / "e", MODEL, 384, [(ids, rows)])
    _graph_filtering_for_small_sets(monkeypatch)
    exact_calls = _count_calls(monkeypatch, "_exact")
    allowed = set(ids[::3])  # a third of the corpus: oversampled graph search
    shared = []
    for row in (1, 50, 1_001):
        a = exact.search(rows[row], 10, allowed=allowed)
        b = graph.search(rows[row], 10, allowed=allowed)
        shared.append(len({pid for pid, _ in a} & {pid for pid, _ in b}))
        assert all(pid in allowed for pid, _ in b)
    assert min(shared) >= 8 and sum(shared) >= 27  # approximate, never far off
    assert exact_calls == [3]  # the exact index's three, none of the graph's


def test_neighbours_exclude_the_paper_and_its_duplicates(
    tmp_path: Path, real: tuple[list[str], np.ndarray]
) -> None:
    ids, rows = real
    duplicate = "2509.99999"  # the same record imported under a second id
    index = VectorIndex.build(tmp_path, MODEL, 384, [(ids, rows), ([duplicate], rows[:1])])
    assert index.search(rows[0], 2)[1][0] in {ids[0], duplicate}
    related = index.neighbours(ids[0], 5)
    assert len(related) == 5
    assert ids[0] not in dict(related) and duplicate not in dict(related)
    assert all(score < 0.999 for _, score in related)
    # The vector as stored (float16) is the query: the same papers as the original's.
    assert [pid for pid, _ in related] == [pid for pid, _ in index.search(rows[0], 7)[2:]]
    assert index.neighbours(duplicate, 5) == related
    assert index.neighbours("not-indexed", 5) == []


@pytest.mark.parametrize("first", ["2509.00001", "2509.00002"])
def test_equal_scores_come_in_id_order_whatever_the_insertion_order(
    tmp_path: Path, real: tuple[list[str], np.ndarray], first: str
) -> None:
    ids, rows = real
    twins = [first, ({"2509.00001", "2509.00002"} - {first}).pop()]
    batches = [(twins, np.stack([rows[0], rows[0]])), (ids[1:], rows[1:])]
    index = VectorIndex.build(tmp_path, MODEL, 384, batches)
    for allowed in (None, {*twins, ids[5]}):
        found = index.search(rows[0], 3, allowed)
        assert [pid for pid, _ in found[:2]] == ["2509.00001", "2509.00002"]
        assert found[0][1] == found[1][1] > found[2][1]


def test_add_and_remove_persist_and_other_readers_notice(
    tmp_path: Path, real: tuple[list[str], np.ndarray]
) -> None:
    ids, rows = real
    index = VectorIndex.build(tmp_path, MODEL, 384, [(ids[:30], rows[:30])])
    reader = VectorIndex.open(tmp_path, MODEL, 384)
    index.add(ids[30:], rows[30:])
    assert index.count == 40 and ids[35] in index
    assert reader.outdated() and ids[35] not in reader  # its own generation still reads fine
    assert reader.search(rows[35], 1)[0][0] != ids[35]
    assert index.remove([ids[35], "never-added"]) == 1
    reopened = VectorIndex.open(tmp_path, MODEL, 384)
    assert reopened.count == 39 and ids[35] not in reopened
    assert reopened.search(rows[36], 1)[0][0] == ids[36]
    # Replacing a vector keeps one row per paper; two papers with one vector tie, in id order.
    reopened.add([ids[0]], rows[1:2])
    assert reopened.count == 39
    tied = reopened.search(rows[1], 2)
    assert [pid for pid, _ in tied] == sorted([ids[0], ids[1]])
    assert tied[0][1] == tied[1][1] == pytest.approx(1.0, abs=1e-3)  # rounded: they tie
    # An old-style id, wider than any before it.
    reopened.add(["math.GT/0309136"], rows[2:3])
    assert reopened.search(rows[2], 5, allowed={"math.GT/0309136", ids[3]})[0] == (
        "math.GT/0309136",
        pytest.approx(1.0, abs=1e-3),
    )
    assert reopened.neighbours("math.GT/0309136", 1)[0][0] != ids[2]  # a duplicate of it
    files = sorted(p.name for p in index_folder(tmp_path).iterdir())
    assert len([name for name in files if name.endswith(".vectors")]) == 1  # old ones deleted


def test_a_patched_graph_keeps_answering(
    tmp_path: Path, mixed: tuple[list[str], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, rows = mixed
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 100)  # so 1,500 vectors stay a graph
    index = VectorIndex.build(tmp_path, MODEL, 384, [(ids[:1_400], rows[:1_400])], 100)
    index.add(ids[1_400:], rows[1_400:])
    index.remove(ids[:50])
    assert (index.kind, index.count, index.meta.rows) == ("hnsw", 1_450, 1_500)
    assert index.search(rows[1_450], 1)[0][0] == ids[1_450]
    assert all(pid not in set(ids[:50]) for pid, _ in index.search(rows[10], 50))
    reopened = VectorIndex.open(tmp_path, MODEL, 384)
    assert reopened.search(rows[700], 5) == index.search(rows[700], 5)
    assert sorted(reopened.ids()) == sorted(ids[50:])


def test_rebuilt_after_its_files_are_deleted_with_identical_results(
    tmp_path: Path, db: Database, real: tuple[list[str], np.ndarray]
) -> None:
    ids, rows = real
    _store(db, ids, rows)
    first = ensure_index(db, tmp_path, MODEL)
    assert first.count == 40 and first.meta.db_count == 40
    queries = rows[[3, 17, 29]]
    before = [first.search(q, 10) for q in queries]
    shutil.rmtree(index_folder(tmp_path))
    with pytest.raises(IndexMissing):
        VectorIndex.open(tmp_path, MODEL, 384)
    again = ensure_index(db, tmp_path, MODEL)
    assert [again.search(q, 10) for q in queries] == before
    assert ensure_index(db, tmp_path, MODEL).meta.generation == again.meta.generation


def test_catches_up_with_new_changed_and_deleted_vectors(
    tmp_path: Path, db: Database, real: tuple[list[str], np.ndarray]
) -> None:
    ids, rows = real
    _store(db, ids[:30], rows[:30])
    index = ensure_index(db, tmp_path, MODEL)
    assert index.count == 30
    _store(db, ids[30:], rows[30:])  # new papers
    with db.write() as conn:
        embeddings.upsert_vectors(conn, MODEL, [ids[0]], rows[39:40], NOW)  # re-embedded
        conn.execute(sa.text("DELETE FROM paper WHERE id = :id"), {"id": ids[5]})  # cascades
    index = ensure_index(db, tmp_path, MODEL)
    assert index.count == 39 and ids[5] not in index and ids[35] in index
    assert {pid for pid, _ in index.search(rows[39], 2)} == {ids[0], ids[39]}
    with db.read() as conn:
        state = embeddings.state(conn, MODEL)
    assert index.is_synced(state)


def test_a_model_change_is_refused_until_reindexed(
    tmp_path: Path, db: Database, real: tuple[list[str], np.ndarray]
) -> None:
    ids, rows = real
    _store(db, ids, rows)
    ensure_index(db, tmp_path, MODEL)
    with pytest.raises(ModelChanged, match=r"made by minilm-int8 .*papertide reindex"):
        ensure_index(db, tmp_path, "sentence-transformers:allenai/specter2_base", dim=768)
    # The default since issue #12 is the same model in int8 arithmetic: the same size, other
    # vectors, so an install that stored the float model's vectors is told to reindex.
    assert (MODEL, DEFAULT_MODEL) == ("minilm-int8", "minilm-int8-dynamic")
    with pytest.raises(ModelChanged, match=r"made by minilm-int8 .*papertide reindex"):
        ensure_index(db, tmp_path, DEFAULT_MODEL)
    # Half re-embedded by another model of the same size: still refused, never mixed.
    with db.write() as conn:
        embeddings.upsert_vectors(conn, "other-384", ids[:20], rows[:20], NOW)
    with pytest.raises(ModelChanged, match="reindex is unfinished: 20 papers are done"):
        ensure_index(db, tmp_path, "other-384", dim=384)
    with pytest.raises(ModelChanged):
        ensure_index(db, tmp_path, MODEL)


def test_an_index_of_another_model_or_format_is_not_opened(
    tmp_path: Path, real: tuple[list[str], np.ndarray]
) -> None:
    ids, rows = real
    VectorIndex.build(tmp_path, MODEL, 384, [(ids, rows)])
    with pytest.raises(IndexMissing, match="holds minilm-int8 \\(384"):
        VectorIndex.open(tmp_path, MODEL, 768)
    meta = index_folder(tmp_path) / f"{MODEL}.json"
    meta.write_text(re.sub(r'"format": \d+', '"format": 99', meta.read_text()))
    with pytest.raises(IndexMissing, match="format"):
        VectorIndex.open(tmp_path, MODEL, 384)
    drop_index(tmp_path, MODEL)
    assert sorted(p.suffix for p in index_folder(tmp_path).iterdir()) == [".lock"]


def test_an_empty_database_gives_an_empty_index(tmp_path: Path, db: Database) -> None:
    index = ensure_index(db, tmp_path, MODEL)
    assert index.count == 0 and index.search(np.ones(384), 5) == []
    assert index.neighbours("2509.00001", 5) == []


def test_usearch_then_the_embedder_does_not_crash_the_process() -> None:
    """usearch imported before onnxruntime segfaults; usearch_index() orders the imports."""
    import subprocess
    import sys

    code = (
        "from papertide.search.vector_files import usearch_index; usearch_index(); "
        "from papertide.search.embedder import load_embedder; "
        "print(load_embedder('minilm-int8', threads=1).embed(['a test']).shape)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "(1, 384)" in done.stdout
