"""The github_repo table and the "which repositories to refresh" query (db/github.py)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from papertide.db import Database, writes
from papertide.db import github as store
from papertide.db.github import RepoCheck
from papertide.db.schema import paper, repo_stars, site_state
from papertide.models import PaperRecord, StarsRecord

NOW = dt.datetime(2026, 8, 20, 12, 0)
HOUR = dt.timedelta(hours=1)
WEEK = dt.timedelta(days=7)


def _papers(db: Database, *repos: tuple[str, str | None], abstract: str = "") -> None:
    records = [
        PaperRecord(arxiv_id=arxiv_id, title=arxiv_id, github_repo=repo, abstract=abstract or None)
        for arxiv_id, repo in repos
    ]
    with db.write() as conn:
        writes.upsert_papers(conn, records)


def _due(db: Database, now: dt.datetime = NOW, limit: int | None = None) -> list[store.DueRepo]:
    with db.read() as conn:
        return store.due_repos(conn, now=now, refresh_after=HOUR, missing_retry=WEEK, limit=limit)


def _check(db: Database, *checks: RepoCheck) -> None:
    with db.write() as conn:
        store.record_checks(conn, checks)


def _repo_of(db: Database, arxiv_id: str) -> str | None:
    with db.read() as conn:
        value: str | None = conn.execute(
            sa.select(paper.c.github_repo).where(paper.c.id == arxiv_id)
        ).scalar_one()
        return value


def _history(db: Database) -> list[tuple[str, int, dt.datetime]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(repo_stars.c.repo, repo_stars.c.stars, repo_stars.c.observed_at).order_by(
                repo_stars.c.repo, repo_stars.c.observed_at
            )
        )
        return [(row.repo, row.stars, row.observed_at) for row in rows]


def _content_version(db: Database) -> int:
    with db.read() as conn:
        value: int = conn.execute(
            sa.select(site_state.c.value).where(site_state.c.key == writes.CONTENT_VERSION)
        ).scalar_one()
        return value


def test_repos_named_in_any_case_are_one_repo_with_its_last_stars(db: Database) -> None:
    _papers(db, ("2401.00001", "Owner/Repo"), ("2401.00002", "owner/repo"), ("2401.00003", None))
    with db.write() as conn:
        writes.add_star_snapshots(
            conn,
            [
                StarsRecord("owner/repo", 10, NOW - 2 * WEEK),
                StarsRecord("Owner/Repo", 12, NOW - WEEK),
            ],
        )
    assert _due(db) == [store.DueRepo("Owner/Repo", None, 12)]


def test_never_checked_first_then_stalest_and_fresh_ones_wait(db: Database) -> None:
    _papers(db, ("2401.00001", "a/fresh"), ("2401.00002", "b/stale"), ("2401.00003", "c/new"))
    _check(
        db,
        RepoCheck("a/fresh", store.OK, NOW - HOUR / 2, etag='W/"1"'),
        RepoCheck("b/stale", store.OK, NOW - 3 * HOUR, etag='W/"2"'),
    )
    assert [(d.name, d.etag) for d in _due(db)] == [("c/new", None), ("b/stale", 'W/"2"')]
    assert [d.name for d in _due(db, limit=1)] == ["c/new"]
    assert [d.name for d in _due(db, now=NOW + HOUR)] == ["c/new", "b/stale", "a/fresh"]


def test_missing_repos_rest_until_the_retry_interval(db: Database) -> None:
    _papers(db, ("2401.00001", "gone/repo"))
    _check(db, RepoCheck("gone/repo", store.MISSING, NOW))
    assert _due(db, now=NOW + 6 * 24 * HOUR) == []
    assert [d.name for d in _due(db, now=NOW + WEEK)] == ["gone/repo"]


def test_a_failed_check_only_moves_the_repo_back_in_the_queue(db: Database) -> None:
    _papers(db, ("2401.00001", "a/repo"))
    _check(db, RepoCheck("a/repo", store.OK, NOW - WEEK, etag='"e1"'))
    _check(db, RepoCheck("a/repo", "unknown", NOW))
    with db.read() as conn:
        row = store.repo_status(conn, "A/Repo")
    assert row == {
        "repo": "a/repo",
        "etag": '"e1"',
        "checked_at": NOW,
        "status": "ok",
        "moved_to": None,
    }


def test_rename_repoints_papers_and_carries_the_star_history(db: Database) -> None:
    _papers(db, ("2401.00001", "Old/Name"), ("2401.00002", "old/name"), ("2401.00003", "x/y"))
    with db.write() as conn:
        writes.add_star_snapshots(
            conn,
            [
                StarsRecord("old/name", 5, NOW - WEEK),
                StarsRecord("old/name", 6, NOW - HOUR),
                StarsRecord("new/name", 7, NOW - HOUR),  # already known under the new name
            ],
        )
    before = _content_version(db)
    _check(
        db,
        RepoCheck("Old/Name", store.MOVED, NOW, moved_to="New/Name"),
        RepoCheck("New/Name", store.OK, NOW, etag='"e"'),
    )
    with db.write() as conn:
        assert store.apply_known_moves(conn) == 2
    assert [_repo_of(db, i) for i in ("2401.00001", "2401.00002", "2401.00003")] == [
        "New/Name",
        "New/Name",
        "x/y",
    ]
    assert _history(db) == [
        ("new/name", 5, NOW - WEEK),
        ("new/name", 7, NOW - HOUR),
        ("old/name", 6, NOW - HOUR),  # the same instant exists under the new name: kept apart
    ]
    assert _content_version(db) == before + 1
    with db.read() as conn:
        assert store.repo_status(conn, "old/name") == {
            "repo": "old/name",
            "etag": None,
            "checked_at": NOW,
            "status": "moved",
            "moved_to": "New/Name",
        }


def test_a_chain_of_renames_is_followed_and_a_second_pass_changes_nothing(db: Database) -> None:
    _papers(db, ("2401.00001", "a/one"))
    _check(
        db,
        RepoCheck("a/one", store.MOVED, NOW, moved_to="b/two"),
        RepoCheck("b/two", store.MOVED, NOW, moved_to="c/three"),
    )
    with db.write() as conn:
        assert store.apply_known_moves(conn) == 2  # a/one -> b/two -> c/three
    assert _repo_of(db, "2401.00001") == "c/three"
    with db.write() as conn:
        assert store.apply_known_moves(conn) == 0


def test_a_rename_back_is_not_a_loop(db: Database) -> None:
    _papers(db, ("2401.00001", "a/x"))
    _check(db, RepoCheck("a/x", store.MOVED, NOW, moved_to="a/y"))
    # Renamed back later: the old name answers as itself again.
    _check(db, RepoCheck("a/y", store.MOVED, NOW, moved_to="a/x"))
    _check(db, RepoCheck("a/x", store.OK, NOW))
    with db.write() as conn:
        store.apply_known_moves(conn)
    assert _repo_of(db, "2401.00001") == "a/x"


def test_papers_with_links_and_fill_only(db: Database) -> None:
    _papers(db, ("2401.00001", None), abstract="Code at https://GitHub.com/a/b.")
    _papers(db, ("2401.00002", "kept/repo"), abstract="See https://github.com/c/d")
    _papers(db, ("2401.00003", None), abstract="No links here.")
    with db.read() as conn:
        rows = list(store.papers_with_links(conn, None))
    assert rows == [("2401.00001", "Code at https://GitHub.com/a/b.", None)]
    with db.write() as conn:
        assert store.fill_paper_repos(conn, {"2401.00001": "a/b", "2401.00002": "c/d"}) == 1
    assert (_repo_of(db, "2401.00001"), _repo_of(db, "2401.00002")) == ("a/b", "kept/repo")


def test_text_scan_cursor_round_trip_and_filter(db: Database) -> None:
    _papers(db, ("2401.00001", None), abstract="https://github.com/a/b")
    with db.read() as conn:
        assert store.text_scan_cursor(conn) is None
        high_water = store.latest_modification(conn)
    assert high_water is not None
    with db.write() as conn:
        store.set_text_scan_cursor(conn, high_water)
    with db.read() as conn:
        assert store.text_scan_cursor(conn) == high_water
        assert len(list(store.papers_with_links(conn, high_water))) == 1  # >=: seen again
        later = high_water + dt.timedelta(seconds=1)
        assert list(store.papers_with_links(conn, later)) == []
