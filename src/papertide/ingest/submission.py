"""Submitting a paper to the daily feed (issue #5): an arXiv id or URL, checked against the
rules, its metadata fetched through the arXiv query API, featured on today's page.

The rules follow Hugging Face's (and are settings): a paper is featured at most once; it was
first published at most `max_age_days` ago; a member submits at most `daily_cap` papers a
day, counting submissions still in progress (issue #10). Curators and admins are exempt from
the age and the cap (never from "at most once": they move a featured paper to another day
instead). Every refusal is a SubmissionRefused whose message tells the user what was wrong.

The request waits for arXiv at most `ArxivLookup.deadline_s` (issue #10, docs/community.md):
a slow or unreachable arXiv costs a member a few seconds and a clear message, and at most
`ArxivLookup.slots` lookups wait at once, so submissions cannot tie up the web workers.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import submissions
from papertide.db.engine import Database
from papertide.ingest.arxiv_api import ApiPage, ArxivApi
from papertide.ingest.http import ARXIV_HOSTS, FetchError, HttpClient, HttpOptions
from papertide.models import DailyRecord, PaperRecord, Submitter

if TYPE_CHECKING:
    import httpx

    from papertide.config import Settings

EXEMPT_ROLES = frozenset({"curator", "admin"})
MAX_COMMENT_CHARS = 500


class SubmissionRefused(ValueError):
    """A submission that breaks a rule; the message is for the submitter."""


class ArxivUnavailable(SubmissionRefused):
    """arXiv did not answer in time (or at all): nothing was submitted, try again later."""


class ArxivLookup:
    """Looks papers up on arXiv for submissions, within a deadline and a few at a time.

    The lookup runs in a thread of its own; the request waits for it at most `deadline_s`
    and then answers, while a stalled lookup keeps its slot until its HTTP timeout ends it.
    When all `slots` are taken (arXiv is stalled, or many submit at once) a submission is
    refused at once instead of queueing a web worker behind them.
    """

    def __init__(self, api: ArxivApi, deadline_s: float, slots: int = 2) -> None:
        self.api = api
        self.deadline_s = deadline_s
        self.slots = slots
        self._lock = threading.Lock()
        self._waiting = 0  # lookups started and not finished
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix="papertide-arxiv-lookup")

    def fetch(self, arxiv_id: str) -> ApiPage:
        """arXiv's answer for `arxiv_id`; ArxivUnavailable when it does not come in time."""
        with self._lock:
            self.check_free()
            self._waiting += 1
        future: Future[ApiPage] = self._pool.submit(self.api.by_ids, [arxiv_id])
        future.add_done_callback(self._finished)
        try:
            return future.result(timeout=self.deadline_s)
        except FutureTimeout:
            raise ArxivUnavailable(
                f"arXiv did not answer within {self.deadline_s:g} seconds; nothing was "
                "submitted. Please try again in a few minutes."
            ) from None
        except FetchError as exc:
            raise ArxivUnavailable(
                f"arXiv could not be reached to look up {arxiv_id} ({exc}); nothing was "
                "submitted. Please try again later."
            ) from exc

    def check_free(self) -> None:
        """ArxivUnavailable when every slot is taken (checked again by `fetch`)."""
        if self._waiting >= self.slots:
            raise ArxivUnavailable(
                "arXiv is slow to answer right now and other submissions are waiting for it; "
                "nothing was submitted. Please try again in a few minutes."
            )

    def _finished(self, _future: Future[ApiPage]) -> None:
        with self._lock:
            self._waiting -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def lookup_from_settings(
    settings: Settings, transport: httpx.BaseTransport | None = None
) -> ArxivLookup:
    """The web app's lookup: no retries and an HTTP timeout of the deadline, so a stalled
    lookup gives its slot back soon after the member got their answer."""
    deadline = settings.submission_arxiv_deadline_s
    options = HttpOptions(
        user_agent=settings.user_agent,
        timeout_s=deadline,
        proxy=settings.http_proxy,
        retries=0,
        min_interval_s=dict.fromkeys(ARXIV_HOSTS, settings.arxiv_min_interval_s),
    )
    api = ArxivApi(HttpClient(options, transport=transport), settings.arxiv_api_url)
    return ArxivLookup(api, deadline, settings.submission_arxiv_lookups)


