"""Where mail goes: an SMTP server, or a pickup directory for development.

A Mailer sends one message to one recipient. Failures are classified the way the delivery
ledger needs them: TemporaryFailure (SMTP 4xx, a dropped connection, a timeout: retry later)
and PermanentFailure (SMTP 5xx for that recipient: suppress the address, never retry).
"""

from __future__ import annotations

import contextlib
import os
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

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    host: str = "localhost"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0


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
                    o.host, o.port, timeout=o.timeout_s, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(o.host, o.port, timeout=o.timeout_s)
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
        data = message if isinstance(message, bytes) else message.as_bytes()
        smtp = self._connection()
        try:
            refused = smtp.sendmail(sender, [recipient], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (550, b"refused"))
            self._reset(smtp)
            raise _classified(code, reply) from exc
        except smtplib.SMTPResponseException as exc:
            self._reset(smtp)
            raise _classified(exc.smtp_code, exc.smtp_error) from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TemporaryFailure(f"connection lost: {exc}") from exc
        if refused:  # pragma: no cover - one recipient: refused means the exception above
            code, reply = refused[recipient]
            raise _classified(code, reply)

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
            settings.http_timeout_s,
        )
    )
