"""Sending an edition (issue #6): claim, re-check, render, sign, send, record; resumable.

Each sender thread claims a small batch of due deliveries (db/deliveries.py), and for each one
re-reads the subscriber (only `confirmed` ones get mail), builds and signs the message, checks
that it still owns the delivery (renewing its lease: issue #10), hands the message to its own
SMTP connection and records the outcome in the ledger right after. A crash leaves
at most the claimed, unrecorded messages in doubt; their claims expire after the lease and are
sent again (same Message-ID), so nobody is skipped and duplicates stay that few. Temporary
(4xx) failures come back after an exponential backoff; permanent (5xx) ones suppress the address.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import TYPE_CHECKING, Protocol, cast
from urllib.parse import urlsplit

import sqlalchemy as sa

from papertide.clock import utcnow
from papertide.db import Database, subscribers
from papertide.db import deliveries as ledger
from papertide.db import follows as follow_rows
from papertide.db.follows import Follow
from papertide.digest import compose, links
from papertide.digest.compose import DigestPaper, Kind, Topics
from papertide.digest.dkim import DkimSigner, signer_from_settings
from papertide.digest.editions import paper_data, with_follows
from papertide.digest.mailer import Mailer, PermanentFailure, TemporaryFailure, make_mailer
from papertide.digest.message import ListInfo, build_message, sender_domain
from papertide.digest.render import DigestLinks, heading, render_digest

if TYPE_CHECKING:
    from papertide.config import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=6)
# Statuses that end a subscription for good; the others (pending, paused) only skip this one.
GONE = ("unsubscribed", "suppressed")


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Links:
    """The signed links of one subscriber's digest."""

    unsubscribe: str
    preferences: str


class Renderer(Protocol):
    """Text and HTML of one delivery (its frozen papers) for one recipient."""

    def __call__(
        self, delivery: ledger.Claimed, recipient: ledger.Recipient, links: Links
    ) -> tuple[str, str]: ...


RendererFactory = Callable[[Database, "Settings", int], Renderer]


OUTCOMES = ("sent", "retried", "failed", "suppressed", "skipped", "taken_over")


@dataclass(slots=True)
class SendReport:
    """What one `send_edition` run did."""

    edition_id: int
    sent: int = 0
    retried: int = 0  # temporary failures, to be tried again
    failed: int = 0  # out of attempts
    suppressed: int = 0  # permanent failures, unsubscribed or suppressed subscribers
    skipped: int = 0  # paused, unconfirmed, deleted, or nothing to send
    taken_over: int = 0  # claims another sender took over (this one held them past the lease)
    finished: bool = False  # the edition is done: nothing pending or claimed
    helpers_sent: list[int] = field(default_factory=list)  # by each helper process, if any
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in OUTCOMES}

    def add(self, counts: dict[str, int]) -> None:
        """Another process's counts for the same edition."""
        with self._lock:
            for name in OUTCOMES:
                setattr(self, name, getattr(self, name) + counts[name])
            self.helpers_sent.append(counts["sent"])

    def summary(self) -> str:
        state = "finished" if self.finished else "not finished"
        helpers = ""
        if self.helpers_sent:
            helpers = (
                f" ({self.sent - sum(self.helpers_sent)} by this process, "
                + ", ".join(f"{n} by helper {i}" for i, n in enumerate(self.helpers_sent, 1))
                + ")"
            )
        taken = f", {self.taken_over} taken over by another sender" if self.taken_over else ""
        return (
            f"edition {self.edition_id}: {self.sent} sent{helpers}, {self.retried} to retry, "
            f"{self.failed} failed, {self.suppressed} suppressed, {self.skipped} skipped"
            f"{taken}; {state}"
        )


