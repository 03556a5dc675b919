"""Driving the account pages like a browser: read the CSRF token from the form, post it back."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

PASSWORD = "tide pools at dawn"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The first CSRF token in a page."""
    found = _TOKEN.search(html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def sign_up(
    client: TestClient, username: str = "alice", password: str = PASSWORD, **extra: str
) -> Response:
    """Fill in and post the sign-up form (without following the redirect)."""
    token = csrf_token(client.get("/signup").text)
    data = {"csrf_token": token, "username": username, "email": f"{username}@example.org"}
    return client.post(
        "/signup", data={**data, "password": password, **extra}, follow_redirects=False
    )


def log_in(
    client: TestClient, login: str = "alice", password: str = PASSWORD, **extra: str
) -> Response:
    token = csrf_token(client.get("/login").text)
    data = {"csrf_token": token, "login": login, "password": password, **extra}
    return client.post("/login", data=data, follow_redirects=False)


def session_token(client: TestClient) -> str | None:
    value = client.cookies.get("papertide_session")
    return value if value else None


def page_token(client: TestClient, path: str = "/settings") -> str:
    """The signed-in viewer's CSRF token, as a page hands it out."""
    return csrf_token(client.get(path).text)
