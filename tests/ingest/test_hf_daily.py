"""The Hugging Face daily-papers importer on real sample days and on broken copies of them."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import io
import json
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from papertide.db import Database, queries, writes
from papertide.ingest.base import Report
from papertide.ingest.hf_daily import (
    HfDailySource,
    decode_day,
    parse_item,
    parse_normalized_row,
)
from papertide.ingest.runner import ImportResult, run_import

DAY = "2026-08-20"


def _items(samples: Path, day: str = DAY) -> list[Any]:
    items: list[Any] = json.loads((samples / f"{day}.json").read_text(encoding="utf-8"))
    return items


def _write(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def _import(db: Database, *paths: Path) -> ImportResult:
    return run_import(db, HfDailySource(list(paths)))


def _rows(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return writes.count_rows(conn)


def test_the_four_sample_days_import_cleanly(db: Database, samples: Path) -> None:
    paths = sorted(samples.glob("*.json"))
    assert [p.name for p in paths] == [
        "2024-05-27.json",
        "2024-12-11.json",
        "2025-09-08.json",
        "2026-08-20.json",
    ]
    result = _import(db, *paths)
    assert result.report.problems == []
    assert result.report.records_read == 13 + 26 + 7 + 15
    assert (result.counts.papers_new, result.counts.entries_new) == (61, 61)
    assert result.report.notes == [
        f"{samples / '2024-12-11.json'}: decoded 26 Python-repr string items"
    ]
    assert _rows(db)["paper"] == 61


def test_a_sample_record_keeps_every_field(db: Database, samples: Path) -> None:
    _import(db, samples / f"{DAY}.json")
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
    assert paper is not None
    assert paper.title.startswith("Zetta ζ: An Efficient Closed-Loop Embodied Harness")
    assert paper.authors[:3] == ["Xin Ding", "Liang Mi", "Mingzhe Huang"]
    assert len(paper.authors) == 15
    assert paper.abstract.startswith("Embodied agents are increasingly used")
    assert paper.published_at == dt.datetime(2026, 8, 17)
    assert paper.version is None  # HF gives no version
    assert paper.upvotes == 92
    assert paper.num_comments == 1
    assert paper.github_repo == "air-embodied-brain/Zetta-Embodiment"
    assert paper.github_stars == 152
    assert paper.project_page == "https://air-embodied-brain.github.io/zetta/"
    assert paper.ai_keywords[:2] == ["closed-loop embodied harness", "code-based runtime critics"]
    assert paper.ai_summary is not None and paper.ai_summary.startswith("Zetta is a closed-loop")
    assert [(f.date, f.submitted_by, f.submitter_fullname) for f in paper.featured] == [
        (dt.date(2026, 8, 20), "Xin64", "Xin Ding")
    ]


def test_python_repr_day_is_decoded(db: Database, samples: Path, tmp_path: Path) -> None:
    raw = (samples / "2024-12-11.json").read_bytes()
    assert all(isinstance(item, str) for item in json.loads(raw))
    path = tmp_path / "2024-12-11.json"
    path.write_bytes(raw)
    result = _import(db, path)
    assert result.report.problems == []
    assert result.report.notes == [f"{path}: decoded 26 Python-repr string items"]
    assert result.counts.papers_new == 26
    with db.read() as conn:
        paper = queries.get_paper(conn, "2412.07730")
    assert paper is not None
    assert paper.authors[:4] == ["Zongyu Lin", "Wei Liu", "Chen Chen", "Jiasen Lu"]
    assert [f.date for f in paper.featured] == [dt.date(2024, 12, 11)]


def test_wrapper_object_is_unwrapped(db: Database, samples: Path, tmp_path: Path) -> None:
    items = _items(samples)
    path = _write(
        tmp_path / f"{DAY}.json", {"status": 200, "date": DAY, "count": len(items), "data": items}
    )
    result = _import(db, path)
    assert result.report.problems == []
    assert result.report.notes == [
        f"{path}: unwrapped a {{status, date, count, data}} wrapper object"
    ]
    assert (result.counts.papers_new, result.counts.entries_new) == (15, 15)


def test_a_json_object_that_is_not_a_wrapper_is_reported(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path / f"{DAY}.json", {"error": "Rate limited"})
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [
        (str(path), "expected a JSON array of items, found dict")
    ]
    assert _rows(db)["paper"] == 0


def test_truncated_json_is_reported_with_the_file(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    path = tmp_path / f"{DAY}.json"
    path.write_bytes((samples / f"{DAY}.json").read_bytes()[:5000])
    result = _import(db, path)
    assert len(result.report.problems) == 1
    problem = result.report.problems[0]
    assert problem.where == str(path)
    assert problem.message.startswith("not valid JSON (")
    assert "line" in problem.message and "column" in problem.message
    assert str(problem).startswith(f"{path}: not valid JSON")
    assert result.counts.papers_new == 0


def test_empty_file_is_reported(db: Database, tmp_path: Path) -> None:
    path = tmp_path / f"{DAY}.json"
    path.write_bytes(b"  \n")
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [
        (str(path), "empty file (no JSON at all)")
    ]
    assert not result.counts.changed


def test_invalid_arxiv_id_is_reported_and_the_rest_imported(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    items = _items(samples)
    items[2]["paper"]["id"] = "not-an-arxiv-id"
    path = _write(tmp_path / f"{DAY}.json", items)
    result = _import(db, path)
    assert [p.where for p in result.report.problems] == [f"{path}[2]"]
    assert "'not-an-arxiv-id' is not an arXiv id" in result.report.problems[0].message
    assert result.counts.papers_new == 14
    with db.read() as conn:
        assert queries.get_paper(conn, "2608.18565") is None  # the item that was broken
        assert queries.get_paper(conn, "2608.17426") is not None


def test_item_without_paper_is_reported(db: Database, samples: Path, tmp_path: Path) -> None:
    items = _items(samples)
    del items[1]["paper"]
    items.append(42)
    path = _write(tmp_path / f"{DAY}.json", items)
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [
        (f"{path}[1]", "item has no `paper` object"),
        (f"{path}[15]", "item has no `paper` object"),
    ]
    assert result.counts.papers_new == 14


def test_unknown_extra_fields_are_ignored(db: Database, samples: Path, tmp_path: Path) -> None:
    items = _items(samples)
    for item in items:
        item["brandNewField"] = {"nested": [1, 2, 3]}
        item["paper"]["mediaUrls"] = ["https://example.org/x.png"]
        item["paper"]["authors"][0]["orcid"] = "0000-0000-0000-0000"
    path = _write(tmp_path / f"{DAY}.json", items)
    result = _import(db, path)
    assert result.report.problems == []
    assert result.counts.papers_new == 15
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
    assert paper is not None and paper.authors[0] == "Xin Ding" and paper.upvotes == 92


def test_missing_abstract_imports_an_empty_abstract(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    items = _items(samples)
    del items[0]["paper"]["summary"]
    del items[0]["summary"]
    path = _write(tmp_path / f"{DAY}.json", items)
    result = _import(db, path)
    assert result.report.problems == []
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
    assert paper is not None
    assert paper.abstract == ""
    assert paper.title.startswith("Zetta")


def test_same_paper_on_two_days_is_one_paper_with_two_entries(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    item = _items(samples)[0]
    later = copy.deepcopy(item)
    later["paper"]["submittedOnDailyAt"] = "2026-08-21T00:00:00.000Z"
    later["paper"]["upvotes"] = 120
    first = _write(tmp_path / "2026-08-20.json", [item])
    second = _write(tmp_path / "2026-08-21.json", [later])
    result = _import(db, first, second)
    assert (result.counts.papers_new, result.counts.entries_new) == (1, 2)
    assert _rows(db)["paper"] == 1
    assert _rows(db)["daily_entry"] == 2
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
    assert paper is not None
    assert [f.date for f in paper.featured] == [dt.date(2026, 8, 20), dt.date(2026, 8, 21)]
    assert paper.upvotes == 120  # the larger count wins


def test_day_comes_from_the_file_name_over_submitted_at(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    path = _write(tmp_path / "2026-08-22.json", _items(samples)[:1])
    _import(db, path)
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
    assert paper is not None and [f.date for f in paper.featured] == [dt.date(2026, 8, 22)]


def test_file_without_a_date_uses_submitted_on_daily_at(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    path = _write(tmp_path / "some-day.json", _items(samples)[:3])
    result = _import(db, path)
    assert result.counts.entries_new == 3
    with db.read() as conn:
        cards, total = queries.feed(conn, dt.date(2026, 8, 20), dt.date(2026, 8, 20))
    assert total == 3
    assert {c.featured_on for c in cards} == {dt.date(2026, 8, 20)}


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_tarball_with_a_non_json_member(db: Database, samples: Path, tmp_path: Path) -> None:
    path = _tarball(
        tmp_path / "hf_daily_papers_raw_2026-08.tar.gz",
        {
            "2026-08/README.txt": b"captured by a script\n",
            f"2026-08/{DAY}.json": (samples / f"{DAY}.json").read_bytes(),
            "2026-08/2026-08-21.json": b'[{"paper": {"id": "2608.1',
        },
    )
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems[:1]] == [
        (f"{path}:2026-08/README.txt", "skipped: not a .json day file")
    ]
    assert len(result.report.problems) == 2
    assert result.report.problems[1].where == f"{path}:2026-08/2026-08-21.json"
    assert result.report.problems[1].message.startswith("not valid JSON")
    assert (result.counts.papers_new, result.counts.entries_new) == (15, 15)


def test_a_file_that_is_not_a_tarball_is_reported(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(b"this is not a tar archive")
    result = _import(db, path)
    assert [p.where for p in result.report.problems] == [str(path)]
    assert result.report.problems[0].message.startswith("not a readable tar archive")


def test_garbage_repr_string_is_reported_with_its_index(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    items = _items(samples, "2024-12-11")
    items[3] = items[3][: len(items[3]) // 2]  # a repr string cut in half
    items[5] = "definitely not python"
    path = _write(tmp_path / "2024-12-11.json", items)
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [
        (f"{path}[3]", "string item is neither JSON nor a Python literal"),
        (f"{path}[5]", "string item is neither JSON nor a Python literal"),
    ]
    assert result.counts.papers_new == 24
    assert result.report.notes == [f"{path}: decoded 24 Python-repr string items"]


def test_normalized_rows(db: Database, shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "hf_daily_papers" / "normalized"
    with gzip.open(source / "hf_daily_papers_normalized_2026-H2.jsonl.gz", "rt") as handle:
        rows = [json.loads(next(handle)) for _ in range(40)]
    lines = [json.dumps(row) for row in rows]
    lines.insert(10, "{not json")
    bad_date = dict(rows[0], daily_date="yesterday")
    lines.append(json.dumps(bad_date))
    path = tmp_path / "rows.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    result = _import(db, path)
    assert [(p.where, p.message.split(" (")[0]) for p in result.report.problems] == [
        (f"{path}:11", "not a JSON line"),
        (f"{path}:42", "daily_date: not an ISO 8601 date: 'yesterday'"),
    ]
    keys = {(r["arxiv_id"], r["daily_date"]) for r in rows}
    assert result.counts.entries_new == len(keys)
    assert result.counts.papers_new == len({r["arxiv_id"] for r in rows})
    first = rows[0]
    with db.read() as conn:
        paper = queries.get_paper(conn, first["arxiv_id"])
    assert paper is not None
    assert paper.title == " ".join(first["title"].split())
    assert dt.date.fromisoformat(first["daily_date"]) in [f.date for f in paper.featured]


def test_parse_item_values(samples: Path) -> None:
    record, entry, stars = parse_item(_items(samples)[1], dt.date(2026, 8, 20))
    assert record.arxiv_id == "2608.17253"
    assert record.github_repo == "DrStranded/Co-RL"
    assert record.upvotes == 74
    assert entry.date == dt.date(2026, 8, 20)
    assert entry.submitted_at == dt.datetime(2026, 8, 20)
    assert stars is not None
    assert (stars.repo, stars.stars, stars.observed_at) == (
        "DrStranded/Co-RL",
        1,
        dt.datetime(2026, 8, 20),
    )


def test_hugging_faces_own_fields_are_kept(samples: Path) -> None:
    """The discussion, organization, thumbnail and media the API repeats (issue #13)."""
    item = next(i for i in _items(samples) if i["paper"]["id"] == "2608.18565")
    record, entry, _ = parse_item(item, dt.date(2026, 8, 20))
    assert record.hf_discussion_id == "6a866443db13816030683e91"
    assert record.hf_organization == {
        "name": "Midea-AIRC",
        "fullname": "Midea AI Research Center",
        "avatar": item["organization"]["avatar"],
    }
    assert record.hf_thumbnail == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2608.18565.png"
    )
    assert record.hf_media_urls == item["paper"]["mediaUrls"] and len(record.hf_media_urls) == 1
    assert entry.submitter is not None and entry.submitter.avatar_url == (
        "/avatars/a8b3758b418f2d6cc8ccc8c79d418743.svg"
    )
    bare, _, _ = parse_item(_items(samples)[0], dt.date(2026, 8, 20))
    assert (bare.hf_organization, bare.hf_media_urls) == (None, None)  # HF had none


