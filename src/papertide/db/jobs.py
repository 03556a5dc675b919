"""Job runs (what each scheduled or CLI job did) and job locks (one run per kind at a time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import job_lock, job_run


@dataclass(frozen=True, slots=True)
class JobRun:
    """One recorded run of a job."""

    id: int
    job: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str  # running | ok | failed
    counts: dict[str, Any] | None
    message: str | None

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def start_run(conn: sa.Connection, job: str, now: dt.datetime) -> int:
    """Record that `job` started; returns the run's id."""
    result = conn.execute(job_run.insert().values(job=job, started_at=now, status="running"))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_run(
    conn: sa.Connection,
    run_id: int,
    status: str,
    now: dt.datetime,
    counts: dict[str, Any] | None = None,
    message: str | None = None,
) -> None:
    """Record how a run ended."""
    conn.execute(
        job_run.update()
        .where(job_run.c.id == run_id)
        .values(status=status, finished_at=now, counts=counts, message=message)
    )


def last_started(conn: sa.Connection, job: str) -> dt.datetime | None:
    """When `job` last started (any outcome), or None if it never ran."""
    value: dt.datetime | None = conn.execute(
        sa.select(sa.func.max(job_run.c.started_at)).where(job_run.c.job == job)
    ).scalar()
    return value


def recent_runs(conn: sa.Connection, limit: int = 50, job: str | None = None) -> list[JobRun]:
    """The latest runs, newest first."""
    query = sa.select(job_run).order_by(job_run.c.started_at.desc(), job_run.c.id.desc())
    if job is not None:
        query = query.where(job_run.c.job == job)
    return [JobRun(**row._mapping) for row in conn.execute(query.limit(limit))]


def acquire_lock(
    conn: sa.Connection, job: str, holder: str, now: dt.datetime, ttl: dt.timedelta
) -> bool:
    """Take the lock of `job` unless another holder has it and it has not expired."""
    expires = now + ttl
    taken = conn.execute(
        job_lock.update()
        .where(
            job_lock.c.job == job,
            sa.or_(job_lock.c.expires_at < now, job_lock.c.holder == holder),
        )
        .values(holder=holder, expires_at=expires)
    )
    if taken.rowcount:
        return True
    insert = _insert_ignoring_conflicts(conn).values(job=job, holder=holder, expires_at=expires)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that SQLAlchemy compiled.
    return conn.execute(insert.returning(job_lock.c.job)).first() is not None


def _insert_ignoring_conflicts(conn: sa.Connection) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(job_lock).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(job_lock).on_conflict_do_nothing()


def release_lock(conn: sa.Connection, job: str, holder: str) -> None:
    """Give the lock back (only if we hold it)."""
    conn.execute(job_lock.delete().where(job_lock.c.job == job, job_lock.c.holder == holder))
