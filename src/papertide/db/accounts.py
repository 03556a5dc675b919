"""Users and their sessions (issue #5): the SQL behind sign-up, log-in and account deletion.

Keys are lowercased (`username_key`, `email_key`) and unique, so two spellings of one name or
address can never make two accounts. Sessions are stored as the SHA-256 of the cookie's token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import (
    api_token,
    comment,
    daily_entry,
    follow,
    paper_feedback,
    reading_list,
    reading_list_item,
    upvote,
    user,
    user_session,
)
from papertide.db.writes import bump_content_version
from papertide.models import Account, ApiToken


class AccountExists(Exception):
    """A username or email key is already taken (a concurrent sign-up won the race)."""


_ACCOUNT_COLUMNS = (
    user.c.id,
    user.c.username,
    user.c.fullname,
    user.c.email,
    user.c.role,
    user.c.origin,
    user.c.created_at,
    user.c.suspended_at,
)


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        fullname=row.fullname,
        email=row.email,
        role=row.role,
        origin=row.origin,
        created_at=row.created_at,
        suspended_at=row.suspended_at,
    )


def create_user(
    conn: sa.Connection,
    username: str,
    email: str,
    password_hash: str,
    role: str,
    now: dt.datetime,
) -> Account:
    """Insert a local account; AccountExists when the username or email key is taken."""
    values = {
        "username": username,
        "username_key": username.lower(),
        "email": email,
        "email_key": email.lower(),
        "password_hash": password_hash,
        "role": role,
        "origin": "local",
        "created_at": now,
    }
    try:
        key = conn.execute(user.insert().values(**values)).inserted_primary_key
    except sa.exc.IntegrityError as exc:
        raise AccountExists(username) from exc
    assert key is not None
    found = account_by_id(conn, int(key[0]))
    assert found is not None
    return found


def account_by_id(conn: sa.Connection, user_id: int) -> Account | None:
    row = conn.execute(sa.select(*_ACCOUNT_COLUMNS).where(user.c.id == user_id)).first()
    return _account(row) if row else None


def account_by_username(conn: sa.Connection, username: str) -> Account | None:
    """The account whose username is `username`, ignoring case."""
    query = sa.select(*_ACCOUNT_COLUMNS).where(user.c.username_key == username.lower())
    row = conn.execute(query).first()
    return _account(row) if row else None


def email_taken(conn: sa.Connection, email: str) -> bool:
    """Whether any account has this email address, ignoring case."""
    query = sa.select(user.c.id).where(user.c.email_key == email.lower())
    return conn.execute(query).first() is not None


def login_record(conn: sa.Connection, login: str) -> tuple[Account, str | None] | None:
    """The account a log-in name (username or email, any case) names, with its password hash."""
    key = login.lower()
    query = sa.select(*_ACCOUNT_COLUMNS, user.c.password_hash).where(
        sa.or_(user.c.username_key == key, user.c.email_key == key)
    )
    # A username can never contain "@", so at most one row matches.
    row = conn.execute(query).first()
    return (_account(row), row.password_hash) if row else None


def password_hash(conn: sa.Connection, user_id: int) -> str | None:
    query = sa.select(user.c.password_hash).where(user.c.id == user_id)
    value: str | None = conn.execute(query).scalar()
    return value


def set_password_hash(conn: sa.Connection, user_id: int, hashed: str) -> None:
    conn.execute(user.update().where(user.c.id == user_id).values(password_hash=hashed))


def set_suspended(conn: sa.Connection, user_id: int, when: dt.datetime | None) -> None:
    """Suspend (at `when`) or reinstate (None) an account; a suspension ends its sessions."""
    conn.execute(user.update().where(user.c.id == user_id).values(suspended_at=when))
    if when is not None:
        delete_user_sessions(conn, user_id)


def set_role(conn: sa.Connection, user_id: int, role: str) -> None:
    conn.execute(user.update().where(user.c.id == user_id).values(role=role))


def count_admins(conn: sa.Connection) -> int:
    query = sa.select(sa.func.count()).select_from(user).where(user.c.role == "admin")
    return int(conn.execute(query).scalar_one())


def delete_account(conn: sa.Connection, user_id: int) -> None:
    """Remove an account, its sessions, upvotes, reading lists, follows, marks and API tokens;
    keep its comments and featurings, anonymised (docs/accounts.md). Explicit statements
    rather than relying on ON DELETE, so the outcome does not depend on a connection's
    foreign-key setting."""
    conn.execute(comment.update().where(comment.c.user_id == user_id).values(user_id=None))
    conn.execute(
        daily_entry.update().where(daily_entry.c.submitted_by == user_id).values(submitted_by=None)
    )
    owned_lists = sa.select(reading_list.c.id).where(reading_list.c.user_id == user_id)
    conn.execute(reading_list_item.delete().where(reading_list_item.c.list_id.in_(owned_lists)))
    for table in (reading_list, follow, paper_feedback, api_token, upvote):
        conn.execute(table.delete().where(table.c.user_id == user_id))
    delete_user_sessions(conn, user_id)
    conn.execute(user.delete().where(user.c.id == user_id))
    bump_content_version(conn)  # upvote counts and "submitted by" lines change


def create_session(
    conn: sa.Connection, token_hash: str, user_id: int, now: dt.datetime, expires_at: dt.datetime
) -> None:
    conn.execute(
        user_session.insert().values(
            token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


_SESSION_ACCOUNT = (
    sa.select(*_ACCOUNT_COLUMNS)
    .select_from(user_session.join(user, user.c.id == user_session.c.user_id))
    .where(
        user_session.c.token_hash == sa.bindparam("token_hash", type_=sa.String),
        user_session.c.expires_at > sa.bindparam("now", type_=sa.DateTime),
    )
)


def session_account(conn: sa.Connection, token_hash: str, now: dt.datetime) -> Account | None:
    """The account of an unexpired session, or None."""
    row = conn.execute(_SESSION_ACCOUNT, {"token_hash": token_hash, "now": now}).first()
    return _account(row) if row else None


def delete_session(conn: sa.Connection, token_hash: str) -> None:
    conn.execute(user_session.delete().where(user_session.c.token_hash == token_hash))


def delete_user_sessions(conn: sa.Connection, user_id: int) -> int:
    """End every session of an account; returns how many there were."""
    result = conn.execute(user_session.delete().where(user_session.c.user_id == user_id))
    return int(result.rowcount)


def purge_expired_sessions(conn: sa.Connection, now: dt.datetime) -> int:
    """Delete sessions past their expiry (an indexed range delete)."""
    result = conn.execute(user_session.delete().where(user_session.c.expires_at <= now))
    return int(result.rowcount)


# Personal API tokens (issue #13).


def create_api_token(
    conn: sa.Connection,
    user_id: int,
    token_hash: str,
    name: str,
    scopes: tuple[str, ...],
    now: dt.datetime,
) -> int:
    result = conn.execute(
        api_token.insert().values(
            user_id=user_id,
            token_hash=token_hash,
            name=name,
            scopes=" ".join(scopes),
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _api_token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def api_tokens(conn: sa.Connection, user_id: int) -> list[ApiToken]:
    """An account's tokens, newest first (never their values: only digests are kept)."""
    query = (
        sa.select(api_token)
        .where(api_token.c.user_id == user_id)
        .order_by(api_token.c.created_at.desc(), api_token.c.id.desc())
    )
    return [_api_token(row) for row in conn.execute(query)]


