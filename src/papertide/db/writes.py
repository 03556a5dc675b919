"""Idempotent writes of imported papers, daily entries, submitters and star snapshots.

Merge rules (issue #2): a newer arXiv version replaces an older one, never the reverse;
a field one source lacks never erases what another source gave; imported upvote and
comment counts only grow (they are snapshots of a count that only grows on HF).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import sqlalchemy as sa

from papertide.clock import utcnow
from papertide.db.changes import NOTIFY
from papertide.db.schema import daily_entry, paper, repo_stars, site_state, user
from papertide.models import DailyRecord, PaperRecord, StarsRecord, Submitter, WriteCounts
from papertide.text import title_key

CONTENT_VERSION = "content_version"
# Fields that describe a version of the paper: a newer version overwrites them.
_VERSIONED = ("title", "abstract", "authors", "categories", "comments", "doi", "journal_ref")
# Fields filled in when missing, from whichever source has them.
_FILL_ONLY = (
    "github_repo",
    "project_page",
    "ai_summary",
    "ai_keywords",
    "hf_discussion_id",
    "hf_organization",
    "hf_thumbnail",
    "hf_media_urls",
)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _merge(existing: dict[str, Any], record: PaperRecord) -> dict[str, Any]:
    """The changed columns when `record` is merged into `existing` (may be empty)."""
    merged: dict[str, Any] = {}
    old_version = existing["version"]
    newer = record.version is not None and (old_version is None or record.version > old_version)
    for name in _VERSIONED:
        value = getattr(record, name)
        if _present(value) and (newer or not _present(existing[name])):
            merged[name] = value
    for name in _FILL_ONLY:
        value = getattr(record, name)
        if _present(value) and not _present(existing[name]):
            merged[name] = value
    if newer:
        merged["version"] = record.version
        if record.updated_at is not None:
            merged["updated_at"] = record.updated_at
        if record.withdrawn is not None:
            merged["withdrawn"] = record.withdrawn
    elif existing["updated_at"] is None and record.updated_at is not None:
        merged["updated_at"] = record.updated_at
    if record.published_at is not None and (
        existing["published_at"] is None or record.published_at < existing["published_at"]
    ):
        merged["published_at"] = record.published_at
    if record.upvotes is not None and record.upvotes > existing["imported_upvotes"]:
        merged["imported_upvotes"] = record.upvotes
    if record.num_comments is not None and record.num_comments > existing["imported_comments"]:
        merged["imported_comments"] = record.num_comments
    return {k: v for k, v in merged.items() if existing[k] != v}


def _new_row(record: PaperRecord, seq: int, now: dt.datetime, revision: int) -> dict[str, Any]:
    title = record.title or record.arxiv_id
    return {
        "id": record.arxiv_id,
        "seq": seq,
        "version": record.version,
        "title": title,
        "title_key": title_key(title),
        "revision": revision,
        "abstract": record.abstract or "",
        "authors": record.authors or [],
        "categories": record.categories or [],
        "published_at": record.published_at,
        "updated_at": record.updated_at,
        "comments": record.comments,
        "doi": record.doi,
        "journal_ref": record.journal_ref,
        "github_repo": record.github_repo,
        "project_page": record.project_page,
        "withdrawn": bool(record.withdrawn),
        "ai_summary": record.ai_summary,
        "ai_keywords": record.ai_keywords,
        "hf_discussion_id": record.hf_discussion_id,
        "hf_organization": record.hf_organization,
        "hf_thumbnail": record.hf_thumbnail,
        "hf_media_urls": record.hf_media_urls,
        "imported_upvotes": record.upvotes or 0,
        "imported_comments": record.num_comments or 0,
        "created_at": now,
        "modified_at": now,
    }


def _dedupe(records: Sequence[PaperRecord]) -> list[PaperRecord]:
    """Fold repeated ids inside one batch into one record each, in first-seen order."""
    by_id: dict[str, PaperRecord] = {}
    for record in records:
        if record.arxiv_id in by_id:
            by_id[record.arxiv_id] = _combine(by_id[record.arxiv_id], record)
        else:
            by_id[record.arxiv_id] = record
    return list(by_id.values())


def _combine(first: PaperRecord, second: PaperRecord) -> PaperRecord:
    row = {f.name: getattr(first, f.name) for f in fields(first)}
    as_stored = {
        **row,
        "imported_upvotes": first.upvotes or 0,
        "imported_comments": first.num_comments or 0,
    }
    renames = {"imported_upvotes": "upvotes", "imported_comments": "num_comments"}
    for name, value in _merge(as_stored, second).items():
        row[renames.get(name, name)] = value
    return PaperRecord(**row)


def last_seq(conn: sa.Connection) -> int:
    """The insertion number of the newest paper (0 when there is none)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(paper.c.seq), 0))).scalar_one())


