"""Rate limits: over the limit, a 429 page (or JSON for fetch) with a Retry-After header."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import PASSWORD, csrf_token, log_in, page_token, sign_up

from papertide.config import Settings
from papertide.web.app import create_app


def _app(tmp_path: Path, **limits: str) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path / "data", load_demo=False, **limits))


def test_too_many_log_ins_get_a_429_page_with_retry_after(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, rate_limit_login="3/minute")) as client:
        answers = [log_in(client, "nobody", "wrong password!").status_code for _ in range(3)]
        assert answers == [400, 400, 400]
        limited = log_in(client, "nobody", "wrong password!")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["content-type"].startswith("text/html")
    assert "Too many log-in attempts" in limited.text
    assert f"wait {limited.headers['retry-after']} seconds" in limited.text


def test_log_in_limit_is_per_client_address(tmp_path: Path) -> None:
    app = _app(tmp_path, rate_limit_login="1/minute")
    with TestClient(app, client=("10.0.0.1", 5000)) as first:
        assert log_in(first, "nobody", "x" * 10).status_code == 400
        assert log_in(first, "nobody", "x" * 10).status_code == 429
    with TestClient(app, client=("10.0.0.2", 5000)) as second:
        assert log_in(second, "nobody", "x" * 10).status_code == 400


def test_too_many_sign_ups(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, rate_limit_signup="2/hour")) as client:
        assert sign_up(client, "alice").status_code == 303
        client.cookies.clear()
        assert sign_up(client, "bob").status_code == 303
        client.cookies.clear()
        limited = sign_up(client, "carol")
    assert limited.status_code == 429 and "Too many sign-ups" in limited.text
    assert int(limited.headers["retry-after"]) > 3000  # an hour's window


def test_too_many_votes_answer_json_to_fetch(tmp_path: Path) -> None:
    from tests.web.conftest import SAMPLE_DAY, SAMPLES

    from papertide.ingest.hf_daily import HfDailySource
    from papertide.ingest.runner import run_import

    app = _app(tmp_path, rate_limit_vote="2/minute")
    run_import(app.state.db, HfDailySource([SAMPLES / f"{SAMPLE_DAY}.json"]))
    with TestClient(app) as client:
        sign_up(client)
        headers = {"accept": "application/json", "x-csrf-token": page_token(client, "/")}
        for vote in ("1", "0"):
            ok = client.post("/papers/2608.16590/upvote", data={"vote": vote}, headers=headers)
            assert ok.status_code == 200
        limited = client.post("/papers/2608.16590/upvote", data={"vote": "1"}, headers=headers)
        assert limited.status_code == 429
        assert "Too many votes" in limited.json()["error"]
        assert int(limited.headers["retry-after"]) >= 1
        # The plain form gets the HTML page.
        form = client.post(
            "/papers/2608.16590/upvote", data={"csrf_token": headers["x-csrf-token"]}
        )
        assert form.status_code == 429 and "<!doctype html>" in form.text


def test_limits_can_be_turned_off(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, rate_limit_login="off")) as client:
        token = csrf_token(client.get("/login").text)
        # Another name each time: one name would meet the per-account lock (issue #10).
        answers = {
            client.post(
                "/login", data={"csrf_token": token, "login": f"nobody{n}", "password": PASSWORD}
            ).status_code
            for n in range(15)
        }
        assert answers == {400}


def test_a_limit_holds_across_two_web_processes(tmp_path: Path) -> None:
    # Two apps on one database, as two hosts behind a load balancer: 3 log-ins a minute
    # between them, not 3 each (issue #11).
    settings = Settings(data_dir=tmp_path / "data", load_demo=False, rate_limit_login="3/minute")
    first, second = create_app(settings), create_app(settings)
    with TestClient(first) as one, TestClient(second) as two:
        answers = [log_in(client, "nobody", "x" * 10).status_code for client in (one, two, one)]
        assert answers == [400, 400, 400]
        assert log_in(two, "nobody", "x" * 10).status_code == 429
        assert log_in(one, "nobody", "x" * 10).status_code == 429
