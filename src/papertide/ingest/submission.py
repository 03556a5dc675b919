"""Submitting a paper to the daily feed (issue #5): an arXiv id or URL, checked against the
rules, its metadata fetched through the arXiv query API, featured on today's page.

The rules follow Hugging Face's (and are settings): a paper is featured at most once; it was
first published at most `max_age_days` ago; a member submits at most `daily_cap` papers a
day. Curators and admins are exempt from the age and the cap (never from "at most once": they
move a featured paper to another day instead). Every refusal is a SubmissionRefused whose
message tells the user what was wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import writes
from papertide.db.engine import Database
from papertide.db.schema import daily_entry
from papertide.ingest.arxiv_api import ArxivApi
from papertide.ingest.http import FetchError
from papertide.models import DailyRecord, PaperRecord, Submitter

EXEMPT_ROLES = frozenset({"curator", "admin"})
MAX_COMMENT_CHARS = 500


class SubmissionRefused(ValueError):
    """A submission that breaks a rule; the message is for the submitter."""


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
    api: ArxivApi,
    text: str,
    who: SubmittingUser,
    now: dt.datetime,
    rules: Rules = Rules(),
    comment: str | None = None,
) -> Submitted:
    """Feature the paper `text` names on `now`'s day, or raise SubmissionRefused."""
    try:
        arxiv_id = parse_arxiv_id(text)
    except InvalidArxivId:
        raise SubmissionRefused(
            f"“{text.strip()[:100]}” is not an arXiv id or arXiv URL "
            "(for example 2401.01234 or https://arxiv.org/abs/2401.01234)."
        ) from None
    note = (comment or "").strip() or None
    if note is not None and len(note) > MAX_COMMENT_CHARS:
        raise SubmissionRefused(f"The comment can be at most {MAX_COMMENT_CHARS} characters.")
    with db.read() as conn:
        _check_not_featured(conn, arxiv_id.base)
        _check_cap(conn, who, now.date(), rules)
    record = _fetch(api, arxiv_id.base)
    _check_paper(record, who, now, rules)
    entry = DailyRecord(
        arxiv_id.base, now.date(), submitted_at=now, submitter=Submitter(who.username),
        comment=note,
    )  # fmt: skip
    with db.write() as conn:
        # Again inside the write: another submission may have featured it meanwhile.
        _check_not_featured(conn, arxiv_id.base)
        _check_cap(conn, who, now.date(), rules)
        writes.write_batch(conn, [record], entries=[entry])
    return Submitted(arxiv_id.base, now.date(), record.title or arxiv_id.base)


def _check_not_featured(conn: sa.Connection, arxiv_id: str) -> None:
    day = conn.execute(
        sa.select(sa.func.min(daily_entry.c.date)).where(daily_entry.c.paper_id == arxiv_id)
    ).scalar()
    if day is not None:
        raise SubmissionRefused(
            f"{arxiv_id} was already featured on {day:%B %-d, %Y}: a paper is featured once."
        )


def _check_cap(conn: sa.Connection, who: SubmittingUser, day: dt.date, rules: Rules) -> None:
    if who.exempt:
        return
    done = conn.execute(
        sa.select(sa.func.count())
        .select_from(daily_entry)
        .where(daily_entry.c.submitted_by == who.user_id, daily_entry.c.date == day)
    ).scalar_one()
    if done >= rules.daily_cap:
        raise SubmissionRefused(
            f"You have submitted {done} papers today, the most a member can "
            f"({rules.daily_cap} a day). Try again tomorrow."
        )


def _fetch(api: ArxivApi, arxiv_id: str) -> PaperRecord:
    try:
        page = api.by_ids([arxiv_id])
    except FetchError as exc:
        raise SubmissionRefused(
            f"arXiv could not be reached to look up {arxiv_id} ({exc}). Please try again later."
        ) from exc
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
