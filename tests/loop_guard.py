"""A runtime check that the event loop only waits on sockets (issue #10, STYLE.md habit 13).

While installed, SQL, a blocking wait for another thread's result (such as a query embedding
behind its 1 s timeout), an embedding or a blocking HTTP request made on a thread that is
running an asyncio event loop raises BlockedLoop and is recorded. tests/conftest.py installs
one for every test, and fails the test that caused a violation even when the app swallowed
the exception. It checks behaviour, not source: a helper called from an `async def` is caught
as surely as the handler itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa

from papertide.search import embedder


class BlockedLoop(AssertionError):
    """Blocking work ran on the event loop."""


class LoopGuard:
    """Records (and raises on) blocking calls made on an event loop's thread."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def check(self, what: str) -> None:
        """Raise BlockedLoop when the calling thread runs an event loop.

        The test's own (main) thread is left alone: Playwright's sync API runs a loop there
        while the test drives the browser. The apps under test never run theirs on it:
        TestClient and tests/live_server.py give them threads of their own.
        """
        if threading.current_thread() is threading.main_thread():
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread, the test's own thread: blocking is fine here
        stack = "".join(traceback.format_stack(limit=12)[:-1])
        self.violations.append(f"{what} on the event loop\n{stack}")
        raise BlockedLoop(
            f"{what} on the event loop: make the caller a plain `def` or use off_loop"
        )

    def _before_cursor_execute(self, *args: Any) -> None:
        statement = str(args[2])
        self.check(f"SQL ({' '.join(statement.split())[:120]})")

    @contextmanager
    def installed(self) -> Iterator[LoopGuard]:
        """Watch SQLAlchemy engines, thread futures, embedders and httpx while inside."""
        sa.event.listen(sa.Engine, "before_cursor_execute", self._before_cursor_execute)
        patched: list[tuple[Any, str, Any]] = []

        def wrap(owner: Any, name: str, what: str, when: Callable[..., bool]) -> None:
            original = getattr(owner, name)

            def guarded(*args: Any, **kwargs: Any) -> Any:
                if when(*args, **kwargs):
                    self.check(what)
                return original(*args, **kwargs)

            patched.append((owner, name, original))
            setattr(owner, name, guarded)

        def always(*_args: Any, **_kwargs: Any) -> bool:
            return True

        def not_done(future: concurrent.futures.Future[Any], *_args: Any, **_kw: Any) -> bool:
            return not future.done()

        wrap(concurrent.futures.Future, "result", "a wait for a thread's result", not_done)
        wrap(embedder.OnnxMiniLM, "embed", "an embedding", always)
        wrap(embedder.SentenceTransformerEmbedder, "embed", "an embedding", always)
        wrap(httpx.Client, "send", "a blocking HTTP request", always)
        try:
            yield self
        finally:
            sa.event.remove(sa.Engine, "before_cursor_execute", self._before_cursor_execute)
            for owner, name, original in reversed(patched):
                setattr(owner, name, original)
