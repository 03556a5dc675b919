"""Reads for the feed and paper pages, on the four real sample days."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import DatabaseFactory

from papertide.db import Database, queries, writes
from papertide.db.migrate import upgrade
from papertide.db.schema import upvote, user
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.models import StarsRecord

DAYS = [dt.date(2024, 5, 27), dt.date(2024, 12, 11), dt.date(2025, 9, 8), dt.date(2026, 8, 20)]


@pytest.fixture(scope="module")
def sample_db(
    tmp_path_factory: pytest.TempPathFactory, samples: Path, databases: DatabaseFactory
) -> Iterator[Database]:
    db = Database(databases.url(tmp_path_factory.mktemp("queries")))
    upgrade(db)
    result = run_import(db, HfDailySource(sorted(samples.glob("*.json"))))
    assert result.report.problems == []
    yield db
    db.dispose()


@pytest.fixture
def conn(sample_db: Database) -> Iterator[sa.Connection]:
    with sample_db.read() as connection:
        yield connection


def test_feed_of_a_day_is_that_days_file_by_upvotes(conn: sa.Connection, samples: Path) -> None:
    items = json.loads((samples / "2026-08-20.json").read_text(encoding="utf-8"))
    expected = sorted(
        ((item["paper"]["upvotes"], item["paper"]["id"]) for item in items),
        key=lambda pair: (-pair[0], pair[1]),
    )
    cards, total = queries.feed(conn, dt.date(2026, 8, 20), dt.date(2026, 8, 20))
    assert total == 15
    assert [(c.upvotes, c.arxiv_id) for c in cards] == expected
    assert cards[0].arxiv_id == "2608.16590"
    assert cards[0].github_stars == 152
    assert cards[0].submitted_by == "Xin64"
    assert {c.featured_on for c in cards} == {dt.date(2026, 8, 20)}


def test_feed_pages_and_ranges(conn: sa.Connection) -> None:
    everything, total = queries.feed(conn, DAYS[0], DAYS[-1])
    assert total == len(everything) == 61
    page1, _ = queries.feed(conn, DAYS[0], DAYS[-1], limit=10)
    page2, total2 = queries.feed(conn, DAYS[0], DAYS[-1], limit=10, offset=10)
    assert total2 == 61
    assert [c.arxiv_id for c in page1 + page2] == [c.arxiv_id for c in everything[:20]]
    upvotes = [c.upvotes for c in everything]
    assert upvotes == sorted(upvotes, reverse=True)
    empty, none = queries.feed(conn, dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert (empty, none) == ([], 0)


def test_feed_newest_first(conn: sa.Connection) -> None:
    cards, _ = queries.feed(conn, DAYS[0], DAYS[-1], sort="newest")
    days = [c.featured_on for c in cards]
    assert days == sorted(days, reverse=True)
    assert days[0] == DAYS[-1] and days[-1] == DAYS[0]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 9, 8), dt.date(2025, 9, 8)),  # a featured day itself
        (dt.date(2025, 9, 13), dt.date(2025, 9, 8)),  # the Saturday after it
        (dt.date(2025, 9, 7), dt.date(2024, 12, 11)),  # the Sunday before it
        (dt.date(2031, 1, 1), dt.date(2026, 8, 20)),  # the future
        (dt.date(2024, 5, 26), None),  # before the first day
    ],
)
def test_featured_date_on_or_before(
    conn: sa.Connection, day: dt.date, expected: dt.date | None
) -> None:
    assert queries.featured_date_on_or_before(conn, day) == expected


def test_latest_and_adjacent_featured_dates(conn: sa.Connection) -> None:
    assert queries.latest_featured_date(conn) == dt.date(2026, 8, 20)
    assert queries.adjacent_featured_dates(conn, DAYS[2], DAYS[2]) == (DAYS[1], DAYS[3])
    assert queries.adjacent_featured_dates(conn, DAYS[0], DAYS[0]) == (None, DAYS[1])
    assert queries.adjacent_featured_dates(conn, DAYS[3], DAYS[3]) == (DAYS[2], None)
    # A whole week around a featured day.
    assert queries.adjacent_featured_dates(conn, dt.date(2024, 12, 9), dt.date(2024, 12, 15)) == (
        DAYS[0],
        DAYS[2],
    )


def test_empty_database_has_no_dates(db: Database) -> None:
    with db.read() as conn:
        assert queries.latest_featured_date(conn) is None
        assert queries.featured_date_on_or_before(conn, dt.date(2026, 1, 1)) is None
        assert queries.adjacent_featured_dates(conn, DAYS[0], DAYS[0]) == (None, None)
        assert queries.paper_count(conn) == 0


def test_get_paper(conn: sa.Connection) -> None:
    paper = queries.get_paper(conn, "2608.17253")
    assert paper is not None
    assert paper.upvotes == 74
    assert paper.github_repo == "DrStranded/Co-RL"
    assert paper.github_stars == 1
    assert [f.date for f in paper.featured] == [dt.date(2026, 8, 20)]
    no_repo = queries.get_paper(conn, "2608.18940")
    assert no_repo is not None
    assert (no_repo.github_repo, no_repo.github_stars) == (None, None)


@pytest.mark.parametrize("unknown", ["2608.99999", "hep-th/9901001", "", "2608.16590v1"])
def test_unknown_paper_is_none(conn: sa.Connection, unknown: str) -> None:
    assert queries.get_paper(conn, unknown) is None


def test_cards_by_ids_keeps_the_order(conn: sa.Connection) -> None:
    cards = queries.cards_by_ids(conn, ["2608.17253", "0000.00000", "2405.15738"])
    assert [c.arxiv_id for c in cards] == ["2608.17253", "2405.15738"]
    assert queries.cards_by_ids(conn, []) == []


def test_paper_on_two_days_with_newest_stars_and_local_votes(
    db: Database, samples: Path, tmp_path: Path
) -> None:
    items = json.loads((samples / "2026-08-20.json").read_text(encoding="utf-8"))[:1]
    (tmp_path / "2026-08-20.json").write_text(json.dumps(items), encoding="utf-8")
    (tmp_path / "2026-08-24.json").write_text(json.dumps(items), encoding="utf-8")
    run_import(db, HfDailySource(sorted(tmp_path.glob("*.json"))))
    with db.write() as conn:
        writes.add_star_snapshots(
            conn,
            [
                StarsRecord("Air-Embodied-Brain/Zetta-Embodiment", 400, dt.datetime(2026, 9, 1)),
                StarsRecord("air-embodied-brain/zetta-embodiment", 300, dt.datetime(2026, 8, 25)),
            ],
        )
        voter = conn.execute(
            user.insert().values(
                username="ada", username_key="ada", created_at=dt.datetime(2026, 9, 1)
            )
        ).inserted_primary_key[0]
        conn.execute(
            upvote.insert().values(
                user_id=voter, paper_id="2608.16590", created_at=dt.datetime(2026, 9, 1)
            )
        )
    with db.read() as conn:
        paper = queries.get_paper(conn, "2608.16590")
        week, total = queries.feed(conn, dt.date(2026, 8, 17), dt.date(2026, 8, 24))
    assert paper is not None
    assert [f.date for f in paper.featured] == [dt.date(2026, 8, 20), dt.date(2026, 8, 24)]
    assert [f.submitted_by for f in paper.featured] == ["Xin64", "Xin64"]
    assert paper.github_stars == 400  # the latest snapshot
    assert paper.upvotes == 93  # 92 imported + 1 local
    assert total == 2 and [c.featured_on for c in week] == [
        dt.date(2026, 8, 20),
        dt.date(2026, 8, 24),
    ]
