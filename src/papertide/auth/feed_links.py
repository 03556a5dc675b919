"""The address of a member's personal feed (issue #13): secret, revocable, shown again at will.

A feed reader cannot send a header, so the secret is in the URL:
`/feeds/personal/<user id>-<signature>.rss`, where the signature is an HMAC under the site's
secret key over the user id and a random nonce kept in `user.feed_nonce`. The database alone
opens nothing (the key is not in it); the member can see the address again in settings; a new
nonce gives a new address and the old one answers 404 from then on. The address grants
nothing but reading that one feed.
"""

from __future__ import annotations

from papertide.auth.tokens import derive, new_token, same
from papertide.db import accounts as account_rows
from papertide.db.engine import Database
from papertide.models import Account

PURPOSE = "personal-feed"


def _token(secret_key: str, user_id: int, nonce: str) -> str:
    return f"{user_id}-{derive(secret_key, PURPOSE, f'{user_id}:{nonce}')}"


def current(db: Database, secret_key: str, account: Account) -> str | None:
    """The member's feed token, or None when they have no personal feed."""
    with db.read() as conn:
        nonce = account_rows.feed_nonce(conn, account.id)
    return _token(secret_key, account.id, nonce) if nonce else None


def renew(db: Database, secret_key: str, account: Account) -> str:
    """A new address for the member's feed (the old one, if any, stops working)."""
    nonce = new_token()
    with db.write() as conn:
        account_rows.set_feed_nonce(conn, account.id, nonce)
    return _token(secret_key, account.id, nonce)


def stop(db: Database, account: Account) -> None:
    with db.write() as conn:
        account_rows.set_feed_nonce(conn, account.id, None)


def owner(db: Database, secret_key: str, token: str) -> Account | None:
    """Whose feed `token` opens, or None (malformed, renewed, stopped, suspended)."""
    user_part, _, signature = token.partition("-")
    if not user_part.isdigit() or len(user_part) > 18 or not signature:
        return None
    user_id = int(user_part)
    with db.read() as conn:
        nonce = account_rows.feed_nonce(conn, user_id)
        account = account_rows.account_by_id(conn, user_id) if nonce else None
    if nonce is None or account is None or account.suspended:
        return None
    expected = _token(secret_key, user_id, nonce)
    return account if same(token, expected) else None
