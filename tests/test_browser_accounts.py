"""Headless Chromium against the real app: sign up, log out, log in, upvote without a reload.

And the same vote with JavaScript off, through the plain form (issue #5).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.live_server import serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.conftest import SAMPLE_DAY, SAMPLES, make_app

pytestmark = pytest.mark.browser

PAPER = "2608.16590"  # 92 imported upvotes
PASSWORD = "tide pools at dawn"


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    with serve(make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json")) as url:
        yield url


def _watch(page: Any, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )


def _shots(tmp_path: Path) -> Path:
    """Where screenshots go: BROWSER_SCREENSHOTS to keep them, else the test's tmp_path."""
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_sign_up_log_in_and_upvote_without_reload(base_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _watch(page, problems)
            page.goto(base_url + "/")
            page.click(".account-nav >> text=Sign up")
            page.fill("#username", "alice")
            page.fill("#email", "alice@example.org")
            page.fill("#password", PASSWORD)
            page.screenshot(path=str(shots / "signup.png"))
            page.click("form.stack-form button[type=submit]")
            expect(page.locator(".account-name")).to_have_text("alice")

            page.click("text=Log out")
            expect(page.locator(".account-nav")).to_contain_text("Log in")
            page.click(".account-nav >> text=Log in")
            page.fill("#login", "ALICE")
            page.fill("#password", PASSWORD)
            page.click("form.stack-form button[type=submit]")
            expect(page.locator(".account-name")).to_have_text("alice")

            card = page.locator(f'li[data-arxiv-id="{PAPER}"]')
            button = card.locator("button.upvote")
            expect(button.locator(".upvote-count")).to_have_text("92")
            page.evaluate("window.notReloaded = true")
            button.click()
            expect(button.locator(".upvote-count")).to_have_text("93")
            expect(button).to_have_attribute("aria-pressed", "true")
            assert page.evaluate("window.notReloaded") is True  # no navigation happened
            page.screenshot(path=str(shots / "upvoted.png"))
            button.click()
            expect(button.locator(".upvote-count")).to_have_text("92")
            expect(button).to_have_attribute("aria-pressed", "false")
            button.click()
            expect(button.locator(".upvote-count")).to_have_text("93")
            assert page.evaluate("window.notReloaded") is True

            page.reload()
            expect(card.locator("button.upvote")).to_have_attribute("aria-pressed", "true")
            page.goto(base_url + "/u/alice")
            expect(page.locator(f'li[data-arxiv-id="{PAPER}"]')).to_have_count(1)
            page.goto(base_url + "/settings")
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(shots / "settings-mobile.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []


def test_the_plain_form_votes_with_javascript_off(base_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            _watch(page, problems)
            page.goto(base_url + f"/signup?next=/papers/date/{SAMPLE_DAY}")
            page.fill("#username", "bob")
            page.fill("#email", "bob@example.org")
            page.fill("#password", PASSWORD)
            page.click("form.stack-form button[type=submit]")
            page.wait_for_url(f"**/papers/date/{SAMPLE_DAY}")
            button = page.locator(f'li[data-arxiv-id="{PAPER}"] button.upvote')
            button.click()
            page.wait_for_url(f"**/papers/date/{SAMPLE_DAY}#paper-{PAPER}")
            expect(button.locator(".upvote-count")).to_have_text("93")
            expect(button).to_have_attribute("aria-pressed", "true")
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(_shots(tmp_path) / "feed-mobile.png"))
        finally:
            browser.close()
    assert problems == []