def revoke_api_token(conn: sa.Connection, user_id: int, token_id: int) -> bool:
    """Delete one of `user_id`'s tokens; False when they have no such token."""
    result = conn.execute(
        api_token.delete().where(api_token.c.id == token_id, api_token.c.user_id == user_id)
    )
    return bool(result.rowcount)


def api_token_account(conn: sa.Connection, token_hash: str) -> tuple[Account, ApiToken] | None:
    """The account behind a token, and the token."""
    query = (
        sa.select(*_ACCOUNT_COLUMNS, api_token.c.id.label("token_id"),
                  api_token.c.name.label("token_name"), api_token.c.scopes,
                  api_token.c.created_at.label("token_created_at"), api_token.c.last_used_at)
        .select_from(api_token.join(user, user.c.id == api_token.c.user_id))
        .where(api_token.c.token_hash == token_hash)
    )  # fmt: skip
    row = conn.execute(query).first()
    if row is None:
        return None
    token = ApiToken(
        row.token_id, row.token_name, tuple(row.scopes.split()), row.token_created_at,
        row.last_used_at,
    )  # fmt: skip
    return _account(row), token


def touch_api_token(conn: sa.Connection, token_id: int, now: dt.datetime) -> None:
    conn.execute(api_token.update().where(api_token.c.id == token_id).values(last_used_at=now))


# The personal feed's address (issue #13).


def feed_nonce(conn: sa.Connection, user_id: int) -> str | None:
    query = sa.select(user.c.feed_nonce).where(user.c.id == user_id)
    value = conn.execute(query).scalar_one_or_none()
    return str(value) if value else None


def set_feed_nonce(conn: sa.Connection, user_id: int, nonce: str | None) -> None:
    conn.execute(user.update().where(user.c.id == user_id).values(feed_nonce=nonce))
