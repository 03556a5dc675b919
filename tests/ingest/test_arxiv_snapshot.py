"""The arXiv bulk-snapshot importer on the real Kaggle-format file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import DatabaseFactory

from papertide.db import Database, queries
from papertide.ingest.arxiv_snapshot import (
    arxiv_snapshot_source,
    parse_snapshot_line,
    split_authors,
)
from papertide.ingest.runner import ImportResult, run_import
from papertide.ingest.validation import BadRecord
from papertide.models import PaperDetail


@pytest.fixture(scope="module")
def snapshot_file(shared_data: Path) -> Path:
    return shared_data / "arxiv_kaggle_format" / "arxiv_browse_kaggle_format.jsonl"


@pytest.fixture(scope="module")
def snapshot_db(
    tmp_path_factory: pytest.TempPathFactory, snapshot_file: Path, databases: DatabaseFactory
) -> Iterator[tuple[Database, ImportResult]]:
    from papertide.db.migrate import upgrade

    folder = tmp_path_factory.mktemp("snapshot")
    db = Database(databases.url(folder))
    upgrade(db)
    result = run_import(db, arxiv_snapshot_source([snapshot_file]))
    yield db, result
    db.dispose()


def _paper(db: Database, arxiv_id: str) -> PaperDetail:
    with db.read() as conn:
        paper = queries.get_paper(conn, arxiv_id)
    assert paper is not None, arxiv_id
    return paper


def test_every_line_is_imported(
    snapshot_db: tuple[Database, ImportResult], snapshot_file: Path
) -> None:
    db, result = snapshot_db
    lines = [line for line in snapshot_file.read_text(encoding="utf-8").splitlines() if line]
    assert len(lines) == 1130
    assert len({json.loads(line)["id"] for line in lines}) == 1130
    assert result.report.problems == []
    assert result.report.records_read == 1130
    assert (result.counts.papers_new, result.counts.papers_updated) == (1130, 0)
    assert result.counts.entries_new == 0
    with db.read() as conn:
        assert queries.paper_count(conn) == 1130


def test_multi_version_record(snapshot_db: tuple[Database, ImportResult]) -> None:
    paper = _paper(snapshot_db[0], "0704.0199")
    assert paper.version == 3
    assert paper.published_at == dt.datetime(2007, 4, 2, 14, 10, 5)  # v1
    assert paper.updated_at == dt.datetime(2009, 11, 17, 10, 18, 51)  # v3
    # Affiliations in parentheses are dropped, "A and B" is split.
    assert paper.authors == ["Christian Krattenthaler", 'Thomas M\\"uller']
    assert paper.categories == ["math.CO", "math.GR"]
    assert paper.journal_ref == "Trans. Amer. Math. Soc. 362 (2010), 2723-2787"
    assert paper.comments == (
        "AmS-LaTeX; 65 pages. Final version to appear in Trans. Amer. Math. Soc"
    )
    assert not paper.withdrawn


def test_old_style_id(snapshot_db: tuple[Database, ImportResult]) -> None:
    paper = _paper(snapshot_db[0], "acc-phys/9411001")
    assert paper.title == "Symplectic Computation of Lyapunov Exponents"
    assert paper.authors == ["Salman Habib", "Robert D. Ryne"]
    assert paper.categories == ["acc-phys", "physics.acc-ph"]
    assert paper.version == 1
    assert paper.published_at == paper.updated_at == dt.datetime(1994, 11, 1, 18, 57, 48)
    assert paper.abstract.startswith("A recently developed method for the calculation")
    assert paper.comments == "12 pages, uuencoded PostScript (figures included)"


def test_nested_affiliations_and_doi(snapshot_db: tuple[Database, ImportResult]) -> None:
    paper = _paper(snapshot_db[0], "0704.0128")
    assert paper.authors == [
        "P.A. Evans",
        "A.P. Beardmore",
        "K.L. Page",
        "L.G. Tyler",
        "J.P. Osborne",
        "M.R. Goad",
        "P.T. O'Brien",
        "L. Vetere",
        "J. Racusin",
        "D. Morris",
        "D.N. Burrows",
        "M. Capalbi",
        "M. Perri",
        "N. Gehrels",
        "P. Romano",
    ]
    assert paper.doi == "10.1051/0004-6361:20077530"
    assert paper.version == 2


def test_withdrawn_comment_marks_the_paper(snapshot_db: tuple[Database, ImportResult]) -> None:
    assert _paper(snapshot_db[0], "0704.0156").withdrawn
    assert _paper(snapshot_db[0], "0704.0615").withdrawn  # "This papers has been withdrawn"
    with snapshot_db[0].read() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM paper WHERE withdrawn").scalar_one()
    assert count == 10


def test_reimport_changes_nothing(
    snapshot_db: tuple[Database, ImportResult], snapshot_file: Path
) -> None:
    result = run_import(snapshot_db[0], arxiv_snapshot_source([snapshot_file]))
    assert (result.counts.papers_new, result.counts.papers_updated) == (0, 0)
    assert result.counts.papers_unchanged == 1130
    assert not result.counts.changed


def test_bad_line_is_reported_and_the_rest_imported(
    db: Database, snapshot_file: Path, tmp_path: Path
) -> None:
    lines = snapshot_file.read_text(encoding="utf-8").splitlines()[:6]
    lines[2] = lines[2][:80]
    record = json.loads(lines[4])
    record["versions"] = [{"version": "v1", "created": "the day before yesterday"}]
    lines[4] = json.dumps(record)
    path = tmp_path / "snapshot.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_import(db, arxiv_snapshot_source([path]))
    assert [p.where for p in result.report.problems] == [f"{path}:3", f"{path}:5"]
    assert result.report.problems[0].message.startswith("not a JSON line")
    assert result.report.problems[1].message == (
        "versions[0].created: not an RFC 2822 date: 'the day before yesterday'"
    )
    assert result.counts.papers_new == 4


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("A. One, B. Two (Univ X) and C. Three", ["A. One", "B. Two", "C. Three"]),
        ("A. One and B. Two", ["A. One", "B. Two"]),
        ("A. One, B. Two, and C. Three", ["A. One", "B. Two", "C. Three"]),
        ("Solo Author ((1) Lab (2) Other Lab)", ["Solo Author"]),
        ("Anderson Andrews and Sandra Band", ["Anderson Andrews", "Sandra Band"]),
        ("", []),
        (None, []),
    ],
)
def test_split_authors(text: str | None, names: list[str]) -> None:
    assert split_authors(text) == names


def test_parse_snapshot_line_rejects() -> None:
    with pytest.raises(BadRecord, match="not a JSON object"):
        parse_snapshot_line("0704.0001")
    with pytest.raises(BadRecord, match="not an arXiv id"):
        parse_snapshot_line({"id": "hello", "title": "x"})
    with pytest.raises(BadRecord, match=r"0704\.0001 has no title"):
        parse_snapshot_line({"id": "0704.0001", "title": None})
