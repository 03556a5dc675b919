"""Scheduled entry points: each job calls one ingest source; nothing else lives here.

Every job is also a CLI command (`papertide ingest ...`), and both paths go through
`run_job`, so a cron user and the worker leave the same `job_run` records and respect the
same per-job lock (one run of a kind at a time, across processes and machines).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from papertide.clock import utcnow
from papertide.config import Settings
from papertide.db import Database
from papertide.db import jobs as job_records
from papertide.digest import send as digest_send
from papertide.digest.compose import Kind
from papertide.digest.editions import build_edition
from papertide.ingest.arxiv_api import ArxivLookup
from papertide.ingest.arxiv_oai import OaiHarvest
from papertide.ingest.arxiv_rss import ArxivListings
from papertide.ingest.base import Report, Source
from papertide.ingest.github import GithubStars
from papertide.ingest.hf_live import HfLive
from papertide.ingest.http import FetchError, HttpClient, client_from_settings
from papertide.ingest.runner import run_import
from papertide.ranking import stored as stored_trending
from papertide.ranking.trending import TrendingParams
from papertide.schedule import WEEKDAYS, DailyAt, Every, Schedule
from papertide.search import text_snapshot
from papertide.search.embedder import load_embedder
from papertide.search.reindex import refresh

log = logging.getLogger(__name__)
# A job's lock lasts this long unless its holder renews it, which a running job does every
# LOCK_RENEW_S: a worker that was killed frees its jobs for the others within two minutes.
LOCK_TTL = dt.timedelta(minutes=2)
LOCK_RENEW_S = 20.0
MONDAYS = frozenset({0})


@dataclass(frozen=True, slots=True)
class Context:
    """What a job run gets: where to write, how to fetch, the settings, and the time."""

    db: Database
    http: HttpClient
    settings: Settings
    now: dt.datetime
    # Set when the worker is asked to stop (SIGTERM): long jobs finish what is in hand and
    # hand back the rest (a digest sender releases its unsent claims).
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class JobResult:
    """What one job run did: a summary line, whether anything changed, the counts its
    job_run record keeps, and the report of what was read, handled and skipped."""

    summary: str
    changed: bool
    counts: dict[str, int] = field(default_factory=dict)
    report: Report = field(default_factory=Report)

    def message(self) -> str:
        """What job_run keeps as the message: the summary, the first notes and problems."""
        notes, problems = self.report.notes[:5], self.report.problems[:5]
        return "\n".join([self.summary, *notes, *map(str, problems)])


Action = Callable[[Context], JobResult]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    action: Action
    schedule: Schedule | None  # None: only run on demand
    # False: any number of workers may run it at once (digest sending: the delivery ledger
    # already shares the work out, so a second worker speeds an edition up).
    exclusive: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt to run a job ended."""

    job: str
    status: str  # ok | failed | busy (another process holds the lock)
    run_id: int | None = None
    result: JobResult | None = None
    message: str | None = None


# The live sources' client (tests and the CLI replace it here).
http_client = client_from_settings


def ingest(ctx: Context, source: Source) -> JobResult:
    """Run one ingest source into the database; counts as the admin's job table shows them."""
    result = run_import(ctx.db, source)
    counts = {**dataclasses.asdict(result.counts), "skipped": len(result.report.problems)}
    if result.counts.changed:  # new papers, votes or stars: store trending now (issue #11)
        params = TrendingParams.from_settings(ctx.settings)
        refreshed = stored_trending.refresh(ctx.db, params, utcnow())
        result.report.notes.insert(0, refreshed.summary())
    return JobResult(result.summary(), result.counts.changed, counts, result.report)


def trending(ctx: Context) -> JobResult:
    """Compute and store each trending window whose stored ranking is out of date."""
    params = TrendingParams.from_settings(ctx.settings)
    refreshed = stored_trending.refresh(ctx.db, params, ctx.now)
    counts = {"computed": len(refreshed.computed), "busy": len(refreshed.busy)}
    return JobResult(refreshed.summary(), bool(refreshed.computed), counts)


def arxiv_new(ctx: Context) -> JobResult:
    """Today's arXiv announcement for the configured categories."""
    settings = ctx.settings
    return ingest(
        ctx, ArxivListings(ctx.http, settings.arxiv_categories, base_url=settings.arxiv_rss_url)
    )


def arxiv_ids(ctx: Context, ids: list[str]) -> JobResult:
    """Fetch (or refresh) specific papers by arXiv id through the query API."""
    return ingest(ctx, ArxivLookup(ctx.http, ids, base_url=ctx.settings.arxiv_api_url))


def hf_daily(ctx: Context, day: dt.date | None = None) -> JobResult:
    """Mirror Hugging Face's daily papers for `day`; by default yesterday and today (UTC),
    since HF keeps featuring papers through the day."""
    days = [day] if day else [ctx.now.date() - dt.timedelta(days=1), ctx.now.date()]
    return ingest(ctx, HfLive(ctx.http, days, api_url=ctx.settings.hf_api_url))


