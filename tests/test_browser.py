"""A real headless Chromium against the real app served by uvicorn: LaTeX renders via KaTeX."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from papertide.config import Settings
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.web.app import create_app

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
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# HF featured 2503.24290 on 2025-04-01; its arXiv abstract has "$\lambda=1$, $\gamma=1$".
MATH_DAY, MATH_PAPER = "2025-04-01", "2503.24290"


def _lines_where(path: Path, key: str, value: str) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [line for line in lines if json.loads(line)[key] == value]


def _math_day_files(folder: Path) -> tuple[Path, Path]:
    """Real rows: MATH_PAPER's arXiv listing (LaTeX intact) and HF's entries of MATH_DAY."""
    listings = DATA / "arxiv_listings" / "arxiv_listings_2025-04.jsonl.gz"
    hf_rows = (
        DATA / "hf_daily_papers" / "normalized" / "hf_daily_papers_normalized_2025-H1.jsonl.gz"
    )
    listing_path, day_path = folder / "listing.jsonl", folder / "day.jsonl"
    listing_path.write_text("".join(_lines_where(listings, "id", MATH_PAPER)), encoding="utf-8")
    day_path.write_text("".join(_lines_where(hf_rows, "daily_date", MATH_DAY)), encoding="utf-8")
    return listing_path, day_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    """The URL of a uvicorn server in a background thread, serving MATH_DAY."""
    if not CHROMIUM.exists() or not DATA.is_dir():
        pytest.skip("needs /usr/bin/chromium and the shared data")
    app = create_app(Settings(data_dir=tmp_path / "data", load_demo=False))
    listing_path, day_path = _math_day_files(tmp_path)
    run_import(app.state.db, arxiv_jsonl_source([listing_path]))
    run_import(app.state.db, HfDailySource([day_path]))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


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
