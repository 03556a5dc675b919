"""Signed subscriber links: unforgeable, revocable by rotating the salt, URL-safe."""

from __future__ import annotations

import re

from papertide.digest.links import (
    preferences_url,
    subscriber_token,
    token_subscriber_id,
    token_valid,
    unsubscribe_url,
)

KEY = "a-secret-key-of-some-length"
OTHER_KEY = "another-secret-key-entirely"


def test_a_token_names_its_subscriber_and_validates() -> None:
    token = subscriber_token(KEY, 42, "salt-1")
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    assert token_subscriber_id(token) == 42
    assert token_valid(KEY, token, 42, "salt-1")
    assert subscriber_token(KEY, 42, "salt-1") == token  # stable: the same in every digest


def test_a_token_carries_at_least_128_bits_of_mac() -> None:
    mac = subscriber_token(KEY, 1, "s").partition(".")[2]
    assert len(mac) * 6 >= 256


def test_rotating_the_salt_revokes_old_links() -> None:
    token = subscriber_token(KEY, 42, "salt-1")
    assert not token_valid(KEY, token, 42, "salt-2")


def test_tokens_cannot_be_forged_or_moved() -> None:
    token = subscriber_token(KEY, 42, "salt")
    mac = token.partition(".")[2]
    assert not token_valid(KEY, f"43.{mac}", 43, "salt")  # another subscriber's id
    assert not token_valid(OTHER_KEY, token, 42, "salt")  # another site's key
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not token_valid(KEY, flipped, 42, "salt")
    assert not token_valid(KEY, token, 41, "salt")


def test_malformed_tokens_name_nobody() -> None:
    for bad in (
        "",
        "42",
        "42.",
        ".abc",
        "x.abc",
        "-1.abc",
        "042.abc",
        "4 2.abc",
        "42.a/b",
        "١٢.ab",
    ):
        assert token_subscriber_id(bad) is None, bad
    assert token_subscriber_id("7.abc") == 7
    assert not token_valid(KEY, "nonsense", 7, "salt")


def test_urls() -> None:
    assert preferences_url("https://papers.example/", "7.abc") == (
        "https://papers.example/subscribe/manage/7.abc"
    )
    assert unsubscribe_url("https://papers.example", "7.abc") == (
        "https://papers.example/unsubscribe/7.abc"
    )