@dataclass(frozen=True, slots=True)
class Rules:
    max_age_days: int = 14
    daily_cap: int = 3


@dataclass(frozen=True, slots=True)
class SubmittingUser:
    """Who submits: their account's id, username and role."""

    user_id: int
    username: str
    role: str = "member"

    @property
    def exempt(self) -> bool:
        return self.role in EXEMPT_ROLES


@dataclass(frozen=True, slots=True)
class Submitted:
    arxiv_id: str
    day: dt.date
    title: str


def submit(
    db: Database,
    lookup: ArxivLookup,
    text: str,
    who: SubmittingUser,
    now: dt.datetime,
    rules: Rules = Rules(),
    comment: str | None = None,
) -> Submitted:
    """Feature the paper `text` names on `now`'s day, or raise SubmissionRefused."""
    try:
        arxiv_id = parse_arxiv_id(text).base
    except InvalidArxivId:
        raise SubmissionRefused(
            f"“{text.strip()[:100]}” is not an arXiv id or arXiv URL "
            "(for example 2401.01234 or https://arxiv.org/abs/2401.01234)."
        ) from None
    note = (comment or "").strip() or None
    if note is not None and len(note) > MAX_COMMENT_CHARS:
        raise SubmissionRefused(f"The comment can be at most {MAX_COMMENT_CHARS} characters.")
    lookup.check_free()  # when arXiv is stalled, refuse before writing anything
    claim = _claim(db, arxiv_id, who, now, rules)
    try:
        record = _fetch(lookup, arxiv_id)
        _check_paper(record, who, now, rules)
        entry = DailyRecord(
            arxiv_id, now.date(), submitted_at=now, submitter=Submitter(who.username),
            comment=note,
        )  # fmt: skip
        with db.write() as conn:
            submissions.feature(conn, claim, record, entry)
    except submissions.AlreadyFeatured as exc:
        _release(db, claim)
        raise _featured(arxiv_id, exc.day) from None
    except BaseException:
        _release(db, claim)
        raise
    return Submitted(arxiv_id, now.date(), record.title or arxiv_id)


def _claim(db: Database, arxiv_id: str, who: SubmittingUser, now: dt.datetime, rules: Rules) -> int:
    """The submission's claim on `arxiv_id`, counted against the cap, or SubmissionRefused."""
    cap = None if who.exempt else rules.daily_cap
    try:
        with db.write() as conn:
            submissions.check_not_featured(conn, arxiv_id)
            return submissions.claim(conn, who.user_id, arxiv_id, now, cap)
    except submissions.AlreadyFeatured as exc:
        raise _featured(arxiv_id, exc.day) from None
    except submissions.ClaimRefused as exc:
        if exc.in_use is None:
            raise SubmissionRefused(
                f"{arxiv_id} is being submitted right now; look for it on today's feed."
            ) from None
        raise SubmissionRefused(
            f"You have submitted {exc.in_use} papers today (counting those still being looked "
            f"up), the most a member can ({rules.daily_cap} a day). Try again tomorrow."
        ) from None


def _release(db: Database, claim: int) -> None:
    with db.write() as conn:
        submissions.release(conn, claim)


def _featured(arxiv_id: str, day: dt.date) -> SubmissionRefused:
    return SubmissionRefused(
        f"{arxiv_id} was already featured on {day:%B %-d, %Y}: a paper is featured once."
    )


def _fetch(lookup: ArxivLookup, arxiv_id: str) -> PaperRecord:
    page = lookup.fetch(arxiv_id)
    if page.errors:
        raise SubmissionRefused(f"arXiv refused {arxiv_id}: {page.errors[0].message}.")
    for record in page.papers:
        if record.arxiv_id == arxiv_id:
            return record
    raise SubmissionRefused(f"arXiv has no paper {arxiv_id}.")


def _check_paper(record: PaperRecord, who: SubmittingUser, now: dt.datetime, rules: Rules) -> None:
    if record.withdrawn:
        raise SubmissionRefused(f"{record.arxiv_id} has been withdrawn by its authors.")
    if who.exempt or record.published_at is None:
        return
    age = now - record.published_at
    if age > dt.timedelta(days=rules.max_age_days):
        raise SubmissionRefused(
            f"{record.arxiv_id} was first published on {record.published_at:%B %-d, %Y}, "
            f"{age.days} days ago; papers can be submitted within {rules.max_age_days} days."
        )
