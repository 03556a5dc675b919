"""The event loop only waits on sockets (issue #10): the check itself, and the pages under it.

tests/conftest.py runs every test under a LoopGuard; these tests prove the guard catches a
deliberately blocking `async def` route (so a handler that breaks the rule fails its tests),
lets the same work through in a plain `def`, and that signed-in pages and forms, whose
dependencies look the session up in the database, keep to the rule.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.loop_guard import BlockedLoop, LoopGuard
from tests.web.accounts_helpers import page_token, sign_up
from tests.web.conftest import SAMPLE_DAY, SAMPLES, make_app

from papertide.web.offload import off_loop


def _select_one(app: FastAPI) -> int:
    with app.state.db.read() as conn:
        return int(conn.execute(sa.text("SELECT 1")).scalar_one())


def _slow_result() -> int:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return int(pool.submit(lambda: (time.sleep(0.05), 7)[1]).result(timeout=1))


def _http_get() -> int:
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    with httpx.Client(transport=transport) as client:
        return client.get("https://export.arxiv.org/api/query").status_code


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    app = make_app(tmp_path)

    @app.get("/blocking/sql")
    async def blocking_sql() -> dict[str, int]:
        return {"one": _select_one(app)}

    @app.get("/blocking/wait")
    async def blocking_wait() -> dict[str, int]:
        return {"seven": _slow_result()}

    @app.get("/blocking/http")
    async def blocking_http() -> dict[str, int]:
        return {"status": _http_get()}

    @app.get("/threaded/sql")
    def threaded_sql() -> dict[str, int]:
        return {"one": _select_one(app)}

    @app.get("/offloaded/sql")
    async def offloaded_sql() -> dict[str, int]:
        return {"one": await off_loop(_select_one, app)}

    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/blocking/sql", "SQL (SELECT 1) on the event loop"),
        ("/blocking/wait", "a wait for a thread's result on the event loop"),
        ("/blocking/http", "a blocking HTTP request on the event loop"),
    ],
)
def test_the_guard_fails_a_blocking_async_route(
    client: TestClient, loop_guard: LoopGuard, path: str, what: str
) -> None:
    with pytest.raises(BlockedLoop, match="on the event loop"):
        client.get(path)
    assert len(loop_guard.violations) == 1
    assert loop_guard.violations[0].startswith(what)
    assert "blocking_" in loop_guard.violations[0]  # the stack names the culprit
    loop_guard.violations.clear()  # this test wanted them; any other test fails on them


def test_the_guard_records_what_the_app_swallowed(tmp_path: Path, loop_guard: LoopGuard) -> None:
    """A blocking call whose exception the app catches still fails the test at its end."""
    app = make_app(tmp_path)

    @app.get("/swallowed")
    async def swallowed() -> dict[str, bool]:
        try:
            _select_one(app)
        except Exception:
            return {"caught": True}
        return {"caught": False}

    with TestClient(app) as client:
        assert client.get("/swallowed").json() == {"caught": True}
    assert [v.splitlines()[0] for v in loop_guard.violations] == [
        "SQL (SELECT 1) on the event loop"
    ]
    loop_guard.violations.clear()


@pytest.mark.parametrize("path", ["/threaded/sql", "/offloaded/sql"])
def test_the_same_work_in_a_thread_passes(
    client: TestClient, loop_guard: LoopGuard, path: str
) -> None:
    assert client.get(path).json() == {"one": 1}
    assert loop_guard.violations == []


def test_signed_in_pages_and_forms_keep_the_loop_free(
    tmp_path: Path, loop_guard: LoopGuard
) -> None:
    """With a session cookie every dependency looks the viewer up: all of it off the loop."""
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")
    with TestClient(app) as client:
        sign_up(client, "alice")
        for path in (
            "/", f"/papers/date/{SAMPLE_DAY}", "/papers/trending", "/papers?q=diffusion",
            "/papers/2608.16590", "/u/alice", "/settings", "/submit", "/subscribe",
            "/api/daily_papers", "/api/papers/search?q=model", "/api/papers/2608.16590",
            "/papers/0000.00000", "/admin/jobs",
        ):  # fmt: skip
            assert client.get(path).status_code in (200, 403, 404), path
        token = page_token(client, "/papers/2608.16590")
        voted = client.post(
            "/papers/2608.16590/upvote", data={"csrf_token": token}, follow_redirects=False
        )
        assert voted.status_code == 303
        assert client.post("/logout", data={"csrf_token": token}).status_code == 200
    assert loop_guard.violations == []
