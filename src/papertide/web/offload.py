"""The one way an `async def` in web/ runs blocking work (issue #10, STYLE.md habit 13).

The event loop only waits on sockets: a database query, a query embedding or a call to
another service on it stalls every request of the process. Route handlers that do such work
are plain `def` (FastAPI runs them in its thread pool); the few `async def` that must await
something first (a dependency reading the form body, the page-cache middleware) hand their
blocking part to `off_loop`. The test suite fails any test that runs SQL, embeds or makes an
HTTP request on the loop (tests/loop_guard.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` in the thread pool and wait for it without blocking the loop."""
    return await run_in_threadpool(function, *args, **kwargs)
