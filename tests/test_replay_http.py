"""The shared HTTP client (ingest/http.py) through the replaying transport."""

from __future__ import annotations

import itertools
import threading
import time

import httpx
import pytest
from tests.replay import Replay, response

from papertide.ingest.http import FetchError, HttpClient, HttpOptions

URL = "https://export.arxiv.org/api/query?id_list=2401.00001&start=0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def client(replay: Replay, **options: object) -> HttpClient:
    return HttpClient(HttpOptions(**options), transport=replay.transport, sleep=replay.sleep)  # type: ignore[arg-type]


def test_query_order_does_not_matter_and_user_agent_is_sent() -> None:
    replay = Replay()
    replay.add(URL, 200, "<feed/>")
    with client(replay, user_agent="Papertide-test (mailto:x@example.org)") as http:
        got = http.get(
            "https://export.arxiv.org/api/query", params={"start": 0, "id_list": "2401.00001"}
        )
    assert got.text == "<feed/>"
    assert replay.requests[0].headers["user-agent"] == "Papertide-test (mailto:x@example.org)"


def test_5xx_and_timeouts_are_retried_with_backoff() -> None:
    replay = Replay()
    replay.add(URL, [httpx.ReadTimeout("slow"), response(502), response(200, "ok")])
    with client(replay, backoff_s=2.0) as http:
        assert http.get(URL).text == "ok"
    assert replay.slept == [2.0, 4.0]


def test_503_retry_after_is_honoured() -> None:
    replay = Replay()
    replay.add(URL, [response(503, "busy", {"Retry-After": "17"}), response(200, "ok")])
    with client(replay) as http:
        assert http.get(URL).text == "ok"
    assert replay.slept == [17.0]


def test_gives_up_with_a_clear_error() -> None:
    replay = Replay()
    replay.add(URL, 500, "boom")
    with client(replay, retries=2) as http, pytest.raises(FetchError, match="HTTP 500"):
        http.get(URL)
    assert len(replay.requests) == 3


def test_4xx_is_not_retried() -> None:
    replay = Replay()
    replay.add(URL, 404, "no")
    with client(replay) as http, pytest.raises(FetchError) as info:
        http.get(URL)
    assert info.value.status_code == 404
    assert len(replay.requests) == 1


def test_min_interval_between_requests_to_one_host() -> None:
    replay = Replay()
    replay.add(URL, 200, "ok")
    clock = FakeClock()
    options = HttpOptions(min_interval_s={"export.arxiv.org": 3.0})
    with HttpClient(options, transport=replay.transport, clock=clock, sleep=clock.sleep) as http:
        http.get(URL)
        clock.now += 1.0
        http.get(URL)
        http.get(URL)
    assert clock.now == pytest.approx(1000.0 + 6.0)


def test_min_interval_holds_across_threads() -> None:
    """Two request threads sharing one client (parallel submissions) still keep the spacing."""
    replay = Replay()
    replay.add(URL, 200, "ok")
    started: list[float] = []
    options = HttpOptions(min_interval_s={"export.arxiv.org": 0.2})
    with HttpClient(options, transport=replay.transport) as http:
        original = http._wait_turn

        def recording_wait(url: str) -> None:
            original(url)
            started.append(time.monotonic())

        http._wait_turn = recording_wait  # type: ignore[method-assign]
        threads = [threading.Thread(target=http.get, args=(URL,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    times = sorted(started)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 3 and min(gaps) >= 0.15  # without the lock the first two go at once
