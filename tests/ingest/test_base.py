"""Shared ingest helpers: text cleaning, streaming JSON lines, the import runner."""

from __future__ import annotations

import gzip
import inspect
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from papertide.db import Database, queries, writes
from papertide.db.state import get_state, set_state
from papertide.ingest.arxiv_snapshot import arxiv_snapshot_source
from papertide.ingest.base import Batch, Report, clean_text, iter_json_lines
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.models import PaperRecord, WriteCounts


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("  A  hard-wrapped\n  title ", "A hard-wrapped title"),
        (" \n\t", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_clean_text(text: object, cleaned: str | None) -> None:
    assert clean_text(text) == cleaned


@pytest.fixture
def big_snapshot(shared_data: Path, tmp_path: Path) -> Path:
    """About 13 MB of real snapshot lines (the real file eight times over)."""
    real = (shared_data / "arxiv_kaggle_format" / "arxiv_browse_kaggle_format.jsonl").read_bytes()
    path = tmp_path / "big.jsonl"
    with path.open("wb") as handle:
        for _ in range(8):
            handle.write(real)
    return path


def test_iter_json_lines_streams(big_snapshot: Path) -> None:
    size = big_snapshot.stat().st_size
    assert size > 12_000_000
    report = Report()
    lines = iter_json_lines(big_snapshot, report)
    assert inspect.isgenerator(lines)
    position, first, consumed = next(lines)
    assert position == f"{big_snapshot}:1"
    assert first["id"] == "acc-phys/9411001"
    assert consumed < size // 100  # the first record comes before the file is read
    lines.close()

    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_json_lines(big_snapshot, report))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 8 * 1130
    assert report.problems == []
    assert peak < 2_000_000, f"peak {peak} bytes while streaming a {size}-byte file"


def test_iter_json_lines_reports_progress_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n')
    steps = [step for _, _, step in iter_json_lines(path, Report())]
    assert steps == [9, 9]


def test_iter_json_lines_reads_gzip_and_reports_a_truncated_one(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl.gz"
    data = gzip.compress(b"".join(b'{"n": %d}\n' % n for n in range(2000)))
    path.write_bytes(data)
    report = Report()
    assert [row["n"] for _, row, _ in iter_json_lines(path, report)] == list(range(2000))
    assert report.problems == []

    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    rows = list(iter_json_lines(cut, report))
    assert 0 < len(rows) < 2000
    assert [p.where for p in report.problems] == [str(cut)]
    assert report.problems[0].message.startswith("could not be read to the end")


def test_snapshot_source_yields_batches_lazily(big_snapshot: Path) -> None:
    source = arxiv_snapshot_source([big_snapshot])
    assert source.total() == big_snapshot.stat().st_size
    report = Report()
    batches = source.batches(report)
    first = next(batches)
    assert len(first.papers) == 500
    assert report.records_read == 500
    assert 0 < first.advance < source.total() // 10
    rest = list(batches)
    assert sum(len(b.papers) for b in rest) == 8 * 1130 - 500
    assert first.advance + sum(b.advance for b in rest) == source.total()


def test_runner_summary_and_progress(db: Database, samples: Path) -> None:
    paths = [samples / "2024-05-27.json", samples / "2026-08-20.json"]
    advanced: list[int] = []
    result = run_import(db, HfDailySource(paths), advanced.append)
    assert sum(advanced) == sum(p.stat().st_size for p in paths)
    assert result.summary() == (
        "hf-daily: 28 new, 0 updated, 0 unchanged papers; 28 new daily entries; "
        f"{result.counts.stars_new} new star snapshots; 0 skipped"
    )
    assert result.counts.stars_new > 0
    again = run_import(db, HfDailySource(paths))
    assert again.summary() == (
        "hf-daily: 0 new, 0 updated, 28 unchanged papers; 0 new daily entries; "
        "0 new star snapshots; 0 skipped"
    )


class _TwoBatches:
    """A source whose second batch's further write fails: a live source failing half-way."""

    name = "two-batches"

    def total(self) -> None:
        return None

    def batches(self, report: Report) -> Iterator[Batch]:
        yield Batch(papers=[PaperRecord("2401.00001", title="First")])
        with_state = Batch(
            papers=[PaperRecord("2401.00002", title="Second")],
            apply=lambda conn: set_state(conn, "two-batches", {"page": 2}),
        )
        yield with_state
        yield Batch(papers=[PaperRecord("2401.00003", title="Third")], apply=self._fail)

    def _fail(self, conn: Connection) -> WriteCounts:
        raise RuntimeError("the checkpoint could not be written")


def test_a_batch_and_its_further_writes_share_one_transaction(db: Database) -> None:
    """The runner of every source, files and live alike (issue #10): each batch is written
    whole or not at all, and the batches before a failure stay written."""
    with pytest.raises(RuntimeError, match="checkpoint"):
        run_import(db, _TwoBatches())
    with db.read() as conn:
        assert get_state(conn, "two-batches") == {"page": 2}
        stored = [queries.get_paper(conn, f"2401.0000{n}") for n in (1, 2, 3)]
    assert [paper.title if paper else None for paper in stored] == ["First", "Second", None]


def test_further_writes_add_their_counts(db: Database) -> None:
    class Replacing:
        name = "replacing"

        def total(self) -> None:
            return None

        def batches(self, report: Report) -> Iterator[Batch]:
            yield Batch(papers=[PaperRecord("2401.00001", title="Old", version=1)])
            newer = [PaperRecord("2401.00001", title="New", version=2)]
            yield Batch(apply=lambda conn: writes.update_known_papers(conn, newer))

    result = run_import(db, Replacing())
    assert (result.counts.papers_new, result.counts.papers_updated) == (1, 1)
    with db.read() as conn:
        paper = queries.get_paper(conn, "2401.00001")
    assert paper is not None and (paper.title, paper.version) == ("New", 2)
