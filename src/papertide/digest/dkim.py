"""DKIM signatures for digests (RFC 6376), fast (issue #6).

dkimpy signs with its own pure-Python RSA (~150 messages/s a core, the dependency probe);
OpenSSL through `cryptography` signs ~3,500/s. So the signature is computed here: dkimpy's
canonicalisation (relaxed headers, simple body, its default), SHA-256 and RSASSA-PKCS1-v1_5
from `cryptography`. The tests verify every signature with dkimpy's own `dkim.verify`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from dkim.canonicalization import CanonicalizationPolicy

from papertide.digest.message import OutgoingMessage

if TYPE_CHECKING:
    from papertide.config import Settings

# Both unsubscribe headers are signed, so nobody on the way can point them elsewhere.
SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
)
_CANONICALIZATION = b"relaxed/simple"


class DkimConfigError(ValueError):
    """The DKIM settings are incomplete or the key is unusable."""


@dataclass(slots=True)
class DkimSigner:
    """Signs outgoing messages for one domain and selector with one RSA key."""

    domain: str
    selector: str
    key: rsa.RSAPrivateKey
    clock: Callable[[], float] = time.time
    _policy: CanonicalizationPolicy = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._policy = CanonicalizationPolicy.from_c_value(_CANONICALIZATION)

    @classmethod
    def from_pem(cls, domain: str, selector: str, pem: bytes) -> DkimSigner:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise DkimConfigError("the DKIM key must be an RSA private key (PEM)")
        return cls(domain, selector, key)

    def signature_header(self, message: OutgoingMessage) -> bytes:
        """The `DKIM-Signature:` header block (CRLF-terminated) to put before the headers."""
        body_hash = hashlib.sha256(self._policy.canonicalize_body(message.body)).digest()
        signed = [(n, v) for n, v in message.headers if n in SIGNED_HEADERS]
        names = ":".join(name.lower() for name, _ in signed)
        tags = (
            f"v=1; a=rsa-sha256; c={_CANONICALIZATION.decode()}; d={self.domain}; "
            f"s={self.selector};\r\n\tt={int(self.clock())}; h={names};\r\n"
            f"\tbh={base64.b64encode(body_hash).decode()};\r\n\tb="
        )
        hashed = self._policy.canonicalize_headers(
            [[n.encode(), b" " + v.encode() + b"\r\n"] for n, v in signed]
            + [[b"DKIM-Signature", b" " + tags.encode()]]
        )
        data = b"".join(name + b":" + value for name, value in hashed).rstrip(b"\r\n")
        signature = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        encoded = base64.b64encode(signature).decode()
        folded = "\r\n\t ".join(encoded[i : i + 64] for i in range(0, len(encoded), 64))
        return f"DKIM-Signature: {tags}{folded}\r\n".encode("ascii")

    def sign(self, message: OutgoingMessage) -> bytes:
        """The whole message, signed."""
        return message.as_bytes(prefix=self.signature_header(message))


def signer_from_settings(settings: Settings) -> DkimSigner | None:
    """The signer when a DKIM key is configured (all three settings), else None."""
    values = (settings.dkim_selector, settings.dkim_domain, settings.dkim_private_key_path)
    if not any(values):
        return None
    if not all(values):
        raise DkimConfigError(
            "DKIM needs all of PAPERTIDE_DKIM_SELECTOR, PAPERTIDE_DKIM_DOMAIN and "
            "PAPERTIDE_DKIM_PRIVATE_KEY_PATH"
        )
    path = Path(str(settings.dkim_private_key_path))
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise DkimConfigError(f"cannot read the DKIM key {path}: {exc}") from exc
    try:
        return DkimSigner.from_pem(str(settings.dkim_domain), str(settings.dkim_selector), pem)
    except ValueError as exc:
        raise DkimConfigError(f"the DKIM key {path} is not a usable PEM key: {exc}") from exc


def dns_txt_record(key: rsa.RSAPrivateKey) -> str:
    """The TXT record to publish at `<selector>._domainkey.<domain>`."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
