"""A per-process cache of rendered public pages, invalidated by the database's content version.

Every write that changes what a page shows bumps `site_state.content_version`
(papertide.db.writes.bump_content_version); checking it is one primary-key read, far cheaper
than the feed queries and the template rendering it saves. So any number of web processes
serve current pages without talking to each other.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from papertide.web.offload import off_loop

MAX_ENTRIES = 1024
MAX_BODY = 2 * 1024 * 1024
CACHE_HEADER = (b"x-papertide-cache", b"hit")


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    start: Message
    body: bytes


class PageCache:
    """ASGI middleware: replays cached 200 responses to anonymous GETs of `cacheable` paths."""

    def __init__(
        self,
        app: ASGIApp,
        version: Callable[[], int],
        cacheable: Callable[[str], bool],
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.app = app
        self.version = version
        self.cacheable = cacheable
        self.max_entries = max_entries
        self.entries: OrderedDict[bytes, _Entry] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._eligible(scope):
            await self.app(scope, receive, send)
            return
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        version = await off_loop(self.version)  # a database read: not on the event loop
        entry = self.entries.get(key)
        if entry is not None and entry.version == version:
            self.entries.move_to_end(key)
            headers = [*entry.start["headers"], CACHE_HEADER]
            await send({**entry.start, "headers": headers})
            await send({"type": "http.response.body", "body": entry.body})
            return
        await self._render_and_store(scope, receive, send, key, version)

    def _eligible(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        # Pages for signed-in people will differ per person: never cache a request with cookies.
        if any(name == b"cookie" for name, _ in scope["headers"]):
            return False
        # A paper page asked for as Markdown (issue #13) is not the page the key names.
        if any(name == b"accept" and b"markdown" in value for name, value in scope["headers"]):
            return False
        return self.cacheable(scope["path"])

    async def _render_and_store(
        self, scope: Scope, receive: Receive, send: Send, key: bytes, version: int
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        storable = True

        async def capture(message: Message) -> None:
            nonlocal start, storable
            if message["type"] == "http.response.start":
                start = message
                storable = message["status"] == 200 and _shareable(message.get("headers", []))
            elif message["type"] == "http.response.body" and storable:
                chunks.append(message.get("body", b""))
                storable = sum(map(len, chunks)) <= MAX_BODY
                if not message.get("more_body", False) and storable and start is not None:
                    self._store(key, _Entry(version, start, b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key: bytes, entry: _Entry) -> None:
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


def _shareable(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a response may be replayed to others: never one that sets a cookie or says it is
    private (a page carrying a person's name or a CSRF token, issue #5)."""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"set-cookie":
            return False
        if lowered == b"cache-control" and (b"private" in value or b"no-store" in value):
            return False
    return True
