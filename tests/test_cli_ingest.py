"""`papertide ingest ...`, `worker` and `jobs` in-process, over replayed real responses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.backends import this_tests_database
from tests.replay import Replay
from typer.testing import CliRunner

from papertide import cli, jobs
from papertide.cli import EXIT_BUSY, EXIT_CHANGED, EXIT_ERROR, EXIT_UNCHANGED, app
from papertide.clock import utcnow
from papertide.config import Settings
from papertide.db import Database
from papertide.db import jobs as job_records
from papertide.ingest.http import HttpClient

runner = CliRunner()
HF_URL = "https://huggingface.co/api/daily_papers?date={day}&limit=100"


def _url(tmp_path: Path) -> str:
    return this_tests_database(f"sqlite:///{tmp_path / 'cli.db'}")


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Replay:
    """Every live job of the CLI talks to this replay instead of the network."""
    monkeypatch.setattr(cli.console, "width", 1000)
    monkeypatch.setenv("PAPERTIDE_DATABASE_URL", _url(tmp_path))
    replay = Replay()
    real: Callable[..., HttpClient] = jobs.http_client

    def replayed(settings: Settings, **_: object) -> HttpClient:
        return real(settings, transport=replay.transport, sleep=replay.sleep)

    monkeypatch.setattr(jobs, "http_client", replayed)
    return replay


def test_hf_daily_for_a_date_then_again(replay: Replay, samples: Path) -> None:
    replay.add(HF_URL.format(day="2026-08-20"), 200, (samples / "2026-08-20.json").read_bytes())
    first = runner.invoke(app, ["ingest", "hf-daily", "--date", "2026-08-20"])
    assert first.exit_code == EXIT_CHANGED, first.output
    assert "15 new" in first.output
    second = runner.invoke(app, ["ingest", "hf-daily", "--date", "2026-08-20"])
    assert second.exit_code == EXIT_UNCHANGED, second.output
    listed = runner.invoke(app, ["jobs"])
    assert listed.exit_code == 0
    rows = [line for line in listed.output.splitlines() if line.startswith("│ hf-daily ")]
    assert len(rows) == 2 and all(" ok " in row for row in rows)


def test_a_failing_source_exits_1_and_is_recorded(replay: Replay, tmp_path: Path) -> None:
    replay.add(HF_URL.format(day="2026-08-20"), 404, "Not Found")
    result = runner.invoke(app, ["ingest", "hf-daily", "--date", "2026-08-20"])
    assert result.exit_code == EXIT_ERROR
    assert "hf-daily failed" in result.output and "404" in result.output
    db = Database(_url(tmp_path))
    with db.read() as conn:
        (run,) = job_records.recent_runs(conn)
    assert run.status == "failed" and "404" in (run.message or "")


def test_a_job_running_elsewhere_exits_5(replay: Replay, tmp_path: Path) -> None:
    runner.invoke(app, ["migrate"])
    db = Database(_url(tmp_path))
    with db.write() as conn:
        job_records.acquire_lock(conn, "hf-daily", "elsewhere", utcnow(), jobs.LOCK_TTL)
    result = runner.invoke(app, ["ingest", "hf-daily", "--date", "2026-08-20"])
    assert result.exit_code == EXIT_BUSY
    assert replay.requests == []


def test_a_bad_date_is_a_usage_error(replay: Replay) -> None:
    result = runner.invoke(app, ["ingest", "hf-daily", "--date", "2026-13-01"])
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_worker_once_runs_what_is_due(
    replay: Replay, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    monkeypatch.setenv("PAPERTIDE_SCHEDULE_ARXIV_NEW", "")
    monkeypatch.setenv("PAPERTIDE_SCHEDULE_GITHUB_STARS_HOURS", "0")
    monkeypatch.setenv("PAPERTIDE_SCHEDULE_EMBED_NEW_HOURS", "0")
    monkeypatch.setenv("PAPERTIDE_SCHEDULE_KEYWORD_SNAPSHOT_HOURS", "0")
    today = utcnow().date()
    for day in (today.fromordinal(today.toordinal() - 1), today):
        replay.add(HF_URL.format(day=day.isoformat()), 200, "[]")
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "hf-daily: every day at 08:30 UTC" in result.output
    assert len(replay.requests) == 2
