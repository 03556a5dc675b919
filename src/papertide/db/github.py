"""GitHub repositories we poll for stars: which are due, what each check found, renames.

Repository keys are lowercased `owner/name` (GitHub names are case-insensitive), as in
`repo_stars`; `paper.github_repo` keeps the spelling its source gave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from papertide.clock import utcnow
from papertide.db.schema import github_repo, paper, repo_stars
from papertide.db.state import get_state, set_state
from papertide.db.writes import bump_content_version, next_revision

OK = "ok"
MOVED = "moved"
MISSING = "missing"
_TEXT_SCAN_KEY = "github_stars.text_scan"
# A chain of renames (a -> b, later b -> c) is followed this many steps at most.
_MAX_MOVE_STEPS = 5


@dataclass(frozen=True, slots=True)
class DueRepo:
    """A repository to refresh: its name as a paper spells it, and what we last knew."""

    name: str  # "owner/name"
    etag: str | None
    last_stars: int | None

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class RepoCheck:
    """What one request for a repository found."""

    repo: str  # "owner/name", any case
    status: str  # ok | moved | missing | unknown (a failed request: checked, nothing learnt)
    checked_at: dt.datetime
    etag: str | None = None
    moved_to: str | None = None


def due_repos(
    conn: sa.Connection,
    *,
    now: dt.datetime,
    refresh_after: dt.timedelta,
    missing_retry: dt.timedelta,
    limit: int | None = None,
) -> list[DueRepo]:
    """Repositories named by papers that are due for a check, never-checked then stalest first.

    Missing (deleted, blocked) repositories wait `missing_retry`; the rest `refresh_after`.
    """
    key = sa.func.lower(paper.c.github_repo)
    wanted = (
        sa.select(key.label("key"), sa.func.min(paper.c.github_repo).label("name"))
        .where(paper.c.github_repo.is_not(None), paper.c.github_repo != "")
        .group_by(key)
        .subquery()
    )
    last_stars = (
        sa.select(repo_stars.c.stars)
        .where(repo_stars.c.repo == wanted.c.key)
        .order_by(repo_stars.c.observed_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    checked = github_repo.c.checked_at
    missing = github_repo.c.status == MISSING
    query = (
        sa.select(wanted.c.name, github_repo.c.etag, last_stars.label("last_stars"))
        .select_from(wanted.outerjoin(github_repo, github_repo.c.repo == wanted.c.key))
        .where(
            sa.or_(
                checked.is_(None),
                sa.and_(missing, checked <= now - missing_retry),
                sa.and_(sa.not_(missing), checked <= now - refresh_after),
            )
        )
        .order_by(sa.nulls_first(checked.asc()), wanted.c.key)
        .limit(limit)
    )
    return [DueRepo(row.name, row.etag, row.last_stars) for row in conn.execute(query)]


def record_checks(conn: sa.Connection, checks: Sequence[RepoCheck]) -> None:
    """Store what each check found; a rename also carries the old name's star history over."""
    for check in checks:
        values: dict[str, object] = {"checked_at": check.checked_at}
        if check.status != "unknown":
            values.update(status=check.status, etag=check.etag, moved_to=check.moved_to)
        _upsert(conn, check.repo.lower(), values)
        if check.status == MOVED and check.moved_to:
            _move_history(conn, check.repo.lower(), check.moved_to.lower())


def _upsert(conn: sa.Connection, key: str, values: dict[str, object]) -> None:
    updated = conn.execute(github_repo.update().where(github_repo.c.repo == key).values(**values))
    if updated.rowcount == 0:
        conn.execute(github_repo.insert().values(repo=key, **values))


def _move_history(conn: sa.Connection, old: str, new: str) -> None:
    """Snapshots of the old name belong to the renamed repository (trends span the rename)."""
    taken = sa.select(repo_stars.c.observed_at).where(repo_stars.c.repo == new)
    conn.execute(
        repo_stars.update()
        .where(repo_stars.c.repo == old, repo_stars.c.observed_at.not_in(taken))
        .values(repo=new)
    )


def apply_known_moves(conn: sa.Connection) -> int:
    """Point papers that name a renamed repository at its new name; returns papers changed."""
    moved = sa.select(github_repo.c.repo).where(
        github_repo.c.status == MOVED, github_repo.c.moved_to.is_not(None)
    )
    new_name = (
        sa.select(github_repo.c.moved_to)
        .where(github_repo.c.repo == sa.func.lower(paper.c.github_repo))
        .scalar_subquery()
    )
    total = 0
    for _step in range(_MAX_MOVE_STEPS):
        changed = conn.execute(
            paper.update()
            .where(sa.func.lower(paper.c.github_repo).in_(moved))
            .values(github_repo=new_name)
        ).rowcount
        if not changed:
            break
        total += changed
    if total:
        bump_content_version(conn)
    return total


def text_scan_cursor(conn: sa.Connection) -> dt.datetime | None:
    """When the last scan of abstracts for GitHub links looked (paper.modified_at high-water)."""
    value = get_state(conn, _TEXT_SCAN_KEY)
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def set_text_scan_cursor(conn: sa.Connection, value: dt.datetime) -> None:
    set_state(conn, _TEXT_SCAN_KEY, value.isoformat())


def latest_modification(conn: sa.Connection) -> dt.datetime | None:
    """The newest paper.modified_at (read before a scan, it becomes the next scan's cursor)."""
    value: dt.datetime | None = conn.execute(sa.select(sa.func.max(paper.c.modified_at))).scalar()
    return value


def papers_with_links(
    conn: sa.Connection, modified_since: dt.datetime | None
) -> Iterator[tuple[str, str, str | None]]:
    """(id, abstract, comments) of papers without a repo whose text mentions github.com."""
    query = sa.select(paper.c.id, paper.c.abstract, paper.c.comments).where(
        paper.c.github_repo.is_(None),
        sa.or_(paper.c.abstract.ilike("%github.com/%"), paper.c.comments.ilike("%github.com/%")),
    )
    if modified_since is not None:
        query = query.where(paper.c.modified_at >= modified_since)
    for row in conn.execute(query):
        yield row.id, row.abstract, row.comments


def fill_paper_repos(conn: sa.Connection, found: dict[str, str]) -> int:
    """Give papers that have no repo the one found in their text; returns papers changed."""
    now = utcnow()
    revision = next_revision(conn)
    changed = 0
    for paper_id, repo in found.items():
        changed += conn.execute(
            paper.update()
            .where(paper.c.id == paper_id, paper.c.github_repo.is_(None))
            .values(github_repo=repo, modified_at=now, revision=revision)
        ).rowcount
    if changed:
        bump_content_version(conn)
    return changed


def repo_status(conn: sa.Connection, repo: str) -> dict[str, object] | None:
    """The stored row for one repository (for admin pages and tests), or None."""
    row = (
        conn.execute(sa.select(github_repo).where(github_repo.c.repo == repo.lower()))
        .mappings()
        .first()
    )
    return dict(row) if row else None
