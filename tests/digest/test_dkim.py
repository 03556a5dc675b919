"""DKIM signatures verify with dkimpy's own verifier (offline key) and break on tampering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from papertide.config import Settings
from papertide.digest.dkim import (
    SIGNED_HEADERS,
    DkimConfigError,
    DkimSigner,
    dns_txt_record,
    signer_from_settings,
)
from papertide.digest.message import ListInfo, OutgoingMessage, build_message

INFO = ListInfo(
    "Papertide <digest@papers.example.org>",
    "daily.digest.papers.example.org",
    "Papertide daily digest",
    "Papertide daily digest: trending papers, 2026-11-27 — “AI”",
)
UNSUBSCRIBE = "https://papers.example.org/unsubscribe/12.SbN2dV_w-Q"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def dns(key: rsa.RSAPrivateKey) -> Callable[..., bytes]:
    record = dns_txt_record(key).encode()

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"pt2026._domainkey.papers.example.org."
        return record

    return lookup


def message(text: str = "Hello ✓\n" * 50, eight_bit: bool = False) -> OutgoingMessage:
    return build_message(
        INFO,
        to="ada@example.org",
        edition_id=3,
        subscriber_id=12,
        unsubscribe_url=UNSUBSCRIBE,
        text=text,
        html=f"<p>{text}</p>",
        date=dt.datetime(2026, 11, 27, 7),
        eight_bit=eight_bit,
    )


@pytest.mark.parametrize("eight_bit", [False, True])
def test_a_signature_verifies_with_dkimpy(
    key: rsa.RSAPrivateKey, dns: Callable[..., bytes], eight_bit: bool
) -> None:
    built = message(eight_bit=eight_bit)
    signed = DkimSigner("papers.example.org", "pt2026", key).sign(built)
    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple;")
    assert signed.isascii() != eight_bit  # the text part went as 8-bit UTF-8, or not
    assert dkim.verify(signed, dnsfunc=dns)


def test_both_unsubscribe_headers_are_signed(
    key: rsa.RSAPrivateKey, dns: Callable[..., bytes]
) -> None:
    signed = DkimSigner("papers.example.org", "pt2026", key).sign(message())
    verifier = dkim.DKIM(signed)
    assert verifier.verify(dnsfunc=dns)
    signed_names = {name.lower() for name in verifier.signature_fields[b"h"].split(b":")}
    assert {b"list-unsubscribe", b"list-unsubscribe-post", b"from", b"message-id"} <= signed_names
    assert signed_names == {name.lower().encode() for name in SIGNED_HEADERS}


@pytest.mark.parametrize(
    ("original", "altered"),
    [
        (UNSUBSCRIBE.encode(), b"https://evil.example.com/unsubscribe/12.SbN2dV_w-Q"),
        (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x=y"),
        (b"To: ada@example.org", b"To: eve@example.org"),
        (b"<digest.3.12@papers.example.org>", b"<digest.3.13@papers.example.org>"),
        (b"Hello =E2=9C=93", b"Hallo =E2=9C=93"),  # the body
    ],
)
def test_altering_a_signed_header_or_the_body_fails_verification(
    key: rsa.RSAPrivateKey, dns: Callable[..., bytes], original: bytes, altered: bytes
) -> None:
    signed = DkimSigner("papers.example.org", "pt2026", key).sign(message())
    assert original in signed
    assert not dkim.verify(signed.replace(original, altered, 1), dnsfunc=dns)


def test_dkimpy_and_this_signer_agree_on_the_body_hash(key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    outgoing = message()
    theirs = dkim.sign(outgoing.as_bytes(), b"pt2026", b"papers.example.org", pem)
    ours = DkimSigner("papers.example.org", "pt2026", key).signature_header(outgoing)
    assert dkim.DKIM(theirs + outgoing.as_bytes()).verify(
        dnsfunc=lambda *_a, **_k: dns_txt_record(key).encode()
    )

    def body_hash(header: bytes) -> bytes:
        return header.split(b"bh=")[1].split(b";")[0].strip()

    assert body_hash(ours) == body_hash(theirs)


def test_settings_turn_signing_on_only_with_all_three(
    key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    assert signer_from_settings(Settings(load_demo=False)) is None
    with pytest.raises(DkimConfigError, match="needs all of"):
        signer_from_settings(Settings(dkim_selector="pt2026"))
    path = tmp_path / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signer = signer_from_settings(
        Settings(
            dkim_selector="pt2026", dkim_domain="papers.example.org", dkim_private_key_path=path
        )
    )
    assert signer is not None and signer.domain == "papers.example.org"
    path.write_text("not a key")
    with pytest.raises(DkimConfigError, match="not a usable PEM key"):
        signer_from_settings(
            Settings(dkim_selector="s", dkim_domain="example.org", dkim_private_key_path=path)
        )
