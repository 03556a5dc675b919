"""Personal API tokens (issue #13): created in settings and shown once, stored hashed, scoped,
refused at once when revoked, never a stand-in for a browser session, never logged."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.live_server import serve
from tests.web.accounts_helpers import page_token, sign_up
from tests.web.test_community import _make_app

from papertide.db.schema import api_token

PAPER = "2608.16590"  # on the sample day, 92 imported upvotes
_VALUE = re.compile(r'<code class="token-value" id="new-token">(pt_[\w-]+)</code>')


@pytest.fixture
def app(tmp_path: Path, shared_data: Path) -> FastAPI:
    return _make_app(tmp_path, shared_data)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def create_token(client: TestClient, name: str, *scopes: str) -> str:
    data = {"csrf_token": page_token(client), "name": name, "scope": list(scopes)}
    page = client.post("/settings/tokens", data=data)
    assert page.status_code == 200, page.text
    found = _VALUE.search(page.text)
    assert found is not None, "the new token is not on the page"
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_and_stored_as_a_fingerprint(
    client: TestClient, app: FastAPI
) -> None:
    sign_up(client)
    value = create_token(client, "reading script", "read", "vote")
    settings = client.get("/settings").text
    assert value not in settings and "reading script" in settings and "read, vote" in settings
    with app.state.db.read() as conn:
        rows = [dict(row._mapping) for row in conn.execute(sa.select(api_token))]
    assert len(rows) == 1 and value not in str(rows)
    assert rows[0]["token_hash"] != value and len(rows[0]["token_hash"]) == 64
    me = client.get("/api/whoami", headers=bearer(value))
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "alice" and me.json()["scopes"] == ["read", "vote"]
    assert "private" in me.headers["cache-control"]


def test_bad_token_requests_say_what_is_wrong(client: TestClient) -> None:
    sign_up(client)
    for problem in ("", "no name"), ("a name",):
        data = {"csrf_token": page_token(client), "name": problem[0], "scope": list(problem[1:])}
        refused = client.post("/settings/tokens", data=data)
        assert refused.status_code == 400 and 'role="alert"' in refused.text
    client.cookies.clear()
    anonymous = client.get("/api/whoami")
    assert anonymous.status_code == 401 and anonymous.json()["error"]
    basic = client.get("/api/whoami", headers={"authorization": "Basic YWxpY2U6eA=="})
    assert basic.status_code == 401 and "Bearer" in basic.json()["error"]
    forged = client.get("/api/whoami", headers=bearer("pt_" + "x" * 43))
    assert forged.status_code == 401 and "revoked" in forged.json()["error"]
    assert forged.headers["www-authenticate"].startswith("Bearer")


def test_a_script_upvotes_comments_and_submits_with_its_token(client: TestClient) -> None:
    sign_up(client)
    value = create_token(client, "everything", "read", "vote", "comment", "submit")
    script = TestClient(client.app)  # no cookies: the token alone, and no CSRF token
    voted = script.post(f"/api/papers/{PAPER}/upvote", headers=bearer(value))
    assert voted.status_code == 200, voted.text
    assert voted.json() == {"paper": PAPER, "upvoted": True, "upvotes": 93}
    assert script.get(f"/api/papers/{PAPER}").json()["upvotes"] == 93
    day_page = client.get("/papers/date/2026-08-20").text  # the member's own page shows it
    assert 'class="upvote upvoted"' in day_page
    taken_back = script.post(
        f"/api/papers/{PAPER}/upvote", json={"upvoted": False}, headers=bearer(value)
    )
    assert taken_back.json()["upvotes"] == 92
    said = script.post(
        f"/api/papers/{PAPER}/comments",
        json={"body": "Tried it: $x^2$ holds."},
        headers=bearer(value),
    )
    assert said.status_code == 201, said.text
    reply = script.post(
        f"/api/papers/{PAPER}/comments",
        json={"body": "Same here.", "parent": said.json()["id"]},
        headers=bearer(value),
    )
    assert reply.status_code == 201 and reply.json()["parent"] == said.json()["id"]
    thread = script.get(f"/api/papers/{PAPER}/comments").json()
    assert thread[0]["author"] == "alice" and thread[0]["replies"][0]["body"] == "Same here."
    submitted = script.post(
        "/api/papers/submit",
        json={"paper": "https://arxiv.org/abs/2104.12255", "comment": "Zero!"},
        headers=bearer(value),
    )
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["paper"] == "2104.12255"
    again = script.post("/api/papers/submit", json={"paper": "2104.12255"}, headers=bearer(value))
    assert again.status_code == 400 and "already featured" in again.json()["error"]
    unknown = script.post("/api/papers/2608.99999/upvote", headers=bearer(value))
    assert unknown.status_code == 404 and unknown.json()["error"]
    empty = script.post(f"/api/papers/{PAPER}/comments", json={"body": ""}, headers=bearer(value))
    assert empty.status_code == 400


def test_scopes_hold_and_a_revoked_token_is_refused_at_once(client: TestClient) -> None:
    sign_up(client)
    reader = create_token(client, "reader", "read")
    voter = create_token(client, "voter", "vote")
    script = TestClient(client.app)
    refused = script.post(f"/api/papers/{PAPER}/upvote", headers=bearer(reader))
    assert refused.status_code == 403 and "vote" in refused.json()["error"]
    assert script.post(f"/api/papers/{PAPER}/upvote", headers=bearer(voter)).status_code == 200
    settings = client.get("/settings").text
    token_id = re.search(r'action="/settings/tokens/(\d+)/revoke"[^>]*>\s*<input[^>]*>\s*'
                         r'<button[^>]*aria-label="Revoke voter"', settings)  # fmt: skip
    assert token_id is not None
    done = client.post(
        f"/settings/tokens/{token_id.group(1)}/revoke",
        data={"csrf_token": page_token(client)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    gone = script.post(f"/api/papers/{PAPER}/upvote", headers=bearer(voter))
    assert gone.status_code == 401
    assert script.get("/api/whoami", headers=bearer(reader)).status_code == 200


def test_a_token_never_stands_in_for_a_browser_session(client: TestClient) -> None:
    """Pages and forms take the session cookie and its CSRF token; a token in a header opens
    none of them, and a cookie never rides along with one."""
    sign_up(client)
    value = create_token(client, "all", "read", "vote", "comment", "submit")
    script = TestClient(client.app)
    for path in ("/settings/password", "/settings/delete", "/submit"):
        answer = script.post(path, headers=bearer(value), follow_redirects=False)
        assert answer.status_code in (401, 403), path
    assert script.get("/settings", headers=bearer(value), follow_redirects=False).status_code in (
        401,
        303,
    )
    # A browser's session cannot post to the API without its CSRF token.
    no_csrf = client.post(f"/api/papers/{PAPER}/upvote")
    assert no_csrf.status_code == 403
    with_csrf = client.post(
        f"/api/papers/{PAPER}/upvote", headers={"x-csrf-token": page_token(client)}
    )
    assert with_csrf.status_code == 200


def test_tokens_never_reach_the_logs(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    sign_up(client)
    value = create_token(client, "logged?", "read", "vote")
    caplog.set_level(logging.DEBUG)
    with serve(app, logs=True) as base_url:  # the access log on, as `--access-log`
        for path in ("/api/whoami", f"/api/papers/{PAPER}", "/api/whoami?x=1"):
            httpx.get(base_url + path, headers=bearer(value), timeout=10)
        httpx.post(base_url + f"/api/papers/{PAPER}/upvote", headers=bearer(value), timeout=10)
        httpx.get(base_url + "/api/whoami", headers=bearer(value + "x"), timeout=10)
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access) >= 5, "no access log: the check would prove nothing"
    assert value not in caplog.text
