"""HTTP manners for what scripts and feed readers fetch: `/api/…` and `/feeds/…` (issue #13).

- **Conditional requests.** Each 200 answer gets a weak ETag (a hash of its body; weak because
  the same body may travel gzipped or not) and keeps the Last-Modified its route set; a
  request whose `If-None-Match` (or, without one, `If-Modified-Since`) still matches gets
  `304 Not Modified` and no body. A feed reader polling every few minutes then costs one cache
  lookup and a hash.
- **Cache-Control** for shared caches when the route said nothing (a route that says `no-store`,
  such as trending while it is recomputed, keeps it).
- **CORS** for the read-only API and the feeds: any origin may GET them (no credentials, so
  nobody's session rides along); a preflight is answered for GET and HEAD only.
- **gzip** for answers over 1 KiB when the client accepts it (a day's JSON shrinks ~5x),
  applied after the ETag is taken, so both encodings share one (weak) ETag. Like the ETag,
  the compressed body is remembered per cached body: compressing a day's JSON costs about a
  millisecond, paid once per content change instead of once per feed reader (issue #12).

Plain ASGI, outside the page cache, so cached answers get all of it too.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import re
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/api/", "/feeds/")
# The memo keeps its bodies alive (the page cache holds the hot ones anyway): at most 64 of
# at most 1 MiB each.
REMEMBERED_ETAGS, REMEMBERED_MAX_BODY = 64, 1024 * 1024
MAX_BODY = 8 * 1024 * 1024  # larger answers go through untouched (none are, today)
CACHE_CONTROL = {"/api/": b"public, max-age=60", "/feeds/": b"public, max-age=300"}
CORS = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"ETag, Last-Modified, Link"),
)
PREFLIGHT = (
    *CORS,
    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
    (b"access-control-allow-headers", b"Accept, If-None-Match, If-Modified-Since"),
    (b"access-control-max-age", b"86400"),
)


class HttpManners:
    """ASGI middleware: ETag / Last-Modified with 304, Cache-Control, CORS and gzip for GETs
    under PREFIXES (HEAD and other methods pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The page cache replays the same bytes object to every reader of a list: its ETag and
        # its gzipped form are remembered by identity rather than computed again (84 kB:
        # ~0.1 ms to hash, ~1 ms to compress).
        self.etags: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()
        self.zipped: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        method = scope.get("method")
        if (
            not path.startswith(PREFIXES)
            or method not in ("GET", "OPTIONS")
            or _header(scope, b"authorization")  # for one member: not for shared caches
        ):
            await self.app(scope, receive, send)
            return
        if method == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await send({"type": "http.response.start", "status": 204, "headers": list(PREFLIGHT)})
            await send({"type": "http.response.body", "body": b""})
            return
        await self._conditional(scope, receive, send)

    async def _conditional(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = next(p for p in PREFIXES if scope["path"].startswith(p))
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False  # not a 200, or too large: forwarded as it comes

        async def capture(message: Message) -> None:
            nonlocal start, size, passing
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *CORS]
                start = {**message, "headers": headers}
                passing = message["status"] != 200
                if passing:
                    await send(start)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            if passing:
                await send(message)
                return
            body = message.get("body", b"")
            chunks.append(body)
            size += len(body)
            if size > MAX_BODY:  # give up buffering: send what we have and stream the rest
                passing = True
                assert start is not None
                await send(start)
                await send({**message, "body": b"".join(chunks)})
                return
            if not message.get("more_body", False):
                assert start is not None
                await self._finish(scope, send, start, b"".join(chunks), prefix)

        await self.app(scope, receive, capture)

    async def _finish(
        self, scope: Scope, send: Send, start: Message, body: bytes, prefix: str
    ) -> None:
        headers = list(start["headers"])
        names = {name.lower() for name, _ in headers}
        etag = self._etag(body)
        headers.append((b"etag", etag))
        if b"cache-control" not in names:
            headers.append((b"cache-control", CACHE_CONTROL[prefix]))
        last_modified = next((v for n, v in headers if n.lower() == b"last-modified"), None)
        if _not_modified(scope, etag, last_modified):
            dropped = (b"content-length", b"content-type")
            kept = [(n, v) for n, v in headers if n.lower() not in dropped]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"vary", b"Accept-Encoding"))
        if len(body) >= GZIP_MIN and _accepts_gzip(scope) and _compressible(headers):
            body = self._gzip(body)
            headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
            headers += [
                (b"content-encoding", b"gzip"),
                (b"content-length", str(len(body)).encode()),
            ]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _gzip(self, body: bytes) -> bytes:
        remembered = self.zipped.get(id(body))
        if remembered is not None and remembered[0] is body:
            return remembered[1]
        # Level 6: most of level 9's gain for a third of its time; mtime 0: the same bytes
        # every time for the same body.
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        if len(body) <= REMEMBERED_MAX_BODY:
            self.zipped[id(body)] = (body, packed)
            while len(self.zipped) > REMEMBERED_ETAGS:
                self.zipped.popitem(last=False)
        return packed

    def _etag(self, body: bytes) -> bytes:
        remembered = self.etags.get(id(body))
        if remembered is not None and remembered[0] is body:
            return remembered[1]
        etag = b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        if len(body) > REMEMBERED_MAX_BODY:
            return etag
        self.etags[id(body)] = (body, etag)
        while len(self.etags) > REMEMBERED_ETAGS:
            self.etags.popitem(last=False)
        return etag


GZIP_MIN = 1024
_GZIP = re.compile(rb"(?:^|,)\s*(?:gzip|\*)\s*(?:;\s*q=(?!0(?:\.0*)?\s*(?:,|$))[\d.]+)?\s*(?:,|$)")
COMPRESSIBLE = (b"application/json", b"application/rss+xml", b"application/atom+xml", b"text/")


def _accepts_gzip(scope: Scope) -> bool:
    accept = _header(scope, b"accept-encoding")
    return accept is not None and _GZIP.search(accept.lower()) is not None


def _compressible(headers: list[tuple[bytes, bytes]]) -> bool:
    kind = next((v for n, v in headers if n.lower() == b"content-type"), b"")
    encoded = any(n.lower() == b"content-encoding" for n, _ in headers)
    return not encoded and kind.lower().startswith(COMPRESSIBLE)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


def _not_modified(scope: Scope, etag: bytes, last_modified: bytes | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = _header(scope, b"if-none-match")
    if if_none_match is not None:
        wanted = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
        return b"*" in wanted or etag.removeprefix(b"W/") in wanted
    if_modified_since = _header(scope, b"if-modified-since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since.decode("latin-1"))
        modified = email.utils.parsedate_to_datetime(last_modified.decode("latin-1"))
        return modified <= since
    except (TypeError, ValueError):
        return False  # a date that does not parse is ignored, as RFC 9110 says
