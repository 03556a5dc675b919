"""Sign-up, log-in, password change, account deletion and the first admin (issue #5).

Every function takes the Database and plain values and returns plain data or raises
FormErrors with a message per form field, so the web pages and the CLI share the rules.
"""

from __future__ import annotations

import datetime as dt
import re

from papertide.auth import sessions
from papertide.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from papertide.clock import utcnow
from papertide.db import accounts as account_rows
from papertide.db.engine import Database
from papertide.models import ROLES, Account

USERNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{1,30}[A-Za-z0-9])")  # 3 to 32 characters
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
MAX_EMAIL = 254
ADMIN_MIN_PASSWORD = 12
# Names a sign-up may not take: they read as the site itself (the CLI may still use them).
# fmt: off
RESERVED_USERNAMES = frozenset((
    "admin", "administrator", "root", "system", "papertide", "moderator", "curator", "staff",
    "support", "help", "about", "api", "static", "login", "logout", "signup", "settings",
    "submit", "subscribe", "trending", "feeds", "papers", "u", "user", "users", "deleted",
    "anonymous", "null", "none",
))
# fmt: on
WRONG_CREDENTIALS = "Wrong username, email or password."
IMPORTED_USERNAME = (
    "This username belongs to a Hugging Face submitter whose featured papers were imported "
    "here; choose another (an admin can hand it over to its owner)."
)


class FormErrors(Exception):
    """The submitted values were refused: a message per form field (or `form`)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def username_problem(username: str, allow_reserved: bool = False) -> str | None:
    if not USERNAME.fullmatch(username):
        return (
            "Use 3 to 32 letters, digits, dots, dashes or underscores, "
            "starting and ending with a letter or digit."
        )
    if not allow_reserved and username.lower() in RESERVED_USERNAMES:
        return "This username is reserved; choose another."
    return None


def email_problem(email: str) -> str | None:
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
        return "Enter an email address such as name@example.org."
    return None


def sign_up(
    db: Database,
    username: str,
    email: str,
    password: str,
    *,
    min_password_length: int,
    role: str = "member",
    allow_reserved: bool = False,
) -> Account:
    """Create a local account; FormErrors says what to fix.

    Usernames and email addresses are unique ignoring case. An imported (Hugging Face)
    username is never taken over by a sign-up: it is refused like any taken name.
    """
    assert role in ROLES
    username, email = username.strip(), email.strip()
    errors = {
        field: problem
        for field, problem in (
            ("username", username_problem(username, allow_reserved)),
            ("email", email_problem(email)),
            (
                "password",
                password_problem(password, min_password_length, username=username, email=email),
            ),
        )
        if problem
    }
    if errors:
        raise FormErrors(errors)
    hashed = hash_password(password)  # before the transaction: ~50 ms not spent holding a lock
    with db.write() as conn:
        taken = account_rows.account_by_username(conn, username)
        if taken is not None:
            errors["username"] = (
                IMPORTED_USERNAME if taken.origin != "local" else "This username is taken."
            )
        if account_rows.email_taken(conn, email):
            errors["email"] = "An account with this email address already exists."
        if errors:
            raise FormErrors(errors)
        try:
            return account_rows.create_user(conn, username, email, hashed, role, utcnow())
        except account_rows.AccountExists as exc:  # a concurrent sign-up got there first
            raise FormErrors({"username": "This username or email was just taken."}) from exc


def authenticate(db: Database, login: str, password: str) -> Account | None:
    """The account named by `login` (username or email, any case) if `password` is its own.

    None for a wrong password, an unknown name and an imported account alike, after the same
    amount of hashing work, so neither the message nor the timing says which it was. The
    caller refuses suspended accounts (only once the password is known to be right).
    """
    with db.read() as conn:
        found = account_rows.login_record(conn, login.strip())
    return verify_record(db, found, password)


def verify_record(
    db: Database, found: tuple[Account, str | None] | None, password: str
) -> Account | None:
    """`found`'s account if `password` is its own (a login record, or None for no account)."""
    stored = found[1] if found else None
    if not verify_password(stored, password) or found is None or stored is None:
        return None
    account = found[0]
    if needs_rehash(stored):
        with db.write() as conn:
            account_rows.set_password_hash(conn, account.id, hash_password(password))
    return account


def change_password(
    db: Database,
    account: Account,
    current: str,
    new: str,
    *,
    min_password_length: int,
    lifetime: dt.timedelta,
) -> str:
    """Set a new password; every session of the account ends and a new one starts (its token)."""
    with db.read() as conn:
        stored = account_rows.password_hash(conn, account.id)
    if not verify_password(stored, current):
        raise FormErrors({"current_password": "This is not your current password."})
    problem = password_problem(
        new, min_password_length, username=account.username, email=account.email or ""
    )
    if problem:
        raise FormErrors({"new_password": problem})
    hashed = hash_password(new)
    with db.write() as conn:
        account_rows.set_password_hash(conn, account.id, hashed)
        account_rows.delete_user_sessions(conn, account.id)
    return sessions.start(db, account.id, lifetime)


def delete_account(db: Database, account: Account, password: str, confirm: str) -> None:
    """Delete `account` after it proves its password and types its username.

    Upvotes and sessions are removed; comments and featured papers stay, anonymised. The last
    admin cannot delete itself (the instance would have nobody to run it).
    """
    errors: dict[str, str] = {}
    with db.read() as conn:
        stored = account_rows.password_hash(conn, account.id)
        last_admin = account.is_admin and account_rows.count_admins(conn) <= 1
    if not verify_password(stored, password):
        errors["password"] = "This is not your password."
    if confirm.strip().lower() != account.username.lower():
        errors["confirm"] = "Type your username to confirm."
    if last_admin:
        errors["form"] = "You are the only admin: make someone else an admin first."
    if errors:
        raise FormErrors(errors)
    with db.write() as conn:
        account_rows.delete_account(conn, account.id)


def create_admin(
    db: Database, username: str, email: str, password: str, min_password_length: int
) -> Account:
    """The first (or another) admin, from the command line; weak passwords are refused."""
    return sign_up(
        db,
        username,
        email,
        password,
        min_password_length=max(ADMIN_MIN_PASSWORD, min_password_length),
        role="admin",
        allow_reserved=True,
    )
