"""The MIME message of one digest delivery, assembled as bytes (issue #6).

The stdlib `email` package costs ~2 ms a message (the dependency probe: 93 % of composing),
so the multipart/alternative message is written from a fixed template instead: ASCII headers
(RFC 2047 encoded words where a value is not ASCII), CRLF line endings, and bodies that stay
7-bit clean, so no relay has to convert them (which would break the DKIM signature):

- the HTML part is made ASCII with character references (`&#233;`) and its lines are packed
  (joined with a space, which HTML treats as the newline it replaces) into lines of at most
  998 octets, the RFC 5322 limit: `7bit`, a few dozen lines instead of ~200 quoted-printable
  ones. (An SMTP server reads DATA a line at a time; aiosmtpd spends more on the lines of a
  digest than on anything else, see docs/benchmarks.md.)
- the text part is `7bit` when it is ASCII with lines of at most 998 octets and no trailing
  white space; otherwise `8bit` UTF-8 when the server takes it (`eight_bit`: it advertised
  8BITMIME, RFC 6152, and the message goes with BODY=8BITMIME), else quoted-printable. The
  text is for people: its lines stay theirs.

Either part falls back to quoted-printable when it cannot be sent as 7bit. The boundary starts
with "=_", which quoted-printable output can never contain, and the packed HTML cannot either
(an ASCII body whose lines all start otherwise is checked). Tests parse every shape back with
the stdlib parser.
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
MAX_LINE = 998  # octets in a line, without its CRLF (RFC 5322 section 2.1.1)


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


@functools.lru_cache(maxsize=64)  # read for every message's Message-ID
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
    eight_bit: bool = False,
) -> OutgoingMessage:
    """The multipart (text + HTML) message of one delivery, with the list headers.
    `eight_bit`: the text part may be sent as 8-bit UTF-8 (the server accepts 8BITMIME)."""
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
            _text_part(text, eight_bit),
            b"--" + boundary.encode() + b"\r\n",
            _html_part(html),
            b"--" + boundary.encode() + b"--\r\n",
        )
    )
    return OutgoingMessage(headers, body, msg_id)


def _head(content_type: str, encoding: str) -> bytes:
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode("ascii")


def _text_part(content: str, eight_bit: bool) -> bytes:
    text = _NEWLINES.sub("\n", content) if "\r" in content else content
    ascii_text = text.isascii()
    if ascii_text or eight_bit:
        data = text.encode("utf-8")
        if _seven_bit(data):  # the same rules for 8bit, bar the octets over 127
            return _head("text/plain", "7bit" if ascii_text else "8bit") + _crlf(data)
    return _head("text/plain", "quoted-printable") + quoted_printable(text) + b"\r\n"


def _html_part(content: str) -> bytes:
    packed = pack_html(content)
    if packed is None:
        return _head("text/html", "quoted-printable") + quoted_printable(content) + b"\r\n"
    return _head("text/html", "7bit") + _crlf(packed)


def _crlf(data: bytes) -> bytes:
    """Text with LF line ends as CRLF, and the CRLF that belongs to the boundary."""
    return data.replace(b"\n", b"\r\n") + b"\r\n"


def _seven_bit(data: bytes) -> bool:
    """Whether `data` (LF line ends) can travel as it is: lines of at most MAX_LINE octets, no
    NUL, no trailing white space (relays may strip it), nothing like our boundary. (7bit when
    it is ASCII, 8bit otherwise.)"""
    if b"\x00" in data or data.startswith(b"--=_") or b"\n--=_" in data:
        return False
    if b" \n" in data or data.endswith((b" ", b"\t")) or (b"\t" in data and b"\t\n" in data):
        return False
    return max(map(len, data.split(b"\n"))) <= MAX_LINE


_WHITE_SPACE_KEPT = re.compile(rb"<(?:pre|textarea)\b", re.IGNORECASE)


def pack_html(html: str, limit: int = MAX_LINE) -> bytes | None:
    """`html` as ASCII (character references for the rest) in as few lines of at most `limit`
    octets as white space allows: its line breaks become spaces (the same white space to
    HTML) and a longer line is broken at a space. None when that cannot be done without
    changing the document: a <pre> or <textarea> (white space counts there), a NUL, a line
    with no space to break at."""
    data = _NEWLINES.sub("\n", html).encode("ascii", "xmlcharrefreplace").rstrip(b"\n")
    if b"\x00" in data or _WHITE_SPACE_KEPT.search(data):
        return None
    lines: list[bytes] = []
    start, end = 0, len(data)
    while start < end:
        stop = start + limit
        if stop >= end:
            cut = end
        else:  # break at the last line break that fits, else at the last space
            cut = data.rfind(b"\n", start, stop + 1)
            if cut <= start:
                cut = data.rfind(b" ", start + 1, stop + 1)
            if cut <= start:
                return None
        # White space before a line break is white space: packed lines end without it.
        line = data[start:cut].replace(b"\n", b" ").rstrip(b" \t")
        if line:
            lines.append(line)
        start = cut + 1
    packed = b"\n".join(lines)  # no NUL, no trailing white space, no line over the limit
    return None if packed.startswith(b"--=_") or b"\n--=_" in packed else packed


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
    return _second(aware.replace(microsecond=0))


@functools.lru_cache(maxsize=4)  # the messages of one second share their Date
def _second(moment: dt.datetime) -> str:
    return format_datetime(moment)


def _ascii_url(url: str) -> str:
    if not url.isascii() or any(c in url for c in "<> \r\n"):
        raise ValueError(f"unsafe List-Unsubscribe URL {url!r}")
    return url
