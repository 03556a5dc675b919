"""The one HTTP client module every live source goes through.

Timeouts everywhere, a User-Agent naming the deployment, optional proxy, a minimum interval
between requests to one host (arXiv asks for 3 s), and retries with backoff on timeouts,
5xx and 429, honouring `Retry-After`. Clock and sleep are injectable so tests run instantly
against replayed recordings (an `httpx.MockTransport`).
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from papertide import __version__

if TYPE_CHECKING:
    from papertide.config import Settings

DEFAULT_USER_AGENT = f"Papertide/{__version__} (self-hosted research-paper feed)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(RuntimeError):
    """A request failed for good (after retries); the message names the URL and the cause."""

    def __init__(self, url: str, message: str, status_code: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status_code = status_code


@dataclass(slots=True)
class HttpOptions:
    """How the client behaves: identity, timeouts, politeness and retries."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout_s: float = 30.0
    proxy: str | None = None
    retries: int = 4
    backoff_s: float = 2.0  # first retry waits this long, doubling each time
    max_wait_s: float = 300.0  # never sleep longer than this for one Retry-After
    min_interval_s: Mapping[str, float] = field(default_factory=dict)  # host -> seconds


class HttpClient:
    """An httpx.Client wrapped with politeness and retries."""

    def __init__(
        self,
        options: HttpOptions | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options or HttpOptions()
        self.clock = clock
        self.sleep = sleep
        self._last_request: dict[str, float] = {}
        # Submissions look papers up from several request threads at once (issue #10): the
        # spacing per host holds across threads only if one of them reserves a turn at a time.
        self._turn = threading.Lock()
        self._client = httpx.Client(
            headers={"User-Agent": self.options.user_agent},
            timeout=httpx.Timeout(self.options.timeout_s),
            proxy=self.options.proxy,
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """GET with retries; 2xx/304 and `ok_statuses` are returned, anything else raises."""
        attempt = 0
        while True:
            self._wait_turn(url)
            try:
                response = self._client.get(url, params=params, headers=headers)
            except httpx.TransportError as exc:  # timeouts, refused connections, broken bodies
                if attempt >= self.options.retries:
                    raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
                self.sleep(self._backoff(attempt))
                attempt += 1
                continue
            status = response.status_code
            if status < 300 or status == 304 or status in ok_statuses:
                return response
            if status in RETRY_STATUSES and attempt < self.options.retries:
                self.sleep(self._retry_after(response) or self._backoff(attempt))
                attempt += 1
                continue
            raise FetchError(url, f"HTTP {status} {response.reason_phrase}".strip(), status)

    def _wait_turn(self, url: str) -> None:
        host = httpx.URL(url).host
        interval = self.options.min_interval_s.get(host, 0.0)
        with self._turn:
            last = self._last_request.get(host)
            if interval and last is not None:
                remaining = last + interval - self.clock()
                if remaining > 0:
                    self.sleep(remaining)
            self._last_request[host] = self.clock()

    def _backoff(self, attempt: int) -> float:
        return min(self.options.backoff_s * 2.0**attempt, self.options.max_wait_s)

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("retry-after")
        if not value:
            return None
        if value.strip().isdigit():
            return min(float(value), self.options.max_wait_s)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        delay = when.timestamp() - time.time()
        return min(max(delay, 0.0), self.options.max_wait_s)


# arXiv's terms: one request every few seconds per host (Settings.arxiv_min_interval_s).
ARXIV_HOSTS = ("export.arxiv.org", "rss.arxiv.org", "oaipmh.arxiv.org", "arxiv.org")


def client_from_settings(
    settings: Settings,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> HttpClient:
    """The HTTP client for live sources (worker, CLI, paper submission), from the settings."""
    options = HttpOptions(
        user_agent=settings.user_agent,
        timeout_s=settings.http_timeout_s,
        proxy=settings.http_proxy,
        min_interval_s=dict.fromkeys(ARXIV_HOSTS, settings.arxiv_min_interval_s),
    )
    return HttpClient(options, transport=transport, sleep=sleep)