def test_a_normalized_row_keeps_the_thumbnail(shared_data: Path) -> None:
    source = shared_data / "hf_daily_papers" / "normalized"
    with gzip.open(source / "hf_daily_papers_normalized_2026-H2.jsonl.gz", "rt") as handle:
        claimed = next(row for line in handle if (row := json.loads(line))["organization"])
    record, _, _ = parse_normalized_row(claimed)
    assert record.hf_thumbnail == claimed["thumbnail"] and record.hf_thumbnail
    # The row says only a display name ("ByteDance"), not HF's organization object.
    assert isinstance(claimed["organization"], str) and record.hf_organization is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty file (no JSON at all)"),
        (b"null", "expected a JSON array of items, found NoneType"),
        (b'"text"', "expected a JSON array of items, found str"),
    ],
)
def test_decode_day_reports(data: bytes, problem: str) -> None:
    report = Report()
    assert decode_day(data, "x.json", report) == []
    assert [(p.where, p.message) for p in report.problems] == [("x.json", problem)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("githubRepo", 12, "paper.githubRepo: expected a string, got 12"),
        ("authors", "just a string", "paper.authors: expected a list, got 'just a string'"),
        ("upvotes", "many", "paper.upvotes: expected an integer, got 'many'"),
        ("upvotes", -3, "paper.upvotes: should be greater than or equal to 0, got -3"),
        ("githubStars", True, "paper.githubStars: expected an integer, got True"),
        (
            "publishedAt",
            "last tuesday",
            "paper.publishedAt: not an ISO 8601 date-time: 'last tuesday'",
        ),
        (
            "submittedOnDailyAt",
            20260820,
            "paper.submittedOnDailyAt: expected a datetime, got 20260820",
        ),
        ("ai_keywords", "agents", "paper.ai_keywords: expected a list, got 'agents'"),
        ("title", ["a", "list"], "paper.title: expected a string, got ['a', 'list']"),
        ("id", 2608.1759, "paper.id: expected a string, got 2608.1759"),
    ],
)
def test_a_record_of_the_wrong_shape_is_skipped_never_coerced(
    db: Database, samples: Path, tmp_path: Path, field: str, value: object, message: str
) -> None:
    """Issue #10: `github_repo: 12` ended the import; the others were stored coerced."""
    items = _items(samples)
    broken_id = items[2]["paper"]["id"]
    items[2]["paper"][field] = value
    path = _write(tmp_path / f"{DAY}.json", items)
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [(f"{path}[2]", message)]
    assert (result.counts.papers_new, result.counts.entries_new) == (14, 14)
    with db.read() as conn:
        assert queries.get_paper(conn, broken_id) is None
        neighbours = [queries.get_paper(conn, items[i]["paper"]["id"]) for i in (1, 3)]
    assert all(paper is not None and paper.featured for paper in neighbours)


