"""Job run records and job locks."""

from __future__ import annotations

import datetime as dt

from papertide.db import Database, jobs

NOW = dt.datetime(2026, 11, 23, 12, 0)
TTL = dt.timedelta(hours=1)


def test_runs_are_recorded_newest_first(db: Database) -> None:
    with db.write() as conn:
        first = jobs.start_run(conn, "arxiv-new", NOW)
        jobs.finish_run(conn, first, "ok", NOW + dt.timedelta(seconds=3), {"papers_new": 4}, "fine")
        second = jobs.start_run(conn, "github-stars", NOW + dt.timedelta(minutes=1))
    with db.read() as conn:
        runs = jobs.recent_runs(conn)
        assert [r.id for r in runs] == [second, first]
        assert runs[1].counts == {"papers_new": 4}
        assert runs[1].seconds == 3.0
        assert runs[0].status == "running" and runs[0].seconds is None
        assert jobs.last_started(conn, "arxiv-new") == NOW
        assert jobs.last_started(conn, "hf-daily") is None
        assert [r.job for r in jobs.recent_runs(conn, job="github-stars")] == ["github-stars"]


def test_a_lock_has_one_holder_until_released_or_expired(db: Database) -> None:
    with db.write() as conn:
        assert jobs.acquire_lock(conn, "oai", "a", NOW, TTL)
        assert not jobs.acquire_lock(conn, "oai", "b", NOW, TTL)
        assert jobs.acquire_lock(conn, "oai", "a", NOW, TTL)  # re-entrant for its holder
        assert jobs.acquire_lock(conn, "github-stars", "b", NOW, TTL)  # other jobs are free
        jobs.release_lock(conn, "oai", "b")  # not b's to release
        assert not jobs.acquire_lock(conn, "oai", "b", NOW, TTL)
        jobs.release_lock(conn, "oai", "a")
        assert jobs.acquire_lock(conn, "oai", "b", NOW, TTL)


def test_an_expired_lock_can_be_taken_over(db: Database) -> None:
    with db.write() as conn:
        assert jobs.acquire_lock(conn, "oai", "crashed-worker", NOW, TTL)
        assert not jobs.acquire_lock(conn, "oai", "b", NOW + TTL / 2, TTL)
        assert jobs.acquire_lock(conn, "oai", "b", NOW + TTL * 2, TTL)
