"""Headless Chromium through "your own Papertide" (issue #14): sign up, pick interests on For
you, mark a paper, save one to a list, export the list as BibTeX, import that file into a second
account's list, and follow an author."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.live_server import serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_browser_accounts import _shots, _watch
from tests.web.test_for_you import DAY, _client

pytestmark = pytest.mark.browser

PASSWORD = "tide pools at dawn"


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    with serve(_client(tmp_path).app) as url:  # type: ignore[arg-type]
        yield url


def _sign_up(page: object, base_url: str, name: str) -> None:
    page.goto(base_url + "/signup")  # type: ignore[attr-defined]
    page.fill("#username", name)  # type: ignore[attr-defined]
    page.fill("#email", f"{name}@example.org")  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("form.stack-form button[type=submit]")  # type: ignore[attr-defined]


def test_the_whole_for_you_loop(base_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _watch(page, problems)
            _sign_up(page, base_url, "alice")
            page.goto(base_url + f"/papers/for-you?date={DAY}")
            page.fill("#for-you-keywords", "protein folding")
            page.click("text=Start my For you")
            expect(page.locator(".card").first).to_contain_text("proteins")
            expect(page.locator(".why").first).to_contain_text("saved search")
            page.locator(".feedback-row button", has_text="More like this").first.click()
            expect(page.locator(".feedback-row").first).to_contain_text("More like this: noted.")
            page.screenshot(path=str(shots / "for-you.png"), full_page=True)

            page.goto(base_url + "/papers/2603.00200")
            page.fill("#save-new", "Folding")
            page.fill("#save-note", "start here")
            page.click("text=Save to list")
            expect(page.locator(".save-panel")).to_contain_text("Saved to")
            page.click(".save-panel a >> text=Folding")
            href = page.locator("a", has_text="BibTeX").get_attribute("href")
            exported = page.request.get(base_url + str(href))  # with the browser's session
            assert exported.ok
            bib = tmp_path / "list.bib"
            bib.write_bytes(exported.body())
            assert "eprint = {2603.00200}" in bib.read_text()

            page.click("text=Log out")
            _sign_up(page, base_url, "bob")
            page.goto(base_url + "/lists")
            page.fill("#list-name", "From Alice")
            page.click("text=Create list")
            page.set_input_files("input[type=file]", str(bib))
            page.click("button >> text=Import")
            expect(page.locator(".import-report")).to_contain_text("1 of 1 entries matched")
            expect(page.locator(".card")).to_have_count(1)

            page.goto(base_url + "/papers/2603.00200")
            page.click(".authors a")
            page.click("button >> text=Follow")
            expect(page.locator("button", has_text="Following")).to_be_visible()
        finally:
            browser.close()
    assert problems == [], problems
