"""Paper submissions (issue #5, #10): the feed's "featured once" and daily-cap checks, and the
claim a submission holds while arXiv is asked.

A claim is taken before arXiv is asked, in one conditional INSERT that counts the member's
featured papers of the day plus their claims in progress, so parallel submissions cannot
exceed the cap (SQLite runs it under the write lock; on PostgreSQL the member's row is locked
first). One claim per paper: two people submitting the same paper at once get one lookup.
The claim ends with the write that features the paper, or is released when the lookup fails;
one left behind by a crashed process stops counting after STALE_AFTER.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from papertide.db import writes
from papertide.db.schema import daily_entry, submission_claim, user
from papertide.models import DailyRecord, PaperRecord

STALE_AFTER = dt.timedelta(minutes=5)


class AlreadyFeatured(ValueError):
    """The paper is on the feed already; `day` is when."""

    def __init__(self, paper_id: str, day: dt.date) -> None:
        super().__init__(f"{paper_id} was already featured on {day:%Y-%m-%d}")
        self.day = day


class ClaimRefused(ValueError):
    """No claim: the member reached the cap (`in_use` counts), or the paper is claimed."""

    def __init__(self, in_use: int | None) -> None:
        super().__init__("over the daily cap" if in_use is not None else "paper being submitted")
        self.in_use = in_use


def check_not_featured(conn: sa.Connection, paper_id: str) -> None:
    """AlreadyFeatured if `paper_id` is on the feed on any day."""
    day = conn.execute(
        sa.select(sa.func.min(daily_entry.c.date)).where(daily_entry.c.paper_id == paper_id)
    ).scalar()
    if day is not None:
        raise AlreadyFeatured(paper_id, day)


def _in_use(user_id: int, day: dt.date, now: dt.datetime) -> sa.ColumnElement[int]:
    """Today's featured submissions of `user_id` plus their live claims, as one expression."""
    featured = (
        sa.select(sa.func.count())
        .select_from(daily_entry)
        .where(daily_entry.c.submitted_by == user_id, daily_entry.c.date == day)
        .scalar_subquery()
    )
    claimed = (
        sa.select(sa.func.count())
        .select_from(submission_claim)
        .where(
            submission_claim.c.user_id == user_id,
            submission_claim.c.date == day,
            submission_claim.c.started_at > now - STALE_AFTER,
        )
        .scalar_subquery()
    )
    return featured + claimed


def claim(
    conn: sa.Connection, user_id: int, paper_id: str, now: dt.datetime, cap: int | None
) -> int:
    """Claim `paper_id` for `user_id` (within `cap` a day unless None); the claim's id.

    Raises ClaimRefused. Run it in its own write transaction.
    """
    # A write first: on SQLite the transaction holds the write lock from here on.
    conn.execute(
        submission_claim.delete().where(submission_claim.c.started_at <= now - STALE_AFTER)
    )
    conn.execute(sa.select(user.c.id).where(user.c.id == user_id).with_for_update())
    if conn.execute(
        sa.select(submission_claim.c.id).where(submission_claim.c.paper_id == paper_id)
    ).first():
        raise ClaimRefused(None)
    values = sa.select(
        sa.literal(user_id), sa.literal(paper_id), sa.literal(now.date()), sa.literal(now)
    )
    if cap is not None:
        values = values.where(_in_use(user_id, now.date(), now) < cap)
    columns = ["user_id", "paper_id", "date", "started_at"]
    # ON CONFLICT DO NOTHING: on PostgreSQL another member's claim of the same paper may
    # commit between the check above and this insert; the insert then waits for it and
    # writes nothing, instead of failing the transaction (issue #11).
    inserted = conn.execute(
        _insert_ignoring_conflicts(conn)
        .from_select(columns, values)
        .returning(submission_claim.c.id)
    ).first()
    if inserted is None:
        taken = conn.execute(
            sa.select(submission_claim.c.id).where(submission_claim.c.paper_id == paper_id)
        ).first()
        raise ClaimRefused(None if taken else in_use(conn, user_id, now))
    return int(inserted[0])


def _insert_ignoring_conflicts(conn: sa.Connection) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING into submission_claim in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(submission_claim).on_conflict_do_nothing()
    return sqlite.insert(submission_claim).on_conflict_do_nothing()


def in_use(conn: sa.Connection, user_id: int, now: dt.datetime) -> int:
    """How many of today's submissions `user_id` has made or has in progress."""
    return int(conn.execute(sa.select(_in_use(user_id, now.date(), now))).scalar_one())


def release(conn: sa.Connection, claim_id: int) -> None:
    """End a claim without featuring anything (the lookup failed)."""
    conn.execute(submission_claim.delete().where(submission_claim.c.id == claim_id))


def feature(conn: sa.Connection, claim_id: int, record: PaperRecord, entry: DailyRecord) -> None:
    """Store the paper, feature it and end its claim (AlreadyFeatured if that happened meanwhile,
    e.g. a curator featured it by hand)."""
    # Ending the claim first makes the transaction a writer before it reads anything: on
    # SQLite it then holds the write lock while write_batch numbers the new paper.
    release(conn, claim_id)
    check_not_featured(conn, record.arxiv_id)
    writes.write_batch(conn, [record], entries=[entry])


def claims(conn: sa.Connection) -> list[tuple[int, str]]:
    """Every claim held now, as (user_id, paper_id)."""
    rows = conn.execute(sa.select(submission_claim.c.user_id, submission_claim.c.paper_id))
    return [(int(row.user_id), str(row.paper_id)) for row in rows]
