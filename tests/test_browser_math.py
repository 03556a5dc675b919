"""Hostile LaTeX cannot crash or freeze a paper page (issue #10).

Two comments seen in the wild crashed the Chromium tab (765 nested `\\underbrace{`) or stopped
KaTeX for every later comment (4,900 nested `{`). Both are posted here, followed by a comment
with ordinary math that must still render; the same two formulas also sit in the paper's
abstract, which the server does not bound (it comes from arXiv), so the browser's own limits
are exercised too. The tab must stay alive and answer."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.live_server import serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.conftest import SAMPLE_DAY, make_app, sample_items

from papertide.db import accounts, comments

pytestmark = pytest.mark.browser

PAPER = "2608.16590"
UNDERBRACES = "$" + "\\underbrace{" * 765 + "x" + "}" * 765 + "$"  # 9,948 characters
BRACES = "$" + "{" * 4900 + "x" + "}" * 4900 + "$"
NORMAL = "The ratio is $\\frac{a}{b}$, fine."


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    items = sample_items(SAMPLE_DAY)
    (item,) = [item for item in items if item["paper"]["id"] == PAPER]  # type: ignore[index]
    item["paper"]["summary"] = f"First {BRACES} then {UNDERBRACES} and at last $\\alpha$."  # type: ignore[index]
    day_file = tmp_path / f"{SAMPLE_DAY}.json"
    day_file.write_text(json.dumps(items), encoding="utf-8")
    app = make_app(tmp_path, day_file)
    now = dt.datetime(2026, 8, 21, 12, 0)
    with app.state.db.write() as conn:
        author = accounts.create_user(conn, "mallory", "m@example.org", "x", "member", now)
        for body in (UNDERBRACES, BRACES, NORMAL):
            comments.add_comment(conn, PAPER, author.id, body, now)
    with serve(app) as url:
        yield url


def test_hostile_formulas_neither_crash_nor_stop_the_math_after_them(
    base_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    crashes: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            page.on("crash", lambda _page: crashes.append("the tab crashed"))
            page.on("pageerror", lambda error: errors.append(str(error)))
            started = time.monotonic()
            page.goto(f"{base_url}/papers/{PAPER}")
            bodies = page.locator(".comment-body")
            normal = bodies.nth(2)
            normal.locator(".katex").wait_for()
            rendered_after = time.monotonic() - started
            assert page.evaluate("() => 1 + 1") == 2  # the tab is alive and answers
            page.screenshot(path=str(tmp_path / "hostile-math.png"))

            assert crashes == [] and errors == []
            assert "a" in normal.locator(".katex").inner_text()
            # The hostile formulas are shown as their source text, never handed to KaTeX.
            for number, source in ((0, UNDERBRACES), (1, BRACES)):
                assert bodies.nth(number).locator(".katex").count() == 0
                assert source[:40] in bodies.nth(number).inner_text()
            abstract = page.locator("#abstract")
            assert abstract.locator(".katex").count() == 1  # $\alpha$ only
            assert "α" in abstract.locator(".katex").inner_text()
            assert "\\underbrace{\\underbrace{" in abstract.inner_text()
            assert rendered_after < 10, f"the math took {rendered_after:.1f} s"
        finally:
            browser.close()
