"""Jobs and the worker, end to end: a fake clock, real sources replayed, job_run records."""

from __future__ import annotations

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.replay import Replay

from papertide import jobs
from papertide.config import Settings
from papertide.db import Database, queries, trending_store
from papertide.db import jobs as job_records
from papertide.ingest import arxiv_rss
from papertide.schedule import Every

START = dt.datetime(2026, 8, 19, 0, 0)  # a Wednesday
CATEGORIES = ["cs.LG", "cs.CL"]
RSS_URL = "https://rss.arxiv.org/rss/cs.LG+cs.CL"
HF_URL = "https://huggingface.co/api/daily_papers?date={day}&limit=100"


class FakeClock:
    """Time that only moves when the worker sleeps."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        load_demo=False,
        arxiv_categories=CATEGORIES,
        schedule_arxiv_new="01:30",
        schedule_hf_daily="08:30",
        schedule_github_stars_hours=12,
        schedule_embed_new_hours=0,
        schedule_digest_daily="",
        schedule_digest_weekly="",
        schedule_digest_retry_minutes=0,
        schedule_trending_minutes=0,  # the ingest jobs store trending themselves
        schedule_keyword_snapshot_hours=0,
    )


def replayed_sources(shared_data: Path) -> Replay:
    """The real RSS feed, the real HF sample day 2026-08-20 (other days empty), and GitHub."""
    replay = Replay()
    feed = shared_data / "fixtures" / "arxiv_rss" / "jmmeus-aioarxiv" / "rss_mock_feed.xml"
    replay.add(RSS_URL, 200, feed.read_bytes())
    sample = shared_data / "hf_daily_papers" / "samples" / "2026-08-20.json"
    for day in ("2026-08-18", "2026-08-19", "2026-08-21"):
        replay.add(HF_URL.format(day=day), 200, "[]")
    replay.add(HF_URL.format(day="2026-08-20"), 200, sample.read_bytes())
    recorded = shared_data / "fixtures" / "github_rest" / "pygithub-replay"
    repository = json.loads((recorded / "repos_PyGithub_PyGithub.json").read_text())

    def github(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.github.com", f"unexpected request {request.url}"
        owner, name = request.url.path.split("/")[2:4]
        body = {**repository, "full_name": f"{owner}/{name}", "stargazers_count": 42}
        headers = {"ETag": f'"{owner}-{name}"', "X-RateLimit-Remaining": "4000"}
        return httpx.Response(200, json=body, headers=headers)

    replay.fallback = github
    return replay


def test_the_worker_runs_the_schedule_end_to_end(
    db: Database, tmp_path: Path, shared_data: Path
) -> None:
    clock = FakeClock(START)
    replay = replayed_sources(shared_data)
    config = settings(tmp_path)
    http = jobs.http_client(config, transport=replay.transport, sleep=replay.sleep)
    worker = jobs.Worker(
        db, config, jobs.scheduled_jobs(config), http, clock=clock, sleep=clock.sleep, tick_s=1800
    )
    worker.run_forever(ticks=2 * 48)  # two days in half-hour ticks
    with db.read() as conn:
        runs = list(reversed(job_records.recent_runs(conn, limit=100)))
        featured = queries.feed(conn, dt.date(2026, 8, 20), dt.date(2026, 8, 20))[1]
    started = [(run.job, run.started_at.strftime("%a %H:%M")) for run in runs]
    assert started == [
        ("arxiv-new", "Wed 00:00"),  # never ran: catches up at once
        ("hf-daily", "Wed 00:00"),
        ("github-stars", "Wed 00:00"),
        ("arxiv-new", "Wed 01:30"),
        ("hf-daily", "Wed 08:30"),
        ("github-stars", "Wed 12:00"),
        ("github-stars", "Thu 00:00"),
        ("arxiv-new", "Thu 01:30"),
        ("hf-daily", "Thu 08:30"),
        ("github-stars", "Thu 12:00"),
    ]
    assert all(run.status == "ok" for run in runs), [run.message for run in runs]
    first, again = runs[0].counts, runs[3].counts
    assert first is not None and again is not None
    feed = shared_data / "fixtures" / "arxiv_rss" / "jmmeus-aioarxiv" / "rss_mock_feed.xml"
    announced = arxiv_rss.parse_rss(feed.read_bytes())
    fresh = {a.paper.arxiv_id for a in announced if a.announce_type in ("new", "cross")}
    assert first["papers_new"] == len(fresh) == 935  # the real full-arXiv announcement
    assert again["papers_new"] == again["papers_updated"] == 0  # same feed: nothing changes
    assert featured == 15  # HF's real 2026-08-20, mirrored on Thursday
    # Each ingest that changed something stored the trending rankings (issue #11).
    with db.read() as conn:
        version = queries.content_version(conn)
        stamps = [trending_store.stamp(conn, window) for window in ("7d", "30d", "all")]
    assert [stamp.content_version if stamp else None for stamp in stamps] == [version] * 3
    assert "trending: 3 computed" in (runs[-2].message or "")  # hf-daily, Thursday
    stars = runs[2].counts
    assert stars is not None and stars["stars_new"] > 0
    # arXiv politeness: requests to arXiv hosts are spaced by the configured 3 s.
    assert all(
        request.headers["user-agent"].startswith("Papertide/") for request in replay.requests
    )


def test_a_failing_job_is_recorded_and_the_lock_released(db: Database) -> None:
    def broken() -> jobs.JobResult:
        raise RuntimeError("the source is down")

    outcome = jobs.run_job(db, "arxiv-new", broken, clock=lambda: START)
    assert outcome.status == "failed"
    assert outcome.message == "RuntimeError: the source is down"
    with db.read() as conn:
        (run,) = job_records.recent_runs(conn)
    assert (run.status, run.message, run.finished_at) == ("failed", outcome.message, START)
    done = jobs.JobResult("arxiv-new: nothing to do", changed=False, counts={"papers_new": 0})
    again = jobs.run_job(db, "arxiv-new", lambda: done, clock=lambda: START)
    assert again.status == "ok"
    with db.read() as conn:
        latest = job_records.recent_runs(conn)[0]
    assert (latest.status, latest.message, latest.counts) == (
        "ok",
        "arxiv-new: nothing to do",
        {"papers_new": 0},
    )


def test_a_job_already_running_elsewhere_is_not_started_twice(db: Database) -> None:
    with db.write() as conn:
        assert job_records.acquire_lock(conn, "oai", "other-host:1:1", START, jobs.LOCK_TTL)
    calls: list[int] = []

    def action() -> jobs.JobResult:
        calls.append(1)
        return jobs.JobResult("oai", changed=False)

    outcome = jobs.run_job(db, "oai", action, clock=lambda: START)
    assert outcome.status == "busy"
    assert calls == []
    with db.read() as conn:
        assert job_records.recent_runs(conn) == []


def test_arxiv_requests_are_spaced_by_the_configured_interval(tmp_path: Path) -> None:
    replay = Replay()
    replay.add("https://export.arxiv.org/api/query?id_list=2401.00001", 200, "<feed/>")
    config = Settings(data_dir=tmp_path, arxiv_min_interval_s=3.0)
    clock = FakeClock(START)
    http = jobs.http_client(config, transport=replay.transport, sleep=replay.sleep)
    http.clock = lambda: clock.now.timestamp()  # type: ignore[method-assign]
    for _ in range(3):
        http.get("https://export.arxiv.org/api/query", params={"id_list": "2401.00001"})
    assert replay.slept == [pytest.approx(3.0), pytest.approx(3.0)]


def test_two_workers_on_one_database_run_a_due_job_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    # Two workers (two processes' handles on one database) see a job due at the same
    # moment: one runs it; the other finds it locked or, if the first has already finished
    # and released the lock, no longer due (issue #11).
    config = settings(tmp_path)
    calls: list[str] = []
    now = [START]
    start = threading.Barrier(2)

    def action(ctx: jobs.Context) -> jobs.JobResult:
        calls.append(threading.current_thread().name)
        return jobs.JobResult("counted", changed=False)

    job = jobs.Job("counted", action, Every(dt.timedelta(hours=1)))
    handles = [Database(database_url) for _ in range(2)]
    http = jobs.http_client(config, transport=Replay().transport)
    workers = [jobs.Worker(handle, config, [job], http, clock=lambda: now[0]) for handle in handles]
    for n, worker in enumerate(workers):
        worker.holder = f"host-{n}:1:1"

    def tick(worker: jobs.Worker) -> list[str]:
        start.wait()
        return [outcome.status for outcome in worker.run_due()]

    try:
        for _ in range(8):  # the two interleave differently from round to round
            with ThreadPoolExecutor(2) as pool:
                statuses = sorted(status for found in pool.map(tick, workers) for status in found)
            assert statuses in (["busy", "ok"], ["ok"]), statuses
            now[0] += dt.timedelta(hours=1)
    finally:
        for handle in handles:
            handle.dispose()
    assert len(calls) == 8
    with db.read() as conn:
        assert len(job_records.recent_runs(conn, job="counted")) == 8


def test_a_stopped_worker_starts_no_further_job_of_its_tick(db: Database) -> None:
    ran: list[str] = []

    def first(_ctx: jobs.Context) -> jobs.JobResult:
        ran.append("first")
        worker.stop.set()  # SIGTERM arrives while the first job runs
        return jobs.JobResult("done", False, {})

    def second(_ctx: jobs.Context) -> jobs.JobResult:
        ran.append("second")
        return jobs.JobResult("done", False, {})

    due = Every(dt.timedelta(hours=1))
    worker = jobs.Worker(
        db, Settings(), [jobs.Job("first", first, due), jobs.Job("second", second, due)],
        http=None,  # type: ignore[arg-type]
    )  # fmt: skip
    worker.run_forever()
    assert ran == ["first"]
