"""Log-in with a per-account back-off (issue #10, docs/accounts.md "Log-in protection").

The per-address rate limit cannot stop guesses at one account spread over many addresses, so
failures are also counted per account in the database (shared by every web process): after
`free_failures` in a row, each further failure refuses log-ins for that account for a delay
that doubles up to `max_s`, from any address, without even checking the password. A success
clears the count. Unknown names are counted the same way, so a lockout says nothing about
which names have accounts.

So that an attacker cannot lock a person out for good, a browser that has logged in to the
account before (its signed device cookie, web/auth.py) is exempt from the account's lock; it
still counts toward it, and the per-address limit still applies to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from papertide.auth.accounts import verify_record
from papertide.clock import utcnow
from papertide.db import accounts as account_rows
from papertide.db import login_throttle
from papertide.db.engine import Database
from papertide.models import Account


@dataclass(frozen=True, slots=True)
class Backoff:
    """`free_failures` failures in a row cost nothing; then `first_s`, doubling, at most `max_s`."""

    free_failures: int = 5
    first_s: float = 30.0
    max_s: float = 900.0

    def delay(self, failures: int) -> float:
        if failures < self.free_failures:
            return 0.0
        return min(self.first_s * 2.0 ** (failures - self.free_failures), self.max_s)


class AccountLocked(Exception):
    """Too many failed log-ins for this account: try again in `wait_s` seconds."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"locked for {wait_s:.0f} s")
        self.wait_s = wait_s


def log_in(
    db: Database,
    login: str,
    password: str,
    backoff: Backoff,
    trusted: Callable[[int], bool] = lambda _account_id: False,
) -> Account | None:
    """The account if `password` is its own, None if not; AccountLocked while it is locked.

    `trusted(account_id)` says whether this browser logged in to that account before.
    """
    name, now = login.strip(), utcnow()
    with db.read() as conn:
        found = account_rows.login_record(conn, name)
        key = f"account:{found[0].id}" if found else f"login:{name.casefold()}"
        exempt = found is not None and trusted(found[0].id)
        until = None if exempt else login_throttle.blocked_until(conn, key, now)
    if until is not None:
        raise AccountLocked((until - now).total_seconds())
    account = verify_record(db, found, password)
    with db.write() as conn:
        if account is None:
            login_throttle.record_failure(conn, key, now, backoff.delay)
        else:
            login_throttle.clear(conn, key)
    return account