def upsert_papers(
    conn: sa.Connection, records: Sequence[PaperRecord], new_after_seq: int | None = None
) -> WriteCounts:
    """Insert new papers and merge known ones; returns what changed.

    `new_after_seq`: papers inserted after this `last_seq()` are new to the caller's import (an
    earlier batch of it created them), so merging into them counts neither as updated nor as
    unchanged: an import into an empty database reports 0 updated (issue #10).
    """
    counts = WriteCounts()
    batch = _dedupe(records)
    if not batch:
        return counts
    columns = [
        paper.c[name]
        for name in (
            "id",
            "seq",
            "version",
            "updated_at",
            "published_at",
            "imported_upvotes",
            "imported_comments",
            "withdrawn",
            *_VERSIONED,
            *_FILL_ONLY,
        )
    ]
    serialise_paper_writes(conn)
    existing = {
        row["id"]: dict(row)
        for row in conn.execute(
            sa.select(*columns).where(paper.c.id.in_([r.arxiv_id for r in batch]))
        ).mappings()
    }
    now = utcnow()
    next_seq = last_seq(conn)
    revision = next_revision(conn)
    inserts: list[dict[str, Any]] = []
    for record in batch:
        old = existing.get(record.arxiv_id)
        if old is None:
            next_seq += 1
            inserts.append(_new_row(record, next_seq, now, revision))
            continue
        changes = _merge(old, record)
        if "title" in changes:
            changes["title_key"] = title_key(changes["title"])
        if changes:
            conn.execute(
                paper.update()
                .where(paper.c.id == record.arxiv_id)
                .values(**changes, modified_at=now, revision=revision)
            )
        if new_after_seq is not None and old["seq"] > new_after_seq:
            continue  # an earlier batch of this import created it: still one new paper
        if changes:
            counts.papers_updated += 1
        else:
            counts.papers_unchanged += 1
    if inserts:
        conn.execute(paper.insert(), inserts)
        counts.papers_new = len(inserts)
    return counts


def ensure_users(conn: sa.Connection, submitters: Sequence[Submitter]) -> dict[str, int]:
    """Make sure every submitter has a (password-less, imported) user; map key -> id."""
    wanted = {s.username.lower(): s for s in submitters}
    if not wanted:
        return {}
    found = {
        row.username_key: row.id
        for row in conn.execute(
            sa.select(user.c.id, user.c.username_key).where(user.c.username_key.in_(list(wanted)))
        )
    }
    missing = [key for key in wanted if key not in found]
    if missing:
        now = utcnow()
        conn.execute(
            user.insert(),
            [
                {
                    "username": wanted[key].username,
                    "username_key": key,
                    "fullname": wanted[key].fullname,
                    "avatar_url": wanted[key].avatar_url,
                    "origin": "hf",
                    "role": "member",
                    "created_at": now,
                }
                for key in missing
            ],
        )
        found.update(
            {
                row.username_key: row.id
                for row in conn.execute(
                    sa.select(user.c.id, user.c.username_key).where(
                        user.c.username_key.in_(missing)
                    )
                )
            }
        )
    return found


def add_daily_entries(conn: sa.Connection, records: Sequence[DailyRecord]) -> int:
    """Feature papers on days; an existing (paper, day) is left as it is. Returns new count."""
    unique = {(r.arxiv_id, r.date): r for r in reversed(records)}
    if not unique:
        return 0
    users = ensure_users(conn, [r.submitter for r in unique.values() if r.submitter])
    known = {
        (row.paper_id, row.date)
        for row in conn.execute(
            sa.select(daily_entry.c.paper_id, daily_entry.c.date).where(
                daily_entry.c.paper_id.in_([key[0] for key in unique])
            )
        )
    }
    rows = [
        {
            "paper_id": r.arxiv_id,
            "date": r.date,
            "submitted_by": users.get(r.submitter.username.lower()) if r.submitter else None,
            "submitted_at": r.submitted_at,
            "comment": r.comment,
        }
        for key, r in unique.items()
        if key not in known
    ]
    if rows:
        conn.execute(daily_entry.insert(), rows)
        touch_papers(conn, sorted({r.arxiv_id for r in unique.values()}))
    return len(rows)


