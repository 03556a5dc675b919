"""A small in-process rate limiter: at most N events per window for each key.

Used for sign-ups and log-ins (by client address) and votes (by account); comments,
submissions and subscriptions reuse it with their own `Rate`. Each web process counts on its
own, so with W worker processes a client may get up to W times the limit (docs/accounts.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from papertide.config import Rate


class RateLimiter:
    """Sliding-window counts per (bucket, key); thread-safe; remembers at most `max_keys`."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._events: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str, rate: Rate) -> float:
        """Count one event; 0.0 when it is allowed, else the seconds until one would be."""
        if rate.unlimited:
            return 0.0
        now = self.clock()
        with self._lock:
            events = self._events.get((bucket, key))
            if events is None:
                events = self._events[(bucket, key)] = deque()
                self._forget_oldest()
            else:
                self._events.move_to_end((bucket, key))
            while events and events[0] <= now - rate.window_s:
                events.popleft()
            if len(events) >= rate.count:
                return max(events[0] + rate.window_s - now, 0.001)
            events.append(now)
            return 0.0

    def _forget_oldest(self) -> None:
        # Least recently used keys go first: an address that stopped sending is forgotten
        # before one that is still sending.
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


def retry_after_header(wait_s: float) -> str:
    """The Retry-After value (whole seconds, rounded up, at least 1)."""
    return str(max(1, math.ceil(wait_s)))
