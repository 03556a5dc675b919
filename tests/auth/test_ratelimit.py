"""The rate limiter shared through the database, and the rate setting's syntax."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from papertide.auth.ratelimit import SWEEP_EVERY_S, RateLimiter, retry_after_header
from papertide.config import Rate
from papertide.db import Database
from papertide.db.schema import rate_limit_hit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "count", "window"),
    [
        ("10/minute", 10, 60.0),
        ("5/hour", 5, 3600.0),
        ("100 / 10 minutes", 100, 600.0),
        ("1000/day", 1000, 86400.0),
        ("3/seconds", 3, 1.0),
        ("off", 0, 1.0),
    ],
)
def test_rates_parse(text: str, count: int, window: float) -> None:
    assert Rate.parse(text) == Rate(count, window)


@pytest.mark.parametrize("text", ["ten/minute", "10", "10/fortnight", "10/0minutes", ""])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"rate|window"):
        Rate.parse(text)


def test_limit_then_retry_after_then_allowed_again(db: Database) -> None:
    clock = Clock()
    limiter = RateLimiter(db, clock=clock)
    rate = Rate(3, 60.0)
    assert [limiter.hit("login", "10.0.0.1", rate) for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 10
    wait = limiter.hit("login", "10.0.0.1", rate)
    assert wait == pytest.approx(50.0)
    assert retry_after_header(wait) == "50"
    # Other keys and other buckets have their own counts.
    assert limiter.hit("login", "10.0.0.2", rate) == 0.0
    assert limiter.hit("signup", "10.0.0.1", rate) == 0.0
    clock.now += 50
    assert limiter.hit("login", "10.0.0.1", rate) == 0.0


def test_sliding_window_frees_one_slot_at_a_time(db: Database) -> None:
    clock = Clock()
    limiter = RateLimiter(db, clock=clock)
    rate = Rate(2, 10.0)
    limiter.hit("vote", "u1", rate)
    clock.now += 5
    limiter.hit("vote", "u1", rate)
    assert limiter.hit("vote", "u1", rate) == pytest.approx(5.0)
    clock.now += 5  # the first event left the window, the second has not
    assert limiter.hit("vote", "u1", rate) == 0.0
    assert limiter.hit("vote", "u1", rate) > 0


def test_unlimited_writes_nothing_and_old_events_are_deleted(db: Database) -> None:
    clock = Clock()
    limiter = RateLimiter(db, clock=clock)
    assert all(limiter.hit("vote", "u", Rate.parse("off")) == 0.0 for _ in range(100))
    assert _stored(db) == []
    one = Rate(1, 60.0)
    for key in ("a", "b", "c"):
        limiter.hit("login", key, one)
    assert limiter.hit("login", "a", one) > 0  # refused events are not stored
    assert _stored(db) == [("login", "a"), ("login", "b"), ("login", "c")]
    clock.now += SWEEP_EVERY_S + 1  # the next hit's sweep deletes every key's old events
    assert limiter.hit("login", "d", one) == 0.0
    assert _stored(db) == [("login", "d")]


def _stored(db: Database) -> list[tuple[str, str]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(rate_limit_hit.c.bucket, rate_limit_hit.c.key).order_by(rate_limit_hit.c.key)
        )
        return [(row.bucket, row.key) for row in rows]


def test_processes_on_one_database_share_the_limit(db: Database, database_url: str) -> None:
    # Four web processes' handles hitting one key at once allow the limit once between them,
    # not four times (issue #11).
    handles = [Database(database_url) for _ in range(4)]
    limiters = [RateLimiter(handle) for handle in handles]
    start = threading.Barrier(len(limiters))
    rate = Rate(10, 3600.0)

    def hits(limiter: RateLimiter) -> list[float]:
        start.wait()
        return [limiter.hit("vote", "user:1", rate) for _ in range(8)]

    try:
        with ThreadPoolExecutor(len(limiters)) as pool:
            waits = [wait for found in pool.map(hits, limiters) for wait in found]
    finally:
        for handle in handles:
            handle.dispose()
    assert len(waits) == 32
    assert waits.count(0.0) == 10
    assert all(3500 < wait <= 3600 for wait in waits if wait), waits


def test_retry_after_is_a_whole_second_at_least() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
