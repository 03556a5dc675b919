"""Digest sending (issue #6): messages per second delivered to a local SMTP sink.

    python bench/digest_send.py [--subscribers 10000] [--processes 2] [--threads 4] [--json]

Builds a throwaway database (the built-in demo papers) with N confirmed subscribers and four
editions of 10 papers each, starts aiosmtpd's discarding sink (`aiosmtpd.handlers.Sink`) in
its own process, and times `papertide digest send`'s path end to end (claim, re-check, render,
build, sign, SMTP, ledger; `send_edition_in_processes`: helper processes at the default
lowered priority, their start-up included) for one edition unsigned and one DKIM-signed
(RSA-2048, the key read from a PEM file as configured), and, as baselines, one edition
unsigned from a single process and one by the helpers at normal priority. The same run
measures the sink alone (prebuilt bytes), the sender alone (no SMTP), and per message on one
core: the stdlib way of composing (EmailMessage + as_bytes) against ours, and dkimpy's own
signing against ours. Targets: >= 1,000 msg/s unsigned, >= 500 signed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rich.console import Console
from rich.table import Table

from papertide.bootstrap import open_database
from papertide.config import Settings
from papertide.db import Database
from papertide.db.deliveries import Claimed, Recipient
from papertide.db.schema import delivery, edition, paper, subscriber
from papertide.digest.dkim import DkimSigner
from papertide.digest.mailer import SmtpMailer, SmtpOptions
from papertide.digest.message import build_message
from papertide.digest.send import (
    Links,
    SendOptions,
    default_renderer,
    list_info,
    send_edition,
    send_edition_in_processes,
)

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 27, 7, 0)
console = Console(stderr=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the SMTP sink did not start on port {port}")


def populate(db: Database, subscribers: int) -> tuple[list[int], list[str]]:
    """N confirmed subscribers and four editions (unsigned, signed, one process, helpers at
    normal priority) of 10 papers each."""
    with db.write() as conn:
        papers = list(conn.execute(sa.select(paper.c.id).order_by(paper.c.id).limit(10)).scalars())
        conn.execute(
            subscriber.insert(),
            [
                {
                    "email": f"reader{n:06d}@example.org",
                    "email_key": f"reader{n:06d}@example.org",
                    "topics": {"categories": ["cs.LG"]},
                    "status": "confirmed",
                    "token_salt": f"salt-{n}",
                    "created_at": NOW,
                }
                for n in range(subscribers)
            ],
        )
        ids = list(conn.execute(sa.select(subscriber.c.id)).scalars())
        editions = []
        for period in ("2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"):
            edition_id = conn.execute(
                edition.insert().values(
                    kind="daily", period=period, papers=papers, built_at=NOW, status="built"
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                delivery.insert(),
                [{"edition_id": edition_id, "subscriber_id": i, "papers": papers} for i in ids],
            )
            editions.append(int(edition_id))
    return editions, papers


def one_message_inputs(db: Database, settings: Settings, edition_id: int) -> dict[str, Any]:
    """The rendered bodies of one delivery, for the per-message baselines."""
    with db.read() as conn:
        row = conn.execute(sa.select(delivery).where(delivery.c.edition_id == edition_id)).first()
    assert row is not None
    claimed = Claimed(row.id, edition_id, row.subscriber_id, row.papers, 1)
    recipient = Recipient(row.subscriber_id, "reader@example.org", "confirmed", "salt", {})
    links = Links("https://papers.example.org/unsubscribe/1.x", "https://papers.example.org/m/1")
    text, html = default_renderer(db, settings, edition_id)(claimed, recipient, links)
    return {"text": text, "html": html, "unsubscribe": links.unsubscribe}


def sample_message(inputs: dict[str, Any], settings: Settings, signer: DkimSigner) -> bytes:
    """One signed digest as sent, for the sink-alone ceiling."""
    built = build_message(
        list_info(settings, "daily", "2026-11-27"), to="reader@example.org", edition_id=1,
        subscriber_id=1, unsubscribe_url=inputs["unsubscribe"], text=inputs["text"],
        html=inputs["html"], date=NOW, eight_bit=True,
    )  # fmt: skip
    return signer.sign(built)


def per_second(action: Any, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        action()
    return repeat / (time.perf_counter() - started)


def baselines(
    inputs: dict[str, Any], settings: Settings, key: rsa.RSAPrivateKey
) -> dict[str, float]:
    """Per-message rates on one core: stdlib vs ours for composing, dkimpy vs ours for signing."""
    info = list_info(settings, "daily", "2026-11-27")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    signer = DkimSigner("papers.example.org", "bench", key)

    def ours() -> bytes:
        return build_message(
            info, to="reader@example.org", edition_id=1, subscriber_id=1,
            unsubscribe_url=inputs["unsubscribe"], text=inputs["text"], html=inputs["html"],
            date=NOW, eight_bit=True,
        ).as_bytes()  # fmt: skip

    def stdlib() -> bytes:
        message = EmailMessage()
        message["From"] = info.mail_from
        message["To"] = "reader@example.org"
        message["Subject"] = info.subject
        message["Message-ID"] = "<digest.1.1@papers.example.org>"
        message["List-Id"] = f"{info.list_name} <{info.list_id}>"
        message["List-Unsubscribe"] = f"<{inputs['unsubscribe']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(inputs["text"])
        message.add_alternative(inputs["html"], subtype="html")
        return message.as_bytes()

    built = build_message(
        info, to="reader@example.org", edition_id=1, subscriber_id=1,
        unsubscribe_url=inputs["unsubscribe"], text=inputs["text"], html=inputs["html"], date=NOW,
        eight_bit=True,
    )  # fmt: skip
    raw = built.as_bytes()
    headers = [b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe"]
    return {
        "compose_ours": per_second(ours, 2000),
        "compose_stdlib": per_second(stdlib, 300),
        "sign_ours": per_second(lambda: signer.sign(built), 1000),
        "sign_dkimpy": per_second(
            lambda: dkim.sign(raw, b"bench", b"papers.example.org", pem, include_headers=headers),
            60,
        ),
    }


class NullMailer:
    """Accepts everything at once: what the sender costs without any SMTP server."""

    def send(self, message: EmailMessage | bytes, sender: str, recipient: str) -> None:
        pass

    def accepts_8bit(self) -> bool:
        return True

    def close(self) -> None:
        pass


def sink_ceiling(port: int, data: bytes, threads: int, count: int) -> float:
    """The sink alone: the same message bytes, prebuilt, sent by `threads` connections."""
    mailer = SmtpMailer(SmtpOptions("127.0.0.1", port, timeout_s=30))

    def run() -> None:
        for _ in range(count // threads):
            mailer.send(data, "digest@papers.example.org", "reader@example.org")
        mailer.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (count // threads * threads) / (time.perf_counter() - started)


def reset(db: Database, edition_id: int) -> None:
    with db.write() as conn:
        conn.execute(
            delivery.update()
            .where(delivery.c.edition_id == edition_id)
            .values(status="pending", attempts=0, message_id=None, sent_at=None)
        )
        conn.execute(edition.update().where(edition.c.id == edition_id).values(status="built"))


def timed_send(
    db: Database,
    settings: Settings,
    edition_id: int,
    mailer: SmtpMailer | NullMailer,
    signer: DkimSigner | None = None,
) -> dict[str, float]:
    """One process (`send_edition`) with the settings' threads; `signer` as given."""
    reset(db, edition_id)
    options = SendOptions.from_settings(settings, max_wait_s=5)
    started = time.perf_counter()
    report = send_edition(
        db, edition_id, mailer, settings, "bench", options=options, signer=signer or False
    )
    seconds = time.perf_counter() - started
    assert report.finished, report.summary()
    return {"sent": report.sent, "seconds": seconds, "per_second": report.sent / seconds}


