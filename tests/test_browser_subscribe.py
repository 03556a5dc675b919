"""Headless Chromium: subscribe from the feed's call to action, read the confirmation mail
from the pickup directory, follow its link, confirm; then the weekly digest is built and
sent, and arrives in the same pickup directory (issue #6)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from tests.live_server import serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.conftest import SAMPLE_DAY, SAMPLES

from papertide.config import Settings
from papertide.db import subscribers
from papertide.digest.editions import build_edition
from papertide.digest.mailer import make_mailer
from papertide.digest.send import send_edition
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.web.app import create_app

pytestmark = pytest.mark.browser

PUBLIC = "https://papers.example"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any, Path]]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    pickup = tmp_path / "mail"
    settings = Settings(
        data_dir=tmp_path / "data", load_demo=False, public_url=PUBLIC, mail_pickup_dir=pickup
    )
    app = create_app(settings)
    if SAMPLES.is_dir():  # papers for the digest
        run_import(app.state.db, HfDailySource([SAMPLES / f"{SAMPLE_DAY}.json"]))
    with serve(app) as url:
        yield url, app, pickup


def _mails(pickup: Path) -> list[EmailMessage]:
    parser = BytesParser(policy=policy.default)
    found = []
    for path in sorted(pickup.glob("*.eml")):
        message = parser.parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def test_subscribe_confirm_by_the_mailed_link(
    served: tuple[str, Any, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, app, pickup = served
    shots = Path(os.environ.get("BROWSER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.goto(base_url + "/")
            page.fill("#cta-email", "Reader@Example.ORG")
            page.click(".cta-form button[type=submit]")
            page.wait_for_url("**/subscribe?email=*")
            expect(page.locator("#email")).to_have_value("Reader@Example.ORG")
            page.check('input[name=frequency][value="weekly"]')
            page.check('input[name=categories][value="cs.LG"]')
            page.fill("#keywords", "diffusion, retrieval")
            page.screenshot(path=str(shots / "subscribe.png"), full_page=True)
            page.click("form.stack-form button[type=submit]")
            expect(page.locator("h1")).to_have_text("Check your inbox")

            (mail,) = _mails(pickup)
            assert mail["X-Papertide-Envelope-To"] == "Reader@example.org"
            assert mail["To"] == "Reader@example.org"
            body = mail.get_body(("plain",))
            assert body is not None
            link = next(w for w in body.get_content().split() if w.startswith(PUBLIC))
            assert link.startswith(PUBLIC + "/subscribe/confirm/")
            with app.state.db.read() as conn:
                found = subscribers.by_email_key(conn, "reader@example.org")
            assert found is not None and found.status == "pending"

            page.goto(base_url + link.removeprefix(PUBLIC))
            expect(page.locator("h1")).to_have_text("Confirm your subscription")
            page.click("text=Confirm my subscription")
            expect(page.locator("h1")).to_have_text("You are subscribed")
            page.screenshot(path=str(shots / "subscribed.png"))
            page.click("text=your preferences")
            expect(page.locator("[data-status]")).to_have_text("Subscribed")
            expect(page.locator('input[name=frequency][value="weekly"]')).to_be_checked()
        finally:
            browser.close()
    with app.state.db.read() as conn:
        found = subscribers.by_email_key(conn, "reader@example.org")
    assert found is not None
    assert (found.status, found.frequency) == ("confirmed", "weekly")
    assert found.topics["categories"] == ["cs.LG"]
    assert found.topics["keywords"] == ["diffusion", "retrieval"]
    assert len(_mails(pickup)) == 1  # nothing but the confirmation was sent
    assert problems == []
    if not SAMPLES.is_dir():
        return
    # The worker's weekly job, by hand: build the edition, send it.
    settings = app.state.settings
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    built = build_edition(app.state.db, "weekly", now, settings)
    assert built.edition_id is not None and built.pending == 1
    sent = send_edition(
        app.state.db, built.edition_id, make_mailer(settings), settings, signer=False
    )
    assert sent is not None
    digest = next(m for m in _mails(pickup) if m["Message-ID"].startswith("<digest."))
    assert digest["To"] == "Reader@example.org"
    assert digest["List-Unsubscribe"].startswith(f"<{PUBLIC}/unsubscribe/")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = digest.get_body(("plain",))
    assert text is not None and f"{PUBLIC}/papers/" in text.get_content()
