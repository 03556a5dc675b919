"""Static assets served from memory, under versioned URLs browsers may keep for a year.

The package's `web/static/` is small (~650 KB) and changes only with a release, so it is read
once at start-up. Templates link each asset as `/static/<path>?v=<hash>` (`static_url`): a URL
whose content never changes, cached by browsers and proxies for a year (`immutable`) and
revalidated never; a new release changes the hash and so the URL. Any other request for the
same file (no `v`, an old `v`: a font KaTeX's CSS names, a stale page) gets a day of caching
and an ETag, as before (issue #12).
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

IMMUTABLE = b"public, max-age=31536000, immutable"
A_DAY = b"public, max-age=86400"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: bytes
    digest: str  # the first 12 hex digits of its SHA-256: the `v` of its URL
    mtime_ns: int

    @property
    def etag(self) -> bytes:
        return f'"{self.digest}"'.encode()


def _read(path: Path) -> Asset:
    mtime_ns = path.stat().st_mtime_ns
    body = path.read_bytes()
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
        kind += "; charset=utf-8"
    return Asset(body, kind.encode(), hashlib.sha256(body).hexdigest()[:12], mtime_ns)


def _load(folder: Path) -> dict[str, Asset]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {path.relative_to(folder).as_posix(): _read(path) for path in files}


class StaticAssets:
    """An ASGI app for `/static`: every file of `folder`, read now (with `reload`, for
    development, read again when its modification time changes)."""

    def __init__(self, folder: Path, reload: bool = False) -> None:
        self.folder = folder
        self.reload = reload
        self.assets = _load(folder)

    def url(self, path: str) -> str:
        """The versioned URL of `path` (a file under the folder), for templates."""
        asset = self._asset(path)
        if asset is None:
            raise KeyError(f"no static file {path!r} under {self.folder}")
        return f"/static/{path}?v={asset.digest}"

    def _asset(self, path: str) -> Asset | None:
        asset = self.assets.get(path)
        if self.reload and asset is not None:
            # Development: an edited file is served (and linked) as it is now.
            file = self.folder / path
            try:
                if file.stat().st_mtime_ns != asset.mtime_ns:
                    asset = self.assets[path] = _read(file)
            except FileNotFoundError:
                return None
        return asset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asset = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            # Mounted at /static: the mount leaves the rest of the path in `path` after root_path.
            path = scope["path"][len(scope.get("root_path", "")) :].lstrip("/")
            asset = self._asset(path)
        if asset is None:
            body = b"Not Found"
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        version = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        caching = IMMUTABLE if version == asset.digest else A_DAY
        headers = [
            (b"content-type", asset.content_type),
            (b"cache-control", caching),
            (b"etag", asset.etag),
        ]
        if _matches(scope, asset.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(asset.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else asset.body
        await send({"type": "http.response.body", "body": body})


def _matches(scope: Scope, etag: bytes) -> bool:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            tags = {tag.strip().removeprefix(b"W/") for tag in value.split(b",")}
            return etag in tags or b"*" in tags
    return False
