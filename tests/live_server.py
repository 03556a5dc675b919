"""The real app on a free localhost port, served by uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI


@contextmanager
def serve(app: FastAPI, start_timeout_s: float = 20.0, logs: bool = False) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL. With `logs`, uvicorn's own and
    access logs go to the root logger at DEBUG (for tests that read them)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options: dict[str, Any] = (
        {"log_config": None, "log_level": "debug"} if logs else {"log_level": "warning"}
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
