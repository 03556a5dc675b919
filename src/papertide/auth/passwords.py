"""Password hashing (argon2id) and the strength rules every new password must pass."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's second recommended profile: argon2id, 3 passes over
# 64 MiB with 4 lanes (~50 ms here). Stored hashes carry their parameters, so raising them
# later rehashes each password at its owner's next log-in.
_HASHER = PasswordHasher()

MAX_LENGTH = 1024  # longer input is refused: hashing cost should not be the client's choice
MIN_DISTINCT = 5

# The most common passwords of public breach lists that are 8+ characters long; anything
# here is refused however long it is.
# fmt: off
COMMON = frozenset((
    "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd",
    "p@ssword", "12345678", "123456789", "1234567890", "12345678910", "0123456789", "987654321",
    "9876543210", "11111111", "1111111111", "00000000", "0000000000", "88888888", "87654321",
    "11223344", "12341234", "123123123", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "1qaz2wsx3edc",
    "qwertyuiop", "qwerty123", "qwerty1234", "qwertyui", "qazwsxedc", "asdfghjkl", "asdfghjk",
    "zxcvbnm123", "iloveyou", "iloveyou1", "sunshine", "princess", "football", "baseball",
    "superman", "starwars", "trustno1", "whatever", "welcome1", "welcome123", "abc12345",
    "abcd1234", "abcdefgh", "letmein1", "letmein123", "changeme", "changeme123", "admin123",
    "administrator", "adminadmin", "computer", "internet", "michael1", "jennifer", "jordan23",
    "liverpool", "chelsea1", "arsenal1", "manchester", "basketball", "dragon123", "master123",
    "monkey123", "shadow123", "charlie1", "freedom1", "q1w2e3r4", "q1w2e3r4t5", "mypassword",
    "secret123", "papertide", "papertide123", "huggingface", "research", "arxivarxiv",
))
# fmt: on


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string, with salt and parameters) of `password`."""
    return _HASHER.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`.

    With no stored hash (unknown user, imported account) a dummy hash is verified anyway, so
    the answer takes as long as for a real account and timing does not tell them apart.
    """
    try:
        _HASHER.verify(stored or _dummy_hash(), password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None and len(password) <= MAX_LENGTH


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with older parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def password_problem(
    password: str, min_length: int, *, username: str = "", email: str = ""
) -> str | None:
    """Why `password` is too weak for an account, or None when it is acceptable."""
    if len(password) < min_length:
        return f"Use at least {min_length} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.lower()
    if folded in COMMON or folded.rstrip("!1.?") in COMMON:
        return "This password is one of the most common ones; choose another."
    if len(set(folded)) < MIN_DISTINCT:
        return "This password repeats too few characters; choose another."
    for name in (username, email.split("@", 1)[0]):
        if len(name) >= 3 and name.lower() in folded:
            return "The password must not contain your username or email address."
    return None
