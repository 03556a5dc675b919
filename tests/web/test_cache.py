"""The rendered-page cache: hits for anonymous repeats, misses once the data changed."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import OTHER_SAMPLE_DAY, SAMPLE_DAY, SAMPLES, make_app, sample_items

from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import


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


def test_requests_with_cookies_and_errors_are_not_cached(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json"))
    for _ in range(2):
        client.cookies.set("session", "x")
        response = client.get("/")
        assert "x-papertide-cache" not in response.headers
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

    from papertide.web.cache import CACHE_HEADER, PageCache

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/html")]
        if scope["path"] == "/cookie":
            headers.append((b"set-cookie", b"papertide_csrf=abc; Path=/cookie; HttpOnly"))
        elif scope["path"] == "/private":
            headers.append((b"cache-control", b"private, no-store"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    cache = PageCache(page, version=lambda: 1, cacheable=lambda _path: True)

    def replayed(path: str) -> bool:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
        asyncio.run(cache(scope, receive, send))
        return CACHE_HEADER in sent[0]["headers"]

    assert [replayed("/cookie"), replayed("/cookie")] == [False, False]
    assert [replayed("/private"), replayed("/private")] == [False, False]
    assert [replayed("/public"), replayed("/public")] == [False, True]
