"""`next=` targets: only paths on this site, never another host (issue #5)."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a relative path on this site, else `default`.

    Refused: absolute URLs (`https://evil.example`), scheme-relative ones (`//evil.example`),
    backslashes (browsers read `/\\evil.example` as `//evil.example`), and control characters
    or spaces (browsers drop tabs and newlines, so `/\\t/evil.example` is scheme-relative too).
    """
    if not target or len(target) > MAX_LENGTH:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
