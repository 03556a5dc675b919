"""Password hashing (argon2id) and the strength rules every new password must pass."""

from __future__ import annotations

import functools
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's second recommended profile: argon2id, 3 passes over
# 64 MiB with 4 lanes (~50 ms here). Stored hashes carry their parameters, so raising them
# later rehashes each password at its owner's next log-in.
_HASHER = PasswordHasher()

MAX_LENGTH = 1024  # longer input is refused: hashing cost should not be the client's choice
MIN_DISTINCT = 5

# Words of this site that breach lists cannot know; refused like common passwords.
SITE_WORDS = frozenset(("papertide", "huggingface", "research", "arxiv", "arxivarxiv"))
COMMON_REFUSED = "This password is one of the most common ones; choose another."
# What people add around a common word: digits, years and punctuation (issue #10).
_AFFIX = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$", re.DOTALL)
_MAX_AFFIX = 8  # a longer run of added digits or symbols is not a predictable suffix
_LEET = str.maketrans("@4310$5!7", "aaeiossit")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of real breaches (the xato 10M-password corpus, as
    ranked by zxcvbn, MIT), lowercased, with a few words of this site."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"]) | SITE_WORDS


def _repeated_unit(text: str) -> str:
    """`abcabc` -> `abc`: the shortest string whose repetition `text` is."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _variants(password: str) -> set[str]:
    """`password` as a guesser would build it from a common word: case folded, leading and
    trailing digits, years and symbols (up to 8 each) taken off, a repetition undone, and
    digit-for-letter swaps (p@ssw0rd) reversed."""
    folded = password.casefold()
    variants = {folded}
    match = _AFFIX.match(folded)
    if match and match[1]:
        prefix, suffix = folded[: match.start(1)], folded[match.end(1) :]
        if len(prefix) <= _MAX_AFFIX and len(suffix) <= _MAX_AFFIX:
            variants.add(match[1])
    variants |= {_repeated_unit(text) for text in variants}
    variants |= {text.translate(_LEET) for text in variants}
    return {text for text in variants if len(text) >= 4}


def is_common(password: str) -> bool:
    """Whether `password` is, or is a predictable variant of, a common breached password."""
    return not _variants(password).isdisjoint(common_passwords())


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
    if is_common(password):
        return COMMON_REFUSED
    folded = password.lower()
    if len(set(folded)) < MIN_DISTINCT:
        return "This password repeats too few characters; choose another."
    for name in (username, email.split("@", 1)[0]):
        if len(name) >= 3 and name.lower() in folded:
            return "The password must not contain your username or email address."
    return None
