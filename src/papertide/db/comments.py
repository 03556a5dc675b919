"""Comments on papers: one level of replies, edits and deletion by the author, hiding by
curators. Bodies are stored as the Markdown the author wrote; papertide.markup renders them.

A comment with replies that its author deletes stays as a "[deleted]" placeholder (body
emptied, author cleared) so the replies keep their thread; one without replies is removed.
Every change bumps the content version, so cached pages show the new count and thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import comment, paper, user
from papertide.db.writes import bump_content_version

MAX_BODY_CHARS = 10_000


class CommentError(ValueError):
    """A comment that cannot be written; the message says why, for the user.

    `code` names the reason without the details, for pages that may only show messages of
    their own choosing (a `?error=` code, issue #10).
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    paper_id: str
    parent_id: int | None
    username: str | None  # None: the author deleted it (or their account)
    body: str  # Markdown source; "" when deleted
    hidden: bool
    created_at: dt.datetime
    edited_at: dt.datetime | None
    user_id: int | None = None
    replies: list[CommentView] = field(default_factory=list)

    @property
    def deleted(self) -> bool:
        return self.body == "" and self.user_id is None


def _clean_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise CommentError("A comment cannot be empty.", "comment-empty")
    if len(text) > MAX_BODY_CHARS:
        raise CommentError(
            f"A comment can be at most {MAX_BODY_CHARS:,} characters long.", "comment-too-long"
        )
    return text


def add_comment(
    conn: sa.Connection,
    paper_id: str,
    user_id: int,
    body: str,
    now: dt.datetime,
    parent_id: int | None = None,
) -> int:
    """Store a comment (a reply to a reply joins its parent's thread); returns its id."""
    text = _clean_body(body)
    if conn.execute(sa.select(paper.c.id).where(paper.c.id == paper_id)).first() is None:
        raise CommentError(f"There is no paper {paper_id}.", "no-paper")
    if parent_id is not None:
        parent = conn.execute(
            sa.select(comment.c.paper_id, comment.c.parent_id).where(comment.c.id == parent_id)
        ).first()
        if parent is None or parent.paper_id != paper_id:
            raise CommentError(
                "The comment you replied to is not on this paper.", "reply-elsewhere"
            )
        parent_id = parent.parent_id or parent_id  # one level of replies
    new_id = conn.execute(
        comment.insert().values(
            paper_id=paper_id, user_id=user_id, parent_id=parent_id, body=text, created_at=now
        )
    ).inserted_primary_key
    bump_content_version(conn)
    return int(new_id[0]) if new_id else 0


def get_comment(conn: sa.Connection, comment_id: int) -> CommentView | None:
    row = conn.execute(_SELECT.where(comment.c.id == comment_id)).first()
    return _view(row) if row is not None else None


def edit_comment(
    conn: sa.Connection, comment_id: int, user_id: int, body: str, now: dt.datetime
) -> bool:
    """Replace the body of the author's own comment; False if it is not theirs (or gone)."""
    text = _clean_body(body)
    changed = conn.execute(
        comment.update()
        .where(comment.c.id == comment_id, comment.c.user_id == user_id)
        .values(body=text, edited_at=now)
    ).rowcount
    if changed:
        bump_content_version(conn)
    return bool(changed)


def delete_comment(conn: sa.Connection, comment_id: int, user_id: int) -> bool:
    """Delete the author's own comment (keep a placeholder if it has replies)."""
    mine = comment.c.id == comment_id, comment.c.user_id == user_id
    if conn.execute(sa.select(comment.c.id).where(*mine)).first() is None:
        return False
    has_replies = conn.execute(
        sa.select(comment.c.id).where(comment.c.parent_id == comment_id).limit(1)
    ).first()
    if has_replies:
        conn.execute(comment.update().where(*mine).values(body="", user_id=None))
    else:
        conn.execute(comment.delete().where(*mine))
    bump_content_version(conn)
    return True


def set_hidden(conn: sa.Connection, comment_id: int, hidden: bool) -> bool:
    """Hide (or show again) a comment, as a curator; False if there is no such comment."""
    changed = conn.execute(
        comment.update().where(comment.c.id == comment_id).values(hidden=hidden)
    ).rowcount
    if changed:
        bump_content_version(conn)
    return bool(changed)


def thread(conn: sa.Connection, paper_id: str, include_hidden: bool = False) -> list[CommentView]:
    """A paper's comments, oldest first, each with its replies (oldest first).

    Hidden comments are left out unless `include_hidden` (curators see them, marked); a hidden
    comment's replies stay visible under a placeholder only for curators.
    """
    query = _SELECT.where(comment.c.paper_id == paper_id)
    if not include_hidden:
        query = query.where(comment.c.hidden == sa.false())
    views = [_view(row) for row in conn.execute(query.order_by(comment.c.id))]
    top = {view.id: view for view in views if view.parent_id is None}
    for view in views:
        if view.parent_id is not None and view.parent_id in top:
            top[view.parent_id].replies.append(view)
    return [view for view in top.values() if not (view.deleted and not view.replies)]


def by_user(
    conn: sa.Connection, user_id: int, limit: int | None = 50, include_hidden: bool = False
) -> list[CommentView]:
    """A user's comments, newest first: the visible ones (their page), or every one (their
    data export)."""
    query = _SELECT.where(comment.c.user_id == user_id)
    if not include_hidden:
        query = query.where(comment.c.hidden == sa.false())
    query = query.order_by(comment.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_view(row) for row in conn.execute(query)]


_SELECT = sa.select(
    comment.c.id,
    comment.c.paper_id,
    comment.c.parent_id,
    comment.c.user_id,
    user.c.username,
    comment.c.body,
    comment.c.hidden,
    comment.c.created_at,
    comment.c.edited_at,
).select_from(comment.outerjoin(user, user.c.id == comment.c.user_id))


def _view(row: Any) -> CommentView:
    mapping = row._mapping
    return CommentView(
        id=mapping["id"],
        paper_id=mapping["paper_id"],
        parent_id=mapping["parent_id"],
        username=mapping["username"],
        body=mapping["body"],
        hidden=bool(mapping["hidden"]),
        created_at=mapping["created_at"],
        edited_at=mapping["edited_at"],
        user_id=mapping["user_id"],
    )
