"""A real headless Chromium against the real app served by uvicorn: LaTeX renders via KaTeX."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.live_server import serve
from tests.web.conftest import MATH_PAPER, make_math_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    """The URL of the real app, served by uvicorn, holding MATH_DAY and MATH_PAPER's LaTeX."""
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    with serve(make_math_app(tmp_path)) as url:
        yield url


def test_paper_abstract_latex_is_rendered_by_katex(base_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", lambda request: problems.append(f"failed {request.url}"))
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.goto(base_url + "/")
            assert page.locator("li.card").count() >= 10
            page.screenshot(path=str(tmp_path / "daily.png"), full_page=True)

            page.click(f'li[data-arxiv-id="{MATH_PAPER}"] .card-title a')
            page.wait_for_url(f"**/papers/{MATH_PAPER}")
            page.wait_for_selector("#abstract .katex", timeout=10_000)
            rendered = page.locator("#abstract .katex")
            assert rendered.count() == 2  # $\lambda=1$ and $\gamma=1$
            assert "λ" in rendered.first.inner_text()
            assert "$" not in page.locator("#abstract").inner_text()
            # The KaTeX fonts load from /static (no CDN): the math font is in use.
            assert page.evaluate("document.fonts.check('16px KaTeX_Main')")
            page.screenshot(path=str(tmp_path / "paper.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "paper.png").stat().st_size > 10_000
    assert problems == []
