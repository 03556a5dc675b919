"""Random tokens, their stored digests, and HMAC-derived CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 random bits


def new_token() -> str:
    """A random URL-safe token (256 bits) for a cookie."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What the database stores for a token: its SHA-256, hex (a leaked table opens nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def derive(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` for `purpose` under the site's secret key, URL-safe."""
    mac = hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(given.encode(), expected.encode())


def looks_like_token(value: str) -> bool:
    """Whether a cookie value could be one of our tokens (cheap check before any lookup)."""
    return 32 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)
