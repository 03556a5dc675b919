"""Rate limits: at most N events per sliding window for each key, shared by every process.

Used for sign-ups and log-ins (by client address) and votes (by account); comments,
submissions and subscriptions reuse it with their own `Rate`. The counts live in the
database (papertide.db.ratelimit), so W web processes on one or many hosts allow the limit
once between them, not W times (issue #11, docs/accounts.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from papertide.config import Rate
from papertide.db import ratelimit as rate_rows
from papertide.db.engine import Database

SWEEP_EVERY_S = 300.0  # how often a limiter deletes every key's expired events


class RateLimiter:
    """Sliding-window counts per (bucket, key), kept in the database; thread-safe.

    `clock` gives seconds since the epoch: every process must read the same time, so not a
    monotonic clock, which each process counts from its own start.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._next_sweep = 0.0
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str, rate: Rate) -> float:
        """Count one event; 0.0 when it is allowed, else the seconds until one would be."""
        if rate.unlimited:
            return 0.0
        now = self.clock()
        with self.db.write() as conn:
            wait = rate_rows.hit(conn, bucket, key, rate.count, rate.window_s, now)
        self._maybe_sweep(now)
        return wait

    def _maybe_sweep(self, now: float) -> None:
        # Each hit forgets its own key's old events; keys that stopped coming are deleted
        # here, by whichever process's turn it is, every few minutes.
        with self._lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + SWEEP_EVERY_S
        with self.db.write() as conn:
            rate_rows.sweep(conn, now)


def retry_after_header(wait_s: float) -> str:
    """The Retry-After value (whole seconds, rounded up, at least 1)."""
    return str(max(1, math.ceil(wait_s)))
