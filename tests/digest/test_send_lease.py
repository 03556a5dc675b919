"""A sender held past its claims' lease never sends what another sender took over (issue #10).

Each scenario runs a first sender with one thread over one batch, holds it at a chosen point
while its clock (the ledger's time) says the batch's lease ran out, runs a second sender to the
end meanwhile, then lets the first one go on. Time is a fake clock moved only by the scenario
(a slow reply, the rate cap's waits, a pause), and the hold is an event: nothing races a sleep.
The SMTP server is the real in-process one. Every recipient must receive exactly one message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.digest.smtp_server import Received, SmtpServer
from tests.digest.test_send import NOW, add_edition, address, ledger, settings_for

from papertide.config import Settings
from papertide.db import Database
from papertide.db import deliveries as ledger_db
from papertide.digest.mailer import make_mailer
from papertide.digest.send import (
    Links,
    RateLimiter,
    SendOptions,
    SendReport,
    default_renderer,
    send_edition,
)

HOLD_S = 30.0  # an upper bound on any hold: a broken scenario fails instead of hanging


class FakeClock:
    """The senders' time: moved by the scenario only, never by the wall clock."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        return NOW + dt.timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.elapsed += seconds


def one_thread(settings: Settings, batch: int) -> SendOptions:
    """One thread, and no waiting for claims the other sender holds."""
    return SendOptions.from_settings(
        settings.model_copy(update={"digest_send_threads": 1, "digest_batch_size": batch}),
        max_wait_s=0.0,
    )


class Takeover:
    """The first sender in a thread, held at `hold()` until the second has run."""

    def __init__(self) -> None:
        self.first_held = threading.Event()
        self.second_done = threading.Event()
        self.first: SendReport | None = None
        self.error: BaseException | None = None

    def hold(self) -> None:
        """Called in the first sender: let the second one run, wait until it has."""
        self.first_held.set()
        assert self.second_done.wait(HOLD_S), "the second sender never finished"

    def start(self, send: Callable[[], SendReport]) -> threading.Thread:
        def run() -> None:
            try:
                self.first = send()
            except BaseException as exc:  # reported by finish()
                self.error = exc
                self.first_held.set()

        thread = threading.Thread(target=run)
        thread.start()
        assert self.first_held.wait(HOLD_S), "the first sender never reached the hold"
        assert self.error is None, self.error
        return thread

    def finish(self, thread: threading.Thread) -> SendReport:
        self.second_done.set()
        thread.join(HOLD_S)
        assert not thread.is_alive() and self.error is None, self.error
        assert self.first is not None
        return self.first


def sender(
    name: str, db: Database, edition_id: int, settings: Settings, batch: int, **more: Any
) -> Callable[[], SendReport]:
    """A sender with one thread and a batch of `batch` (the fake clock, limiter or renderer
    in `more`)."""

    def send() -> SendReport:
        mailer = make_mailer(settings)
        options = one_thread(settings, batch)
        return send_edition(db, edition_id, mailer, settings, name, options=options, **more)

    return send


def test_slow_data_replies_hold_a_sender_past_its_batch_lease_without_a_second_send(
    db: Database, tmp_path: Path
) -> None:
    """Each of the first sender's DATA replies takes 90 % of the SMTP timeout (the slowest
    that still succeeds): by the 12th, the batch's later claims are past the lease, and a
    second sender arriving then takes them over while the 12th reply is still awaited."""
    subscribers, held_at = 20, 12
    edition_id = add_edition(db, ["confirmed"] * subscribers)
    clock, takeover = FakeClock(), Takeover()
    first_replies: list[str] = []

    async def slow_reply(received: Received) -> None:
        if takeover.first_held.is_set():
            return  # the second sender's replies, while the first waits for its 12th
        first_replies.append(received.recipient)
        clock.advance(0.9 * settings.smtp_timeout_s)
        if len(first_replies) == held_at:
            await asyncio.to_thread(takeover.hold)

    with SmtpServer() as server:
        server.handler.before_reply = slow_reply
        settings = settings_for(tmp_path, server, digest_claim_lease_s=100.0)  # the shortest
        assert settings.send_worst_case_s == 9 * 10.0 + 10.0  # SMTP steps, record
        assert held_at * 0.9 * settings.smtp_timeout_s > settings.claim_lease_s
        thread = takeover.start(sender("first", db, edition_id, settings, subscribers, clock=clock))
        second = sender("second", db, edition_id, settings, 50, clock=clock)()
        first = takeover.finish(thread)
        received = server.handler.by_recipient()

    assert received == {address(n): 1 for n in range(subscribers)}
    assert (first.sent, first.taken_over, first.finished) == (held_at, subscribers - held_at, True)
    # The 12th, renewed before it was sent, was still the first sender's: not taken over.
    assert (second.sent, second.taken_over, second.finished) == (subscribers - held_at, 0, False)
    assert set(ledger(db, edition_id).values()) == {"sent"}


