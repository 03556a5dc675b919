"""Personal API tokens (issue #13): a member's scripts vote, comment and submit with them.

A token is shown once, when it is created; the database keeps its SHA-256 only, like session
tokens, so a leaked table opens nothing. Each token carries scopes (`read`, `vote`, `comment`,
`submit`) and is refused the moment its owner revokes it. Tokens travel in the
`Authorization: Bearer pt_…` header only, never in a URL, so they do not end up in access
logs or browser histories.
"""

from __future__ import annotations

import datetime as dt

from papertide.auth.tokens import new_token, token_digest
from papertide.clock import utcnow
from papertide.db import accounts as account_rows
from papertide.db.engine import Database
from papertide.models import API_SCOPES, Account, ApiToken

PREFIX = "pt_"  # says what it is, in a secrets scanner or a pasted log line
MAX_TOKENS = 20  # per account: enough for every script, few enough to review
MAX_NAME = 100
TOUCH_EVERY = dt.timedelta(minutes=1)  # "last used" is kept to the minute: one write a minute


class TokenProblem(ValueError):
    """A token that cannot be created as asked; the message says what to change."""


def create(db: Database, account: Account, name: str, scopes: list[str]) -> str:
    """A new token for `account`: its value, to be shown once."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise TokenProblem(f"Give the token a name of 1 to {MAX_NAME} characters.")
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown:
        raise TokenProblem(f"Unknown scope {unknown[0]!r}: choose from {', '.join(API_SCOPES)}.")
    chosen = tuple(scope for scope in API_SCOPES if scope in scopes)
    if not chosen:
        raise TokenProblem("Choose at least one thing the token may do.")
    value = PREFIX + new_token()
    with db.write() as conn:
        if len(account_rows.api_tokens(conn, account.id)) >= MAX_TOKENS:
            raise TokenProblem(f"You have {MAX_TOKENS} tokens: revoke one you no longer use.")
        account_rows.create_api_token(conn, account.id, token_digest(value), name, chosen, utcnow())
    return value


def listed(db: Database, account: Account) -> list[ApiToken]:
    with db.read() as conn:
        return account_rows.api_tokens(conn, account.id)


def revoke(db: Database, account: Account, token_id: int) -> bool:
    with db.write() as conn:
        return account_rows.revoke_api_token(conn, account.id, token_id)


def looks_like_api_token(value: str) -> bool:
    body = value.removeprefix(PREFIX)
    return (
        value.startswith(PREFIX)
        and 32 <= len(body) <= 64
        and all(c.isalnum() or c in "-_" for c in body)
    )


def account_for(db: Database, value: str) -> tuple[Account, tuple[str, ...]] | None:
    """The account and scopes of token `value`, or None (unknown, revoked, owner suspended)."""
    if not looks_like_api_token(value):
        return None
    with db.read() as conn:
        found = account_rows.api_token_account(conn, token_digest(value))
    if found is None or found[0].suspended:
        return None
    account, token = found
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        with db.write() as conn:  # settings shows when each token was last used
            account_rows.touch_api_token(conn, token.id, now)
    return account, token.scopes
