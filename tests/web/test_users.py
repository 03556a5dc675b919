"""User pages: `/u/{username}` lists the papers the user upvoted, newest vote first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import sign_up
from tests.web.conftest import SAMPLE_DAY, SAMPLES, make_app

from papertide.db import accounts as account_rows
from papertide.db import votes


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json"))


def test_user_page_lists_upvotes_newest_first(
    client: TestClient, card_ids: Callable[[str], list[str]]
) -> None:
    sign_up(client, "alice")
    db = client.app.state.db  # type: ignore[attr-defined]
    with db.write() as conn:
        alice = account_rows.account_by_username(conn, "alice")
        assert alice is not None
        for minute, paper in enumerate(["2608.16590", "2608.17253"]):
            votes.set_upvote(conn, alice.id, paper, True, dt.datetime(2026, 8, 21, 0, minute))
    client.cookies.clear()
    page = client.get("/u/alice")
    assert page.status_code == 200
    assert card_ids(page.text) == ["2608.17253", "2608.16590"]
    assert "Upvoted papers" in page.text and "Member since" in page.text


def test_unknown_user_is_404_and_case_redirects(client: TestClient) -> None:
    assert client.get("/u/nobody").status_code == 404
    sign_up(client, "Alice")
    moved = client.get("/u/ALICE", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/u/Alice"


def test_an_imported_submitter_has_a_page(client: TestClient) -> None:
    page = client.get("/u/taesiri")
    assert page.status_code == 200
    assert "Hugging Face submitter" in page.text and "No upvoted papers yet." in page.text


def test_the_header_links_to_my_page(client: TestClient) -> None:
    sign_up(client, "alice")
    page = client.get("/u/alice")
    assert '<a class="account-name" href="/u/alice" aria-current="page">alice</a>' in page.text
