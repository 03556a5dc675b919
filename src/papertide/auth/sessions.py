"""Server-side sessions: a random token in the cookie, its SHA-256 in the database.

A new token is made at every log-in (never reused from the request, so a planted cookie
cannot fixate a session), and every password change ends all sessions of the account.
"""

from __future__ import annotations

import datetime as dt

from papertide.auth.tokens import looks_like_token, new_token, token_digest
from papertide.clock import utcnow
from papertide.db import accounts as account_rows
from papertide.db.engine import Database
from papertide.models import Account


def start(
    db: Database,
    user_id: int,
    lifetime: dt.timedelta,
    replacing: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Open a session for `user_id` (ending the `replacing` one); returns the cookie token."""
    now = now or utcnow()
    token = new_token()
    with db.write() as conn:
        if replacing:
            account_rows.delete_session(conn, token_digest(replacing))
        account_rows.purge_expired_sessions(conn, now)
        account_rows.create_session(conn, token_digest(token), user_id, now, now + lifetime)
    return token


def account_for(db: Database, token: str, now: dt.datetime | None = None) -> Account | None:
    """The account signed in with `token`, or None (unknown, expired, or suspended)."""
    if not looks_like_token(token):
        return None
    with db.read() as conn:
        account = account_rows.session_account(conn, token_digest(token), now or utcnow())
    return None if account is None or account.suspended else account


def end(db: Database, token: str) -> None:
    """Log out: forget the session."""
    if looks_like_token(token):
        with db.write() as conn:
            account_rows.delete_session(conn, token_digest(token))
