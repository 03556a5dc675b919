"""Where mail goes: an SMTP server, or a pickup directory for development.

A Mailer sends one message to one recipient. Failures are classified the way the delivery
ledger needs them: TemporaryFailure (SMTP 4xx, a dropped connection, a timeout: retry later)
and PermanentFailure (SMTP 5xx for that recipient: suppress the address, never retry).
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import threading
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from papertide.config import Settings


class DeliveryError(RuntimeError):
    """A message could not be handed over; `code` is the SMTP reply code when there was one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryError):
    """Try again later (SMTP 4xx, connection trouble)."""


class PermanentFailure(DeliveryError):
    """The address refuses mail (SMTP 5xx for the recipient): suppress it."""


class Mailer(Protocol):
    def send(self, message: EmailMessage | bytes, sender: str, recipient: str) -> None:
        """Hand one message for `recipient` over, or raise a DeliveryError."""
        ...

    def accepts_8bit(self) -> bool:
        """Whether a message may carry 8-bit octets (the SMTP server offers 8BITMIME)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    host: str = "localhost"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    # The EHLO name. Given, so that smtplib never calls socket.getfqdn() (a DNS lookup that
    # can stall for seconds) on each (re)connect (issue #10).
    local_hostname: str = "localhost"


class SmtpMailer:
    """Sends over one kept-open SMTP connection per thread (reconnects when it drops)."""

    def __init__(self, options: SmtpOptions) -> None:
        self.options = options
        self._local = threading.local()

    def _connection(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if smtp is not None:
            return smtp
        o = self.options
        try:
            if o.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    o.host,
                    o.port,
                    o.local_hostname,
                    timeout=o.timeout_s,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(o.host, o.port, o.local_hostname, timeout=o.timeout_s)
                if o.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if o.username:
                smtp.login(o.username, o.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot connect to {o.host}:{o.port}: {exc}") from exc
        self._local.smtp = smtp
        return smtp

    def _drop(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.close()

    def send(self, message: EmailMessage | bytes, sender: str, recipient: str) -> None:
        """One SMTP transaction: MAIL, RCPT, DATA. Written out rather than `sendmail`, which
        parses both addresses with the `email` package and dot-stuffs with a regular
        expression: together a third of the sender's time per digest (docs/benchmarks.md)."""
        data = wire_bytes(message)
        if not _plain_address(sender):
            raise ValueError(
                f"the envelope sender {sender!r} is not a plain address: check PAPERTIDE_MAIL_FROM"
            )
        if not recipient or not _plain_address(recipient):  # never deliverable
            raise PermanentFailure(f"cannot send to {recipient!r}: not a plain address")
        smtp = self._connection()
        try:
            smtp.ehlo_or_helo_if_needed()
            body = ""
            if not data.isascii():
                if not smtp.has_extn("8bitmime"):  # the server changed since it was composed
                    raise TemporaryFailure(f"{self.options.host} does not take 8-bit mail")
                body = " BODY=8BITMIME"
            self._expect(smtp, smtp.docmd("MAIL", f"FROM:<{sender}>{body}"), 250)
            self._expect(smtp, smtp.docmd("RCPT", f"TO:<{recipient}>"), 250, 251)
            self._expect(smtp, smtp.docmd("DATA"), 354)
            smtp.send(data)
            self._expect(smtp, smtp.getreply(), 250)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryFailure(f"connection lost: {exc}") from exc

    def accepts_8bit(self) -> bool:
        try:
            smtp = self._connection()
            smtp.ehlo_or_helo_if_needed()
        except (TemporaryFailure, smtplib.SMTPException, OSError):
            return False  # the send will tell what is wrong
        return smtp.has_extn("8bitmime")

    def _expect(self, smtp: smtplib.SMTP, reply: tuple[int, bytes], *codes: int) -> None:
        code, text = reply
        if code in codes:
            return
        if code == 421:  # the server is closing the connection
            self._drop()
        else:
            self._reset(smtp)
        raise _classified(code, text)

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def close(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def wire_bytes(message: EmailMessage | bytes) -> bytes:
    """The DATA of a message: CRLF line ends, dot-stuffed (RFC 5321 4.5.2), and the final
    `.` line."""
    if isinstance(message, bytes):
        data = message
        if data.count(b"\n") != data.count(b"\r"):  # a bare LF or CR somewhere
            data = _LINE_ENDS.sub(b"\r\n", data)
    else:
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    data = data.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_ENVELOPE_ADDRESS = re.compile(r"[^\s<>()\[\],;:\\\"@]+@[A-Za-z0-9.-]+|")


def _plain_address(address: str) -> bool:
    """Whether `address` can go into MAIL FROM / RCPT TO as it is: a plain ASCII
    `local@domain` with nothing that could end the command (or `<>`, the null sender)."""
    return address.isascii() and _ENVELOPE_ADDRESS.fullmatch(address) is not None


def _classified(code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"{code} {text}".strip()
    if 400 <= code < 500:
        return TemporaryFailure(message, code)
    return PermanentFailure(message, code)


class PickupDirMailer:
    """Writes each message as a `.eml` file into a folder (development: open them in any
    mail client, or `cat` them). The file appears atomically, complete or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage | bytes, sender: str, recipient: str) -> None:
        data = message if isinstance(message, bytes) else message.as_bytes()
        name = f"{uuid.uuid4().hex}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(b"X-Papertide-Envelope-To: " + recipient.encode() + b"\r\n" + data)
        os.replace(temporary, self.folder / name)

    def accepts_8bit(self) -> bool:
        return True  # a file: mail clients read 8-bit parts

    def close(self) -> None:
        pass


def make_mailer(settings: Settings) -> Mailer:
    """The pickup directory when one is set, else SMTP, from the settings."""
    if settings.mail_pickup_dir is not None:
        return PickupDirMailer(settings.mail_pickup_dir)
    return SmtpMailer(
        SmtpOptions(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_timeout_s,
            settings.ehlo_name,
        )
    )
