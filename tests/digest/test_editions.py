"""Building editions: periods, personal selections, never twice, idempotent and resumable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.backends import this_tests_database
from tests.digest import edition_scenario as scenario
from tests.digest.edition_scenario import MON, P1, P2, P3, P4, P5, P6, P7, P8, THURSDAY_ORDER

from papertide.config import Settings
from papertide.db import Database, feedback, lists
from papertide.db import editions as edition_rows
from papertide.db.schema import digest_paper, edition
from papertide.digest.compose import Topics
from papertide.digest.editions import (
    EditionSummary,
    build_edition,
    latest_period,
    period_of,
)
from papertide.ranking.personal import ForYouService

FRIDAY_MORNING = dt.datetime(2026, 8, 21, 9)  # the daily edition of Thursday is due
NEXT_TUESDAY = dt.datetime(2026, 8, 25, 9)  # Monday's edition (with Saturday's paper), W34


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(data_dir=tmp_path, **values)


def _build(
    db: Database, tmp_path: Path, kind: str = "daily", now: dt.datetime = FRIDAY_MORNING, **kw: Any
) -> EditionSummary:
    settings = _settings(tmp_path, **kw.pop("settings", {}))
    return build_edition(db, kind, now, settings, for_you=kw.pop("for_you", None), **kw)


@pytest.fixture
def papers(db: Database) -> Database:
    scenario.build(db)
    return db


def test_daily_periods_are_weekdays_and_weekends_join_monday() -> None:
    assert period_of("daily", scenario.THU).label == "2026-08-20"
    monday = period_of("daily", scenario.SAT)
    assert (monday.label, monday.start, monday.end) == ("2026-08-24", scenario.SAT, MON)
    tuesday = period_of("daily", dt.date(2026, 8, 25))
    assert (tuesday.start, tuesday.end) == (dt.date(2026, 8, 25), dt.date(2026, 8, 25))


def test_weekly_periods_are_iso_weeks() -> None:
    week = period_of("weekly", scenario.SAT)
    assert (week.label, week.start, week.end) == (
        "2026-W34",
        dt.date(2026, 8, 17),
        dt.date(2026, 8, 23),
    )
    assert period_of("weekly", dt.date(2027, 1, 1)).label == "2026-W53"


def test_the_latest_complete_period_with_papers(papers: Database) -> None:
    with papers.read() as conn:
        # Friday morning: Friday is not over, so Thursday's edition.
        assert latest_period(conn, "daily", FRIDAY_MORNING).label == "2026-08-20"
        # Tuesday: Monday's edition holds Saturday's paper; the week before is complete.
        assert latest_period(conn, "daily", NEXT_TUESDAY).label == "2026-08-24"
        assert latest_period(conn, "weekly", NEXT_TUESDAY).label == "2026-W34"
        # During the week itself, no complete week has papers.
        assert latest_period(conn, "weekly", FRIDAY_MORNING) is None


def test_nothing_featured_builds_nothing(db: Database, tmp_path: Path) -> None:
    summary = _build(db, tmp_path)
    assert summary.period is None and not summary.changed
    assert "No featured papers" in summary.describe()


def test_selections_follow_topics_in_trending_order(papers: Database, tmp_path: Path) -> None:
    db = papers
    everyone = scenario.add_subscriber(db, "all@example.org")
    vision = scenario.add_subscriber(db, "cv@example.org", {"categories": ["cs.CV"]})
    archive = scenario.add_subscriber(db, "cs@example.org", {"categories": ["cs"]})
    words = scenario.add_subscriber(
        db, "rl@example.org", {"keywords": ["Reinforcement Learning", "speech"]}
    )
    author = scenario.add_subscriber(db, "doe@example.org", {"search": "author:Jane Doe"})
    saved = scenario.add_subscriber(db, "prot@example.org", {"search": "protein diffusion"})
    stemmed = scenario.add_subscriber(db, "stem@example.org", {"keywords": ["transformer"]})
    summary = _build(db, tmp_path, settings={"digest_max_papers": 3})
    assert summary.changed and summary.period == "2026-08-20" and summary.papers == 5
    with db.read() as conn:
        found = edition_rows.find(conn, "daily", "2026-08-20")
    assert found is not None and found.papers == THURSDAY_ORDER and found.status == "built"
    got = scenario.deliveries(db, summary.edition_id)
    assert got[everyone] == ("pending", [P1, P2, P3])  # trending only, capped
    assert got[vision] == ("pending", [P3])
    assert got[archive] == ("pending", [P1, P2, P3])  # "cs" matches every cs.* paper
    assert got[words] == ("pending", [P2, P5])  # phrase, any keyword, trending order
    assert got[author] == ("pending", [P4])
    assert got[saved] == ("pending", [P1])  # every word of the search
    assert got[stemmed] == ("pending", [P3])  # "transformer" finds "transformers"
    assert (summary.pending, summary.skipped, summary.created) == (7, 0, 7)


def test_only_confirmed_subscribers_of_that_frequency(papers: Database, tmp_path: Path) -> None:
    db = papers
    wanted = scenario.add_subscriber(db, "yes@example.org")
    scenario.add_subscriber(db, "pending@example.org", status="pending")
    scenario.add_subscriber(db, "paused@example.org", status="paused")
    scenario.add_subscriber(db, "gone@example.org", status="unsubscribed")
    scenario.add_subscriber(db, "weekly@example.org", frequency="weekly")
    summary = _build(db, tmp_path)
    assert list(scenario.deliveries(db, summary.edition_id)) == [wanted]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("skip", ("skipped", [])), ("trending", ("pending", THURSDAY_ORDER[:2]))],
)
def test_an_empty_selection_follows_the_setting(
    papers: Database, tmp_path: Path, setting: str, expected: tuple[str, list[str]]
) -> None:
    nothing = scenario.add_subscriber(papers, "q@example.org", {"keywords": ["quantum gravity"]})
    settings = {"digest_empty_selection": setting, "digest_max_papers": 2}
    summary = _build(papers, tmp_path, settings=settings)
    assert scenario.deliveries(papers, summary.edition_id)[nothing] == expected
    assert summary.skipped == (1 if setting == "skip" else 0)


def test_building_again_changes_nothing(papers: Database, tmp_path: Path) -> None:
    scenario.add_subscriber(papers, "a@example.org")
    first = _build(papers, tmp_path)
    scenario.add_subscriber(papers, "late@example.org")  # confirmed after the build
    again = _build(papers, tmp_path)
    assert first.changed and not again.changed
    assert (again.edition_id, again.pending, again.created) == (first.edition_id, 1, 0)
    assert "Already built" in again.describe()
    with papers.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(edition)).scalar() == 1


def test_no_paper_is_sent_twice_across_editions(papers: Database, tmp_path: Path) -> None:
    db = papers
    mover = scenario.add_subscriber(db, "mover@example.org", {"categories": ["cs.LG", "cs.CL"]})
    daily = _build(db, tmp_path)
    assert scenario.deliveries(db, daily.edition_id)[mover] == ("pending", [P1, P2, P4])
    scenario.set_frequency(db, mover, "weekly")
    weekly = _build(db, tmp_path, kind="weekly", now=NEXT_TUESDAY)
    assert weekly.period == "2026-W34"
    with db.read() as conn:
        week = edition_rows.find(conn, "weekly", "2026-W34")
        assert week is not None and week.papers == [P6, P1, P2, P3, P4, P5, P7, P8]
        recorded = conn.execute(
            sa.select(digest_paper.c.paper_id).where(digest_paper.c.subscriber_id == mover)
        ).scalars()
        assert sorted(recorded) == [P1, P2, P4, P6]
    # The week's cs.LG and cs.CL papers, less the three of Thursday's edition.
    assert scenario.deliveries(db, weekly.edition_id)[mover] == ("pending", [P6])


def test_everything_sent_already_leaves_a_skipped_delivery(
    papers: Database, tmp_path: Path
) -> None:
    fan = scenario.add_subscriber(db := papers, "fan@example.org")
    _build(db, tmp_path, settings={"digest_max_papers": 10})
    scenario.set_frequency(db, fan, "weekly")
    with db.write() as conn:  # the week holds nothing else new for this subscriber
        conn.execute(sa.text("DELETE FROM daily_entry WHERE date > '2026-08-20'"))
    weekly = _build(db, tmp_path, kind="weekly", now=NEXT_TUESDAY)
    assert scenario.deliveries(db, weekly.edition_id)[fan] == ("skipped", [])


def test_a_crashed_build_resumes_without_duplicates(papers: Database, tmp_path: Path) -> None:
    db = papers
    people = [scenario.add_subscriber(db, f"p{i}@example.org") for i in range(7)]
    seen: list[tuple[int, int]] = []

    def crash(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 4:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        _build(db, tmp_path, progress=crash, batch_size=2)
    assert seen == [(2, 7), (4, 7)]
    with db.read() as conn:
        halfway = edition_rows.find(conn, "daily", "2026-08-20")
    assert halfway is not None and halfway.status == "building"
    assert sorted(scenario.deliveries(db, halfway.id)) == people[:4]
    resumed = _build(db, tmp_path, batch_size=2)
    assert resumed.changed and resumed.edition_id == halfway.id and resumed.created == 3
    got = scenario.deliveries(db, halfway.id)
    assert sorted(got) == people and all(
        v == ("pending", [P1, P2, P3, P4, P5]) for v in got.values()
    )
    with db.read() as conn:
        assert edition_rows.by_id(conn, halfway.id).status == "built"
        rows = conn.execute(sa.select(sa.func.count()).select_from(digest_paper)).scalar()
    assert rows == 7 * 5
    assert not _build(db, tmp_path).changed


def test_like_my_upvotes_is_for_yous_ranking(papers: Database, tmp_path: Path) -> None:
    db = papers
    fan = scenario.add_user_with_upvotes(db, "fan", [P6])  # a diffusion paper of Friday
    liker = scenario.add_subscriber(db, "fan@example.org", {"like_upvotes": True}, user_id=fan)
    anonymous = scenario.add_subscriber(db, "anon@example.org", {"like_upvotes": True})
    settings = {"digest_empty_selection": "skip"}
    summary = _build(db, tmp_path, settings=settings, for_you=ForYouService(db))
    got = scenario.deliveries(db, summary.edition_id)
    assert got[liker] == ("pending", [P1])  # the diffusion paper of Thursday
    assert got[anonymous] == ("skipped", [])  # no account, no upvotes to go by
    # What For you says of the same member and papers: P1 alone is close to what they like.
    liked = ForYouService(db).liked_among(fan, [P1, P2, P3, P4, P5])
    assert [s.arxiv_id for s in liked] == [P1] and liked[0].reason.startswith("close to a paper")


def test_like_my_upvotes_reads_saved_papers_and_not_for_me(
    papers: Database, tmp_path: Path
) -> None:
    """Saved to a list counts as liked, as on the For-you page; "not for me" takes it back."""
    db = papers
    fan = scenario.add_user_with_upvotes(db, "saver", [])
    at = dt.datetime(2026, 1, 2)
    with db.write() as conn:
        lists.save(conn, lists.create(conn, fan, "to read", False, at), P6, "", at)
    liker = scenario.add_subscriber(
        db, "saver@example.org", {"like_upvotes": True, "categories": ["cs.CV"]}, user_id=fan
    )
    # for_you left to its default: the build makes its own For-you ranker.
    summary = build_edition(db, "daily", FRIDAY_MORNING, _settings(tmp_path))
    assert scenario.deliveries(db, summary.edition_id)[liker] == ("pending", [P1, P3])
    with db.write() as conn:
        feedback.set_signal(conn, fan, P6, -1, at)
    assert ForYouService(db).liked_among(fan, [P1, P2, P3]) == []


def test_followed_authors_and_saved_searches_pick_papers_too(
    papers: Database, tmp_path: Path
) -> None:
    """A member's follows join their subscription's topics (issue #14); a name is matched
    whole, so following "Jane Doe" does not pick a paper of "John Roe"'s alone."""
    from papertide.db import follows

    fan = scenario.add_user_with_upvotes(papers, "fan", [])
    other = scenario.add_user_with_upvotes(papers, "other", [])
    now = dt.datetime(2026, 8, 1)
    with papers.write() as conn:
        follows.add(conn, fan, "author", "Jane Doe", "jane doe", now)
        follows.add(conn, other, "search", "q=speech+recognition", "q=speech+recognition", now)
        follows.add(conn, other, "author", "Roe", "roe", now)  # a surname alone names nobody
    with_cv = scenario.add_subscriber(
        papers, "fan@example.org", {"categories": ["cs.CV"]}, user_id=fan
    )
    searcher = scenario.add_subscriber(papers, "other@example.org", {}, user_id=other)
    summary = _build(papers, tmp_path, settings={"digest_empty_selection": "skip"})
    got = scenario.deliveries(papers, summary.edition_id)
    assert got[with_cv] == ("pending", [P3, P4])  # cs.CV, and Jane Doe's paper
    assert got[searcher] == ("pending", [P5])  # the saved search only
    # The sender reads them too, to say why the mail came ("authors you follow (Jane Doe)").
    with papers.read() as conn:
        by_subscriber = follows.of_subscribers(conn)
    assert [f.value for f in by_subscriber[with_cv]] == ["Jane Doe"]
    assert sorted(f.value for f in by_subscriber[searcher]) == ["Roe", "q=speech+recognition"]


def test_malformed_topics_are_treated_as_trending_only(papers: Database, tmp_path: Path) -> None:
    odd = scenario.add_subscriber(papers, "odd@example.org", {"categories": "cs.CV", "x": 1})
    assert Topics.parse({"categories": "cs.CV"}).empty
    summary = _build(papers, tmp_path, settings={"digest_max_papers": 1})
    assert scenario.deliveries(papers, summary.edition_id)[odd] == ("pending", [P1])


def test_fts_syntax_in_topics_cannot_break_a_build(papers: Database, tmp_path: Path) -> None:
    hostile = {"keywords": ['"unbalanced', "NEAR(", "*"], "search": 'a -b "c OR ) author:'}
    who = scenario.add_subscriber(papers, "h@example.org", hostile)
    summary = _build(papers, tmp_path, settings={"digest_empty_selection": "skip"})
    assert scenario.deliveries(papers, summary.edition_id)[who] == ("skipped", [])


def test_the_cli_builds_then_reports_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from papertide import cli
    from papertide.cli import EXIT_CHANGED, EXIT_UNCHANGED, app
    from papertide.db.migrate import upgrade

    monkeypatch.setattr(cli.console, "width", 1000)  # one message, one line

    url = this_tests_database(f"sqlite:///{tmp_path / 'cli.db'}")
    db = Database(url)
    upgrade(db)
    scenario.build(db)
    scenario.add_subscriber(db, "a@example.org")
    scenario.add_subscriber(db, "b@example.org", {"keywords": ["nothing like this"]})
    db.dispose()
    args = ["digest", "build", "--kind", "daily", "--database-url", url]
    args += ["--data-dir", str(tmp_path), "--now", "2026-08-21T11:00:00+02:00"]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == EXIT_CHANGED, first.output
    assert "Built the daily edition 2026-08-20 (#1): 5 papers, 2 deliveries pending" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == EXIT_UNCHANGED
    assert "Already built: the daily edition 2026-08-20" in again.output
    wrong = runner.invoke(app, ["digest", "build", "--kind", "monthly", "--database-url", url])
    assert wrong.exit_code == 2
    bad_time = runner.invoke(app, [*args[:-2], "--now", "yesterday"])
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output


def test_the_next_build_finishes_a_stalled_one(papers: Database, tmp_path: Path) -> None:
    db = papers
    people = [scenario.add_subscriber(db, f"p{i}@example.org") for i in range(3)]

    def crash(done: int, total: int) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        _build(db, tmp_path, progress=crash, batch_size=1)
    # The worker's next run is for the next day: it finishes Thursday's edition first.
    monday = dt.datetime(2026, 8, 24, 7)
    summary = _build(db, tmp_path, now=monday, batch_size=1)
    assert summary.resumed == ("2026-08-20",) and summary.period == "2026-08-21"
    assert summary.describe().startswith("Finished the stalled daily edition 2026-08-20. Built")
    with db.read() as conn:
        thursday = edition_rows.find(conn, "daily", "2026-08-20")
    assert thursday is not None and thursday.status == "built"
    assert sorted(scenario.deliveries(db, thursday.id)) == people
    assert scenario.deliveries(db, summary.edition_id)[people[0]] == ("pending", [P6, P7])
    again = _build(db, tmp_path, now=monday)
    assert not again.changed and again.resumed == ()
