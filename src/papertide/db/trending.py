"""Reads for the trending score (issue #5): the latest activity, and for a set of papers the
facts that score them — Hugging Face's imported counts, local upvotes, star snapshots.

papertide.ranking.trending turns these rows into events and scores them. A set of papers is
either those featured between two dates (one statement, however many papers) or a list of ids.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa

from papertide.db.schema import daily_entry, paper, repo_stars, upvote, user

_START = sa.bindparam("start", type_=sa.Date)
_END = sa.bindparam("end", type_=sa.Date)
_SINCE = sa.bindparam("since", type_=sa.DateTime)
_UNTIL = sa.bindparam("until", type_=sa.DateTime)
_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
# Stand-ins for "no bound": SQLite and PostgreSQL both order them before/after any real time.
_EARLIEST = dt.datetime(1, 1, 1)
_LATEST = dt.datetime(9999, 12, 31)

Selection = Literal["featured", "ids"]


class CandidateRow(NamedTuple):
    paper_id: str
    repo: str | None  # lowercased "owner/name", as repo_stars keys it
    imported_upvotes: int
    first_featured: dt.date | None  # the earliest day the paper was featured
    last_featured: dt.date | None  # and the latest (4 papers of the HF dump have two)


class VoteRow(NamedTuple):
    paper_id: str
    at: dt.datetime
    voter_created_at: dt.datetime
    voter_origin: str  # local | hf


class SnapshotRow(NamedTuple):
    """A repository's star count observed at a time."""

    repo: str  # lowercased "owner/name"
    stars: int
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class TrendingRows:
    """What trending needs of some papers: each paper, their upvotes, their repos' snapshots.

    `snapshots` holds those dated in [since, until] and, for each repository, the last one
    before `since`, so the first gain inside the range can be computed.
    """

    candidates: list[CandidateRow]
    votes: list[VoteRow]
    snapshots: list[SnapshotRow]


_LATEST_ACTIVITY = (
    sa.select(sa.func.max(daily_entry.c.date)),
    sa.select(sa.func.max(daily_entry.c.submitted_at)),
    sa.select(sa.func.max(upvote.c.created_at)),
    sa.select(sa.func.max(repo_stars.c.observed_at)),
)


def latest_activity(conn: sa.Connection) -> dt.datetime | None:
    """The latest featuring, upvote or star snapshot; None when nothing was ever featured."""
    day, featured, voted, observed = (conn.execute(q).scalar() for q in _LATEST_ACTIVITY)
    if day is None:
        return None
    times = [dt.datetime.combine(day, dt.time()), featured, voted, observed]
    return max(t for t in times if t is not None)


def window_rows(
    conn: sa.Connection,
    start: dt.date | None,
    end: dt.date,
    since: dt.datetime | None,
    until: dt.datetime,
) -> TrendingRows:
    """Rows for the papers featured from `start` (None: the first day) to `end` inclusive."""
    bounds = {"start": start or dt.date(1, 1, 1), "end": end}
    return _read(conn, "featured", bounds, since, until)


def paper_rows(
    conn: sa.Connection,
    paper_ids: Sequence[str],
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> TrendingRows:
    """Rows for the given papers (featured or not)."""
    return _read(conn, "ids", {"ids": list(paper_ids)}, since, until)


def _read(
    conn: sa.Connection,
    selection: Selection,
    params: dict[str, Any],
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> TrendingRows:
    candidates_query, votes_query = _statements(selection)
    times = {"since": since or _EARLIEST, "until": until or _LATEST}
    # .all() fetches in one go: iterating a result row by row costs a third more here.
    candidates = [CandidateRow(*row) for row in conn.execute(candidates_query, params).all()]
    votes = conn.execute(votes_query, {**params, **times}).all()
    # The repositories come from the candidates already read: naming them again through a
    # subquery would read every candidate's (wide) paper row once more.
    repos = sorted({c.repo for c in candidates if c.repo})
    snapshots: list[Any] = []
    for start in range(0, len(repos), _CHUNK):
        chunk = {"repos": repos[start : start + _CHUNK], **times}
        snapshots += conn.execute(_SNAPSHOTS_INSIDE, chunk).all()
        if since is not None:
            snapshots += conn.execute(_SNAPSHOTS_BEFORE, chunk).all()
    return TrendingRows(
        candidates=candidates,
        votes=[VoteRow(*row) for row in votes],
        snapshots=[SnapshotRow(*row) for row in snapshots],
    )


_CHUNK = 5000  # repositories per statement, well under SQLite's limit on bound parameters
_REPOS: sa.BindParameter[Any] = sa.bindparam("repos", expanding=True)
_SNAPSHOT_COLUMNS = (repo_stars.c.repo, repo_stars.c.stars, repo_stars.c.observed_at)
_SNAPSHOTS_INSIDE = sa.select(*_SNAPSHOT_COLUMNS).where(
    repo_stars.c.repo.in_(_REPOS),
    repo_stars.c.observed_at >= _SINCE,
    repo_stars.c.observed_at <= _UNTIL,
)
# Each repository's last snapshot before `since`: the baseline of its first gain inside.
_LAST_BEFORE = (
    sa.select(repo_stars.c.repo, sa.func.max(repo_stars.c.observed_at).label("at"))
    .where(repo_stars.c.repo.in_(_REPOS), repo_stars.c.observed_at < _SINCE)
    .group_by(repo_stars.c.repo)
    .subquery("last_before")
)
_SNAPSHOTS_BEFORE = sa.select(*_SNAPSHOT_COLUMNS).join(
    _LAST_BEFORE,
    sa.and_(
        repo_stars.c.repo == _LAST_BEFORE.c.repo,
        repo_stars.c.observed_at == _LAST_BEFORE.c.at,
    ),
)


@functools.cache
def _statements(selection: Selection) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The reads of candidates and upvotes for a selection of papers, built once."""
    if selection == "featured":
        ids: Any = sa.select(daily_entry.c.paper_id).where(
            daily_entry.c.date >= _START, daily_entry.c.date <= _END
        )
    else:
        ids = _IDS
    candidates = (
        sa.select(
            paper.c.id,
            sa.func.lower(paper.c.github_repo),
            paper.c.imported_upvotes,
            sa.func.min(daily_entry.c.date),
            sa.func.max(daily_entry.c.date),
        )
        .select_from(paper.outerjoin(daily_entry, daily_entry.c.paper_id == paper.c.id))
        .where(paper.c.id.in_(ids))
        .group_by(paper.c.id, paper.c.github_repo, paper.c.imported_upvotes)
    )
    votes = (
        sa.select(upvote.c.paper_id, upvote.c.created_at, user.c.created_at, user.c.origin)
        .select_from(upvote.join(user, user.c.id == upvote.c.user_id))
        .where(
            upvote.c.paper_id.in_(ids),
            upvote.c.created_at >= _SINCE,
            upvote.c.created_at <= _UNTIL,
            user.c.suspended_at.is_(None),  # a suspended account's votes stop counting
        )
    )
    return candidates, votes
