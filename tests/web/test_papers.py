import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from papertide.models import Featuring, PaperDetail
from papertide.web.deps import Page


def test_paper_page_shows_everything_about_the_paper(client: TestClient) -> None:
    response = client.get("/papers/2608.16590")
    assert response.status_code == 200
    html = response.text
    assert "Zetta ζ: An Efficient Closed-Loop Embodied Harness" in html
    # Every author, not the shortened card list, each linking to their author page.
    assert '<a href="/authors/Yunxin%20Liu">Yunxin Liu</a>, <a href="/authors/Ting%20Cao">' in html
    assert 'class="abstract math"' in html
    assert 'href="https://arxiv.org/abs/2608.16590"' in html
    assert 'href="https://arxiv.org/pdf/2608.16590"' in html
    assert 'href="https://github.com/air-embodied-brain/Zetta-Embodiment"' in html
    assert 'href="/papers/date/2026-08-20">August 20, 2026</a> · submitted by Xin Ding' in html
    assert re.search(r'<script defer src="/static/katex/katex.min.js\?v=\w+"></script>', html)
    assert "cdn" not in html.lower()


def test_paper_page_escapes_text(client: TestClient) -> None:
    # Titles and abstracts are text: no raw tag from the data reaches the page.
    html = client.get("/papers/2608.16590").text
    assert "<script>" not in html


def test_old_style_ids_route_to_the_paper_page(client: TestClient) -> None:
    response = client.get("/papers/hep-th/9901001")
    assert response.status_code == 404
    assert "hep-th/9901001 is not in this instance" in response.text


def test_versioned_id_redirects_to_the_canonical_page(client: TestClient) -> None:
    response = client.get("/papers/2608.16590v3", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/papers/2608.16590"
    response = client.get("/papers/2608.16590v3.md", follow_redirects=False)
    assert response.headers["location"] == "/papers/2608.16590.md"


@pytest.mark.parametrize(
    "path", ["/papers/2608.99999", "/papers/not-an-id", "/papers/2608.1659", "/papers/../../etc"]
)
def test_unknown_or_malformed_ids_are_a_404_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<p class="error-code">404</p>' in response.text


def test_markdown_view(client: TestClient) -> None:
    response = client.get("/papers/2608.16590.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    assert text.startswith("# Zetta ζ: An Efficient Closed-Loop Embodied Harness")
    assert "**Authors:** Xin Ding, Liang Mi," in text
    assert "- arXiv: https://arxiv.org/abs/2608.16590" in text
    assert "- PDF: https://arxiv.org/pdf/2608.16590" in text
    assert "- Code: https://github.com/air-embodied-brain/Zetta-Embodiment" in text
    assert "## Abstract\n\nEmbodied agents are increasingly used" in text
    assert client.get("/papers/2608.99999.md").status_code == 404


def test_abstract_keeps_latex_for_katex(math_client: TestClient) -> None:
    html = math_client.get("/papers/2503.24290").text
    assert "vanilla PPO with GAE ($\\lambda=1$, $\\gamma=1$)" in html


def test_paper_template_escapes_and_refuses_unsafe_links(client: TestClient) -> None:
    paper = PaperDetail(
        arxiv_id="2401.00001",
        version=2,
        title="<script>alert('title')</script>",
        abstract="We show $x<y$ & <img src=x onerror=alert(1)>.",
        authors=["A <b>Bold</b> Author"],
        categories=["cs.LG"],
        published_at=None,
        updated_at=None,
        comments=None,
        doi="10.1000/xyz",
        journal_ref="J. Tests 1 (2024)",
        github_repo=None,
        github_stars=None,
        project_page="javascript:alert(1)",
        withdrawn=True,
        upvotes=3,
        num_comments=0,
        ai_summary=None,
        featured=[Featuring(dt.date(2024, 1, 2), "user<1>", None, "<i>nice</i>")],
    )
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "app": client.app}
    page = Page(Request(scope), client.app.state.templates)
    html = page.render("paper.html", paper=paper).body.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "$x&lt;y$ &amp; &lt;img" in html
    assert "<b>Bold</b>" not in html
    assert "<i>nice</i>" not in html
    assert "submitted by user&lt;1&gt;" in html
    assert "javascript:" not in html
    assert "This paper has been withdrawn" in html
    assert 'href="https://doi.org/10.1000/xyz"' in html
    assert "J. Tests 1 (2024)" in html
