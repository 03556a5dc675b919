"""A feed reader finds a page's feed as Chromium shows it: `<link rel="alternate">` in the
head and a visible feed button, both leading to a feed that parses (issue #13)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from tests.live_server import serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.conftest import OTHER_SAMPLE_DAY, SAMPLE_DAY, SAMPLES, make_app

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json", SAMPLES / f"{OTHER_SAMPLE_DAY}.json")
    with serve(app) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "feed_path"),
    [
        ("/", "/feeds/daily.rss"),
        (f"/papers/date/{OTHER_SAMPLE_DAY}", f"/feeds/papers/date/{OTHER_SAMPLE_DAY}.rss"),
        ("/papers/trending?window=30d", "/feeds/trending.rss?window=30d"),
        ("/papers?q=language+models", "/feeds/search.rss?q=language+models"),
        ("/u/taesiri", "/feeds/u/taesiri/submissions.rss"),
    ],
)
def test_each_list_page_announces_its_feed_and_shows_a_button(
    base_url: str, tmp_path: Path, path: str, feed_path: str
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            page.goto(base_url + path)
            alternates = page.locator('head link[rel="alternate"]')
            types = [alternates.nth(i).get_attribute("type") for i in range(alternates.count())]
            assert types == ["application/rss+xml", "application/atom+xml"]
            announced = alternates.first.get_attribute("href")
            button = page.locator("a.feed-button")
            assert button.is_visible()
            assert button.get_attribute("href") == announced == feed_path
            if path == "/":
                page.screenshot(path=str(tmp_path / "feed-button.png"))
            # Following the button gives the feed itself, which a reader can parse.
            for href in (announced, alternates.nth(1).get_attribute("href")):
                response = httpx.get(base_url + str(href), timeout=20)
                assert response.status_code == 200
                parsed = feedparser.parse(response.content)
                assert not parsed.bozo and parsed.entries
        finally:
            browser.close()
