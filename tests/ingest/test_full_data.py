"""The whole real data set: every HF daily tarball, then every arXiv listing (about 30 s).

The tests share one database and run in order: import, re-import, then the listings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import DatabaseFactory

from papertide.db import Database, queries, writes
from papertide.db.migrate import upgrade
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import ImportResult, run_import

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tarballs(shared_data: Path) -> list[Path]:
    paths = sorted((shared_data / "hf_daily_papers" / "raw_by_month").glob("*.tar.gz"))
    assert len(paths) == 28
    return paths


@pytest.fixture(scope="module")
def full_db(
    tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory
) -> Iterator[Database]:
    db = Database(databases.url(tmp_path_factory.mktemp("full")))
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def first_import(full_db: Database, tarballs: list[Path]) -> ImportResult:
    return run_import(full_db, HfDailySource(tarballs))


def _rows(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return writes.count_rows(conn)


def test_all_tarballs_import(full_db: Database, first_import: ImportResult) -> None:
    result = first_import
    assert result.report.problems == []
    assert result.report.records_read == 9881
    assert result.counts.entries_new == 9881
    assert result.counts.papers_new == 9877
    rows = _rows(full_db)
    assert (rows["paper"], rows["daily_entry"]) == (9877, 9881)
    with full_db.read() as conn:
        assert queries.latest_featured_date(conn) == dt.date(2026, 8, 21)
        assert queries.featured_date_on_or_before(conn, dt.date(2024, 5, 27)) == dt.date(
            2024, 5, 27
        )
        assert queries.featured_date_on_or_before(conn, dt.date(2024, 5, 26)) is None


def test_messy_days_are_noted(first_import: ImportResult, tarballs: list[Path]) -> None:
    notes = first_import.report.notes
    repr_notes = [note for note in notes if "Python-repr string items" in note]
    # 2024-12-11 .. 2025-01-10: 22 featured days (the data README says 21).
    assert len(repr_notes) == 22
    december, january = tarballs[7], tarballs[8]
    assert december.name == "hf_daily_papers_raw_2024-12.tar.gz"
    assert repr_notes[0] == f"{december}:2024-12-11.json: decoded 26 Python-repr string items"
    assert repr_notes[-1] == f"{january}:2025-01-10.json: decoded 9 Python-repr string items"
    wrapper = [note for note in notes if "wrapper" in note]
    assert wrapper == [
        f"{january}:2025-01-10.json: unwrapped a {{status, date, count, data}} wrapper object"
    ]
    # Three githubRepo values name no repository: the papers are kept, without one.
    repos = [note for note in notes if "names no GitHub repository" in note]
    assert len(repos) == 3
    assert "'https://github.com/DFIR-Metric'" in repos[0] or any(
        "'https://github.com/DFIR-Metric'" in note for note in repos
    )
    assert len(notes) == 22 + 1 + 3


def test_second_import_changes_nothing(
    full_db: Database, first_import: ImportResult, tarballs: list[Path]
) -> None:
    again = run_import(full_db, HfDailySource(tarballs))
    assert again.report.problems == []
    assert (again.counts.papers_new, again.counts.papers_updated) == (0, 0)
    assert (again.counts.entries_new, again.counts.stars_new) == (0, 0)
    assert not again.counts.changed
    assert again.summary().startswith("hf-daily: 0 new, 0 updated, 9877 unchanged papers")
    rows = _rows(full_db)
    assert (rows["paper"], rows["daily_entry"]) == (9877, 9881)


def test_arxiv_listings_merge_into_the_hf_papers(
    full_db: Database, first_import: ImportResult, shared_data: Path
) -> None:
    listings = sorted((shared_data / "arxiv_listings").glob("*.jsonl.gz"))
    assert len(listings) == 18
    with full_db.read() as conn:
        before = queries.get_paper(conn, "2509.04664")
    assert before is not None and before.categories == []
    result = run_import(full_db, arxiv_jsonl_source(listings))
    assert result.report.problems == []
    assert result.report.records_read == 74728
    assert result.counts.papers_new == 70440
    assert result.counts.papers_updated == 4288
    assert result.counts.papers_unchanged == 0
    assert _rows(full_db)["paper"] == 80317
    with full_db.read() as conn:
        after = queries.get_paper(conn, "2509.04664")
    assert after is not None
    # The listing adds what HF lacks and keeps what HF gave.
    assert after.categories == ["cs.CL"]
    assert after.title == before.title == "Why Language Models Hallucinate"
    assert after.upvotes == before.upvotes
    assert after.featured == before.featured
