"""Accounts through the pages: sign-up, log-in and out, cookies, CSRF, redirects, settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import (
    PASSWORD,
    csrf_token,
    log_in,
    page_token,
    session_token,
    sign_up,
)
from tests.web.conftest import SAMPLE_DAY, SAMPLES, make_app

from papertide.auth import accounts
from papertide.config import Settings
from papertide.db import accounts as account_rows
from papertide.web.app import create_app

WRONG = accounts.WRONG_CREDENTIALS


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    matching = [h for h in headers if h.startswith(f"{name}=")]
    assert matching, f"no {name} cookie in {headers}"
    return str(matching[0])


def test_sign_up_signs_in_and_the_header_names_the_user(client: TestClient) -> None:
    response = sign_up(client, "alice", next="/papers/2608.16590")
    assert response.status_code == 303
    assert response.headers["location"] == "/papers/2608.16590"
    home = client.get("/")
    assert '<a class="account-name" href="/u/alice"' in home.text
    assert 'action="/logout"' in home.text
    assert "Sign up" not in home.text


def test_log_out_then_log_in_again(client: TestClient) -> None:
    sign_up(client)
    token = page_token(client, "/")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert session_token(client) is None
    assert "account-name" not in client.get("/").text
    assert client.get("/settings", follow_redirects=False).headers["location"] == (
        "/login?next=%2Fsettings"
    )
    back = log_in(client, "ALICE@example.org", next="/settings")
    assert back.status_code == 303 and back.headers["location"] == "/settings"
    assert client.get("/settings").status_code == 200


def test_session_cookie_flags_in_development_over_http(client: TestClient) -> None:
    header = _cookie_header(sign_up(client), "papertide_session").lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "max-age=2592000" in header  # 30 days
    assert "secure" not in header  # a development server on plain http


def test_session_cookie_is_secure_in_production(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", load_demo=False, mode="production", secret_key="s" * 32
    )
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        login_page = client.get("/login")
        assert "secure" in _cookie_header(login_page, "papertide_csrf").lower()
        header = _cookie_header(sign_up(client), "papertide_session").lower()
    assert "secure" in header and "httponly" in header and "samesite=lax" in header


def test_session_is_rotated_at_log_in(client: TestClient, app: FastAPI) -> None:
    sign_up(client)
    first = session_token(client)
    assert first is not None
    log_in(client)
    second = session_token(client)
    assert second is not None and second != first
    # The old token no longer signs anybody in, even when presented on purpose.
    with TestClient(app, cookies={"papertide_session": first}) as stale:
        page = stale.get("/")
        assert "account-name" not in page.text
        assert 'papertide_session=""' in page.headers.get("set-cookie", "")  # cleared


def test_a_planted_session_cookie_is_replaced_at_log_in(client: TestClient) -> None:
    sign_up(client)
    client.post("/logout", data={"csrf_token": page_token(client, "/")})
    planted = "p" * 43
    client.cookies.set("papertide_session", planted, domain="testserver.local")
    header = _cookie_header(log_in(client), "papertide_session")
    issued = header.split(";")[0].removeprefix("papertide_session=")
    assert len(issued) >= 43 and issued != planted


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    sign_up(client)
    client.post("/logout", data={"csrf_token": page_token(client, "/")})
    wrong = log_in(client, "alice", "not the password")
    unknown = log_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert WRONG in wrong.text and WRONG in unknown.text
    strip = [
        line
        for line in wrong.text.splitlines()
        if "csrf_token" not in line and "value=" not in line
    ]
    other = [
        line
        for line in unknown.text.splitlines()
        if "csrf_token" not in line and "value=" not in line
    ]
    assert strip == other  # nothing else on the page differs either
    assert session_token(client) is None


@pytest.mark.parametrize(
    ("username", "email", "field_message"),
    [
        ("ALICE", "someone@example.org", "This username is taken."),
        ("bob", "Alice@EXAMPLE.org", "An account with this email address already exists."),
    ],
)
def test_duplicate_sign_ups_are_refused_ignoring_case(
    client: TestClient, username: str, email: str, field_message: str
) -> None:
    sign_up(client, "alice")
    client.post("/logout", data={"csrf_token": page_token(client, "/")})
    token = csrf_token(client.get("/signup").text)
    data = {"csrf_token": token, "username": username, "email": email, "password": PASSWORD}
    response = client.post("/signup", data=data, follow_redirects=False)
    assert response.status_code == 400
    assert field_message in response.text
    assert f'value="{username}"' in response.text  # what was typed is kept
    assert session_token(client) is None


def test_imported_usernames_cannot_be_signed_up_for(client: TestClient) -> None:
    response = sign_up(client, "TAESIRI")  # an HF submitter of the sample day
    assert response.status_code == 400
    assert "Hugging Face submitter" in response.text


@pytest.mark.parametrize("path", ["/login", "/signup", "/logout", "/settings/password"])
def test_posts_without_a_csrf_token_are_refused(client: TestClient, path: str) -> None:
    sign_up(client)
    data = {"login": "alice", "password": PASSWORD, "username": "x", "email": "x@example.org"}
    missing = client.post(path, data=data, follow_redirects=False)
    wrong = client.post(path, data={**data, "csrf_token": "x" * 43}, follow_redirects=False)
    assert missing.status_code == wrong.status_code == 403
    assert "did not come from this site" in missing.text


def test_a_token_from_another_visitor_is_refused(app: FastAPI) -> None:
    with TestClient(app) as attacker, TestClient(app) as victim:
        stolen = csrf_token(attacker.get("/login").text)
        victim.get("/login")  # the victim has a CSRF cookie of their own
        data = {"csrf_token": stolen, "login": "alice", "password": PASSWORD}
        assert victim.post("/login", data=data).status_code == 403


def test_a_cross_site_post_is_refused_even_with_a_token(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    data = {"csrf_token": token, "login": "alice", "password": PASSWORD}
    headers = {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}
    assert client.post("/login", data=data, headers=headers).status_code == 403


def test_anonymous_csrf_cookie_is_scoped_to_its_form(client: TestClient) -> None:
    header = _cookie_header(client.get("/login"), "papertide_csrf")
    assert "Path=/login" in header and "HttpOnly" in header
    # Public pages elsewhere do not receive it, so they are still served from the page cache.
    client.get("/")
    assert client.get("/").headers.get("x-papertide-cache") == "hit"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_may_only_be_a_path_on_this_site(client: TestClient, target: str) -> None:
    assert sign_up(client, next=target).headers["location"] == "/"
    client.post("/logout", data={"csrf_token": page_token(client, "/")})
    assert log_in(client, next=target).headers["location"] == "/"
    page = client.get("/login", params={"next": target}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/"  # already signed in


def test_login_form_carries_a_relative_next(client: TestClient) -> None:
    page = client.get("/login", params={"next": "https://evil.example"})
    assert 'name="next" value="/"' in page.text
    page = client.get("/login", params={"next": "/papers?q=a&p=2"})
    assert 'name="next" value="/papers?q=a&amp;p=2"' in page.text


def test_suspended_user_cannot_log_in_or_act(client: TestClient, app: FastAPI) -> None:
    sign_up(client)
    token = page_token(client)
    db = app.state.db
    with db.write() as conn:
        alice = account_rows.account_by_username(conn, "alice")
        assert alice is not None
        account_rows.set_suspended(conn, alice.id, dt.datetime(2026, 1, 1))
    # The open session stopped working: pages show a visitor, actions are refused.
    assert client.get("/settings", follow_redirects=False).status_code == 303
    vote = client.post("/papers/2608.16590/upvote", data={"csrf_token": token, "vote": "1"})
    assert vote.status_code == 403
    refused = log_in(client)
    assert refused.status_code == 403 and "suspended" in refused.text
    assert session_token(client) is None


def test_password_change_rotates_the_session_and_logs_out_others(app: FastAPI) -> None:
    with TestClient(app) as laptop, TestClient(app) as phone:
        sign_up(laptop)
        log_in(phone)
        before = session_token(laptop)
        data = {
            "csrf_token": page_token(laptop),
            "current_password": PASSWORD,
            "new_password": "a brand new tide",
        }
        changed = laptop.post("/settings/password", data=data, follow_redirects=False)
        assert changed.status_code == 303
        assert changed.headers["location"] == "/settings?done=password"
        assert session_token(laptop) not in (None, before)
        assert "Your password is changed" in laptop.get(changed.headers["location"]).text
        assert phone.get("/settings", follow_redirects=False).status_code == 303
        assert log_in(phone, password="a brand new tide").status_code == 303


def test_password_change_refusals_are_shown(client: TestClient) -> None:
    sign_up(client)
    data = {"csrf_token": page_token(client), "current_password": "nope", "new_password": "short"}
    response = client.post("/settings/password", data=data)
    assert response.status_code == 400
    assert "This is not your current password." in response.text


def test_account_deletion(client: TestClient, app: FastAPI) -> None:
    sign_up(client)
    token = page_token(client)
    client.post("/papers/2608.16590/upvote", data={"csrf_token": token, "vote": "1"})
    wrong = client.post(
        "/settings/delete", data={"csrf_token": token, "password": "nope", "confirm": "alice"}
    )
    assert wrong.status_code == 400 and "This is not your password." in wrong.text
    deleted = client.post(
        "/settings/delete", data={"csrf_token": token, "password": PASSWORD, "confirm": "alice"}
    )
    assert deleted.status_code == 200
    assert "Your account has been deleted" in deleted.text
    assert "account-name" not in deleted.text
    assert session_token(client) is None
    assert client.get("/u/alice").status_code == 404
    assert '<span class="upvote-count">92</span>' in client.get("/papers/2608.16590").text
    assert log_in(client).status_code == 400


def test_signed_in_pages_are_private_and_never_the_anonymous_copy(client: TestClient) -> None:
    client.get("/")  # an anonymous copy in the cache
    sign_up(client)
    for cached in (None, "member"):  # the members' copy (web/splice.py), finished for this one
        page = client.get("/")
        assert page.headers.get("cache-control") == "private, no-store"
        assert page.headers.get("x-papertide-cache") == cached
        assert "account-name" in page.text
    client.cookies.clear()
    anonymous = client.get("/")
    assert anonymous.headers.get("x-papertide-cache") == "hit"
    assert "account-name" not in anonymous.text and "csrf_token" not in anonymous.text


def test_forms_with_tokens_are_never_cached(client: TestClient) -> None:
    for path in ("/login", "/signup"):
        first, second = client.get(path), client.get(path)
        assert "private" in second.headers["cache-control"]
        assert "x-papertide-cache" not in second.headers
        assert csrf_token(first.text) == csrf_token(second.text)  # same visitor, same cookie


def test_an_admin_session_opens_the_admin_pages(client: TestClient, app: FastAPI) -> None:
    accounts.create_admin(app.state.db, "root", "root@example.org", "a long admin secret", 10)
    sign_up(client)
    assert client.get("/admin/jobs").status_code == 403  # a member; no admin token set
    log_in(client, "root", "a long admin secret")
    assert client.get("/admin/jobs").status_code == 200
