"""The hand-assembled MIME message parses back with the stdlib into what went in."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from papertide.digest.message import (
    MAX_LINE,
    ListInfo,
    OutgoingMessage,
    build_message,
    pack_html,
    quoted_printable,
)

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


def html_events(document: str) -> list[tuple[str, ...]]:
    """What a browser sees of `document`: tags with attributes, and text with references
    resolved and each run of white space as one space (no <pre> in these documents)."""

    class Events(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.events: list[tuple[str, ...]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.events.append(("start", tag, *(f"{k}={v}" for k, v in attrs)))

        def handle_endtag(self, tag: str) -> None:
            self.events.append(("end", tag))

        def handle_data(self, data: str) -> None:
            if self.events and self.events[-1][0] == "data":
                data = self.events.pop()[1] + data
            self.events.append(("data", data))

        def handle_decl(self, decl: str) -> None:
            self.events.append(("decl", decl))

    parser = Events()
    parser.feed(document)
    parser.close()
    events = [(e[0], re.sub(r"\s+", " ", e[1])) if e[0] == "data" else e for e in parser.events]
    if events and events[-1][0] == "data":  # white space at the very end is nothing
        events[-1] = ("data", events[-1][1].rstrip())
    return [e for e in events if e != ("data", "")]


@pytest.mark.parametrize(
    ("text", "text_encoding", "html_encoding"),
    [
        ("plain ascii\nsecond line\n", "7bit", "7bit"),
        ("Über Transformers — “quoted” ∑ αβγ 🤖\n", "quoted-printable", "7bit"),
        ("x" * 500 + "\n" + "trailing spaces   \n\ttab\n", "quoted-printable", "7bit"),
        ("x" * 999 + "\n", "quoted-printable", "quoted-printable"),  # no space to break at
        (".\n.. a line that starts with a dot\nFrom the start\n", "7bit", "7bit"),
        ("=3D not an escape, = sign, =\nCRLF\r\nlines\rand a lone CR", "7bit", "7bit"),
        ("--=_pt_ looks like a boundary\n", "quoted-printable", "7bit"),
        ("nul \x00 inside\n", "quoted-printable", "quoted-printable"),
        ("", "7bit", "7bit"),
    ],
)
def test_both_parts_decode_to_what_went_in(
    text: str, text_encoding: str, html_encoding: str
) -> None:
    html = f"<html><body><p>{text}</p></body></html>"
    parsed = parse(build(text=text, html=html))
    plain = parsed.get_body(("plain",))
    rich = parsed.get_body(("html",))
    assert plain is not None and rich is not None
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert plain.get_content().replace("\r\n", "\n") == expected
    assert plain["Content-Transfer-Encoding"] == text_encoding
    assert html_events(rich.get_content()) == html_events(html)
    assert rich["Content-Transfer-Encoding"] == html_encoding
    assert not parsed.defects and not plain.defects and not rich.defects


def test_html_travels_as_ascii_in_few_long_lines() -> None:
    rows = "".join(
        f'<tr>\n<td style="padding:4px;">\n<a href="https://x.example/p/{n}">Ünïcode “{n}”</a>'
        f"\n</td>\n</tr>\n"
        for n in range(200)
    )
    html = f"<!DOCTYPE html>\n<html><body>\n<table>\n{rows}</table>\n</body></html>\n"
    raw = build(html=html).as_bytes()
    parsed = parse(build(html=html))
    rich = parsed.get_body(("html",))
    assert rich is not None and rich["Content-Transfer-Encoding"] == "7bit"
    assert raw.isascii() and b"&#220;n&#239;code &#8220;7&#8221;" in raw
    assert html_events(rich.get_content()) == html_events(html)
    body = rich.get_payload(decode=True)
    assert isinstance(body, bytes)
    lines = body.split(b"\r\n")
    assert max(map(len, lines)) <= MAX_LINE
    assert len(lines) < html.count("\n") / 10  # ~1,000 lines packed into ~30


@pytest.mark.parametrize(
    "html",
    [
        "<p>a line with no space to break at: " + "y" * 1200 + "</p>",
        "<pre>white\n  space   counts</pre>",
        "<TEXTAREA>\n  kept\n</TEXTAREA>",
        "<p>" + "a" * 990 + " --=_pt_ would start a line like our boundary</p>",
    ],
)
def test_html_that_cannot_be_packed_goes_quoted_printable(html: str) -> None:
    rich = parse(build(html=html)).get_body(("html",))
    assert rich is not None and rich["Content-Transfer-Encoding"] == "quoted-printable"
    assert rich.get_content().replace("\r\n", "\n") == html


def test_long_html_lines_are_broken_at_spaces() -> None:
    words = " ".join(f"w{n}" for n in range(1000))
    packed = pack_html(f"<p>{words}</p>")
    assert packed is not None
    assert max(map(len, packed.split(b"\n"))) <= MAX_LINE
    assert packed.decode().split() == f"<p>{words}</p>".split()


def test_lines_are_crlf_and_short() -> None:
    raw = build(text="é" * 400 + "\n" + "word " * 300).as_bytes()
    lines = raw.split(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in lines) <= MAX_LINE
    text_part = raw.split(b"quoted-printable\r\n\r\n", 1)[1].split(b"\r\n--=_pt_", 1)[0]
    assert max(len(line) for line in text_part.split(b"\r\n")) <= 76
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


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Über Transformers — “quoted” ∑ αβγ 🤖\n", "8bit"),
        ("plain ascii\n", "7bit"),
        ("é" * 500 + "\n", "quoted-printable"),  # 1,000 octets in UTF-8: over the line limit
        ("trailing space é \n", "quoted-printable"),
        ("--=_pt_ é\n", "quoted-printable"),
    ],
)
def test_8bit_text_only_when_the_server_takes_it_and_the_lines_allow(
    text: str, encoding: str
) -> None:
    message = build(text=text, html="<p>é</p>", eight_bit=True)
    plain = parse(message).get_body(("plain",))
    assert plain is not None and plain["Content-Transfer-Encoding"] == encoding
    assert plain.get_content().replace("\r\n", "\n") == text
    assert max(map(len, message.as_bytes().split(b"\r\n"))) <= MAX_LINE
    assert message.as_bytes().isascii() == (encoding != "8bit")
