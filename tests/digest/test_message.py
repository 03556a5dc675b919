"""The hand-assembled MIME message parses back with the stdlib into what went in."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import pytest

from papertide.digest.message import ListInfo, OutgoingMessage, build_message, quoted_printable

INFO = ListInfo(
    mail_from="Papertide <digest@papers.example.org>",
    list_id="daily.digest.papers.example.org",
    list_name="Papertide daily digest",
    subject="Papertide daily digest: trending papers, 2026-11-27",
)
UNSUBSCRIBE = "https://papers.example.org/unsubscribe/12.SbN2dV_w-Q"
DATE = dt.datetime(2026, 11, 27, 7, 0, 3)


def build(text: str = "Hello\n", html: str = "<p>Hello</p>", **changes: object) -> OutgoingMessage:
    arguments: dict[str, object] = {
        "to": "ada@example.org",
        "edition_id": 3,
        "subscriber_id": 12,
        "unsubscribe_url": UNSUBSCRIBE,
        "text": text,
        "html": html,
        "date": DATE,
    }
    return build_message(changes.pop("info", INFO), **(arguments | changes))  # type: ignore[arg-type]


def parse(message: OutgoingMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_headers_carry_the_list_and_one_click_unsubscribe() -> None:
    parsed = parse(build())
    assert parsed["From"] == "Papertide <digest@papers.example.org>"
    assert parsed["To"] == "ada@example.org"
    assert parsed["Subject"] == INFO.subject
    assert parsed["Date"].datetime == DATE.replace(tzinfo=dt.UTC)
    assert parsed["Message-ID"] == "<digest.3.12@papers.example.org>"
    assert parsed["List-Id"] == "Papertide daily digest <daily.digest.papers.example.org>"
    assert parsed["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    assert not parsed.defects


def test_the_message_id_is_the_same_on_every_resend_and_differs_per_person() -> None:
    first = build(date=DATE)
    again = build(date=DATE + dt.timedelta(hours=5), text="other text")
    other = build(subscriber_id=13)
    assert first.message_id == again.message_id == parse(again)["Message-ID"]
    assert other.message_id != first.message_id
    assert build(edition_id=4).message_id != first.message_id


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii\nsecond line\n",
        "Über Transformers — “quoted” ∑ αβγ 🤖\n",
        "x" * 500 + "\n" + "trailing spaces   \n\ttab\n",
        ".\n.. a line that starts with a dot\nFrom the start\n",
        "=3D not an escape, = sign, =\nCRLF\r\nlines\rand a lone CR",
        "--=_pt_ looks like a boundary\n",
        "",
    ],
)
def test_both_parts_decode_to_what_went_in(text: str) -> None:
    html = f"<html><body><p>{text}</p></body></html>"
    parsed = parse(build(text=text, html=html))
    plain = parsed.get_body(("plain",))
    rich = parsed.get_body(("html",))
    assert plain is not None and rich is not None
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert plain.get_content().replace("\r\n", "\n") == expected
    assert rich.get_content().replace("\r\n", "\n") == html.replace("\r\n", "\n").replace(
        "\r", "\n"
    )
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert not parsed.defects and not plain.defects and not rich.defects


def test_lines_are_crlf_and_short() -> None:
    raw = build(text="é" * 400 + "\n" + "word " * 300).as_bytes()
    lines = raw.split(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in lines) <= 998
    body_lines = raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
    assert max(len(line) for line in body_lines) <= 76
    assert raw.isascii()


def test_non_ascii_subject_and_sender_name_are_encoded_words() -> None:
    info = ListInfo("Papiers à lire <d@example.org>", "x.example.org", "Liste é", "Sélection — 27")
    parsed = parse(build(info=info))
    assert parsed["Subject"] == "Sélection — 27"
    assert parsed["From"].addresses[0].display_name == "Papiers à lire"
    assert parsed["List-Id"] == "Liste é <x.example.org>"
    assert build(info=info).header_bytes().isascii()


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError):
        build(unsubscribe_url="https://x.example/u/1>\r\nBcc: evil@example.org")
    with pytest.raises(ValueError):
        build(to="ädå@exämple.org")
    info = ListInfo(INFO.mail_from, INFO.list_id, INFO.list_name, "Hi\r\nBcc: evil@example.org")
    header = build(info=info).header_bytes()
    assert b"\r\nBcc:" not in header


def test_quoted_printable_round_trips_with_the_stdlib() -> None:
    import quopri

    text = "naïve = café\n" + "z" * 200 + " \n"
    assert quopri.decodestring(quoted_printable(text).replace(b"\r\n", b"\n")).decode() == text
