"""Sending editions to a real SMTP server (aiosmtpd): ledger, retries, suppression, crashes."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.backends import this_tests_database
from tests.digest.smtp_server import Faults, SmtpServer

from papertide.config import Settings, settings_environment
from papertide.db import Database
from papertide.db.migrate import upgrade
from papertide.db.schema import delivery, edition, subscriber
from papertide.digest import links
from papertide.digest.mailer import SmtpMailer, SmtpOptions
from papertide.digest.send import SendOptions, send_edition

NOW = dt.datetime(2026, 11, 27, 7, 0)
PAPERS = ["2411.00001", "2411.00002"]


def address(number: int) -> str:
    return f"reader{number:05d}@example.org"


def add_edition(db: Database, statuses: list[str], period: str = "2026-11-27") -> int:
    """An edition with one delivery for each new subscriber of the given statuses."""
    with db.write() as conn:
        first = conn.execute(sa.select(sa.func.count()).select_from(subscriber)).scalar_one()
        rows = [
            {
                "email": address(first + i),
                "email_key": address(first + i),
                "topics": {},
                "status": status,
                "token_salt": f"salt{first + i}",
                "created_at": NOW,
            }
            for i, status in enumerate(statuses)
        ]
        conn.execute(subscriber.insert(), rows)
        ids = conn.execute(
            sa.select(subscriber.c.id).where(subscriber.c.id > first).order_by(subscriber.c.id)
        ).scalars()
        edition_id = conn.execute(
            edition.insert().values(kind="daily", period=period, papers=PAPERS, built_at=NOW)
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            delivery.insert(),
            [{"edition_id": edition_id, "subscriber_id": i, "papers": PAPERS} for i in ids],
        )
    return int(edition_id)


def ledger(db: Database, edition_id: int) -> dict[str, str]:
    """Each subscriber's email and their delivery's status."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(subscriber.c.email, delivery.c.status)
            .join(delivery, delivery.c.subscriber_id == subscriber.c.id)
            .where(delivery.c.edition_id == edition_id)
        )
        return {row.email: row.status for row in rows}


def settings_for(tmp_path: Path, server: SmtpServer, **changes: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "load_demo": False,
        "public_url": "https://papers.example.org",
        "mail_from": "Papertide <digest@papers.example.org>",
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "digest_send_threads": 3,
        "digest_batch_size": 10,
        "digest_max_per_second": 0,
        "digest_retry_base_s": 0.01,
        # The claim lease is then the default, 300 s: a second sender takes nothing over.
        "smtp_timeout_s": 10.0,
    }
    return Settings(**(values | changes))  # type: ignore[arg-type]


def sender_command(
    tmp_path: Path, server: SmtpServer, subscribers: int, per_second: float
) -> tuple[Database, int, dict[str, str], list[str]]:
    """A database file with an edition for `subscribers` confirmed ones, and the environment
    and command line of `papertide digest send` for it, as another process runs it."""
    url = this_tests_database(f"sqlite:///{tmp_path / 'papertide.db'}")
    db = Database(url)
    upgrade(db)
    edition_id = add_edition(db, ["confirmed"] * subscribers)
    # A lease as short as the settings allow, so that a killed sender's claims come back soon:
    # SMTP steps of at most 1 s (a local server answers in milliseconds).
    fast = {"database_url": url, "digest_max_per_second": per_second, "smtp_timeout_s": 1.0}
    lease = settings_for(tmp_path, server, **fast).send_worst_case_s
    settings = settings_for(tmp_path, server, **fast, digest_claim_lease_s=lease)
    environment = {**os.environ, **settings_environment(settings), "COLUMNS": "200"}
    command = [sys.executable, "-m", "papertide", "digest", "send", "--edition", str(edition_id)]
    return db, edition_id, environment, command


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


def mailer(server: SmtpServer) -> SmtpMailer:
    """As settings_for's settings make it."""
    return SmtpMailer(SmtpOptions("127.0.0.1", server.port, timeout_s=10))