class RateLimiter:
    """At most `per_second` acquisitions a second across threads (0: no limit). `clock` and
    `pause` (which waits on the stop event) are the real ones but for tests."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[threading.Event, float], object] = threading.Event.wait,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock = clock
        self.pause = pause
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self.pause(stop, slot - now)


@dataclass(frozen=True, slots=True)
class SendOptions:
    """The sending settings that matter to one run."""

    threads: int  # per process
    batch_size: int
    max_per_second: float
    max_attempts: int
    retry_base: dt.timedelta
    lease: dt.timedelta
    max_wait_s: float  # how long to wait for retries and others' claims before returning
    processes: int = 1  # senders in processes of their own: see send_edition_in_processes

    @classmethod
    def from_settings(cls, settings: Settings, max_wait_s: float = 60.0) -> SendOptions:
        return cls(
            processes=settings.digest_send_processes,
            threads=settings.digest_send_threads,
            batch_size=settings.digest_batch_size,
            max_per_second=settings.digest_max_per_second,
            max_attempts=settings.digest_max_attempts,
            retry_base=dt.timedelta(seconds=settings.digest_retry_base_s),
            lease=dt.timedelta(seconds=settings.claim_lease_s),
            max_wait_s=max_wait_s,
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        """The wait before attempt `attempts + 1`: the base, doubled each time, capped."""
        backoff: dt.timedelta = self.retry_base * 2 ** max(attempts - 1, 0)
        return min(backoff, MAX_BACKOFF)


def send_edition(
    db: Database,
    edition_id: int,
    mailer: Mailer,
    settings: Settings,
    worker_name: str | None = None,
    *,
    renderer: Renderer | None = None,
    options: SendOptions | None = None,
    signer: DkimSigner | bool | None = True,
    progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    limiter: RateLimiter | None = None,
) -> SendReport:
    """Send what is due of an edition with `options.threads` threads; mark it done when
    nothing is pending or claimed. `signer=True`: DKIM from the settings, if configured;
    `limiter`: a rate cap to share (default: one of `options.max_per_second`)."""
    with db.read() as conn:
        info = ledger.edition_info(conn, edition_id)
    if info is None:
        raise LookupError(f"there is no edition {edition_id}")
    if info[2] == "building":  # its deliveries are not all frozen yet
        raise LookupError(f"edition {edition_id} is still being built")
    options = options or SendOptions.from_settings(settings)
    run = _Run(
        db=db,
        edition_id=edition_id,
        mailer=mailer,
        settings=settings,
        worker=worker_name or default_worker_name(),
        renderer=renderer or default_renderer(db, settings, edition_id),
        options=options,
        signer=signer_from_settings(settings) if signer is True else signer or None,
        info=list_info(settings, info[0], info[1]),
        progress=progress,
        stop=stop or threading.Event(),
        clock=clock,
        limiter=limiter or RateLimiter(options.max_per_second),
    )
    return run.execute()


Watch = Callable[[int, SendOptions], AbstractContextManager[Callable[[str], None] | None]]


def send_due(
    db: Database,
    settings: Settings,
    *,
    edition_id: int | None = None,
    kind: str | None = None,
    worker_name: str | None = None,
    options: SendOptions | None = None,
    watch: Watch | None = None,
    on_report: Callable[[SendReport], None] | None = None,
    stop: threading.Event | None = None,
) -> list[SendReport]:
    """Send the edition asked for, or every unfinished edition (of `kind`), oldest first,
    through one mailer from the settings that is closed however it ends: the one send path
    of `papertide digest send` and the worker's digest jobs. `watch(edition_id, options)`,
    around each edition, may yield a progress callback; `on_report` gets each report; once
    `stop` is set no further message is sent and unsent claims are released."""
    options = options or SendOptions.from_settings(settings)
    editions = editions_to_send(db, edition_id, kind)
    reports: list[SendReport] = []
    if not editions:
        return reports
    mailer = make_mailer(settings)
    try:
        for edition in editions:
            if stop is not None and stop.is_set():
                break
            with watch(edition, options) if watch else nullcontext() as progress:
                report = send_edition_in_processes(
                    db, edition, mailer, settings, worker_name,
                    options=options, progress=progress, stop=stop,
                )  # fmt: skip
            reports.append(report)
            if on_report is not None:
                on_report(report)
    finally:
        mailer.close()
    return reports


def send_edition_in_processes(
    db: Database,
    edition_id: int,
    mailer: Mailer,
    settings: Settings,
    worker_name: str | None = None,
    *,
    options: SendOptions | None = None,
    progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """`send_edition` here (`options.processes` 1), or by that many helper processes while
    this one waits: one Python process renders, signs and talks SMTP on one core at most (the
    GIL), and the ledger already keeps any number of senders from sending a message twice.

    Helpers are spawned (each opens the database, its SMTP connections and the DKIM key from
    the settings) and lower their CPU priority by `PAPERTIDE_DIGEST_SEND_NICE`: bulk sending
    yields to the web server and to a mail server on the same machine, the usual bottleneck
    of the pipeline. The rate cap is shared out between them. `progress` and `stop` reach
    only a sender in this process; with helpers, watch the ledger (`outstanding`)."""
    options = options or SendOptions.from_settings(settings)
    if options.processes <= 1:
        return send_edition(
            db, edition_id, mailer, settings, worker_name,
            options=options, progress=progress, stop=stop,
        )  # fmt: skip
    name = worker_name or default_worker_name()
    share = dataclasses.replace(
        options, processes=1, max_per_second=options.max_per_second / options.processes
    )
    report = SendReport(edition_id)
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    with ProcessPoolExecutor(options.processes, mp_context=context) as pool:
        helpers: list[Future[dict[str, int]]] = [
            pool.submit(_helper, settings, edition_id, f"{name}/p{n}", share)
            for n in range(1, options.processes + 1)
        ]
        for helper in helpers:
            report.add(helper.result())
    with db.write() as conn:
        report.finished = ledger.finish_edition(conn, edition_id)
    return report


def _helper(settings: Settings, edition_id: int, name: str, options: SendOptions) -> dict[str, int]:
    """One helper process of send_edition_in_processes."""
    if settings.digest_send_nice and hasattr(os, "nice"):
        os.nice(settings.digest_send_nice)
    db = Database(
        settings.resolved_database_url,
        settings.database_pool_size,
        settings.database_max_overflow,
    )
    mailer = make_mailer(settings)
    try:
        return send_edition(db, edition_id, mailer, settings, name, options=options).counts()
    finally:
        mailer.close()
        db.dispose()


def list_info(settings: Settings, kind: str, period: str) -> ListInfo:
    """From, List-Id and Subject shared by every message of an edition."""
    host = urlsplit(settings.public_url).hostname or sender_domain(settings.mail_from)
    return ListInfo(
        mail_from=settings.mail_from,
        list_id=f"{kind}.digest.{host}",
        list_name=f"{settings.site_name} {kind} digest",
        subject=subject(settings, kind, period),
    )


@dataclass(slots=True)
class _Run:
    db: Database
    edition_id: int
    mailer: Mailer
    settings: Settings
    worker: str
    renderer: Renderer
    options: SendOptions
    signer: DkimSigner | None
    info: ListInfo
    progress: Callable[[str], None] | None
    stop: threading.Event
    clock: Callable[[], dt.datetime]
    limiter: RateLimiter
    report: SendReport = field(init=False)
    envelope_from: str = field(init=False)
    # Makes each thread's name on its claims its own, even for two runs in one process or
    # two senders given the same --worker name: ownership checks compare these.
    run_token: str = field(default_factory=lambda: secrets.token_hex(3))
    _local: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        self.report = SendReport(self.edition_id)
        self.envelope_from = parseaddr(self.settings.mail_from)[1]

    def execute(self) -> SendReport:
        with ThreadPoolExecutor(self.options.threads, thread_name_prefix="digest-send") as pool:
            futures = [pool.submit(self._thread, i) for i in range(self.options.threads)]
            try:
                for future in futures:
                    while not future.done():
                        time.sleep(0.1)  # wakes for KeyboardInterrupt, unlike future.result()
                    future.result()
            except BaseException:
                self.stop.set()
                raise
        with self.db.write() as conn:
            self.report.finished = ledger.finish_edition(conn, self.edition_id)
        return self.report

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        """A transaction on this thread's own connection (kept for the whole run: checking a
        connection out of the pool for every message costs as much as the queries)."""
        connection: sa.Connection = self._local.connection
        with connection.begin():
            yield connection

    def _thread(self, index: int) -> None:
        name = f"{self.worker}/{index}.{self.run_token}"
        self._local.name = name
        self._local.connection = self.db.engine.connect()
        self._local.statements = ledger.SendStatements(self._local.connection)
        try:
            while not self.stop.is_set():
                with self._transaction() as conn:
                    batch = ledger.claim(
                        conn,
                        self.edition_id,
                        name,
                        self.clock(),
                        self.options.batch_size,
                        self.options.lease,
                    )
                if not batch:
                    if not self._wait_for_more():
                        return
                    continue
                for position, item in enumerate(batch):
                    if self.stop.is_set():
                        with self._transaction() as conn:
                            ledger.release(conn, [c.id for c in batch[position:]], name)
                        return
                    self._deliver(item)
        finally:
            self.mailer.close()
            self._local.connection.close()

    def _wait_for_more(self) -> bool:
        """Wait until a retry is due or a claim expires; False when nothing is outstanding
        or the wait would pass `max_wait_s`."""
        with self._transaction() as conn:
            left, next_retry, oldest_claim = ledger.outstanding(conn, self.edition_id)
        if not left:
            return False
        now = self.clock()
        due = [t for t in (next_retry, oldest_claim and oldest_claim + self.options.lease) if t]
        wake = min(due, default=now)
        seconds = max((wake - now).total_seconds(), 0.0)
        if seconds > self.options.max_wait_s:
            return False
        self.stop.wait(min(seconds, 1.0) or 0.01)
        return True

    def _deliver(self, item: ledger.Claimed) -> None:
        statements: ledger.SendStatements = self._local.statements
        with self._transaction():
            recipient = statements.recipient(item.subscriber_id)
        outcome, error = _refusal(item, recipient)
        if recipient is None or outcome is not None:
            self._record(item, outcome or "skipped", error)
            return
        try:
            data, message_id = self._compose(item, recipient)
        except ValueError as exc:  # an address or URL that cannot go into a header
            self._record(item, "failed", str(exc))
            return
        self.limiter.wait(self.stop)
        # The lease of a batch's later claims may have run out while this thread sent the
        # earlier ones (a slow server, the rate cap, a pause) and another sender may have taken
        # them over: send only what this thread still owns, and give it a fresh lease that
        # outlasts the send (settings: the lease >= one message's worst case; issue #10).
        with self._transaction():
            owned = statements.renew(item.id, self._local.name, self.clock())
        if not owned:
            self._counted("taken_over")
            return
        try:
            self.mailer.send(data, self.envelope_from, recipient.email)
        except TemporaryFailure as exc:
            self._temporary(item, str(exc))
            return
        except PermanentFailure as exc:
            self._permanent(item, str(exc))
            return
        with self._transaction():
            recorded = statements.mark_sent(item.id, self._local.name, message_id, self.clock())
        if not recorded:  # cannot happen while the lease outlasts a send: say so if it does
            log.warning(
                "delivery %d was taken over by another sender while this one sent it "
                "(PAPERTIDE_DIGEST_CLAIM_LEASE_S too short?): it may have gone out twice",
                item.id,
            )
        self._counted("sent")

    def _compose(self, item: ledger.Claimed, recipient: ledger.Recipient) -> tuple[bytes, str]:
        token = links.subscriber_token(self.settings.secret_key, recipient.id, recipient.token_salt)
        urls = Links(
            links.unsubscribe_url(self.settings.public_url, token),
            links.preferences_url(self.settings.public_url, token),
        )
        text, html = self.renderer(item, recipient, urls)
        message = build_message(
            self.info,
            to=recipient.email,
            edition_id=item.edition_id,
            subscriber_id=recipient.id,
            unsubscribe_url=urls.unsubscribe,
            text=text,
            html=html,
            date=self.clock(),
            eight_bit=self.mailer.accepts_8bit(),
        )
        data = self.signer.sign(message) if self.signer else message.as_bytes()
        return data, message.message_id

    def _temporary(self, item: ledger.Claimed, error: str) -> None:
        if item.attempts >= self.options.max_attempts:
            self._record(item, "failed", f"{error} (after {item.attempts} attempts)")
            return
        retry_at = self.clock() + self.options.backoff(item.attempts)
        with self._transaction() as conn:
            held = ledger.mark_retry(conn, item.id, self._local.name, error, retry_at)
        self._counted("retried" if held else "taken_over")

    def _permanent(self, item: ledger.Claimed, error: str) -> None:
        with self._transaction() as conn:  # the address refused mail, whoever owns the claim
            subscribers.suppress(conn, item.subscriber_id, f"smtp: {error}", self.clock())
            held = ledger.mark_done(conn, item.id, self._local.name, "suppressed", error)
        self._counted("suppressed" if held else "taken_over")

    def _record(self, item: ledger.Claimed, outcome: str, error: str | None) -> None:
        with self._transaction() as conn:
            held = ledger.mark_done(conn, item.id, self._local.name, outcome, error)
        self._counted(outcome if held else "taken_over")

    def _counted(self, outcome: str) -> None:
        self.report.count(outcome)
        if self.progress is not None:
            self.progress(outcome)


def _refusal(
    item: ledger.Claimed, recipient: ledger.Recipient | None
) -> tuple[str | None, str | None]:
    """Why this delivery must not be sent now (outcome, reason), or (None, None)."""
    if recipient is None:
        return "skipped", "the subscriber was deleted"
    if recipient.status in GONE:
        return "suppressed", f"subscriber {recipient.status}"
    if recipient.status != "confirmed":  # never mail an unconfirmed or paused address
        return "skipped", f"subscriber {recipient.status}"
    if not item.papers:
        return "skipped", "nothing to send"
    return None, None


def editions_to_send(db: Database, edition_id: int | None, kind: str | None) -> list[int]:
    """The edition asked for, or every unfinished edition (of `kind`), oldest first."""
    with db.read() as conn:
        if edition_id is not None:
            return [edition_id] if ledger.edition_info(conn, edition_id) else []
        return ledger.edition_ids(conn, kind)


def outstanding(db: Database, edition_id: int) -> int:
    """Deliveries of the edition still pending or claimed."""
    with db.read() as conn:
        return ledger.outstanding(conn, edition_id)[0]


def record_bounce(db: Database, address: str, reason: str, now: dt.datetime | None = None) -> bool:
    """Suppress an address after a bounce or complaint a provider reported; False when no
    subscriber has it. Deliveries still pending are then suppressed at send time."""
    with db.write() as conn:
        return subscribers.suppress(conn, address, reason, now or utcnow())


class EditionRenderer:
    """The digest templates (digest/render.py) over one edition's frozen selections; each
    paper is read from the database once per run."""

    def __init__(self, db: Database, settings: Settings, kind: str, period: str) -> None:
        self.db = db
        self.public_url = settings.public_url
        self.site_name = settings.site_name
        self.kind = cast(Kind, kind)
        self.period = period
        self.papers: dict[str, DigestPaper] = {}
        self._follows: dict[int, list[Follow]] | None = None  # by subscriber, read once
        self._lock = threading.Lock()

    def _load(self, ids: list[str]) -> None:
        missing = [pid for pid in ids if pid not in self.papers]
        if missing:
            with self.db.read() as conn:
                found = paper_data(conn, missing, self.public_url)
            with self._lock:
                self.papers.update(found)

    def __call__(
        self, delivery: ledger.Claimed, recipient: ledger.Recipient, links: Links
    ) -> tuple[str, str]:
        self._load(delivery.papers)
        if self._follows is None:
            with self.db.read() as conn:
                self._follows = follow_rows.of_subscribers(conn)
        follows = self._follows.get(recipient.id, [])
        topics = with_follows(Topics.parse(recipient.topics), follows)
        person = compose.Recipient(recipient.id, recipient.email, topics)
        digest = compose.digest_of(person, self.kind, self.period, delivery.papers, self.papers)
        site = self.public_url.rstrip("/") + "/"
        return render_digest(
            digest, DigestLinks(site, links.preferences, links.unsubscribe), self.site_name
        )


def default_renderer(db: Database, settings: Settings, edition_id: int) -> Renderer:
    """The edition's digests as the templates render them."""
    with db.read() as conn:
        info = ledger.edition_info(conn, edition_id)
    if info is None:
        raise LookupError(f"there is no edition {edition_id}")
    return EditionRenderer(db, settings, info[0], info[1])


def subject(settings: Settings, kind: str, period: str) -> str:
    """The edition's subject line: the digest's own heading."""
    return heading(compose.Digest(0, "", cast(Kind, kind), period, []), settings.site_name)
