"""The `papertide` command, run in-process through Typer's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.backends import this_tests_database
from typer.testing import CliRunner

from papertide import cli
from papertide.cli import EXIT_CHANGED, EXIT_ERROR, EXIT_SKIPPED, EXIT_UNCHANGED, app
from papertide.db import Database, queries

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns off a terminal; keep each message on one line."""
    monkeypatch.setattr(cli.console, "width", 1000)


def _url(tmp_path: Path) -> str:
    return this_tests_database(f"sqlite:///{tmp_path / 'cli.db'}")


def _paper_count(tmp_path: Path) -> int:
    db = Database(_url(tmp_path))
    with db.read() as conn:
        count = queries.paper_count(conn)
    db.dispose()
    return count


def test_import_hf_daily_then_again(tmp_path: Path, samples: Path) -> None:
    days = [str(samples / "2024-05-27.json"), str(samples / "2024-12-11.json")]
    args = ["import", "hf-daily", *days, "--database-url", _url(tmp_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == EXIT_CHANGED, first.output
    assert "hf-daily: 39 new, 0 updated, 0 unchanged papers; 39 new daily entries" in first.output
    assert "39 records read." in first.output
    assert "handled" in first.output and "decoded 26 Python-repr string items" in first.output
    assert _paper_count(tmp_path) == 39

    second = runner.invoke(app, args)
    assert second.exit_code == EXIT_UNCHANGED == 3, second.output
    assert "0 new, 0 updated, 39 unchanged papers; 0 new daily entries" in second.output


def test_strict_exits_4_when_records_were_skipped(tmp_path: Path, samples: Path) -> None:
    items = json.loads((samples / "2026-08-20.json").read_text(encoding="utf-8"))
    items[0]["paper"]["id"] = "bogus"
    bad = tmp_path / "2026-08-20.json"
    bad.write_text(json.dumps(items), encoding="utf-8")
    args = ["import", "hf-daily", str(bad), "--database-url", _url(tmp_path)]
    result = runner.invoke(app, [*args, "--strict"])
    assert result.exit_code == EXIT_SKIPPED == 4, result.output
    assert "skipped" in result.output and f"{bad}[0]" in result.output
    assert "14 new" in result.output
    # Without --strict the same problem still imports the rest: exit 0 the first time only.
    assert runner.invoke(app, args).exit_code == EXIT_UNCHANGED


def test_show_limits_the_listed_problems(tmp_path: Path, samples: Path) -> None:
    items = json.loads((samples / "2026-08-20.json").read_text(encoding="utf-8"))
    for item in items[:5]:
        item["paper"]["id"] = "bogus"
    bad = tmp_path / "2026-08-20.json"
    bad.write_text(json.dumps(items), encoding="utf-8")
    result = runner.invoke(
        app, ["import", "hf-daily", str(bad), "--database-url", _url(tmp_path), "--show", "2"]
    )
    assert result.exit_code == EXIT_CHANGED
    assert f"{bad}[1]" in result.output and f"{bad}[2]" not in result.output
    assert "and 3 more" in result.output


def test_import_arxiv_jsonl_and_snapshot(tmp_path: Path, shared_data: Path) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    lines = (
        (shared_data / "arxiv_kaggle_format" / "arxiv_browse_kaggle_format.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    snapshot.write_text("\n".join(lines[:25]) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", "arxiv-snapshot", str(snapshot), "--database-url", _url(tmp_path)]
    )
    assert result.exit_code == EXIT_CHANGED, result.output
    assert "arxiv-snapshot: 25 new" in result.output

    listing = tmp_path / "listing.jsonl.gz"
    shutil.copy(shared_data / "arxiv_listings" / "arxiv_listings_2025-03.jsonl.gz", listing)
    result = runner.invoke(
        app, ["import", "arxiv-jsonl", str(listing), "--database-url", _url(tmp_path)]
    )
    assert result.exit_code == EXIT_CHANGED, result.output
    assert " 0 updated" in result.output and "0 skipped" in result.output
    assert _paper_count(tmp_path) > 25


def test_missing_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["import", "hf-daily", "nope.json", "--database-url", _url(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "'nope.json' does not exist" in " ".join(result.output.split())
    assert not (tmp_path / "cli.db").exists()


def test_bad_configuration_exits_1(tmp_path: Path, samples: Path) -> None:
    config = tmp_path / "papertide.toml"
    config.write_text("colour = 'blue'\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", "hf-daily", str(samples / "2026-08-20.json"), "--config", str(config)]
    )
    assert result.exit_code == EXIT_ERROR == 1
    assert "Configuration error" in result.output and "colour" in result.output


def test_migrate(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate", "--database-url", _url(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.output
    assert _paper_count(tmp_path) == 0  # migrate never loads the demo


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([], "serve"),
        (["serve"], "--workers"),
        (["migrate"], "--database-url"),
        (["import"], "arxiv-snapshot"),
        (["import", "hf-daily"], "--strict"),
        (["import", "arxiv-jsonl"], "--show"),
        (["import", "arxiv-snapshot"], "--data-dir"),
        (["ingest"], "github-stars"),
        (["ingest", "arxiv-new"], "--config"),
        (["ingest", "arxiv-ids"], "abs/pdf URLs"),
        (["ingest", "oai"], "--from"),
        (["ingest", "github-stars"], "--limit"),
        (["ingest", "hf-daily"], "--date"),
        (["worker"], "--once"),
        (["jobs"], "--limit"),
    ],
)
def test_help(command: list[str], expected: str) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert expected in result.output


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, ["import"])
    assert result.exit_code == 2  # click's usage-error status
    assert "hf-daily" in result.output and "arxiv-jsonl" in result.output