def test_every_confirmed_subscriber_gets_one_message_with_list_headers(
    db: Database, tmp_path: Path, server: SmtpServer
) -> None:
    edition_id = add_edition(db, ["confirmed"] * 40)
    settings = settings_for(tmp_path, server)
    report = send_edition(db, edition_id, mailer(server), settings, "test")

    assert (report.sent, report.finished) == (40, True)
    assert server.handler.by_recipient() == {address(i): 1 for i in range(40)}
    assert set(ledger(db, edition_id).values()) == {"sent"}
    received = {r.recipient: r for r in server.handler.received}
    with db.read() as conn:
        row = conn.execute(
            sa.select(subscriber, delivery.c.message_id, delivery.c.sent_at)
            .join(delivery, delivery.c.subscriber_id == subscriber.c.id)
            .where(subscriber.c.email == address(7))
        ).one()
        assert conn.execute(sa.select(edition.c.status)).scalar_one() == "done"
    data = received[address(7)].data
    token = links.subscriber_token(settings.secret_key, row.id, row.token_salt)
    assert f"List-Unsubscribe: <https://papers.example.org/unsubscribe/{token}>".encode() in data
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in data
    assert b"List-Id: Papertide daily digest <daily.digest.papers.example.org>" in data
    assert (
        row.message_id
        == received[address(7)].message_id
        == f"<digest.{edition_id}.{row.id}@papers.example.org>"
    )
    assert row.sent_at is not None


def test_a_resend_carries_the_same_message_id(
    db: Database, tmp_path: Path, server: SmtpServer
) -> None:
    edition_id = add_edition(db, ["confirmed"] * 3)
    settings = settings_for(tmp_path, server)
    send_edition(db, edition_id, mailer(server), settings, "first")
    with db.write() as conn:  # as if the sender had crashed before recording the sends
        conn.execute(delivery.update().values(status="pending", message_id=None))
    send_edition(db, edition_id, mailer(server), settings, "second")
    counts = server.handler.by_message_id()
    assert len(counts) == 3 and set(counts.values()) == {2}


def test_nobody_unsubscribed_paused_suppressed_or_unconfirmed_is_mailed(
    db: Database, tmp_path: Path, server: SmtpServer
) -> None:
    statuses = ["confirmed", "pending", "paused", "unsubscribed", "suppressed", "confirmed"]
    edition_id = add_edition(db, ["confirmed"] * len(statuses))
    # The statuses change after the edition was built: the sender must see the new ones.
    with db.write() as conn:
        for number, status in enumerate(statuses):
            conn.execute(
                subscriber.update()
                .where(subscriber.c.email == address(number))
                .values(status=status)
            )
    report = send_edition(db, edition_id, mailer(server), settings_for(tmp_path, server), "t")

    assert set(server.handler.by_recipient()) == {address(0), address(5)}
    assert ledger(db, edition_id) == {
        address(0): "sent",
        address(1): "skipped",
        address(2): "skipped",
        address(3): "suppressed",
        address(4): "suppressed",
        address(5): "sent",
    }
    assert (report.sent, report.skipped, report.suppressed, report.finished) == (2, 2, 2, True)


def test_temporary_failures_are_retried_and_permanent_ones_suppressed(
    db: Database, tmp_path: Path
) -> None:
    refused = {address(n) for n in (3, 50, 111, 222, 299)}
    faults = Faults(refuse=frozenset(refused), temporary_rate=0.2, seed=20261127)
    edition_id = add_edition(db, ["confirmed"] * 300)
    with SmtpServer(faults) as server:
        settings = settings_for(tmp_path, server, digest_max_attempts=30)
        report = send_edition(db, edition_id, mailer(server), settings, "faulty")
        handler = server.handler

    everyone = {address(n) for n in range(300)}
    assert report.finished
    assert handler.by_recipient() == dict.fromkeys(everyone - refused, 1)
    assert sum(handler.deferred.values()) > 30  # the faults did happen
    assert report.retried == sum(handler.deferred.values())
    assert handler.refused == dict.fromkeys(refused, 1)  # never retried
    statuses = ledger(db, edition_id)
    assert {a for a, s in statuses.items() if s == "suppressed"} == refused
    with db.read() as conn:
        suppressed = conn.execute(
            sa.select(subscriber.c.email, subscriber.c.suppressed_reason).where(
                subscriber.c.status == "suppressed"
            )
        ).all()
    assert {row.email for row in suppressed} == refused
    assert all("550" in (row.suppressed_reason or "") for row in suppressed)


