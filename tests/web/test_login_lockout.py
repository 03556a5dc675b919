"""Log-in protection per account (issue #10): failures from any address lock the account for
a while, a success clears them, and a browser that logged in before is never locked out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from tests.web.accounts_helpers import PASSWORD, log_in, sign_up

from papertide.auth import lockout
from papertide.auth.lockout import Backoff
from papertide.config import Settings
from papertide.web.app import create_app

LOCKED = "Too many failed log-ins for this account"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    app = create_app(Settings(data_dir=tmp_path / "data", load_demo=False))
    with TestClient(app) as client:
        assert sign_up(client, "alice").status_code == 303
    return app


def _from(app: FastAPI, address: str) -> TestClient:
    """A browser at `address` (each has its own per-address limit and cookies)."""
    return TestClient(app, client=(address, 40000))


def _attempt(app: FastAPI, address: str, password: str, login: str = "alice") -> Response:
    return log_in(_from(app, address), login, password)


def test_failures_from_many_addresses_lock_the_account(app: FastAPI) -> None:
    """25 wrong passwords from 25 addresses: 5 are checked, then the account is locked."""
    answers = [_attempt(app, f"203.0.113.{n}", f"wrong guess {n}") for n in range(25)]
    assert [a.status_code for a in answers[:5]] == [400] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    assert LOCKED in answers[5].text and "Try again in 1 minute" in answers[5].text
    assert 1 <= int(answers[5].headers["retry-after"]) <= 30
    # While locked, even the right password from a new address is refused, unchecked.
    assert _attempt(app, "198.51.100.7", PASSWORD).status_code == 429


def test_the_lock_doubles_is_capped_and_a_success_clears_it(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [dt.datetime(2026, 12, 1, 12, 0)]
    monkeypatch.setattr(lockout, "utcnow", lambda: clock[0])

    def wait(seconds: float) -> None:
        clock[0] += dt.timedelta(seconds=seconds)

    app.state.login_backoff = Backoff(free_failures=3, first_s=30, max_s=45)
    for n in range(3):
        assert _attempt(app, f"203.0.113.{n}", "wrong").status_code == 400
    wait(29)
    assert _attempt(app, "203.0.113.50", "wrong").status_code == 429  # locked for 30 s
    wait(1.5)
    assert _attempt(app, "203.0.113.51", "wrong").status_code == 400  # the 4th: 60 s, capped 45
    wait(44)
    locked = _attempt(app, "203.0.113.52", PASSWORD)
    assert locked.status_code == 429 and locked.headers["retry-after"] == "1"
    wait(1.5)
    assert _attempt(app, "203.0.113.53", PASSWORD).status_code == 303
    # The success forgot the failures: three more are free again.
    for n in range(3):
        assert _attempt(app, f"203.0.113.{60 + n}", "wrong").status_code == 400


def test_a_browser_that_logged_in_before_is_not_locked_out(app: FastAPI) -> None:
    """The attacker can lock new browsers out, not the owner's own (docs/accounts.md)."""
    own = _from(app, "192.0.2.10")
    assert log_in(own, "alice", PASSWORD).status_code == 303
    assert "papertide_device" in own.cookies
    own.cookies.delete("papertide_session")  # logged out; the device cookie stays
    for n in range(10):
        _attempt(app, f"203.0.113.{n}", "wrong")
    assert _attempt(app, "198.51.100.1", PASSWORD).status_code == 429
    # Another account's device cookie, or a forged one, exempts nothing.
    owner, nonce, signature = own.cookies["papertide_device"].split(".")
    for forged in (f"{int(owner) + 1}.{nonce}.{signature}", f"{owner}.{nonce}.{'x' * 43}"):
        stranger = _from(app, "198.51.100.2")
        stranger.cookies.set("papertide_device", forged)
        assert log_in(stranger, "alice", PASSWORD).status_code == 429
    copied = _from(app, "198.51.100.3")  # the same cookie does reach the server
    copied.cookies.set("papertide_device", own.cookies["papertide_device"])
    assert log_in(copied, "alice", PASSWORD).status_code == 303  # and that clears the lock


def test_unknown_names_lock_the_same_way(app: FastAPI) -> None:
    """A lockout must not tell an attacker which names have accounts."""
    for login in ("alice", "nobody-here"):
        codes = [_attempt(app, f"203.0.113.{n}", "wrong", login).status_code for n in range(6)]
        assert codes == [400] * 5 + [429], login
