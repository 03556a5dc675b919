"""The rendered-page cache: hits for anonymous repeats, misses once the data changed."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import csrf_token, page_token, sign_up
from tests.web.conftest import OTHER_SAMPLE_DAY, SAMPLE_DAY, SAMPLES, make_app, sample_items

from papertide.db import Database
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.web.app import create_app
from papertide.web.cache import PageCache

PAPER = "2608.16590"  # on SAMPLE_DAY, 92 imported upvotes


def test_repeat_request_is_served_from_cache(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json"))
    first = client.get(f"/papers/date/{SAMPLE_DAY}")
    second = client.get(f"/papers/date/{SAMPLE_DAY}")
    assert first.status_code == second.status_code == 200
    assert "x-papertide-cache" not in first.headers
    assert second.headers["x-papertide-cache"] == "hit"
    assert second.text == first.text
    assert "content-security-policy" in second.headers


def test_import_invalidates_cached_pages(tmp_path: Path) -> None:
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")
    client = TestClient(app)
    url = f"/papers/date/{OTHER_SAMPLE_DAY}"
    client.get(url)
    # Re-importing the same day changes nothing, so the cached page stays valid.
    run_import(app.state.db, HfDailySource([SAMPLES / f"{SAMPLE_DAY}.json"]))
    assert client.get(url).headers.get("x-papertide-cache") == "hit"
    # A new day's papers must appear at once, not after the cache happens to expire.
    run_import(app.state.db, HfDailySource([SAMPLES / f"{OTHER_SAMPLE_DAY}.json"]))
    after = client.get(url)
    assert "x-papertide-cache" not in after.headers
    assert str(sample_items(OTHER_SAMPLE_DAY)[0]["paper"]["id"]) in after.text  # type: ignore[index]


def test_stale_sessions_and_errors_are_not_cached(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json"))
    for _ in range(2):
        client.cookies.set("papertide_session", "x" * 43)  # ended elsewhere: cleared, not cached
        response = client.get("/")
        assert "x-papertide-cache" not in response.headers
        assert 'papertide_session=""' in response.headers["set-cookie"]
        client.cookies.clear()
        missing = client.get("/papers/2401.99999")
        assert missing.status_code == 404
        assert "x-papertide-cache" not in missing.headers
    client.cookies.clear()
    client.get("/subscribe")
    assert "x-papertide-cache" not in client.get("/subscribe").headers


def test_responses_that_set_cookies_or_are_private_are_never_stored() -> None:
    """A page with a person's name or a CSRF token must not be replayed to anyone (issue #5)."""
    import asyncio

    from starlette.types import Message, Receive, Scope, Send

    from papertide.db.changes import BlindProbe
    from papertide.web.cache import HIT, VersionWatch

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/html")]
        if scope["path"] == "/cookie":
            headers.append((b"set-cookie", b"papertide_csrf=abc; Path=/cookie; HttpOnly"))
        elif scope["path"] == "/private":
            headers.append((b"cache-control", b"private, no-store"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    cache = PageCache(page, VersionWatch(lambda: 1, BlindProbe()), cacheable=lambda _path: True)

    def replayed(path: str) -> bool:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
        asyncio.run(cache(scope, receive, send))
        return HIT in sent[0]["headers"]

    assert [replayed("/cookie"), replayed("/cookie")] == [False, False]
    assert [replayed("/private"), replayed("/private")] == [False, False]
    assert [replayed("/public"), replayed("/public")] == [False, True]


def test_other_cookies_get_the_anonymous_copy(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json"))
    client.get("/")
    client.cookies.set("papertide_csrf", "from-a-log-in-form")
    assert client.get("/").headers.get("x-papertide-cache") == "hit"


def _uncached_twin(app: FastAPI) -> TestClient:
    """A second app on the same database without the page cache: pages as rendered alone."""
    twin = create_app(app.state.settings)
    twin.user_middleware = [m for m in twin.user_middleware if m.cls is not PageCache]
    return TestClient(twin)


def test_members_get_the_shared_page_finished_exactly_as_rendered_for_them(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")
    alice, bob = TestClient(app), TestClient(app)
    sign_up(alice, "alice")
    sign_up(bob, "bob")
    token = page_token(alice)
    alice.post(f"/papers/{PAPER}/upvote", data={"csrf_token": token, "vote": "1"})
    reference = _uncached_twin(app)
    paths = ["/", f"/papers/date/{SAMPLE_DAY}", "/papers?q=diffusion", "/papers/trending"]
    for member in (alice, bob):
        reference.cookies = member.cookies
        for path in paths:
            first, second = member.get(path), member.get(path)
            assert second.headers["x-papertide-cache"] == "member", path
            alone = reference.get(path)
            assert first.text == second.text == alone.text, path
            assert second.headers["cache-control"] == "private, no-store"
            assert int(second.headers["content-length"]) == len(second.content)
    alice_day = alice.get(f"/papers/date/{SAMPLE_DAY}").text
    assert 'class="upvote upvoted"' in alice_day and ">alice</a>" in alice_day
    bob_day = bob.get(f"/papers/date/{SAMPLE_DAY}").text
    assert 'class="upvote upvoted"' not in bob_day and ">bob</a>" in bob_day
    assert csrf_token(alice_day) != csrf_token(bob_day)
    assert "\x1e" not in alice_day and "\x1e" not in bob_day


def test_a_members_vote_and_log_out_show_at_once(tmp_path: Path) -> None:
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")
    client = TestClient(app)
    sign_up(client)
    day = f"/papers/date/{SAMPLE_DAY}"
    client.get(day)
    assert client.get(day).headers["x-papertide-cache"] == "member"
    token = page_token(client)
    client.post(f"/papers/{PAPER}/upvote", data={"csrf_token": token, "vote": "1"})
    page = client.get(day)
    assert 'class="upvote upvoted"' in page.text and "x-papertide-cache" not in page.headers
    assert '<span class="upvote-count">93</span>' in page.text
    cookie = client.cookies.get("papertide_session")
    client.post("/logout", data={"csrf_token": token})
    # The old cookie, replayed: the session ended, so nobody's bits are filled in.
    client.cookies.set("papertide_session", str(cookie))
    after = client.get(day)
    assert "account-name" not in after.text and "x-papertide-cache" not in after.headers


def test_the_probe_sees_another_processes_commit(tmp_path: Path) -> None:
    """A write through another connection (another process, a worker) moves the probe."""
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")
    probe = app.state.db.change_probe()
    probe.reconnect()
    try:
        first = probe.generation()
        assert first is not None and probe.generation() == first
        other = Database(app.state.db.url)
        run_import(other, HfDailySource([SAMPLES / f"{OTHER_SAMPLE_DAY}.json"]))
        other.dispose()
        assert probe.generation() not in (None, first)
    finally:
        probe.close()