def test_a_delivery_fails_after_the_last_attempt(db: Database, tmp_path: Path) -> None:
    edition_id = add_edition(db, ["confirmed"] * 2)
    with SmtpServer(Faults(temporary_rate=1.0)) as server:
        settings = settings_for(tmp_path, server, digest_max_attempts=3)
        report = send_edition(db, edition_id, mailer(server), settings, "t")
        assert server.handler.deferred == {address(0): 3, address(1): 3}
    assert (report.failed, report.retried, report.finished) == (2, 4, True)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(delivery.c.status, delivery.c.attempts, delivery.c.last_error)
        )
        assert {(r.status, r.attempts) for r in rows} == {("failed", 3)}


def test_the_backoff_doubles_and_is_capped() -> None:
    options = SendOptions.from_settings(Settings(digest_retry_base_s=60))
    assert [options.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert options.backoff(30) == dt.timedelta(hours=6)


def test_two_senders_at_once_send_each_message_once(tmp_path: Path, server: SmtpServer) -> None:
    url = this_tests_database(f"sqlite:///{tmp_path / 'papertide.db'}")
    setup = Database(url)
    upgrade(setup)
    edition_id = add_edition(setup, ["confirmed"] * 600)
    settings = settings_for(tmp_path, server)
    start = threading.Barrier(2)
    reports = []

    def sender(name: str) -> None:
        own = Database(url)  # its own engine and connections, as another process would have
        start.wait()
        reports.append(send_edition(own, edition_id, mailer(server), settings, name))
        own.dispose()

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert server.handler.by_recipient() == {address(n): 1 for n in range(600)}
    assert sorted(r.sent for r in reports) != [0, 600]  # both took part
    assert sum(r.sent for r in reports) == 600
    setup.dispose()


def test_crash_and_resume_reaches_everyone_with_duplicates_only_in_flight(
    tmp_path: Path, server: SmtpServer
) -> None:
    """The sender, as a subprocess, is SIGKILLed at 5 random points and started again until
    the edition is done: everyone gets it; duplicates <= the claims in flight at the kills."""
    subscribers = 2000
    db, edition_id, environment, command = sender_command(tmp_path, server, subscribers, 600)
    rng = random.Random(5)
    in_flight_at_kills: list[int] = []
    runs = 0
    while True:
        runs += 1
        assert runs < 20, "the edition never finished"
        process = subprocess.Popen(command, env=environment, stderr=subprocess.DEVNULL)
        if len(in_flight_at_kills) < 5:
            target = len(server.handler.received) + rng.randint(40, 300)
            while len(server.handler.received) < target and process.poll() is None:
                time.sleep(0.005)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                with db.read() as conn:
                    claimed = conn.execute(
                        sa.select(sa.func.count()).where(delivery.c.status == "claimed")
                    ).scalar_one()
                in_flight_at_kills.append(claimed)
                continue
        assert process.wait(timeout=120) == 0
        with db.read() as conn:
            if conn.execute(sa.select(edition.c.status)).scalar_one() == "done":
                break

    assert len(in_flight_at_kills) == 5
    counts = server.handler.by_message_id()
    expected = {f"<digest.{edition_id}.{n}@papers.example.org>" for n in range(1, subscribers + 1)}
    assert set(counts) == expected
    duplicates = sum(count - 1 for count in counts.values())
    assert duplicates <= sum(in_flight_at_kills)
    assert set(ledger(db, edition_id).values()) == {"sent"}
    db.dispose()


def test_helper_processes_share_an_edition_and_send_each_message_once(
    tmp_path: Path, server: SmtpServer
) -> None:
    """`digest send --processes 3`: three spawned helpers share the edition through the ledger."""
    subscribers = 900
    # 450 msg/s shared by 3: alone, one helper would need 6 s, so all of them (started within
    # a second or so of each other) take part.
    db, edition_id, environment, command = sender_command(tmp_path, server, subscribers, 450)
    finished = subprocess.run(
        [*command, "--processes", "3"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert server.handler.by_recipient() == {address(n): 1 for n in range(subscribers)}
    assert set(ledger(db, edition_id).values()) == {"sent"}
    summary = re.search(
        r"(\d+) by helper 1, (\d+) by helper 2, (\d+) by helper 3\)", finished.stderr
    )
    assert summary is not None, finished.stderr
    shares = [int(n) for n in summary.groups()]
    assert sum(shares) == subscribers and min(shares) > 0
    assert "; finished" in finished.stderr
    db.dispose()


def test_ctrl_c_stops_the_helpers_and_they_give_their_claims_back(
    tmp_path: Path, server: SmtpServer
) -> None:
    db, edition_id, environment, command = sender_command(tmp_path, server, 600, 100)
    # A shell that started this run in the background may have left SIGINT ignored, and an
    # ignored SIGINT is inherited: give the sender the default a terminal has.
    process = subprocess.Popen(
        [*command, "--processes", "2"], env=environment, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    while len(server.handler.received) < 50 and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    assert process.wait(timeout=60) == 130
    statuses = ledger(db, edition_id)
    assert "claimed" not in statuses.values()
    sent = {email for email, status in statuses.items() if status == "sent"}
    assert sent == set(server.handler.by_recipient()) and 50 <= len(sent) < 600
    db.dispose()


def test_the_bounce_command_suppresses_and_the_next_send_skips_the_address(
    db: Database, tmp_path: Path, server: SmtpServer
) -> None:
    from typer.testing import CliRunner

    from papertide.cli import app

    edition_id = add_edition(db, ["confirmed"] * 3)
    settings = settings_for(tmp_path, server, database_url=str(db.url))
    environment = settings_environment(settings)
    runner = CliRunner()
    bounced = runner.invoke(
        app, ["digest", "bounce", address(1), "--reason", "hard bounce"], env=environment
    )
    assert bounced.exit_code == 0, bounced.output
    assert (
        runner.invoke(app, ["digest", "bounce", "nobody@example.org"], env=environment).exit_code
        == 3
    )
    sent = runner.invoke(app, ["digest", "send", "--kind", "daily"], env=environment)
    assert sent.exit_code == 0, sent.output
    assert "2 sent" in sent.output and "1 suppressed" in sent.output
    assert set(server.handler.by_recipient()) == {address(0), address(2)}
    again = runner.invoke(app, ["digest", "send"], env=environment)
    assert again.exit_code == 3 and "Nothing to send" in again.output
    assert ledger(db, edition_id)[address(1)] == "suppressed"


def test_the_worker_job_resumes_unfinished_editions(
    db: Database, tmp_path: Path, server: SmtpServer
) -> None:
    from papertide import jobs

    add_edition(db, ["confirmed"] * 4)
    settings = settings_for(tmp_path, server)
    with jobs.http_client(settings) as http:
        result = jobs.digest_retry(jobs.Context(db, http, settings, NOW))
    assert result.report.records_read == 4
    assert len(server.handler.received) == 4
    names = [job.name for job in jobs.scheduled_jobs(settings)]
    assert {"digest-daily", "digest-weekly", "digest-retry"} <= set(names)


def test_the_rate_cap_spaces_messages_across_threads() -> None:
    from papertide.digest.send import RateLimiter

    limiter, stop = RateLimiter(200), threading.Event()
    started = time.monotonic()
    workers = [
        threading.Thread(target=lambda: [limiter.wait(stop) for _ in range(10)]) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert time.monotonic() - started >= 29 / 200 * 0.95  # 30 slots, 5 ms apart


def test_an_edition_still_being_built_is_not_sent(
    db: Database, tmp_path: Path, server: SmtpServer
) -> None:
    edition_id = add_edition(db, ["confirmed"] * 2)
    with db.write() as conn:
        conn.execute(edition.update().values(status="building"))
    with pytest.raises(LookupError, match="still being built"):
        send_edition(db, edition_id, mailer(server), settings_for(tmp_path, server), "t")
    assert server.handler.received == []


def test_a_stopped_sender_gives_its_untried_claims_back(db: Database, tmp_path: Path) -> None:
    edition_id = add_edition(db, ["confirmed"] * 30)
    stop = threading.Event()

    class StoppingMailer:
        sent = 0

        def send(self, message: bytes, sender: str, recipient: str) -> None:
            self.sent += 1
            if self.sent == 5:
                stop.set()  # as Ctrl-C does

        def accepts_8bit(self) -> bool:
            return True

        def close(self) -> None:
            pass

    settings = Settings(load_demo=False, digest_send_threads=1, digest_batch_size=20)
    report = send_edition(db, edition_id, StoppingMailer(), settings, "t", stop=stop)
    assert (report.sent, report.finished) == (5, False)
    with db.read() as conn:
        rows = conn.execute(sa.select(delivery.c.status, delivery.c.attempts)).all()
    assert sorted(set(rows)) == [("pending", 0), ("sent", 1)]
    assert sum(1 for row in rows if row.status == "pending") == 25


def test_the_cli_and_the_worker_share_one_send_path_that_closes_its_mailer(
    db: Database, tmp_path: Path, server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`papertide digest send` and the worker's digest jobs both send through send_due, which
    closes the mailer it made, also when sending fails (issue #10)."""
    from typer.testing import CliRunner

    from papertide import jobs
    from papertide.cli import app
    from papertide.digest import send
    from papertide.digest.mailer import Mailer

    closed: list[int] = []  # by the caller, once each mailer

    class Tracked:
        def __init__(self, inner: Mailer) -> None:
            self.inner, self.number = inner, len(closed)
            closed.append(0)

        def send(self, message: bytes, sender: str, recipient: str) -> None:
            self.inner.send(message, sender, recipient)

        def accepts_8bit(self) -> bool:
            return self.inner.accepts_8bit()

        def close(self) -> None:  # the sender threads close their own connections too
            if threading.current_thread() is threading.main_thread():
                closed[self.number] += 1
            self.inner.close()

    real = send.make_mailer
    monkeypatch.setattr(send, "make_mailer", lambda settings: Tracked(real(settings)))
    settings = settings_for(tmp_path, server, database_url=str(db.url))
    runner = CliRunner()

    add_edition(db, ["confirmed"] * 3)
    sent = runner.invoke(app, ["digest", "send"], env=settings_environment(settings))
    assert sent.exit_code == 0, sent.output
    assert "3 sent" in sent.output and "; finished" in sent.output
    add_edition(db, ["confirmed"] * 2, period="2026-11-28")
    with jobs.http_client(settings) as http:
        result = jobs.digest_retry(jobs.Context(db, http, settings, NOW))
    assert result.report.records_read == 2
    assert len(server.handler.received) == 5
    assert closed == [1, 1]

    add_edition(db, ["confirmed"], period="2026-11-29")
    unreadable_key = settings_environment(settings) | {
        "PAPERTIDE_DKIM_DOMAIN": "papers.example.org",
        "PAPERTIDE_DKIM_SELECTOR": "s1",
        "PAPERTIDE_DKIM_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem"),
    }
    failed = runner.invoke(app, ["digest", "send"], env=unreadable_key)
    assert failed.exit_code == 1 and "cannot read the DKIM key" in failed.output
    assert closed == [1, 1, 1]
    assert len(server.handler.received) == 5
