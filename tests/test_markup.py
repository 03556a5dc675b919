"""Comment Markdown to safe HTML (papertide/markup.py): what renders, and what never runs."""

from __future__ import annotations

import pytest
from tests.html_parts import tags_and_attributes

from papertide.markup import MAX_COMMENT_CHARS, render_comment


def test_markdown_renders() -> None:
    html = render_comment("Hello *world*, see [the paper](https://arxiv.org/abs/2401.00001).")
    assert html == (
        '<p>Hello <em>world</em>, see <a href="https://arxiv.org/abs/2401.00001" '
        'rel="nofollow ugc noopener">the paper</a>.</p>'
    )
    assert "<pre><code>x = 1\n</code></pre>" in render_comment("```\nx = 1\n```")
    assert render_comment("# Title") == "<p><strong>Title</strong></p>"


def test_math_is_kept_verbatim_for_katex() -> None:
    # Markdown would otherwise turn `_1 * b_` into emphasis inside the formula.
    html = render_comment("Let $a_1 * b_2$ and $$\\sum_i x_i^2$$ hold.")
    assert "$a_1 * b_2$" in html and "$$\\sum_i x_i^2$$" in html
    assert "<em>" not in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(1)'>x</a>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](https://evil.example/track.png)",
        '<div onmouseover="alert(1)">hover</div>',
        "$<script>alert(1)</script>$",
        "$\\href{javascript:alert(1)}{click}$",
        "<style>body{display:none}</style>",
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_nothing_executes(source: str) -> None:
    tags, attributes = tags_and_attributes(render_comment(source))
    assert tags <= {"p", "a", "em", "strong", "code", "pre"}
    for name, value in attributes:
        assert not name.startswith("on")
        if name == "href":
            assert value.split(":", 1)[0].lower() in {"http", "https", "mailto"}


def test_latex_commands_stay_text_for_katex_with_trust_off() -> None:
    # \href is rendered by KaTeX in the browser with trust: false (no link is made) and a
    # bounded macro expansion (maxExpand): static/render-math.js. Here it is only text.
    html = render_comment("$\\href{javascript:alert(1)}{x}$ $\\def\\a{\\a\\a}\\a$")
    assert "<a" not in html
    assert "\\href{javascript:alert(1)}{x}" in html


def test_long_comments_are_cut() -> None:
    assert len(render_comment("x" * (MAX_COMMENT_CHARS * 2))) < MAX_COMMENT_CHARS + 20