# The PostgreSQL advisory lock of paper writers (any constant unique to this purpose).
PAPER_WRITE_LOCK = 0x7061706572  # "paper"


def serialise_paper_writes(conn: sa.Connection) -> None:
    """Make this transaction the only paper writer until it ends (issue #11).

    New papers are numbered max(seq) + 1 and changes get max(revision) + 1; two writers
    reading the same maximum would insert the same seq (`UNIQUE constraint failed:
    paper.seq`), and a revision committed after a higher one would be skipped by the
    keyword index catching up by revision. So paper writers take turns: on PostgreSQL
    through a transaction-level advisory lock, on SQLite by writing first, which takes the
    database's write lock before anything is read (a read first would number from a
    snapshot another writer may already have moved past). Both are released at commit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PAPER_WRITE_LOCK)))
        return
    conn.execute(
        site_state.update()
        .where(site_state.c.key == CONTENT_VERSION)
        .values(value=site_state.c.value)
    )


def next_revision(conn: sa.Connection) -> int:
    """The revision to give papers changed by this write: one more than any stored.

    Writers are serialised (`serialise_paper_writes`, taken here if not yet), so revisions
    only grow in commit order.
    """
    serialise_paper_writes(conn)
    current = conn.execute(sa.select(sa.func.max(paper.c.revision))).scalar()
    return int(current or 0) + 1


def touch_papers(conn: sa.Connection, paper_ids: Sequence[str]) -> None:
    """Mark papers as changed for the search indexes (featured, repository found, ...)."""
    if not paper_ids:
        return
    revision = next_revision(conn)
    for start in range(0, len(paper_ids), 500):
        conn.execute(
            paper.update()
            .where(paper.c.id.in_(paper_ids[start : start + 500]))
            .values(revision=revision)
        )


def add_star_snapshots(conn: sa.Connection, records: Sequence[StarsRecord]) -> int:
    """Record star counts; a snapshot already stored for (repo, time) is kept."""
    unique = {(r.repo.lower(), r.observed_at): r for r in records}
    if not unique:
        return 0
    repos = sorted({key[0] for key in unique})
    known = {
        (row.repo, row.observed_at)
        for row in conn.execute(
            sa.select(repo_stars.c.repo, repo_stars.c.observed_at).where(
                repo_stars.c.repo.in_(repos)
            )
        )
    }
    rows = [
        {"repo": key[0], "stars": r.stars, "observed_at": r.observed_at}
        for key, r in unique.items()
        if key not in known
    ]
    if rows:
        conn.execute(repo_stars.insert(), rows)
    return len(rows)


def write_batch(
    conn: sa.Connection,
    papers: Sequence[PaperRecord],
    entries: Sequence[DailyRecord] = (),
    stars: Sequence[StarsRecord] = (),
    new_after_seq: int | None = None,
) -> WriteCounts:
    """Write one importer batch: papers first, then what refers to them.

    `new_after_seq` as for `upsert_papers`: where the caller's import began.
    """
    counts = upsert_papers(conn, papers, new_after_seq)
    counts.entries_new = add_daily_entries(conn, entries)
    counts.stars_new = add_star_snapshots(conn, stars)
    if counts.changed:
        bump_content_version(conn)
    return counts


def bump_content_version(conn: sa.Connection) -> None:
    """Tell every web process that cached pages are stale (call inside the write)."""
    conn.execute(
        site_state.update()
        .where(site_state.c.key == CONTENT_VERSION)
        .values(value=site_state.c.value + 1)
    )
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(NOTIFY)  # for writes outside Database.write() (db/changes.py)


def count_rows(conn: sa.Connection) -> dict[str, int]:
    """Row counts of the main tables (for summaries and tests)."""
    return {
        table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in (paper, daily_entry, user, repo_stars)
    }


def update_known_papers(conn: sa.Connection, records: Sequence[PaperRecord]) -> WriteCounts:
    """Merge `records` into papers already stored; ids we do not have are ignored.

    For announcements of a new version (arXiv RSS `replace`), which must never create a
    paper (issue #3). Records of unknown papers count in neither `updated` nor `unchanged`.
    """
    ids = list({record.arxiv_id for record in records})
    if not ids:
        return WriteCounts()
    known = set(conn.execute(sa.select(paper.c.id).where(paper.c.id.in_(ids))).scalars())
    counts = upsert_papers(conn, [record for record in records if record.arxiv_id in known])
    if counts.changed:
        bump_content_version(conn)
    return counts
