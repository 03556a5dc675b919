"""bootstrap.open_database: migrate, then load the built-in demo into an empty database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from papertide.bootstrap import demo_files, load_demo, open_database
from papertide.config import Settings
from papertide.db import queries, writes


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def test_demo_files_ship_with_the_package() -> None:
    hf_rows, listings = demo_files()
    assert hf_rows.is_file() and listings.is_file()


def test_empty_database_gets_the_demo_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    db = open_database(settings)
    with db.read() as conn:
        rows = writes.count_rows(conn)
        days = conn.exec_driver_sql("SELECT count(DISTINCT date) FROM daily_entry").scalar_one()
        first, last = conn.exec_driver_sql("SELECT min(date), max(date) FROM daily_entry").one()
        latest = queries.latest_featured_date(conn)
    assert rows["daily_entry"] == 600
    assert rows["paper"] == 598  # a few papers were featured on more than one day
    assert days == 30
    assert (str(first), str(last)) == ("2026-07-13", "2026-08-21")
    assert latest == dt.date(2026, 8, 21)
    db.dispose()

    again = open_database(settings)
    with again.read() as conn:
        assert writes.count_rows(conn) == rows
    if again.dialect == "sqlite":
        assert (tmp_path / "papertide.db").is_file()
    again.dispose()


def test_the_demo_load_reports_only_new_papers(tmp_path: Path) -> None:
    db = open_database(_settings(tmp_path, load_demo=False))
    first = [result.counts for result in load_demo(db)]
    again = [result.counts for result in load_demo(db)]
    db.dispose()
    # Issue #10: it said "2 updated" (papers featured on two days) and "3 updated" (listings
    # completing papers of the same load) on an empty database.
    assert [(c.papers_new, c.papers_updated) for c in first] == [(598, 0), (0, 0)]
    assert [(c.papers_new, c.papers_updated, c.entries_new) for c in again] == [(0, 0, 0)] * 2


def test_no_demo_when_disabled(tmp_path: Path) -> None:
    db = open_database(_settings(tmp_path, load_demo=False))
    with db.read() as conn:
        assert queries.paper_count(conn) == 0
    db.dispose()