def test_wrong_shapes_deeper_in_an_item(db: Database, samples: Path, tmp_path: Path) -> None:
    items = _items(samples)
    items[0]["paper"]["authors"][1] = {"name": 7}
    items[1]["numComments"] = "3"
    items[2]["paper"]["submittedOnDailyBy"] = "Xin64"
    path = _write(tmp_path / f"{DAY}.json", items)
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [
        (f"{path}[0]", "paper.authors[1].name: expected a string, got 7"),
        (f"{path}[1]", "numComments: expected an integer, got '3'"),
        (
            f"{path}[2]",
            "paper.submittedOnDailyBy: expected a dictionary or instance of HfUser, got 'Xin64'",
        ),
    ]
    assert result.counts.papers_new == 12


def test_a_github_repo_that_names_no_repository_keeps_the_paper(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    """Real data has three (an organisation page, two URLs broken by a newline)."""
    items = _items(samples)
    items[0]["paper"]["githubRepo"] = "https://github.com/DFIR-Metric"
    path = _write(tmp_path / f"{DAY}.json", items)
    result = _import(db, path)
    assert result.report.problems == []
    assert result.report.notes == [
        "2608.16590: githubRepo 'https://github.com/DFIR-Metric' names no GitHub repository; "
        "kept without one"
    ]
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
    assert paper is not None and paper.github_repo is None and paper.github_stars is None


def test_a_normalized_row_of_the_wrong_shape_is_skipped(
    db: Database, shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / "hf_daily_papers" / "normalized"
    with gzip.open(source / "hf_daily_papers_normalized_2026-H2.jsonl.gz", "rt") as handle:
        rows = [json.loads(next(handle)) for _ in range(4)]
    rows[1]["github_repo"] = 12
    rows[2]["authors"] = "just a string"
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = _import(db, path)
    assert [(p.where, p.message) for p in result.report.problems] == [
        (f"{path}:2", "github_repo: expected a string, got 12"),
        (f"{path}:3", "authors: expected a list, got 'just a string'"),
    ]
    assert result.counts.entries_new == 2
    with db.read() as conn:
        assert queries.get_paper(conn, rows[0]["arxiv_id"]) is not None
        assert queries.get_paper(conn, rows[3]["arxiv_id"]) is not None


def test_a_truncated_tarball_keeps_the_days_before_the_damage(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    whole = _tarball(
        tmp_path / "whole.tar.gz",
        {
            "2024-05/2024-05-27.json": (samples / "2024-05-27.json").read_bytes(),
            f"2026-08/{DAY}.json": (samples / f"{DAY}.json").read_bytes(),
            "2025-09/2025-09-08.json": (samples / "2025-09-08.json").read_bytes(),
        },
    )
    data = whole.read_bytes()
    path = tmp_path / "hf_daily_papers_raw_cut.tar.gz"
    path.write_bytes(data[: len(data) * 3 // 4])  # cut inside the 2026-08-20 day
    result = _import(db, path)
    assert len(result.report.problems) == 1
    problem = result.report.problems[0]
    assert problem.where == str(path)
    assert problem.message.startswith(
        f"archive truncated or damaged at member 2026-08/{DAY}.json ("
    )
    assert problem.message.endswith(
        "kept the 13 records of the 1 day files before it, the rest of the archive was not read"
    )
    assert (result.counts.papers_new, result.counts.entries_new) == (13, 13)
    assert _rows(db)["daily_entry"] == 13


def test_a_tarball_cut_between_members_says_so(db: Database, samples: Path, tmp_path: Path) -> None:
    day = (samples / "2024-05-27.json").read_bytes()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name in ("2024-05/2024-05-27.json", "2024-05/2024-05-28.json"):
            info = tarfile.TarInfo(name)
            info.size = len(day)
            archive.addfile(info, io.BytesIO(day))
    first_member_end = 512 + (len(day) + 511) // 512 * 512
    # A gzip stream that stops 100 bytes into the second member's header, as a broken
    # download does (no end-of-stream marker).
    gzip_writer = zlib.compressobj(wbits=31)
    cut = raw.getvalue()[: first_member_end + 100]
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(gzip_writer.compress(cut) + gzip_writer.flush(zlib.Z_SYNC_FLUSH))
    result = _import(db, path)
    assert [p.where for p in result.report.problems] == [str(path)]
    message = result.report.problems[0].message
    assert message.startswith("archive truncated or damaged after its last whole member (")
    assert "kept the 13 records of the 1 day files before it" in message
    assert result.counts.entries_new == 13