def test_a_rate_cap_that_outlasts_the_lease_sends_each_message_once(
    db: Database, tmp_path: Path
) -> None:
    """One message every 10 s (of the fake clock): a batch of 10 outlasts a lease of 30 s, and
    a second sender arriving at the 5th wait takes over the rest."""
    subscribers, held_at = 10, 5
    edition_id = add_edition(db, ["confirmed"] * subscribers)
    clock, takeover = FakeClock(), Takeover()
    waits: list[float] = []

    def pause(stop: threading.Event, seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)
        if len(waits) == held_at:
            takeover.hold()

    with SmtpServer() as server:
        rate: dict[str, Any] = {"digest_max_per_second": 0.1, "digest_send_threads": 1}
        settings = settings_for(
            tmp_path, server, **rate, smtp_timeout_s=1.0, digest_claim_lease_s=30.0
        )
        assert settings.send_worst_case_s == 9 * 1.0 + 10.0 + 10.0  # SMTP, rate, record
        limiter = RateLimiter(0.1, clock=clock.monotonic, pause=pause)
        thread = takeover.start(
            sender("first", db, edition_id, settings, subscribers, clock=clock, limiter=limiter)
        )
        unlimited = settings.model_copy(update={"digest_max_per_second": 0})
        second = sender("second", db, edition_id, unlimited, 50, clock=clock)()
        first = takeover.finish(thread)
        received = server.handler.by_recipient()

    assert waits == [10.0] * (subscribers - 1)  # the first message goes at once
    assert received == {address(n): 1 for n in range(subscribers)}
    assert (first.sent, first.taken_over) == (held_at, subscribers - held_at)
    assert (second.sent, second.finished) == (subscribers - held_at, True)


def test_a_second_sender_after_the_lease_takes_over_the_rest_of_a_paused_batch(
    db: Database, tmp_path: Path
) -> None:
    """The first sender stops between two messages (a pause of the process: swapped out, a
    debugger, a stalled disk) until its claims have expired; a second sender takes them over.
    When the first goes on, it finds every later claim gone and sends none of them."""
    subscribers, held_at = 12, 4
    edition_id = add_edition(db, ["confirmed"] * subscribers)
    clock, takeover = FakeClock(), Takeover()

    with SmtpServer() as server:
        settings = settings_for(tmp_path, server)
        render = default_renderer(db, settings, edition_id)
        rendered: list[int] = []

        def pausing_renderer(
            item: ledger_db.Claimed, recipient: ledger_db.Recipient, links: Links
        ) -> tuple[str, str]:
            rendered.append(item.id)
            if len(rendered) == held_at:
                clock.advance(settings.claim_lease_s + 1)
                takeover.hold()
            return render(item, recipient, links)

        more = {"clock": clock, "renderer": pausing_renderer}
        thread = takeover.start(sender("first", db, edition_id, settings, subscribers, **more))
        second = sender("second", db, edition_id, settings, 50, clock=clock)()
        first = takeover.finish(thread)
        received = server.handler.by_recipient()

    assert received == {address(n): 1 for n in range(subscribers)}
    assert (first.sent, first.taken_over) == (held_at - 1, subscribers - held_at + 1)
    assert (second.sent, second.finished) == (subscribers - held_at + 1, True)
    assert "taken over by another sender" in first.summary()
    assert set(ledger(db, edition_id).values()) == {"sent"}


def test_a_dns_stall_never_reaches_the_sender(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """socket.getfqdn stalls as it did on a machine without network (5 s there, longer than
    the test's lease then): neither the sender nor the test server may ever call it."""
    calls: list[tuple[object, ...]] = []
    never = threading.Event()

    def stalled_lookup(*args: object) -> str:
        calls.append(args)
        never.wait(5)
        return "stalled.invalid"

    monkeypatch.setattr(socket, "getfqdn", stalled_lookup)
    subscribers = 60
    edition_id = add_edition(db, ["confirmed"] * subscribers)
    with SmtpServer() as server:
        settings = settings_for(tmp_path, server)
        report = send_edition(db, edition_id, make_mailer(settings), settings, "t")
        handler = server.handler

    assert calls == []
    assert handler.by_recipient() == {address(n): 1 for n in range(subscribers)}
    assert {r.client_name for r in handler.received} == {"papers.example.org"}  # From's domain
    assert report.sent == subscribers
