"""The in-process rate limiter and the rate setting's syntax."""

from __future__ import annotations

import pytest

from papertide.auth.ratelimit import RateLimiter, retry_after_header
from papertide.config import Rate


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


def test_limit_then_retry_after_then_allowed_again() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
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


def test_sliding_window_frees_one_slot_at_a_time() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    rate = Rate(2, 10.0)
    limiter.hit("vote", "u1", rate)
    clock.now += 5
    limiter.hit("vote", "u1", rate)
    assert limiter.hit("vote", "u1", rate) == pytest.approx(5.0)
    clock.now += 5  # the first event left the window, the second has not
    assert limiter.hit("vote", "u1", rate) == 0.0
    assert limiter.hit("vote", "u1", rate) > 0


def test_unlimited_and_memory_bound() -> None:
    limiter = RateLimiter(clock=Clock(), max_keys=3)
    assert all(limiter.hit("vote", "u", Rate.parse("off")) == 0.0 for _ in range(1000))
    one = Rate(1, 60.0)
    for key in ("a", "b", "c", "d"):
        limiter.hit("login", key, one)
    assert limiter.hit("login", "a", one) == 0.0  # "a" was forgotten to keep three keys
    assert limiter.hit("login", "d", one) > 0


def test_retry_after_is_a_whole_second_at_least() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
