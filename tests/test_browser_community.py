"""Headless Chromium against the real app, the whole community journey (issue #5): sign up,
log in, submit a paper (the arXiv client on a recorded response), upvote it, comment with
LaTeX, and find it on the daily page and on the trending page."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.live_server import serve
from tests.replay import Replay
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_browser_accounts import PASSWORD, _shots, _watch
from tests.web.conftest import SAMPLE_DAY, SAMPLES

from papertide.config import Settings
from papertide.ingest.arxiv_api import API_URL, ArxivApi
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.http import HttpClient, HttpOptions
from papertide.ingest.runner import run_import
from papertide.ingest.submission import ArxivLookup
from papertide.web.app import create_app

pytestmark = pytest.mark.browser

PAPER = "2104.12255"  # "0", cs.CR, 2021: recorded from the arXiv API
RECORDED = (
    "fixtures/arxiv_api_atom/arxiv.py/recorded_2026/id_2104.12255v1_s0_m100_6ae69987ffe1.json"
)
QUERY = {"sortBy": "relevance", "sortOrder": "descending", "start": "0", "max_results": "100"}


@pytest.fixture
def base_url(tmp_path: Path, shared_data: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    settings = Settings(data_dir=tmp_path / "data", load_demo=False, submission_max_age_days=3650)
    app = create_app(settings)
    run_import(app.state.db, HfDailySource([SAMPLES / f"{SAMPLE_DAY}.json"]))
    replay = Replay()
    url = httpx.URL(API_URL, params={"search_query": "", "id_list": PAPER, **QUERY})
    replay.add(str(url), 200, json.loads((shared_data / RECORDED).read_text())["body"])
    http = HttpClient(HttpOptions(retries=0), transport=replay.transport, sleep=replay.sleep)
    app.state.arxiv_lookup = ArxivLookup(ArxivApi(http), deadline_s=5.0)
    with serve(app) as served:
        yield served


def test_sign_up_submit_upvote_comment_daily_and_trending(base_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _watch(page, problems)
            page.goto(base_url + "/signup")
            page.fill("#username", "alice")
            page.fill("#email", "alice@example.org")
            page.fill("#password", PASSWORD)
            page.click("form.stack-form button[type=submit]")
            page.click("text=Log out")
            page.click(".account-nav >> text=Log in")
            page.fill("#login", "alice")
            page.fill("#password", PASSWORD)
            page.click("form.stack-form button[type=submit]")
            expect(page.locator(".account-name")).to_have_text("alice")

            # Submit: a malformed id is refused with a message, the real one is featured.
            page.click(".account-nav >> text=Submit")
            page.fill("#paper", "not-a-paper")
            page.click("#submit-form button[type=submit]")
            expect(page.locator("#submit-error")).to_contain_text("is not an arXiv id")
            page.fill("#paper", f"https://arxiv.org/abs/{PAPER}v1")
            page.fill("#comment", "The funniest number in cryptography.")
            page.click("#submit-form button[type=submit]")
            expect(page.locator("#submitted")).to_be_visible()
            expect(page.locator("h1")).to_have_text("0")

            # Upvote without a reload, then comment with LaTeX.
            page.evaluate("window.notReloaded = true")
            button = page.locator("article.paper button.upvote")
            expect(button.locator(".upvote-count")).to_have_text("0")
            button.click()
            expect(button.locator(".upvote-count")).to_have_text("1")
            assert page.evaluate("window.notReloaded") is True
            page.fill("#comment-body", "Nice: for all $x$, $x \\cdot 0 = 0$.")
            page.click("#comment-form button[type=submit]")
            comment = page.locator("li.comment").first
            expect(comment.locator(".comment-author")).to_have_text("alice")
            expect(comment.locator(".katex").first).to_be_visible()  # KaTeX rendered it
            page.screenshot(path=str(shots / "paper-with-comment.png"), full_page=True)

            # Hostile LaTeX: a javascript: link and a macro bomb. Nothing runs, no link is
            # made, and KaTeX gives up quickly (maxExpand) instead of hanging the page.
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.fill("#comment-body", "$\\href{javascript:alert(1)}{click}$ $\\def\\b{\\b\\b}\\b$")
            started = time.monotonic()
            page.click("#comment-form button[type=submit]")
            expect(page.locator("li.comment")).to_have_count(2)
            page.wait_for_load_state("load")
            assert time.monotonic() - started < 10
            links = page.locator("#comments a").evaluate_all("(els) => els.map((a) => a.href)")
            assert not [href for href in links if href.lower().startswith("javascript:")]
            hostile = page.locator("li.comment").nth(1)
            expect(hostile.locator(".katex, .katex-error").first).to_be_attached()  # processed
            hostile.locator(".comment-body").click()
            assert dialogs == []

            # On today's daily page, with the submitter's comment; and on the trending page.
            today = dt.datetime.now(dt.UTC).date().isoformat()
            page.goto(f"{base_url}/papers/date/{today}")
            card = page.locator(f'li[data-arxiv-id="{PAPER}"]')
            expect(card).to_contain_text("The funniest number in cryptography.")
            expect(card.locator(".upvote-count")).to_have_text("1")
            page.goto(base_url + "/papers/trending")
            card = page.locator(f'li[data-arxiv-id="{PAPER}"]')
            expect(card).to_be_visible()
            expect(card).to_contain_text("upvote")
            page.screenshot(path=str(shots / "trending.png"), full_page=True)
        finally:
            browser.close()
    # The refused submission answers 400 on purpose (and Chromium logs that it did).
    expected = [f"400 {base_url}/submit", "status of 400 (Bad Request)"]
    assert [p for p in problems if not any(e in p for e in expected)] == []