def github_stars(ctx: Context, limit: int | None = None) -> JobResult:
    """Refresh the star counts of the papers' GitHub repositories."""
    settings = ctx.settings
    source = GithubStars(
        ctx.db,
        ctx.http,
        api_url=settings.github_api_url,
        token=settings.github_token,
        now=ctx.now,
        limit=limit,
    )
    return ingest(ctx, source)


def oai_harvest(
    ctx: Context,
    from_date: dt.date | None = None,
    until: dt.date | None = None,
    set_spec: str | None = None,
    metadata_prefix: str = "arXivRaw",
) -> JobResult:
    """Harvest arXiv's OAI-PMH interface, incrementally from the last datestamp seen."""
    source = OaiHarvest(
        ctx.db,
        ctx.http,
        base_url=ctx.settings.arxiv_oai_url,
        metadata_prefix=metadata_prefix,
        set_spec=set_spec,
        from_date=from_date,
        until=until,
    )
    return ingest(ctx, source)


EMBED_NEW_LIMIT = 20_000  # per run (~15-30 min on 2 cores); `papertide reindex` does bulk


def embed_new(ctx: Context, limit: int | None = EMBED_NEW_LIMIT) -> JobResult:
    """Embed papers that have no vector yet (or changed since), then catch both search
    indexes up (vectors, and the keyword index, which web processes also catch up)."""
    embedder = load_embedder(ctx.settings.embedding_model)
    done = refresh(ctx.db, ctx.settings.data_dir, embedder, limit=limit)
    report = Report(records_read=done.embedded)
    report.notes.append(
        f"embedded {done.embedded} papers with {embedder.name}; "
        f"the vector index holds {done.vectors.count} ({done.vectors.kind}), "
        f"the keyword index {len(done.keywords)} papers"
    )
    embedded = done.embedded
    return JobResult(
        f"embed-new: {embedded} papers embedded", embedded > 0, {"embedded": embedded}, report
    )


def keyword_snapshot(ctx: Context) -> JobResult:
    """Catch this worker's keyword index up and store it for new web hosts to download, when
    the stored snapshot is missing or behind (PostgreSQL only: search/text_snapshot.py)."""
    done = text_snapshot.refresh(ctx.db, ctx.settings.data_dir)
    published = done.published
    counts = {"published": int(published is not None)}
    if published is not None:
        counts |= {"papers": published.docs, "bytes": published.byte_size}
    return JobResult(done.summary(), published is not None, counts)


def digest_edition(ctx: Context, kind: Kind) -> JobResult:
    """Build the latest `kind` edition (if not built yet), then send what is due of it."""
    summary = build_edition(ctx.db, kind, ctx.now, ctx.settings)
    return _send_editions(ctx, kind, f"digest-{kind}", [summary.describe()])


def digest_retry(ctx: Context) -> JobResult:
    """Resume every unfinished edition: retries now due, claims of a crashed sender."""
    return _send_editions(ctx, None, "digest-retry", [])


def _send_editions(ctx: Context, kind: str | None, name: str, notes: list[str]) -> JobResult:
    report = Report(notes=notes)
    for sent in digest_send.send_due(ctx.db, ctx.settings, kind=kind, stop=ctx.stop):
        report.records_read += sent.sent
        report.notes.append(sent.summary())
    sent_total = report.records_read
    return JobResult(f"{name}: {sent_total} sent", sent_total > 0, {"sent": sent_total}, report)


def scheduled_jobs(settings: Settings) -> list[Job]:
    """The worker's jobs, from the schedule settings (an empty time turns a job off)."""
    jobs = []
    if settings.schedule_arxiv_new:
        jobs.append(
            Job("arxiv-new", arxiv_new, DailyAt.parse(settings.schedule_arxiv_new, WEEKDAYS))
        )
    if settings.schedule_hf_daily:
        jobs.append(Job("hf-daily", hf_daily, DailyAt.parse(settings.schedule_hf_daily)))
    if settings.schedule_github_stars_hours:
        every = Every(dt.timedelta(hours=settings.schedule_github_stars_hours))
        jobs.append(Job("github-stars", github_stars, every))
    if settings.schedule_embed_new_hours:
        every = Every(dt.timedelta(hours=settings.schedule_embed_new_hours))
        jobs.append(Job("embed-new", embed_new, every))
    if settings.schedule_trending_minutes:
        every = Every(dt.timedelta(minutes=settings.schedule_trending_minutes))
        jobs.append(Job("trending", trending, every))
    if settings.schedule_keyword_snapshot_hours:
        every = Every(dt.timedelta(hours=settings.schedule_keyword_snapshot_hours))
        jobs.append(Job("keyword-snapshot", keyword_snapshot, every))
    if settings.schedule_digest_daily:
        daily = functools.partial(digest_edition, kind="daily")
        at = DailyAt.parse(settings.schedule_digest_daily, WEEKDAYS)
        jobs.append(Job("digest-daily", daily, at))
    if settings.schedule_digest_weekly:
        weekly = functools.partial(digest_edition, kind="weekly")
        jobs.append(
            Job("digest-weekly", weekly, DailyAt.parse(settings.schedule_digest_weekly, MONDAYS))
        )
    if settings.schedule_digest_retry_minutes:
        every = Every(dt.timedelta(minutes=settings.schedule_digest_retry_minutes))
        jobs.append(Job("digest-retry", digest_retry, every, exclusive=False))
    return jobs


