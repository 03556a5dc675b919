"""The SMTP transaction of one message against a real aiosmtpd server: the bytes arrive as
they were built (dot-stuffing undone), 8-bit parts only where the server offers 8BITMIME,
addresses that could smuggle a command refused, replies classified."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from tests.digest.smtp_server import Faults, SmtpServer

from papertide.digest.mailer import (
    PermanentFailure,
    SmtpMailer,
    SmtpOptions,
    TemporaryFailure,
    wire_bytes,
)
from papertide.digest.message import ListInfo, build_message

SENDER = "digest@papers.example.org"
INFO = ListInfo(f"Papertide <{SENDER}>", "daily.x.org", "Papertide daily digest", "Digest")
TEXT = "Über Transformers — “quoted” ▲ 3 upvotes · ★ 5 GitHub stars\n" + "é" * 300 + "\n"


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer(Faults(refuse=frozenset({"gone@example.org"}))) as running:
        yield running


def digest(eight_bit: bool) -> bytes:
    return build_message(
        INFO,
        to="ada@example.org",
        edition_id=1,
        subscriber_id=2,
        unsubscribe_url="https://papers.example.org/unsubscribe/2.x",
        text=TEXT,
        html="<p>Über</p>",
        date=dt.datetime(2026, 11, 27, 7),
        eight_bit=eight_bit,
    ).as_bytes()


def text_part(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage) and not parsed.defects
    plain = parsed.get_body(("plain",))
    assert isinstance(plain, EmailMessage)
    return plain


def test_the_message_arrives_byte_for_byte(server: SmtpServer) -> None:
    data = b"Subject: dots\r\n\r\n.\r\n..two\r\n.three\r\nend without a line break"
    mailer = SmtpMailer(SmtpOptions("127.0.0.1", server.port))
    mailer.send(data, SENDER, "ada@example.org")
    mailer.close()
    [received] = server.handler.received
    assert received.data.rstrip(b"\r\n") == data
    assert wire_bytes(data).endswith(b"end without a line break\r\n.\r\n")
    assert wire_bytes(b".a\r\n").startswith(b"..a\r\n")


def test_8bit_text_goes_with_body_8bitmime_where_offered(server: SmtpServer) -> None:
    mailer = SmtpMailer(SmtpOptions("127.0.0.1", server.port))
    assert mailer.accepts_8bit()
    mailer.send(digest(mailer.accepts_8bit()), SENDER, "ada@example.org")
    mailer.close()
    [received] = server.handler.received
    assert "BODY=8BITMIME" in received.mail_options
    plain = text_part(received.data)
    assert plain["Content-Transfer-Encoding"] == "8bit"
    assert plain.get_content().replace("\r\n", "\n") == TEXT


def test_without_8bitmime_everything_is_7bit() -> None:
    with SmtpServer(eight_bit=False) as server:
        mailer = SmtpMailer(SmtpOptions("127.0.0.1", server.port))
        assert not mailer.accepts_8bit()
        data = digest(mailer.accepts_8bit())
        assert data.isascii()
        mailer.send(data, SENDER, "ada@example.org")
        with pytest.raises(TemporaryFailure, match="8-bit"):  # never sent as it is
            mailer.send(digest(True), SENDER, "ada@example.org")
        mailer.close()
        [received] = server.handler.received
    assert received.mail_options == ()
    plain = text_part(received.data)
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content().replace("\r\n", "\n") == TEXT


def test_an_email_message_goes_with_crlf_line_ends(server: SmtpServer) -> None:
    message = EmailMessage()
    message["Subject"] = "Confirm"
    message.set_content("line one\n.line two\n")
    mailer = SmtpMailer(SmtpOptions("127.0.0.1", server.port))
    mailer.send(message, SENDER, "ada@example.org")
    mailer.close()
    [received] = server.handler.received
    assert b"\r\n\r\nline one\r\n.line two\r\n" in received.data
    assert received.data.count(b"\n") == received.data.count(b"\r\n")


def test_addresses_that_could_smuggle_a_command_are_refused(server: SmtpServer) -> None:
    mailer = SmtpMailer(SmtpOptions("127.0.0.1", server.port))
    for recipient in (
        "ada@example.org>\r\nRCPT TO:<eve@example.org",
        "a b@example.org",
        "ädå@x.org",
        "",
    ):
        with pytest.raises(PermanentFailure, match="not a plain address"):
            mailer.send(b"Subject: x\r\n\r\nx\r\n", SENDER, recipient)
    with pytest.raises(ValueError, match="PAPERTIDE_MAIL_FROM"):
        mailer.send(b"Subject: x\r\n\r\nx\r\n", "Papertide <digest@x.org>", "ada@example.org")
    mailer.send(b"Subject: x\r\n\r\nx\r\n", SENDER, "ada@example.org")  # still usable
    mailer.close()
    assert [r.recipient for r in server.handler.received] == ["ada@example.org"]


def test_replies_are_classified_and_the_connection_recovers() -> None:
    with SmtpServer(Faults(refuse=frozenset({"gone@example.org"}), temporary_rate=1.0)) as server:
        mailer = SmtpMailer(SmtpOptions("127.0.0.1", server.port))
        with pytest.raises(PermanentFailure) as refused:
            mailer.send(b"Subject: x\r\n\r\nx\r\n", SENDER, "gone@example.org")
        assert refused.value.code == 550
        for _ in range(3):  # 421 closes the connection, 451 does not: both are retried later
            with pytest.raises(TemporaryFailure) as deferred:
                mailer.send(b"Subject: x\r\n\r\nx\r\n", SENDER, "ada@example.org")
            assert deferred.value.code in (421, 451)
        server.handler.faults.temporary_rate = 0.0
        mailer.send(b"Subject: x\r\n\r\nx\r\n", SENDER, "ada@example.org")
        mailer.close()
        assert [r.recipient for r in server.handler.received] == ["ada@example.org"]
