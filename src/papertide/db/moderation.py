"""Moderation (issue #5): curators feature, unfeature and move papers, hide comments and
suspend accounts. Every action is written to the audit log in the same transaction as the
change itself, so the log cannot miss one (or record one that did not happen).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from papertide.db import accounts, comments
from papertide.db.schema import daily_entry, moderation_action, paper, user
from papertide.db.writes import bump_content_version, touch_papers


class ModerationError(ValueError):
    """An action that cannot be done; the message says why, `code` names the reason only."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    username: str


@dataclass(frozen=True, slots=True)
class Action:
    id: int
    actor: str
    action: str
    target: str
    detail: str | None
    created_at: dt.datetime


def _log(
    conn: sa.Connection,
    actor: Actor,
    action: str,
    target: str,
    now: dt.datetime,
    detail: str | None = None,
) -> None:
    conn.execute(
        moderation_action.insert().values(
            actor_id=actor.user_id,
            actor_name=actor.username,
            action=action,
            target=target,
            detail=detail,
            created_at=now,
        )
    )


def _require_paper(conn: sa.Connection, paper_id: str) -> None:
    if conn.execute(sa.select(paper.c.id).where(paper.c.id == paper_id)).first() is None:
        raise ModerationError(f"There is no paper {paper_id}.", "no-paper")


def _featured_on(conn: sa.Connection, paper_id: str) -> list[dt.date]:
    rows = conn.execute(
        sa.select(daily_entry.c.date)
        .where(daily_entry.c.paper_id == paper_id)
        .order_by(daily_entry.c.date)
    )
    return [row.date for row in rows]


def feature(
    conn: sa.Connection, actor: Actor, paper_id: str, day: dt.date, now: dt.datetime
) -> None:
    """Feature a known paper on `day` (a curator's pick, with no submitter comment)."""
    _require_paper(conn, paper_id)
    days = _featured_on(conn, paper_id)
    if days:
        raise ModerationError(
            f"{paper_id} is already featured on {days[0]:%Y-%m-%d}: move it instead.",
            "featured-elsewhere",
        )
    conn.execute(
        daily_entry.insert().values(
            paper_id=paper_id, date=day, submitted_by=actor.user_id, submitted_at=now
        )
    )
    _changed(conn, [paper_id])
    _log(conn, actor, "feature", paper_id, now, f"on {day:%Y-%m-%d}")


def unfeature(conn: sa.Connection, actor: Actor, paper_id: str, now: dt.datetime) -> None:
    """Take a paper off every day it is featured on."""
    days = _featured_on(conn, paper_id)
    if not days:
        raise ModerationError(f"{paper_id} is not featured.", "not-featured")
    conn.execute(daily_entry.delete().where(daily_entry.c.paper_id == paper_id))
    _changed(conn, [paper_id])
    _log(
        conn,
        actor,
        "unfeature",
        paper_id,
        now,
        "was on " + ", ".join(f"{d:%Y-%m-%d}" for d in days),
    )


def move(conn: sa.Connection, actor: Actor, paper_id: str, day: dt.date, now: dt.datetime) -> None:
    """Move a featured paper to another day (its submitter and comment stay)."""
    days = _featured_on(conn, paper_id)
    if not days:
        raise ModerationError(f"{paper_id} is not featured: feature it instead.", "move-unfeatured")
    if days == [day]:
        raise ModerationError(f"{paper_id} is already featured on {day:%Y-%m-%d}.", "same-day")
    first = days[0]
    conn.execute(
        daily_entry.delete().where(daily_entry.c.paper_id == paper_id, daily_entry.c.date != first)
    )
    conn.execute(
        daily_entry.update()
        .where(daily_entry.c.paper_id == paper_id, daily_entry.c.date == first)
        .values(date=day)
    )
    _changed(conn, [paper_id])
    _log(conn, actor, "move", paper_id, now, f"from {first:%Y-%m-%d} to {day:%Y-%m-%d}")


def hide_comment(
    conn: sa.Connection, actor: Actor, comment_id: int, hidden: bool, now: dt.datetime
) -> None:
    """Hide a comment (or show it again)."""
    if not comments.set_hidden(conn, comment_id, hidden):
        raise ModerationError(f"There is no comment {comment_id}.", "no-comment")
    _log(conn, actor, "hide" if hidden else "unhide", f"comment:{comment_id}", now)


def suspend(
    conn: sa.Connection,
    actor: Actor,
    username: str,
    suspended: bool,
    now: dt.datetime,
    reason: str | None = None,
) -> None:
    """Suspend an account (it can no longer log in or act) or lift the suspension."""
    row = conn.execute(
        sa.select(user.c.id, user.c.username, user.c.role).where(
            user.c.username_key == username.lower()
        )
    ).first()
    if row is None:
        raise ModerationError(f"There is no account {username}.", "no-account")
    if row.id == actor.user_id:
        raise ModerationError("You cannot suspend your own account.", "suspend-self")
    if row.role == "admin":
        raise ModerationError(
            f"{username} is an admin: admins cannot be suspended.", "suspend-admin"
        )
    accounts.set_suspended(conn, row.id, now if suspended else None)  # ends its sessions
    action = "suspend" if suspended else "unsuspend"
    _log(conn, actor, action, f"user:{row.username}", now, reason)


def recent_actions(conn: sa.Connection, limit: int = 100) -> list[Action]:
    """The audit log, newest first."""
    rows = conn.execute(
        sa.select(moderation_action).order_by(moderation_action.c.id.desc()).limit(limit)
    )
    return [
        Action(row.id, row.actor_name, row.action, row.target, row.detail, row.created_at)
        for row in rows
    ]


def _changed(conn: sa.Connection, paper_ids: list[str]) -> None:
    touch_papers(conn, paper_ids)  # the keyword index's "featured" filter
    bump_content_version(conn)
