"""A replaying HTTP transport: the real client code runs against recorded real responses.

    replay = Replay()
    replay.add_recording(path_to_recorded_json)        # {url, status_code, body}
    replay.add("https://api.github.com/repos/o/r", 200, json_body, headers={...})
    replay.add("https://rss.arxiv.org/rss/cs.LG", [resp1, resp2])  # served in order
    http = HttpClient(HttpOptions(), transport=replay.transport, sleep=replay.sleep)

URLs match after sorting query parameters, so recordings match whatever order a client
builds its query in. An unexpected URL fails the test loudly. `replay.requests` lists what
was asked, `replay.slept` every pause the client took (the sleep is fake: tests are instant).
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

Responder = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def normalise(url: str | httpx.URL) -> str:
    """A URL with its query parameters sorted (so parameter order does not matter)."""
    parsed = httpx.URL(str(url))
    params = sorted(parsed.params.multi_items())
    return str(parsed.copy_with(params=params)) if params else str(parsed.copy_with(query=None))


class Replay:
    """Serves queued responses per URL; the last response for a URL repeats once reached."""

    def __init__(self) -> None:
        self.routes: dict[str, deque[Responder]] = defaultdict(deque)
        self.requests: list[httpx.Request] = []
        self.slept: list[float] = []
        # Answers any URL without queued responses (e.g. every GitHub repository of a run).
        self.fallback: Callable[[httpx.Request], httpx.Response] | None = None
        self.transport = httpx.MockTransport(self._handle)

    def add(
        self,
        url: str,
        status_or_responses: int | list[Responder] | Responder = 200,
        body: str | bytes | dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue a response (or several, served in order) for `url`."""
        key = normalise(url)
        if isinstance(status_or_responses, list):
            self.routes[key].extend(status_or_responses)
        elif isinstance(status_or_responses, int):
            self.routes[key].append(response(status_or_responses, body, headers))
        else:
            self.routes[key].append(status_or_responses)

    def add_recording(self, path: Path) -> str:
        """Queue a recorded `{url, status_code, body}` file; returns its URL."""
        recorded = json.loads(path.read_text(encoding="utf-8"))
        self.add(recorded["url"], recorded["status_code"], recorded["body"])
        return str(recorded["url"])

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get(normalise(request.url))
        if not queue and self.fallback is not None:
            return self.fallback(request)
        if not queue:
            raise AssertionError(f"unexpected request: {request.method} {request.url}")
        responder = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(responder, Exception):
            raise responder
        if callable(responder) and not isinstance(responder, httpx.Response):
            return responder(request)
        return responder


def response(
    status: int,
    body: str | bytes | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """An httpx.Response with a text, bytes or JSON body."""
    if isinstance(body, (dict, list)):
        return httpx.Response(status, json=body, headers=headers)
    return httpx.Response(status, content=body or b"", headers=headers)
