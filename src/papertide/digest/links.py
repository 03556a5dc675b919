"""Signed links in mail: the preferences page and one-click unsubscribe (issue #6).

A subscriber token is `<id>.<mac>`: the id to look the subscriber up, and an HMAC-SHA256 of
the id and the subscriber's `token_salt` under the site's secret key. Nobody can forge one
without the key, and rotating a subscriber's salt revokes every link sent so far.
"""

from __future__ import annotations

from papertide.auth.tokens import derive, same

_PURPOSE = "subscriber-link"
_MAX_ID_DIGITS = 18


def _mac(secret_key: str, subscriber_id: int, token_salt: str) -> str:
    return derive(secret_key, _PURPOSE, f"{subscriber_id}:{token_salt}")


def subscriber_token(secret_key: str, subscriber_id: int, token_salt: str) -> str:
    """The opaque, URL-safe token in a subscriber's preferences and unsubscribe links."""
    return f"{subscriber_id}.{_mac(secret_key, subscriber_id, token_salt)}"


def token_subscriber_id(token: str) -> int | None:
    """The subscriber id a token names, if it is well-formed (not yet proof of anything)."""
    head, dot, mac = token.partition(".")
    if not dot or not mac or not head.isascii() or not head.isdigit():
        return None
    if len(head) > _MAX_ID_DIGITS or (len(head) > 1 and head.startswith("0")):
        return None
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in mac):
        return None
    return int(head)


def token_valid(secret_key: str, token: str, subscriber_id: int, token_salt: str) -> bool:
    """Whether `token` is this subscriber's current token (constant-time comparison)."""
    if token_subscriber_id(token) != subscriber_id:
        return False
    return same(token, subscriber_token(secret_key, subscriber_id, token_salt))


def preferences_url(public_url: str, token: str) -> str:
    """The signed link to a subscriber's preferences page."""
    return f"{public_url.rstrip('/')}/subscribe/manage/{token}"


def unsubscribe_url(public_url: str, token: str) -> str:
    """The signed one-click unsubscribe link (RFC 8058 POST target; a GET shows a page)."""
    return f"{public_url.rstrip('/')}/unsubscribe/{token}"
