import hashlib
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from papertide.web.security import CONTENT_SECURITY_POLICY


def test_every_page_carries_the_content_security_policy(client: TestClient) -> None:
    for path in ("/", "/papers/2608.16590", "/papers/nope", "/static/style.css"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "img-src 'self' data:" in CONTENT_SECURITY_POLICY


def test_subscribe_post_without_a_csrf_token_is_refused_and_saves_nothing(
    client: TestClient,
) -> None:
    response = client.post("/subscribe", data={"email": "someone@example.org"})
    assert response.status_code == 403
    assert "Check your inbox" not in response.text


def test_feed_links_to_subscribe(client: TestClient) -> None:
    html = client.get("/").text
    assert "Get trending papers in your email inbox!" in html
    assert 'href="/subscribe"' in html


def test_unknown_route_is_a_404_page(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert '<p class="error-code">404</p>' in response.text


def test_server_errors_render_the_error_page(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as failing:
        response = failing.get("/boom")
    assert response.status_code == 500
    assert '<p class="error-code">500</p>' in response.text
    assert "boom" not in response.text


def test_static_assets_are_local(client: TestClient) -> None:
    for path in (
        "/static/style.css",
        "/static/render-math.js",
        "/static/katex/katex.min.js",
        "/static/katex/katex.min.css",
        "/static/katex/fonts/KaTeX_Main-Regular.woff2",
    ):
        assert client.get(path).status_code == 200, path


def test_each_app_has_its_own_database(client: TestClient, empty_client: TestClient) -> None:
    assert client.app is not empty_client.app
    assert "2608.16590" in client.get("/").text
    assert "2608.16590" not in empty_client.get("/").text


def test_static_assets_are_cacheable_and_revalidate(client: TestClient) -> None:
    first = client.get("/static/style.css")
    assert first.headers["cache-control"] == "public, max-age=86400"
    assert first.headers["content-type"] == "text/css; charset=utf-8"
    again = client.get("/static/style.css", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/nope.css").status_code == 404


def test_pages_link_static_assets_under_urls_kept_for_a_year(client: TestClient) -> None:
    """Each asset's URL carries its hash, so browsers never ask again (issue #12)."""
    page = client.get("/papers/2608.16590").text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert {url.split("?")[0] for url in urls} >= {
        "/static/style.css", "/static/katex/katex.min.js", "/static/render-math.js"
    }  # fmt: skip
    for url in urls:
        path, _, version = url.partition("?v=")
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert hashlib.sha256(answer.content).hexdigest()[:12] == version
        assert client.get(path).content == answer.content
    stale = client.get("/static/style.css?v=000000000000")
    assert stale.headers["cache-control"] == "public, max-age=86400"


def test_development_serves_an_edited_static_file_under_its_new_url(tmp_path: Path) -> None:
    import os

    from papertide.web.static_files import StaticAssets

    (tmp_path / "site.css").write_text("body { color: red }")
    assets = StaticAssets(tmp_path, reload=True)
    before = assets.url("site.css")
    (tmp_path / "site.css").write_text("body { color: blue }")
    os.utime(tmp_path / "site.css", ns=(1, 1))  # a different modification time, surely
    after = assets.url("site.css")
    assert before != after and after.startswith("/static/site.css?v=")
    assert StaticAssets(tmp_path).url("site.css") == after
