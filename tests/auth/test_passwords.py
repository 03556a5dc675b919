"""Password hashing (argon2id) and the strength rules."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from papertide.auth.passwords import (
    COMMON_REFUSED,
    common_passwords,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")
    assert not verify_password(first, "")


def test_no_stored_hash_never_verifies() -> None:
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")


def test_overlong_password_does_not_verify() -> None:
    stored = hash_password("x" * 1024)
    assert verify_password(stored, "x" * 1024)
    assert not verify_password(stored, "x" * 1025)


def test_weaker_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse battery")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("correct horse battery"))


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "at least 10"),
        ("Password123", "most common"),
        ("qwertyuiop!", "most common"),
        ("aaaaaaaaaaaaab", "too few characters"),
        ("xx-alice-2024-xx", "username"),
        ("bob.smith-rules!", "email"),
        ("y" * 1025, "at most 1024"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, fragment: str) -> None:
    problem = password_problem(password, 10, username="alice", email="bob.smith@example.org")
    assert problem is not None and fragment in problem


def test_a_decent_password_passes() -> None:
    assert password_problem("tide pools at dawn", 10, username="alice", email="a@b.org") is None


@pytest.mark.parametrize(
    "password",
    [
        # Accepted before issue #10: a common word doubled, or with digits, a year, symbols.
        "passwordpassword",
        "password12345",
        "qwertyuiop12",
        "Password2024!",
        # The same tricks on other entries of the breach list.
        "2024Dragon!!",
        "monkeymonkeymonkey",
        "P@ssw0rd2024",
        "Letmein19881988",
        "iloveyou!!!!",
    ],
)
def test_predictable_variants_of_breached_passwords_are_refused(password: str) -> None:
    assert password_problem(password, 10) == COMMON_REFUSED


def test_the_list_is_a_real_breach_list() -> None:
    """zxcvbn's 30,000 most common passwords of the xato corpus, shipped in the package."""
    common = common_passwords()
    assert len(common) > 29_000
    assert {"123456", "password", "qwertyuiop", "trustno1", "sunshine"} <= common


@pytest.mark.parametrize(
    "password",
    [
        "tide pools at dawn",
        "glasswing-otter-42",
        "Tr0ub4dor&3xk",
        "password-manager-made-this-9f3Kq",  # a common word inside a long one is fine
        "dragon83629104537",  # a common word, but 11 random digits: not a predictable suffix
    ],
)
def test_uncommon_passwords_pass(password: str) -> None:
    assert password_problem(password, 10) is None
