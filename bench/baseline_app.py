"""The load test's baseline: a FastAPI app that returns one constant HTML page.

Served by uvicorn with the same settings as `papertide serve`, it shows what the server and
the framework cost on this machine when the page itself costs nothing. Its size comes from
`BASELINE_BYTES`, so the bytes on the wire match the page it is compared with.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def create() -> FastAPI:
    """Uvicorn factory (`--factory baseline_app:create`)."""
    size = int(os.environ.get("BASELINE_BYTES", "20000"))
    head = "<!doctype html><html><head><title>baseline</title></head><body><p>"
    tail = "</p></body></html>"
    body = (head + "x" * max(0, size - len(head) - len(tail)) + tail).encode()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    async def constant() -> HTMLResponse:
        return HTMLResponse(body)

    return app
