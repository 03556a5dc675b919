"""GitHub stars: `GET {api}/repos/{owner}/{repo}` for every repository a paper names.

Each refresh adds a `repo_stars` snapshot. Requests are conditional (the stored ETag goes out
as `If-None-Match`; a 304 costs no rate limit and means "unchanged"), the rate limit is
respected (pause until it resets when the wait is short, otherwise stop and say until when),
renamed repositories are followed and deleted or blocked ones rested. Repositories come from
`paper.github_repo` and from `github.com/owner/repo` links in abstracts and comments; only the
owner/name is parsed out of such text, nothing user-supplied is fetched as a URL.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection

from papertide.arxiv_ids import parse_github_repo
from papertide.db import github as store
from papertide.db.engine import Database
from papertide.db.github import DueRepo, RepoCheck
from papertide.ingest.base import Batch, Report
from papertide.ingest.http import FetchError, HttpClient
from papertide.ingest.validation import BadRecord, Count, StrictModel, check
from papertide.models import StarsRecord

API_VERSION = "2022-11-28"
SOURCE = "github-stars"
# Answers we handle ourselves rather than let the client raise or retry: a retried 429 or
# rate-limit 403 would be exactly the hammering GitHub asks clients not to do.
_HANDLED = frozenset({401, 403, 404, 410, 429, 451})
_GONE = frozenset({403, 404, 410, 451})
_FLUSH_EVERY = 50
_MAX_FAILURES = 3  # consecutive requests failed for good: GitHub is down, stop
_LINK = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?github\.com/[A-Za-z0-9-]+/[A-Za-z0-9._-]+", re.I
)
# First path segments of github.com that are site pages, not accounts.
_NOT_OWNERS = frozenset(
    {
        "about", "account", "apps", "blog", "business", "codespaces", "collections", "contact",
        "customer-stories", "dashboard", "enterprise", "events", "explore", "features", "issues",
        "join", "login", "logout", "marketplace", "new", "notifications", "orgs",
        "organizations", "pricing", "pulls", "readme", "search", "security", "settings", "site",
        "sponsors", "stars", "team", "topics", "trending", "users", "watching",
    }
)  # fmt: skip


class BadResponse(ValueError):
    """A 200 answer that is not a repository object."""


@dataclass(frozen=True, slots=True)
class RepoInfo:
    """What we keep of a repository object."""

    full_name: str  # "owner/name" as GitHub spells it now (differs after a rename)
    stars: int
    repo_id: int | None
    archived: bool


@dataclass(frozen=True, slots=True)
class Quota:
    """GitHub says no more requests for now: how long to wait, and until when (UTC)."""

    wait_s: float
    until: dt.datetime

    def __str__(self) -> str:
        return f"rate limited until {self.until:%H:%M} UTC"


class _RepoObject(StrictModel):
    """What we read of a `GET /repos/{owner}/{repo}` answer; the rest is ignored."""

    full_name: str
    stargazers_count: Count
    id: int | None = None
    archived: bool = False


def parse_repo_response(payload: Any) -> RepoInfo:
    """A `GET /repos/{owner}/{repo}` JSON object -> RepoInfo; BadResponse if it is not one."""
    try:
        repo = check(_RepoObject, payload)
    except BadRecord as exc:
        raise BadResponse(str(exc)) from None
    if parse_github_repo(f"github.com/{repo.full_name}") is None:
        raise BadResponse(f"full_name {repo.full_name!r} is not an owner/name")
    return RepoInfo(
        full_name=repo.full_name,
        stars=repo.stargazers_count,
        repo_id=repo.id,
        archived=repo.archived,
    )


def find_repos_in_text(text: str | None) -> list[str]:
    """`owner/name` of every github.com repository link in `text`, first-seen order, no repeats."""
    found: dict[str, str] = {}
    for match in _LINK.finditer(text or ""):
        repo = parse_github_repo(match.group(0).rstrip("."))
        if repo is None or repo.split("/")[0].lower() in _NOT_OWNERS:
            continue
        found.setdefault(repo.lower(), repo)
    return list(found.values())


def exhausted_quota(response: httpx.Response) -> Quota | None:
    """The wait GitHub asks for when a response says the rate limit is spent, else None.

    Primary limit: `X-RateLimit-Remaining: 0` until `X-RateLimit-Reset` (epoch seconds),
    measured against the response's own `Date` so a skewed local clock does not matter.
    Secondary limit: a 403/429 with `Retry-After`, or a "rate limit" message (GitHub asks
    for at least a minute then).
    """
    headers = response.headers
    server_now = _server_time(response)
    if headers.get("x-ratelimit-remaining", "").strip() == "0":
        reset = _number(headers.get("x-ratelimit-reset"))
        wait = max(reset - server_now, 0.0) + 1.0 if reset is not None else 60.0
    elif response.status_code in (403, 429) and (
        "retry-after" in headers or "rate limit" in _message(response).lower()
    ):
        wait = _number(headers.get("retry-after")) or 60.0
    else:
        return None
    until = dt.datetime.fromtimestamp(server_now + wait, dt.UTC).replace(tzinfo=None)
    return Quota(wait_s=wait, until=until)


def _server_time(response: httpx.Response) -> float:
    try:
        return email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return time.time()


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    message = payload.get("message") if isinstance(payload, dict) else None
    return message if isinstance(message, str) else ""


class GithubStars:
    """The `github-stars` source: a new star snapshot for every due repository.

    `now` stamps the snapshots. A repository checked less than `refresh_after` ago is
    skipped, a missing one for `missing_retry`; `limit` caps the requests of one run.
    Rate-limit waits up to `max_wait_s` are slept through (the client's sleep); a longer one
    ends the run cleanly with a "rate limited until HH:MM UTC" note, and the next run starts
    with what was left.
    """

    name = SOURCE

    def __init__(
        self,
        db: Database,
        http: HttpClient,
        *,
        api_url: str,
        now: dt.datetime,
        token: str | None = None,
        limit: int | None = None,
        max_wait_s: float = 900.0,
        refresh_after: dt.timedelta = dt.timedelta(hours=1),
        missing_retry: dt.timedelta = dt.timedelta(days=7),
    ) -> None:
        self.db, self.http, self.api_url = db, http, api_url.rstrip("/")
        self.now = now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now
        self.headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.limit, self.max_wait_s = limit, max_wait_s
        self.refresh_after, self.missing_retry = refresh_after, missing_retry

    def total(self) -> None:
        return None

    def batches(self, report: Report) -> Iterator[Batch]:
        yield self._links_from_text(report)
        yield Batch(apply=functools.partial(_repoint, report))
        with self.db.read() as conn:
            due = store.due_repos(
                conn,
                now=self.now,
                refresh_after=self.refresh_after,
                missing_retry=self.missing_retry,
                limit=self.limit,
            )
        run = _StarsRun(self.http, self.api_url, self.headers, self.now, self.max_wait_s, report)
        yield from run.run(due)

    def _links_from_text(self, report: Report) -> Batch:
        """Papers without a repo get the first one named in their abstract or comments.

        Only papers modified since the previous scan are read again.
        """
        found: dict[str, str] = {}
        with self.db.read() as conn:
            since = store.text_scan_cursor(conn)
            high_water = store.latest_modification(conn)
            for paper_id, abstract, comments in store.papers_with_links(conn, since):
                repos = find_repos_in_text(abstract) + find_repos_in_text(comments)
                if repos:
                    found[paper_id] = repos[0]
        return Batch(apply=functools.partial(_link, found, high_water, report))


def _link(
    found: dict[str, str], high_water: dt.datetime | None, report: Report, conn: Connection
) -> None:
    linked = store.fill_paper_repos(conn, found)
    if high_water is not None:
        store.set_text_scan_cursor(conn, high_water)
    if linked:
        report.notes.append(
            f"linked {linked} papers to a GitHub repository named in their abstract or comments"
        )


def _repoint(report: Report, conn: Connection) -> None:
    if papers := store.apply_known_moves(conn):
        report.notes.append(f"{papers} papers repointed to renamed repositories")


def _record(checks: list[RepoCheck], report: Report, conn: Connection) -> None:
    store.record_checks(conn, checks)
    _repoint(report, conn)


class _StarsRun:
    """One pass over the due repositories, written in batches as it goes."""

    def __init__(
        self,
        http: HttpClient,
        api_url: str,
        headers: dict[str, str],
        now: dt.datetime,
        max_wait_s: float,
        report: Report,
    ) -> None:
        self.http, self.api_url, self.headers = http, api_url, headers
        self.now, self.max_wait_s, self.report = now, max_wait_s, report
        self.checks: list[RepoCheck] = []
        self.snapshots: list[StarsRecord] = []
        self.failures = 0

    def run(self, due: list[DueRepo]) -> Iterator[Batch]:
        """Ask for each due repository in turn; a batch of what was learnt every 50."""
        try:
            for _ in self._ask(deque(due)):
                yield self._flush()
        except Exception:
            yield self._flush()  # what was learnt before the failure is kept
            raise
        yield self._flush()

    def _ask(self, queue: deque[DueRepo]) -> Iterator[None]:
        """The requests; yields whenever enough has been learnt to write."""
        rejected = False
        while queue:
            response = self._request(queue[0])
            if response is None:
                queue.popleft()
                if self.failures >= _MAX_FAILURES:
                    self._stop(f"{self.failures} requests in a row failed", len(queue))
                    break
                continue
            if response.status_code == 401:
                self._stop("GitHub rejected the token (HTTP 401)", len(queue))
                break
            quota = exhausted_quota(response)
            if quota is not None and response.status_code in (403, 429):
                # Refused for the rate limit: wait once and ask again, never twice.
                if rejected:
                    self._stop(str(quota), len(queue))
                    break
                if not self._pause(quota, len(queue)):
                    break
                rejected = True
                continue
            rejected = False
            self._handle(queue.popleft(), response)
            if len(self.checks) >= _FLUSH_EVERY:
                yield None
            if quota is not None and queue and not self._pause(quota, len(queue)):
                break

    def _request(self, due: DueRepo) -> httpx.Response | None:
        if parse_github_repo(f"github.com/{due.name}") != due.name:
            self.report.problem(due.name, "not a GitHub owner/name; not requested")
            return None
        headers = dict(self.headers)
        if due.etag and due.last_stars is not None:
            headers["If-None-Match"] = due.etag
        try:
            response = self.http.get(
                f"{self.api_url}/repos/{due.name}", headers=headers, ok_statuses=_HANDLED
            )
        except FetchError as exc:
            self.failures += 1
            self.report.problem(due.name, str(exc))
            # Checked (so it goes to the back of the queue), but nothing learnt.
            self.checks.append(RepoCheck(due.name, "unknown", self.now))
            return None
        self.failures = 0
        return response

    def _handle(self, due: DueRepo, response: httpx.Response) -> None:
        self.report.records_read += 1
        status = response.status_code
        etag = response.headers.get("etag")
        if status == 304 and due.last_stars is not None:
            self._snapshot(due.name, due.last_stars)
            self.checks.append(RepoCheck(due.name, store.OK, self.now, etag or due.etag))
        elif status == 200:
            self._found(due, response, etag)
        elif status in _GONE:
            self.checks.append(RepoCheck(due.name, store.MISSING, self.now))
            detail = _message(response) or response.reason_phrase
            self.report.notes.append(f"{due.name}: missing (HTTP {status} {detail})")
        else:
            self.report.problem(due.name, f"unexpected HTTP {status}")
            self.checks.append(RepoCheck(due.name, "unknown", self.now))

    def _found(self, due: DueRepo, response: httpx.Response, etag: str | None) -> None:
        try:
            info = parse_repo_response(response.json())
        except ValueError as exc:  # BadResponse, or a body that is not JSON
            self.report.problem(due.name, f"bad repository response: {exc}")
            self.checks.append(RepoCheck(due.name, "unknown", self.now))
            return
        if info.full_name.lower() != due.key:
            self.checks.append(RepoCheck(due.name, store.MOVED, self.now, moved_to=info.full_name))
            self.report.notes.append(f"{due.name}: renamed to {info.full_name}")
        self.checks.append(RepoCheck(info.full_name, store.OK, self.now, etag))
        self._snapshot(info.full_name, info.stars)

    def _snapshot(self, repo: str, stars: int) -> None:
        self.snapshots.append(StarsRecord(repo=repo, stars=stars, observed_at=self.now))

    def _pause(self, quota: Quota, left: int) -> bool:
        if quota.wait_s > self.max_wait_s:
            self._stop(str(quota), left)
            return False
        self.report.notes.append(f"paused {quota.wait_s:.0f} s for GitHub's rate limit")
        self.http.sleep(quota.wait_s)
        return True

    def _stop(self, reason: str, left: int) -> None:
        self.report.notes.append(f"stopped: {reason}; {left} repositories left for the next run")

    def _flush(self) -> Batch:
        if not self.checks and not self.snapshots:
            return Batch()
        batch = Batch(
            stars=self.snapshots, apply=functools.partial(_record, self.checks, self.report)
        )
        self.checks, self.snapshots = [], []
        return batch
