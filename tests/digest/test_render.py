"""Rendering: both bodies list the papers and the links; the HTML is escaped, inline-styled."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from papertide.digest.compose import Digest, DigestPaper, Topics
from papertide.digest.links import subscriber_token
from papertide.digest.render import DigestLinks, Renderer, heading, render_digest

SECRET = "a-test-secret-key-of-some-length"
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
PAPERS = [
    DigestPaper(
        id="2608.00001",
        title="Diffusion models for protein design",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        summary="Proteins designed by denoising.",
        upvotes=1234,
        stars=56,
        url="https://papers.example.org/papers/2608.00001",
    ),
    DigestPaper(
        id="2608.00002",
        title=HOSTILE,
        authors=('Eve "<img src=x onerror=alert(1)>"',),
        summary="",
        upvotes=1,
        stars=None,
        url="https://papers.example.org/papers/2608.00002",
    ),
]


def _digest(**values: object) -> Digest:
    base: dict[str, object] = {
        "subscriber_id": 7,
        "email": "reader@example.org",
        "kind": "daily",
        "period": "2026-08-20",
        "papers": PAPERS,
        "topics": Topics(categories=("cs.LG",), keywords=("<diffusion>",)),
    }
    return Digest(**(base | values))  # type: ignore[arg-type]


def _links() -> DigestLinks:
    return DigestLinks.for_subscriber("https://papers.example.org/", SECRET, 7, "salt")


def test_links_are_the_signed_ones() -> None:
    links = _links()
    token = subscriber_token(SECRET, 7, "salt")
    assert links.site_url == "https://papers.example.org/"
    assert links.preferences_url == f"https://papers.example.org/subscribe/manage/{token}"
    assert links.unsubscribe_url == f"https://papers.example.org/unsubscribe/{token}"


def test_the_text_part_lists_papers_links_and_why() -> None:
    text, _html = render_digest(_digest(), _links())
    assert text.startswith("Papertide: trending papers of 2026-08-20\n")
    assert "1. Diffusion models for protein design\n" in text
    assert "   Ada Lovelace, Alan Turing, Grace Hopper et al.\n" in text
    assert "   Proteins designed by denoising.\n" in text
    assert "▲ 1,234 upvotes · ★ 56 GitHub stars" in text
    assert "https://papers.example.org/papers/2608.00001\n" in text
    assert f"2. {HOSTILE}\n" in text  # plain text is not HTML: nothing to escape
    assert "▲ 1 upvote\n" in text and "GitHub star" not in text.split("2. ")[1]
    assert f"Unsubscribe: {_links().unsubscribe_url}\n" in text
    assert _links().preferences_url in text
    assert "reader@example.org" in text and "categories cs.LG" in text


def test_the_html_part_escapes_everything() -> None:
    _text, html = render_digest(_digest(), _links())
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&#8220;&lt;diffusion&gt;&#8221;" in html  # “<diffusion>”: ASCII for a 7-bit part
    assert html.isascii()
    assert 'href="https://papers.example.org/papers/2608.00001"' in html
    assert f'href="{_links().unsubscribe_url}"' in html
    assert f'href="{_links().preferences_url}"' in html
    assert "1,234 upvotes" in html and "56 GitHub stars" in html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_html_uses_tables_and_inline_styles_only() -> None:
    _text, html = render_digest(_digest(), _links())
    parser = _Tags()
    parser.feed(html)
    names = {tag for tag, _ in parser.tags}
    assert {"table", "tr", "td", "a"} <= names
    assert not names & {"style", "link", "script", "img", "iframe", "form", "video"}
    assert all("class" not in attrs and "id" not in attrs for _, attrs in parser.tags)
    visible = {"table", "td", "a", "div", "p", "h1", "body"}
    assert all(attrs.get("style") for tag, attrs in parser.tags if tag in visible)
    assert not re.search(r"(?i)url\(|@import|javascript:|https?://(?!papers\.example\.org)", html)


def test_weekly_heading_and_fallback_wording() -> None:
    weekly = _digest(kind="weekly", period="2026-W34")
    assert heading(weekly) == "Papertide: trending papers of the week 2026-W34"
    text, _ = render_digest(_digest(fallback=True), _links(), site_name="Lab Feed")
    assert text.startswith("Lab Feed: trending papers")
    assert "Nothing matched your topics this time" in text
    plain, _ = render_digest(_digest(topics=Topics()), _links())
    assert "The 2 papers trending most" in plain and "topics: trending papers" in plain


def test_paper_fragments_are_rendered_once() -> None:
    renderer = Renderer()
    first = renderer.render(_digest(), _links())
    fragment = renderer.fragments(PAPERS[0])
    again = renderer.render(_digest(email="other@example.org"), _links())
    assert renderer.fragments(PAPERS[0])[1] is fragment[1]  # not rendered again
    equal = DigestPaper(**{f: getattr(PAPERS[0], f) for f in PAPERS[0].__slots__})  # type: ignore[attr-defined]
    assert renderer.fragments(equal) == fragment and renderer.fragments(equal)[1] is not fragment[1]
    assert first[1].replace("reader@", "other@") == again[1]


def test_the_filled_skeletons_are_what_the_templates_render() -> None:
    renderer = Renderer()
    hostile_links = DigestLinks(
        "https://papers.example.org/?a=1&b=<2>",
        'https://papers.example.org/m/"x"&y',
        "https://papers.example.org/u/<script>",
    )
    cases = [
        (_digest(), _links()),
        (_digest(email='x"<b>&@example.org', topics=Topics(search=HOSTILE)), hostile_links),
        (_digest(kind="weekly", period="2026-W34", fallback=True), _links()),
        (_digest(papers=PAPERS[:1], topics=Topics()), hostile_links),
        (_digest(papers=[]), _links()),
    ]
    for digest, links in cases * 2:  # the second time from the cached skeletons
        assert renderer.render(digest, links) == renderer.render_directly(digest, links)
    assert len(renderer._skeleton_cache) == 4  # heading and introduction: the cache key
