"""Upvotes through the app: the plain form, the fetch path, the page cache, and a race."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import csrf_token, page_token, sign_up
from tests.web.conftest import SAMPLE_DAY, SAMPLES, make_app

from papertide.db.schema import upvote

PAPER = "2608.16590"  # 92 imported upvotes
JSON = {"accept": "application/json"}


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _card_button(html: str, paper: str) -> str:
    """The upvote control of one paper's card."""
    card = re.search(rf'<li class="card[^"]*" id="paper-{re.escape(paper)}".*?</li>', html, re.S)
    assert card is not None
    return card.group(0)


def test_visitors_get_a_log_in_link_not_a_form(client: TestClient) -> None:
    card = _card_button(client.get(f"/papers/date/{SAMPLE_DAY}").text, PAPER)
    assert f'<a class="upvote" href="/login?next=/papers/date/{SAMPLE_DAY}"' in card
    assert "<form" not in card and '<span class="upvote-count">92</span>' in card


def test_plain_form_vote_and_unvote(client: TestClient) -> None:
    sign_up(client)
    day = f"/papers/date/{SAMPLE_DAY}"
    card = _card_button(client.get(day).text, PAPER)
    assert f'action="/papers/{PAPER}/upvote"' in card and 'name="vote" value="1"' in card
    assert 'aria-pressed="false"' in card
    token = csrf_token(card)
    voted = client.post(
        f"/papers/{PAPER}/upvote",
        data={"csrf_token": token, "vote": "1", "next": day},
        follow_redirects=False,
    )
    assert voted.status_code == 303 and voted.headers["location"] == f"{day}#paper-{PAPER}"
    card = _card_button(client.get(day).text, PAPER)
    assert '<span class="upvote-count">93</span>' in card
    assert 'class="upvote upvoted"' in card and 'name="vote" value="0"' in card
    client.post(f"/papers/{PAPER}/upvote", data={"csrf_token": token, "vote": "0"})
    assert '<span class="upvote-count">92</span>' in _card_button(client.get(day).text, PAPER)


def test_the_paper_page_has_the_same_button(client: TestClient) -> None:
    sign_up(client)
    page = client.get(f"/papers/{PAPER}").text
    token = csrf_token(page)
    response = client.post(
        f"/papers/{PAPER}/upvote", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.headers["location"] == f"/papers/{PAPER}"
    page = client.get(f"/papers/{PAPER}").text
    assert 'aria-pressed="true"' in page and '<span class="upvote-count">93</span>' in page


def test_fetch_vote_answers_json(client: TestClient) -> None:
    sign_up(client)
    headers = {**JSON, "x-csrf-token": page_token(client, "/")}
    on = client.post(f"/papers/{PAPER}/upvote", data={"vote": "1"}, headers=headers)
    assert on.status_code == 200
    assert on.json() == {"paper": PAPER, "upvoted": True, "upvotes": 93, "label": "93"}
    assert on.headers["cache-control"] == "private, no-store"
    again = client.post(f"/papers/{PAPER}/upvote", data={"vote": "1"}, headers=headers)
    assert again.json()["upvotes"] == 93
    off = client.post(f"/papers/{PAPER}/upvote", data={"vote": "0"}, headers=headers)
    assert off.json() == {"paper": PAPER, "upvoted": False, "upvotes": 92, "label": "92"}


def test_fetch_errors_are_json(client: TestClient) -> None:
    sign_up(client)
    headers = {**JSON, "x-csrf-token": page_token(client, "/")}
    missing = client.post("/papers/2401.99999/upvote", headers=headers)
    assert missing.status_code == 404 and "not in this instance" in missing.json()["error"]
    bad_token = client.post(f"/papers/{PAPER}/upvote", headers={**JSON, "x-csrf-token": "x"})
    assert bad_token.status_code == 403 and "error" in bad_token.json()


def test_votes_need_an_account(app: FastAPI) -> None:
    with TestClient(app) as visitor:
        token = csrf_token(visitor.get("/login").text)  # a valid anonymous token...
        response = visitor.post(
            f"/papers/{PAPER}/upvote",
            data={"csrf_token": token},
            headers={"cookie": f"papertide_csrf={visitor.cookies['papertide_csrf']}"},
            follow_redirects=False,
        )
        # ...passes the CSRF check but not the sign-in one.
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
        plain = visitor.post(f"/papers/{PAPER}/upvote", headers=JSON)
        assert plain.status_code == 403


def test_a_vote_refreshes_cached_pages_for_everyone(app: FastAPI) -> None:
    with TestClient(app) as visitor, TestClient(app) as voter:
        url = f"/papers/date/{SAMPLE_DAY}"
        visitor.get(url)
        assert visitor.get(url).headers.get("x-papertide-cache") == "hit"
        sign_up(voter)
        token = page_token(voter, "/")
        voter.post(
            f"/papers/{PAPER}/upvote", data={"vote": "1"}, headers={**JSON, "x-csrf-token": token}
        )
        fresh = visitor.get(url)
        assert "x-papertide-cache" not in fresh.headers
        assert '<span class="upvote-count">93</span>' in _card_button(fresh.text, PAPER)
        assert "csrf_token" not in fresh.text  # the cached page holds nothing of the voter


def test_fifty_parallel_votes_through_the_app_count_once(app: FastAPI) -> None:
    """Fifty real threads post the same vote with one session, at the same moment."""
    with TestClient(app) as client:
        sign_up(client)
        cookies = {"papertide_session": client.cookies["papertide_session"]}
        token = page_token(client, "/")
    start = threading.Barrier(50)

    def vote(_: int) -> int:
        one = TestClient(app, cookies=cookies)  # no `with`: the app's lifespan is not re-run
        start.wait()
        response = one.post(
            f"/papers/{PAPER}/upvote", data={"vote": "1"}, headers={**JSON, "x-csrf-token": token}
        )
        assert response.json()["upvoted"] is True
        return int(response.json()["upvotes"])

    with ThreadPoolExecutor(max_workers=50) as pool:
        counts = list(pool.map(vote, range(50)))
    assert set(counts) == {93}
    with app.state.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(upvote)).scalar_one() == 1


def test_the_upvote_script_is_local_and_only_for_signed_in_pages(client: TestClient) -> None:
    assert "upvote.js" not in client.get("/").text
    script = client.get("/static/upvote.js")
    assert script.status_code == 200 and "fetch(" in script.text and "http" not in script.text
    sign_up(client)
    script_tag = r'<script defer src="/static/upvote.js\?v=\w+"></script>'
    assert re.search(script_tag, client.get("/").text)
