"""The live Hugging Face daily-papers mirror (ingest/hf_live.py), serving the real sample days."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from tests.replay import Replay, response

from papertide.db import Database, queries, writes
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.hf_live import HfLive
from papertide.ingest.http import FetchError, HttpClient, HttpOptions
from papertide.ingest.runner import ImportResult, run_import

API = "https://huggingface.co/api"
DAYS = {"2024-05-27": 13, "2024-12-11": 26, "2025-09-08": 7, "2026-08-20": 15}


def _url(day: str, api: str = API) -> str:
    return f"{api}/daily_papers?date={day}&limit=100"


def _run(db: Database, replay: Replay, day: str, **kwargs: str) -> ImportResult:
    with HttpClient(HttpOptions(), transport=replay.transport, sleep=replay.sleep) as http:
        return run_import(db, HfLive(http, [dt.date.fromisoformat(day)], **kwargs))


def _rows(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return writes.count_rows(conn)


@pytest.mark.parametrize(("day", "count"), DAYS.items())
def test_each_sample_day_is_mirrored(db: Database, samples: Path, day: str, count: int) -> None:
    replay = Replay()
    replay.add(_url(day), 200, (samples / f"{day}.json").read_bytes())
    result = _run(db, replay, day)
    assert replay.requests[0].url.params["limit"] == "100"
    assert result.source == "hf-daily"
    assert result.report.problems == []
    assert result.report.records_read == count
    assert (result.counts.papers_new, result.counts.entries_new) == (count, count)
    assert _rows(db)["daily_entry"] == _rows(db)["paper"] == count


def test_python_repr_day_and_a_record_keeps_every_field(db: Database, samples: Path) -> None:
    replay = Replay()
    replay.add(_url("2024-12-11"), 200, (samples / "2024-12-11.json").read_bytes())
    replay.add(_url("2026-08-20"), 200, (samples / "2026-08-20.json").read_bytes())
    repr_day = _run(db, replay, "2024-12-11")
    assert repr_day.report.notes == [
        f"{API}/daily_papers?date=2024-12-11: decoded 26 Python-repr string items"
    ]
    assert repr_day.counts.papers_new == 26
    _run(db, replay, "2026-08-20")
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
        first_repr = queries.get_paper(conn, "2412.07730")
    assert paper is not None and first_repr is not None
    assert paper.title.startswith("Zetta ζ: An Efficient Closed-Loop Embodied Harness")
    assert (paper.upvotes, paper.num_comments) == (92, 1)
    assert (paper.github_repo, paper.github_stars) == ("air-embodied-brain/Zetta-Embodiment", 152)
    assert [(f.date, f.submitted_by) for f in paper.featured] == [(dt.date(2026, 8, 20), "Xin64")]
    assert first_repr.authors[:3] == ["Zongyu Lin", "Wei Liu", "Chen Chen"]
    assert [f.date for f in first_repr.featured] == [dt.date(2024, 12, 11)]


def test_a_rerun_changes_nothing(db: Database, samples: Path) -> None:
    replay = Replay()
    replay.add(_url("2026-08-20"), 200, (samples / "2026-08-20.json").read_bytes())
    first = _run(db, replay, "2026-08-20")
    assert first.counts.changed
    before = _rows(db)
    again = _run(db, replay, "2026-08-20")
    assert not again.counts.changed
    assert (again.counts.papers_unchanged, again.counts.stars_new) == (15, 0)
    assert _rows(db) == before


def test_same_merge_as_the_file_importer(db: Database, samples: Path) -> None:
    run_import(db, HfDailySource([samples / "2025-09-08.json"]))
    replay = Replay()
    replay.add(_url("2025-09-08"), 200, (samples / "2025-09-08.json").read_bytes())
    live = _run(db, replay, "2025-09-08")
    assert (live.counts.papers_unchanged, live.counts.changed) == (7, False)


def test_http_500_then_success(db: Database, samples: Path) -> None:
    body = (samples / "2025-09-08.json").read_bytes()
    replay = Replay()
    replay.add(_url("2025-09-08"), [response(500, "Internal Error"), response(200, body)])
    result = _run(db, replay, "2025-09-08")
    assert replay.slept == [2.0]
    assert result.counts.papers_new == 7


def test_hf_down_raises(db: Database) -> None:
    replay = Replay()
    replay.add(_url("2025-09-08"), 503, "busy")
    with pytest.raises(FetchError, match="HTTP 503"):
        _run(db, replay, "2025-09-08")
    assert len(replay.requests) == 5  # first try and four retries
    assert _rows(db)["paper"] == 0


def test_empty_day_and_a_custom_api_url(db: Database) -> None:
    replay = Replay()
    replay.add(_url("2025-09-07", "http://mirror.local/api"), 200, [])
    result = _run(db, replay, "2025-09-07", api_url="http://mirror.local/api/")
    assert result.report.problems == [] and not result.counts.changed


def test_bad_items_are_reported_and_the_rest_imported(db: Database, samples: Path) -> None:
    items = json.loads((samples / "2025-09-08.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(items)
    broken[2]["paper"]["id"] = "not-an-id"
    broken[4] = {"title": "no paper object"}
    replay = Replay()
    replay.add(_url("2025-09-08"), 200, broken)
    result = _run(db, replay, "2025-09-08")
    where = f"{API}/daily_papers?date=2025-09-08"
    assert [p.where for p in result.report.problems] == [f"{where}[2]", f"{where}[4]"]
    assert result.counts.papers_new == 5


def test_an_html_error_page_is_reported(db: Database) -> None:
    replay = Replay()
    replay.add(_url("2025-09-08"), 200, "<html>maintenance</html>")
    result = _run(db, replay, "2025-09-08")
    assert len(result.report.problems) == 1
    assert "not valid JSON" in result.report.problems[0].message


def test_a_full_page_is_noted(db: Database, samples: Path) -> None:
    items = json.loads((samples / "2026-08-20.json").read_text(encoding="utf-8"))
    page = []
    for n in range(100):
        item = copy.deepcopy(items[n % len(items)])
        item["paper"]["id"] = f"2608.{90000 + n}"
        page.append(item)
    replay = Replay()
    replay.add(_url("2026-08-20"), 200, page)
    result = _run(db, replay, "2026-08-20")
    assert result.counts.papers_new == 100
    assert result.report.notes == [
        f"{API}/daily_papers?date=2026-08-20: 100 items, the most one request gives; "
        "the day may hold more"
    ]
