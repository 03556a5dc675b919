"""`next=` accepts relative paths on this site only."""

from __future__ import annotations

import pytest

from papertide.auth.redirects import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/papers/2608.16590",
        "/papers?q=diffusion&p=2",
        "/u/alice#upvoted",
        "/papers/date/2026-08-20",
    ],
)
def test_relative_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "http://evil.example/papers",
        "//evil.example",
        "//evil.example/papers",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ /evil.example",
        "javascript:alert(1)",
        "evil.example",
        "papers/relative",
        "",
        None,
        "/" + "a" * 2000,
    ],
)
def test_anything_else_falls_back_to_the_default(target: str | None) -> None:
    assert safe_next(target) == "/"
    assert safe_next(target, default="/settings") == "/settings"
