"""The arXiv listing importer on real listing lines, good and broken."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from papertide.db import Database, queries
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source, parse_listing
from papertide.ingest.runner import ImportResult, run_import
from papertide.ingest.validation import BadRecord


def _listing_rows(shared_data: Path, count: int) -> list[dict[str, Any]]:
    path = shared_data / "arxiv_listings" / "arxiv_listings_2025-03.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(next(handle)) for _ in range(count)]


def _write_lines(path: Path, lines: list[str]) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def _import(db: Database, *paths: Path) -> ImportResult:
    return run_import(db, arxiv_jsonl_source(list(paths)))


@pytest.mark.parametrize("name", ["listing.jsonl", "listing.jsonl.gz"])
def test_real_listing_lines(db: Database, shared_data: Path, tmp_path: Path, name: str) -> None:
    rows = _listing_rows(shared_data, 12)
    path = _write_lines(tmp_path / name, [json.dumps(row) for row in rows])
    result = _import(db, path)
    assert result.report.problems == []
    assert result.report.records_read == 12
    assert result.counts.papers_new == 12
    with db.read() as conn:
        paper = queries.get_paper(conn, "2503.11742")
        assert queries.paper_count(conn) == 12
    assert paper is not None
    assert paper.title == "Safe Vision-Language Models via Unsafe Weights Manipulation"
    assert paper.authors == [
        "Moreno D'Incà",
        "Elia Peruzzo",
        "Xingqian Xu",
        "Humphrey Shi",
        "Nicu Sebe",
        "Massimiliano Mancini",
    ]
    assert paper.categories == ["cs.CV", "cs.AI"]
    assert paper.comments == "Work in progress"
    assert paper.published_at == dt.datetime(2025, 3, 18)  # the first listing day
    assert paper.abstract.startswith("Vision-language models (VLMs) often inherit the biases and")
    assert "\n" not in paper.abstract  # arXiv's hard wraps are undone
    assert paper.featured == []


def test_line_without_title_is_reported(db: Database, shared_data: Path, tmp_path: Path) -> None:
    rows = _listing_rows(shared_data, 5)
    del rows[1]["title"]
    rows[3]["title"] = "   "
    path = _write_lines(tmp_path / "listing.jsonl", [json.dumps(row) for row in rows])
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [
        (f"{path}:2", "2503.11742 has no title"),
        (f"{path}:4", "2503.11780 has no title"),
    ]
    assert result.counts.papers_new == 3


def test_bad_lines_are_reported_with_their_line(
    db: Database, shared_data: Path, tmp_path: Path
) -> None:
    rows = _listing_rows(shared_data, 4)
    lines = [json.dumps(row) for row in rows]
    lines.insert(1, '{"id": "2503.99999", "title": "cut off')
    lines.insert(3, "")  # blank lines are not records
    lines.append("[1, 2, 3]")
    lines.append(json.dumps(dict(rows[0], id="garbage")))
    lines.append(json.dumps(dict(rows[0], id="2503.88888", title=42)))
    path = _write_lines(tmp_path / "listing.jsonl", lines)
    result = _import(db, path)
    problems = [(p.where, p.message) for p in result.report.problems]
    assert [where for where, _ in problems] == [f"{path}:2", f"{path}:7", f"{path}:8", f"{path}:9"]
    assert problems[0][1].startswith("not a JSON line")
    assert problems[1][1] == "not a JSON object but list [1, 2, 3]"
    assert "'garbage' is not an arXiv id" in problems[2][1]
    assert problems[3][1] == "title: expected a string, got 42"
    assert result.counts.papers_new == 4


def test_versioned_id_and_whitespace() -> None:
    record = parse_listing(
        {
            "id": "2503.11731v3",
            "title": "A\n  title",
            "authors": ["Ada  Lovelace", "", "Alan\nTuring"],
            "categories": ["cs.CV", "cs.RO"],
            "listing_dates": ["2025-03-17", "2025-03-18"],
        }
    )
    assert (record.arxiv_id, record.version, record.title) == ("2503.11731", 3, "A title")
    assert record.authors == ["Ada Lovelace", "Alan Turing"]
    assert record.categories == ["cs.CV", "cs.RO"]
    assert record.published_at == dt.datetime(2025, 3, 17)
    assert record.abstract is None  # absent, so it never erases another source's abstract


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("authors", "Ada Lovelace", "authors: expected a list, got 'Ada Lovelace'"),
        ("authors", ["Ada Lovelace", 7], "authors[1]: expected a string, got 7"),
        ("categories", "cs.CV cs.RO", "categories: expected a list, got 'cs.CV cs.RO'"),
        ("id", 2503.11731, "id: expected a string, got 2503.11731"),
        (
            "listing_dates",
            ["not a date"],
            "listing_dates[0]: not an ISO 8601 date: 'not a date'",
        ),
        ("comments", ["a list"], "comments: expected a string, got ['a list']"),
    ],
)
def test_a_line_of_the_wrong_shape_is_refused_not_coerced(
    field: str, value: object, message: str
) -> None:
    row = {"id": "2503.11731", "title": "A title", field: value}
    with pytest.raises(BadRecord) as raised:
        parse_listing(row)
    assert str(raised.value) == message


def test_parse_listing_rejects_non_objects() -> None:
    with pytest.raises(BadRecord, match="not a JSON object"):
        parse_listing(["2503.11731"])