def default_holder() -> str:
    """Who holds a job lock: host, process and thread, so a log line can say who."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_job(
    db: Database,
    name: str,
    action: Callable[[], JobResult],
    clock: Callable[[], dt.datetime] = utcnow,
    holder: str | None = None,
    exclusive: bool = True,
    schedule: Schedule | None = None,
) -> Outcome:
    """Run one job under its lock (unless it is not `exclusive`), recording a job_run row
    before and after. The lock is renewed while the job runs.

    With a `schedule`, an exclusive job runs only if it is still due once the lock is held:
    another worker may have run it (and released the lock) since this one saw it due, and
    without this second look it would run twice (issue #11).
    """
    holder = holder or default_holder()
    with db.write() as conn:
        if exclusive and not job_records.acquire_lock(conn, name, holder, clock(), LOCK_TTL):
            return Outcome(name, "busy", message=f"{name} is already running elsewhere")
        now = clock()
        if (
            exclusive
            and schedule is not None
            and schedule.due_at(job_records.last_started(conn, name), now) > now
        ):
            job_records.release_lock(conn, name, holder)
            return Outcome(name, "busy", message=f"{name} was just run elsewhere")
        run_id = job_records.start_run(conn, name, now)
    try:
        with _renewing(db, name, holder, clock) if exclusive else contextlib.nullcontext():
            result = action()
    except Exception as exc:  # a job's failure is recorded, and the worker carries on
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, FetchError):  # the source is down or refused: no traceback needed
            log.warning("job %s failed: %s", name, message)
        else:
            log.exception("job %s failed", name)
        _finish(db, name, holder, run_id, "failed", clock(), None, message)
        return Outcome(name, "failed", run_id, message=message)
    _finish(db, name, holder, run_id, "ok", clock(), result.counts, result.message())
    return Outcome(name, "ok", run_id, result, result.message())


@contextlib.contextmanager
def _renewing(
    db: Database, name: str, holder: str, clock: Callable[[], dt.datetime]
) -> Iterator[None]:
    """Renew the lock of `name` every LOCK_RENEW_S until the block ends."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LOCK_RENEW_S):
            try:
                with db.write() as conn:
                    job_records.acquire_lock(conn, name, holder, clock(), LOCK_TTL)
            except Exception as exc:  # the next renewal may succeed; the job goes on
                log.warning("could not renew the lock of %s: %s", name, exc)

    thread = threading.Thread(target=renew, name=f"papertide-lock-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _finish(
    db: Database,
    name: str,
    holder: str,
    run_id: int,
    status: str,
    now: dt.datetime,
    counts: dict[str, Any] | None,
    message: str | None,
) -> None:
    with db.write() as conn:
        job_records.finish_run(conn, run_id, status, now, counts, message)
        job_records.release_lock(conn, name, holder)


class Worker:
    """Runs due jobs, one at a time, on each tick of its clock."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        jobs: list[Job],
        http: HttpClient,
        clock: Callable[[], dt.datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        tick_s: float = 30.0,
    ) -> None:
        self.db = db
        self.settings = settings
        self.jobs = jobs
        self.http = http
        self.clock = clock
        self.sleep = sleep
        self.tick_s = tick_s
        self.holder = default_holder()
        self.stop = threading.Event()

    def run_due(self) -> list[Outcome]:
        """Run every job that is due now (none after a stop); returns what happened."""
        outcomes = []
        for job in self.jobs:
            if job.schedule is None or self.stop.is_set():
                continue
            with self.db.read() as conn:
                last = job_records.last_started(conn, job.name)
            now = self.clock()
            if job.schedule.due_at(last, now) > now:
                continue
            ctx = Context(self.db, self.http, self.settings, now, self.stop)
            action = functools.partial(job.action, ctx)
            outcome = run_job(
                self.db,
                job.name,
                action,
                self.clock,
                self.holder,
                exclusive=job.exclusive,
                schedule=job.schedule,
            )
            log.info("%s: %s %s", job.name, outcome.status, outcome.message or "")
            outcomes.append(outcome)
        return outcomes

    def run_forever(self, stop: threading.Event | None = None, ticks: int | None = None) -> None:
        """Tick until `stop` (or `self.stop`) is set, or `ticks` ticks have passed."""
        def stopped() -> bool:
            return bool(stop and stop.is_set()) or self.stop.is_set()

        done = 0
        while not stopped():
            self.run_due()
            done += 1
            if (ticks is not None and done >= ticks) or stopped():
                return  # a stop during the tick ends the worker now, not after the wait
            self.sleep(self.tick_s)