def timed_send_processes(db: Database, settings: Settings, edition_id: int) -> dict[str, float]:
    """As `papertide digest send` does it: the settings' processes, threads and DKIM key."""
    reset(db, edition_id)
    options = SendOptions.from_settings(settings, max_wait_s=5)
    mailer = SmtpMailer(SmtpOptions(settings.smtp_host, settings.smtp_port, timeout_s=30))
    started = time.perf_counter()
    report = send_edition_in_processes(db, edition_id, mailer, settings, "bench", options=options)
    seconds = time.perf_counter() - started
    mailer.close()
    assert report.finished, report.summary()
    return {"sent": report.sent, "seconds": seconds, "per_second": report.sent / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="Sender processes.")
    parser.add_argument("--threads", type=int, default=4, help="Sender threads per process.")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()

    folder = args.out / "digest_send"
    shutil.rmtree(folder, ignore_errors=True)
    port = free_port()
    settings = Settings(
        data_dir=folder,
        public_url="https://papers.example.org",
        mail_from="Papertide <digest@papers.example.org>",
        smtp_host="127.0.0.1",
        smtp_port=port,
        digest_send_processes=args.processes,
        digest_send_threads=args.threads,
        digest_batch_size=args.batch,
        digest_max_per_second=0,
    )
    with console.status("building the database"):
        db = open_database(settings)  # loads the demo papers
        editions, _papers = populate(db, args.subscribers)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = folder / "dkim.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signed_settings = settings.model_copy(
        update={
            "dkim_domain": "papers.example.org",
            "dkim_selector": "bench",
            "dkim_private_key_path": pem,
        }
    )
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
    )  # fmt: skip
    signer = DkimSigner("papers.example.org", "bench", key)
    one_process = settings.model_copy(update={"digest_send_threads": 4})
    inputs = one_message_inputs(db, settings, editions[0])
    try:
        wait_for(port)
        with console.status(f"sending unsigned ({args.processes} processes)"):
            unsigned = timed_send_processes(db, settings, editions[0])
        with console.status(f"sending signed ({args.processes} processes)"):
            signed = timed_send_processes(db, signed_settings, editions[1])
        with console.status("sending unsigned, one process"):
            smtp = SmtpMailer(SmtpOptions("127.0.0.1", port, timeout_s=30))
            single = timed_send(db, one_process, editions[2], smtp)
        with console.status(f"sending unsigned ({args.processes} processes, not niced)"):
            not_niced = settings.model_copy(update={"digest_send_nice": 0})
            normal_priority = timed_send_processes(db, not_niced, editions[3])
        with console.status("the sink alone"):
            ceiling = sink_ceiling(
                port, sample_message(inputs, settings, signer), args.threads, 4000
            )
    finally:
        sink.terminate()
        sink.wait()
    with console.status("the sender alone (no SMTP)"):
        null_unsigned = timed_send(db, one_process, editions[0], NullMailer())
        null_signed = timed_send(db, one_process, editions[1], NullMailer(), signer)
    with console.status("baselines"):
        base = baselines(inputs, settings, key)
    db.dispose()

    figures = {"subscribers": args.subscribers, "processes": args.processes,
               "threads": args.threads, "unsigned": unsigned, "signed": signed,
               "one_process_unsigned": single, "not_niced_unsigned": normal_priority,
               "nice": settings.digest_send_nice, "sink_ceiling": ceiling,
               "sender_only_unsigned": null_unsigned, "sender_only_signed": null_signed,
               "baselines": base}  # fmt: skip
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    shape = f"{args.processes} helpers x {args.threads} threads, nice {settings.digest_send_nice}"
    table = Table("what", "figure", "target / baseline")
    table.add_row(
        f"delivered, unsigned ({shape})", f"{unsigned['per_second']:,.0f} msg/s", ">= 1,000"
    )
    table.add_row(
        f"delivered, DKIM-signed ({shape})", f"{signed['per_second']:,.0f} msg/s", ">= 500"
    )
    table.add_row(
        f"delivered, unsigned ({args.processes} helpers at normal priority)",
        f"{normal_priority['per_second']:,.0f} msg/s",
        f"x{unsigned['per_second'] / normal_priority['per_second']:.2f} with nice",
    )
    table.add_row(
        "delivered, unsigned, one process x 4 threads",
        f"{single['per_second']:,.0f} msg/s",
        f"x{unsigned['per_second'] / single['per_second']:.2f} with {args.processes} processes",
    )
    table.add_row(
        "the aiosmtpd sink alone (same bytes)",
        f"{ceiling:,.0f} msg/s",
        f"delivered unsigned = {unsigned['per_second'] / ceiling:.0%} of it",
    )
    table.add_row(
        "the sender alone, no SMTP, one process: unsigned",
        f"{null_unsigned['per_second']:,.0f} msg/s",
        ">= 1,000",
    )
    table.add_row(
        "the sender alone, no SMTP, one process: signed",
        f"{null_signed['per_second']:,.0f} msg/s",
        ">= 500",
    )
    table.add_row(
        "compose one message (1 core)",
        f"{base['compose_ours']:,.0f}/s",
        f"stdlib {base['compose_stdlib']:,.0f}/s "
        f"(x{base['compose_ours'] / base['compose_stdlib']:.1f})",
    )
    table.add_row(
        "DKIM-sign one message (1 core)",
        f"{base['sign_ours']:,.0f}/s",
        f"dkimpy {base['sign_dkimpy']:,.0f}/s (x{base['sign_ours'] / base['sign_dkimpy']:.1f})",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
