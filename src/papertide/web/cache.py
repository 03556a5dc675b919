"""A per-process cache of rendered public pages, invalidated by the database's content version.

Every write that changes what a page shows bumps `site_state.content_version`
(papertide.db.writes.bump_content_version). The version is re-read only when the database's
change probe (db/changes.py) says something was committed since the last look, so a cache
hit costs microseconds, and any number of web processes serve current pages without talking
to each other. Signed-in members get list pages from the cache too (web/splice.py).
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from papertide.db.changes import ChangeProbe
from papertide.web import splice
from papertide.web.auth import SKELETON_SCOPE_KEY
from papertide.web.offload import off_loop

MAX_ENTRIES = 1024
MAX_MEMBERS = 4096
MAX_BODY = 2 * 1024 * 1024
HIT = (b"x-papertide-cache", b"hit")
MEMBER_HIT = (b"x-papertide-cache", b"member")
# A member's session and votes are re-read when anything was committed, and at least this
# often (a session may expire while nothing is written).
MEMBER_MAX_AGE_S = 30.0


# Re-read the version at least this often even when the probe saw nothing: a notification
# can be lost where LISTEN is not supported (a pooler in transaction mode), and this bounds how
# long a page can be stale then (docs/deploy.md).
MAX_TRUST_S = 5.0


class VersionWatch:
    """The content version, re-read only when the change probe says something was committed
    (and at least every MAX_TRUST_S)."""

    def __init__(self, read: Callable[[], int], probe: ChangeProbe) -> None:
        self.read = read
        self.probe = probe
        self.generation: int | None = None
        self.version = 0
        self.read_at = 0.0

    async def current(self) -> tuple[int, int | None]:
        """(content version, probe generation it was read under; None: unknown)."""
        generation = self.probe.generation()
        if (
            generation is not None
            and generation == self.generation
            and time.monotonic() - self.read_at < MAX_TRUST_S
        ):
            return self.version, generation
        return await off_loop(self._refresh, generation)

    def _refresh(self, generation: int | None) -> tuple[int, int | None]:
        if generation is None:
            with contextlib.suppress(Exception):  # the probe only saves reads: read anyway
                self.probe.reconnect()
        # The generation was taken before the read: a commit in between moves it again, so
        # the next request reads once more rather than trusting a stale version.
        read_at = time.monotonic()
        version = self.read()
        if generation is not None:
            self.generation, self.version, self.read_at = generation, version, read_at
        return version, generation


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    start: Message
    body: bytes


@dataclass(frozen=True, slots=True)
class _Skeleton:
    version: int
    start: Message
    parts: list[splice.Part]


@dataclass(frozen=True, slots=True)
class _Known:
    member: splice.Member | None  # None: the cookie names no valid session
    generation: int
    read_at: float


@dataclass(frozen=True, slots=True)
class Members:
    """How the cache serves signed-in members (web/splice.py)."""

    cookie: str  # the session cookie's name
    pages: Callable[[str], bool]  # which paths are list pages worth a skeleton
    load: Callable[[str], splice.Member | None]  # blocking: the member of a session token


class PageCache:
    """ASGI middleware: replays cached 200 responses to GETs of `cacheable` paths.

    Anonymous visitors get the stored bytes. Members get the page rendered once for every
    member, finished with their own bits (web/splice.py), on the paths `members.pages` allows;
    their other pages are rendered for them alone, as before.
    """

    def __init__(
        self,
        app: ASGIApp,
        watch: VersionWatch,
        cacheable: Callable[[str], bool],
        members: Members | None = None,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.app = app
        self.watch = watch
        self.cacheable = cacheable
        self.members = members
        self.max_entries = max_entries
        self.entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self.skeletons: OrderedDict[bytes, _Skeleton] = OrderedDict()
        self.known: OrderedDict[str, _Known] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not self.cacheable(path) or not _same_for_everyone(scope):
            await self.app(scope, receive, send)
            return
        token = self._session_token(scope, path)
        if token is None:
            await self._anonymous(scope, receive, send)
        elif self.members is not None and self.members.pages(path):
            await self._member(scope, receive, send, token)
        else:
            await self.app(scope, receive, send)  # a page for this person alone

    def _session_token(self, scope: Scope, path: str) -> str | None:
        """The session cookie of a request whose answer may depend on who asks, else None.
        The JSON API and the feeds are the same for everyone, cookies or not."""
        if path.startswith(("/api/", "/feeds/")):
            return None
        cookie = next((value for name, value in scope["headers"] if name == b"cookie"), None)
        if cookie is None:
            return None
        if self.members is None:
            return ""  # cannot tell what matters: treat any cookie as a person
        return cookie_parser(cookie.decode("latin-1")).get(self.members.cookie)

    async def _anonymous(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        version, _ = await self.watch.current()
        entry = self.entries.get(key)
        if entry is not None and entry.version == version:
            self.entries.move_to_end(key)
            await send({**entry.start, "headers": [*entry.start["headers"], HIT]})
            await send({"type": "http.response.body", "body": entry.body})
            return
        await self._render_and_store(scope, receive, send, key, version)

    async def _member(self, scope: Scope, receive: Receive, send: Send, token: str) -> None:
        version, generation = await self.watch.current()
        member = await self._member_of(token, generation)
        if member is None:
            await self.app(scope, receive, send)  # expired or unknown: the app says so
            return
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        skeleton = self.skeletons.get(key)
        hit = skeleton is not None and skeleton.version == version
        if skeleton is None or skeleton.version != version:
            skeleton = await self._render_skeleton(scope, receive, key, version)
            if skeleton is None:
                await self.app(scope, receive, send)  # not a plain 200: render it for them
                return
        self.skeletons.move_to_end(key)
        body = splice.fill(skeleton.parts, member)
        headers = [
            (name, value)
            for name, value in skeleton.start["headers"]
            if name.lower() not in (b"content-length", b"etag")
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        if hit:
            headers.append(MEMBER_HIT)
        await send({**skeleton.start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _member_of(self, token: str, generation: int | None) -> splice.Member | None:
        assert self.members is not None
        known = self.known.get(token)
        now = time.monotonic()
        if (
            known is not None
            and generation is not None
            and known.generation == generation
            and now - known.read_at < MEMBER_MAX_AGE_S
        ):
            self.known.move_to_end(token)
            return known.member
        member = await off_loop(self.members.load, token)
        if generation is not None:
            self.known[token] = _Known(member, generation, now)
            self.known.move_to_end(token)
            while len(self.known) > MAX_MEMBERS:
                self.known.popitem(last=False)
        return member

    async def _render_skeleton(
        self, scope: Scope, receive: Receive, key: bytes, version: int
    ) -> _Skeleton | None:
        """Render the page for "any member"; None when it is not a storable 200."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app({**scope, SKELETON_SCOPE_KEY: True}, receive, capture)
        body = b"".join(chunks)
        if start is None or start["status"] != 200 or len(body) > MAX_BODY:
            return None
        if any(name.lower() == b"set-cookie" for name, _ in start.get("headers", [])):
            return None
        skeleton = _Skeleton(version, start, splice.parse(body))
        self.skeletons[key] = skeleton
        while len(self.skeletons) > self.max_entries:
            self.skeletons.popitem(last=False)
        return skeleton

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


def _same_for_everyone(scope: Scope) -> bool:
    """Whether the answer may be the one the cache keeps under this path and query: not for a
    request with an API token (/api/whoami answers its owner alone), nor a paper page asked
    for as Markdown (issue #13)."""
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"accept" and b"markdown" in value):
            return False
    return True


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
