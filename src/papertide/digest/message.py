"""The MIME message of one digest delivery, assembled as bytes (issue #6).

The stdlib `email` package costs ~2 ms a message (the dependency probe: 93 % of composing),
so the multipart/alternative message is written from a fixed template instead: ASCII headers
(RFC 2047 encoded words where a value is not ASCII), CRLF line endings, both bodies
quoted-printable in UTF-8. The boundary starts with "=_", which quoted-printable output can
never contain. Tests parse every shape back with the stdlib parser.
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message ready for SMTP: its headers (name, value; no CRLF) and its MIME body."""

    headers: list[tuple[str, str]]
    body: bytes
    message_id: str  # with angle brackets, as in the header

    def header_bytes(self) -> bytes:
        return b"".join(f"{name}: {value}\r\n".encode("ascii") for name, value in self.headers)

    def as_bytes(self, prefix: bytes = b"") -> bytes:
        """The whole message; `prefix` is a header line block put first (a DKIM-Signature)."""
        return prefix + self.header_bytes() + b"\r\n" + self.body


@dataclass(frozen=True, slots=True)
class ListInfo:
    """What every message of one edition shares: sender, list identity, subject."""

    mail_from: str
    list_id: str  # e.g. "daily.digest.example.org"
    list_name: str  # e.g. "Papertide daily digest"
    subject: str

    @property
    def domain(self) -> str:
        return sender_domain(self.mail_from)


def sender_domain(mail_from: str) -> str:
    """The domain of the From address (`localhost` when it has none)."""
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id(edition_id: int, subscriber_id: int, domain: str) -> str:
    """The same Message-ID for every (re)send of an edition to a subscriber, so a resend after
    a crash is recognisably the same message (and mail clients thread duplicates together)."""
    return f"<digest.{edition_id}.{subscriber_id}@{domain}>"


def build_message(
    info: ListInfo,
    *,
    to: str,
    edition_id: int,
    subscriber_id: int,
    unsubscribe_url: str,
    text: str,
    html: str,
    date: dt.datetime,
) -> OutgoingMessage:
    """The multipart (text + HTML) message of one delivery, with the list headers."""
    msg_id = message_id(edition_id, subscriber_id, info.domain)
    boundary = _boundary(msg_id)
    headers = [
        ("From", _address(info.mail_from)),
        ("To", _address(to)),
        ("Subject", _encoded(info.subject)),
        ("Date", _date(date)),
        ("Message-ID", msg_id),
        ("List-Id", f"{_encoded(info.list_name)} <{info.list_id}>"),
        ("List-Unsubscribe", f"<{_ascii_url(unsubscribe_url)}>"),
        ("List-Unsubscribe-Post", ONE_CLICK),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    body = b"".join(
        (
            b"--" + boundary.encode() + b"\r\n",
            _part("text/plain", text),
            b"--" + boundary.encode() + b"\r\n",
            _part("text/html", html),
            b"--" + boundary.encode() + b"--\r\n",
        )
    )
    return OutgoingMessage(headers, body, msg_id)


def _part(content_type: str, content: str) -> bytes:
    head = (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii")
    return head + quoted_printable(content) + b"\r\n"


_NEWLINES = re.compile(r"\r\n|\r")


def quoted_printable(content: str) -> bytes:
    """`content` as UTF-8 quoted-printable with CRLF line ends (lines of at most 76)."""
    normalised = _NEWLINES.sub("\n", content).encode("utf-8")
    # SMTP dot-stuffing (smtplib) takes care of lines that start with ".".
    encoded = binascii.b2a_qp(normalised, quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\n", b"\r\n")


def _boundary(msg_id: str) -> str:
    return "=_pt_" + hashlib.sha256(msg_id.encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=256)
def _encoded(value: str) -> str:
    """A header value as ASCII: itself, or RFC 2047 encoded words."""
    if value.isascii() and "\n" not in value and "\r" not in value:
        return value
    flat = " ".join(value.split())
    return flat if flat.isascii() else Header(flat, "utf-8").encode(linesep="\r\n")


_BARE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _address(value: str) -> str:
    if _BARE_ADDRESS.fullmatch(value):  # the common case, without the parser's cost
        return value
    return _named_address(value)


@functools.lru_cache(maxsize=256)
def _named_address(value: str) -> str:
    name, address = parseaddr(value)
    if not address or not address.isascii():
        raise ValueError(f"cannot send to {value!r}: not an ASCII email address")
    return formataddr((name, address), charset="utf-8") if name else address


def _date(moment: dt.datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return format_datetime(aware)


def _ascii_url(url: str) -> str:
    if not url.isascii() or any(c in url for c in "<> \r\n"):
        raise ValueError(f"unsafe List-Unsubscribe URL {url!r}")
    return url
