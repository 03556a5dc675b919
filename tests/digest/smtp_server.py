"""A real SMTP server for the digest tests: aiosmtpd in a thread, recording what it accepts.

Faults on demand: addresses refused with 550 at RCPT, and a share of messages answered with a
temporary 421/451 at DATA (chosen by a seeded random generator, so a run is reproducible).
`before_reply`, when set, is awaited after a message is accepted and before the 250 reply: a
test holds the reply there (a slow server) for as long as its scenario needs.

The server has a fixed name (`server_hostname`): aiosmtpd would otherwise ask DNS for this
host's name (socket.getfqdn) on every connection, which stalled for seconds on a machine
without network (issue #10).
"""

from __future__ import annotations

import random
import re
import socket
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Received:
    recipient: str
    message_id: str
    data: bytes
    mail_options: tuple[str, ...] = ()  # MAIL FROM parameters, e.g. BODY=8BITMIME
    client_name: str = ""  # what the client said in EHLO (HELO)
    sender: str = ""  # the envelope sender (MAIL FROM)
    recipient_as_sent: str = ""  # RCPT TO as the client wrote it (`recipient` is lowercased)


@dataclass
class Faults:
    refuse: frozenset[str] = frozenset()  # answered 550 at RCPT
    temporary_rate: float = 0.0  # share of DATA answered 421 or 451
    seed: int = 6


@dataclass
class RecordingHandler:
    faults: Faults = field(default_factory=Faults)
    received: list[Received] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # 550 answers per address
    deferred: Counter[str] = field(default_factory=Counter)  # 4xx answers per address
    lock: threading.Lock = field(default_factory=threading.Lock)
    before_reply: Callable[[Received], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        self.random = random.Random(self.faults.seed)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.faults.refuse:
            with self.lock:
                self.refused[address.lower()] += 1
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content or envelope.content
        with self.lock:
            if self.faults.temporary_rate and self.random.random() < self.faults.temporary_rate:
                for address in envelope.rcpt_tos:
                    self.deferred[address.lower()] += 1
                return self.random.choice(
                    ("421 4.7.0 try again later", "451 4.3.0 temporary local problem")
                )
            found = MESSAGE_ID.search(data.split(b"\r\n\r\n", 1)[0])
            message_id = found.group(1).decode() if found else ""
            options = tuple(envelope.mail_options)
            accepted = [
                Received(
                    address.lower(),
                    message_id,
                    data,
                    options,
                    session.host_name or "",
                    envelope.mail_from or "",
                    address,
                )
                for address in envelope.rcpt_tos
            ]
            self.received.extend(accepted)
        if self.before_reply is not None:
            for received in accepted:
                await self.before_reply(received)
        return "250 OK"

    def by_message_id(self) -> Counter[str]:
        with self.lock:
            return Counter(r.message_id for r in self.received)

    def by_recipient(self) -> Counter[str]:
        with self.lock:
            return Counter(r.recipient for r in self.received)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpServer:
    """`with SmtpServer() as server:` a listening server on 127.0.0.1:`server.port`."""

    def __init__(self, faults: Faults | None = None, eight_bit: bool = True) -> None:
        self.handler = RecordingHandler(faults or Faults())
        self.port = free_port()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="smtp.test",
            data_size_limit=10 * 1024 * 1024,
            decode_data=not eight_bit,  # aiosmtpd offers 8BITMIME only when it keeps bytes
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()
