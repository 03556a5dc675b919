"""`papertide worker` stops gracefully on SIGTERM (issue #11, docs/deploy.md): it finishes the
message in hand, hands its unsent digest claims back at once, and exits 0."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from tests.digest.smtp_server import SmtpServer
from tests.digest.test_send import add_edition
from tests.test_multi_host import _claimed, _edition_status, _received, _workers

from papertide.db import Database

pytestmark = pytest.mark.slow


def test_sigterm_hands_back_unsent_claims_and_exits(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    with SmtpServer() as smtp:
        edition_id = add_edition(db, ["confirmed"] * 200)
        folder = tmp_path / "worker"
        # 10 messages a second: the edition takes 20 s, so the stop lands mid-send. The lease
        # stays the default 300 s, so only a hand-back (not an expiry) frees the claims.
        with _workers(database_url, folder, smtp.port, ("w1",), digest_max_per_second="10") as (
            workers
        ):
            deadline = time.monotonic() + 120
            while sum(_received(smtp, edition_id).values()) < 20:
                assert time.monotonic() < deadline, (folder / "w1.log").read_text()
                time.sleep(0.05)
            stopped_at = time.monotonic()
            workers["w1"].send_signal(signal.SIGTERM)
            assert workers["w1"].wait(timeout=30) == 0, (folder / "w1.log").read_text()
            took = time.monotonic() - stopped_at
        log = (folder / "w1.log").read_text()
        sent = sum(_received(smtp, edition_id).values())
    assert "SIGTERM: stopping after the current job." in log and "Worker stopped." in log
    assert took < 15, took
    assert 20 <= sent < 200  # it stopped mid-edition ...
    assert _claimed(db) == 0  # ... and nothing is left claimed: the rest is pending again
    assert _edition_status(db, edition_id) != "done"
