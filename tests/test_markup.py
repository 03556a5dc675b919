"""Comment Markdown to safe HTML (papertide/markup.py): what renders, and what never runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.html_parts import tags_and_attributes

from papertide import markup
from papertide.markup import MAX_COMMENT_CHARS, formula_within_bounds, render_comment

RENDER_MATH_JS = Path(markup.__file__).parent / "web" / "static" / "render-math.js"


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


def test_formulas_past_the_bounds_are_code_never_handed_to_katex() -> None:
    """Issue #10: these two comments crashed the tab or stopped KaTeX for the rest of the page."""
    underbraces = "$" + "\\underbrace{" * 765 + "x" + "}" * 765 + "$"
    braces = "$" + "{" * 4900 + "x" + "}" * 4900 + "$"
    assert len(underbraces) == 9_948
    for attack in (underbraces, braces):
        html = render_comment(f"Look: {attack} and $a+b$.")
        assert html.startswith(f"<p>Look: <code>{attack}</code> and $a+b$.")
    too_long = "$" + "x+" * 1000 + "x$"
    assert render_comment(too_long) == f"<p><code>{too_long}</code></p>"


def test_nesting_depth_counts_braces_and_left_but_not_escaped_braces() -> None:
    assert formula_within_bounds("{" * 24 + "x" + "}" * 24)
    assert not formula_within_bounds("{" * 25 + "x" + "}" * 25)
    assert not formula_within_bounds("\\left(" * 25 + "x" + "\\right)" * 25)
    assert formula_within_bounds("\\{" * 100 + "x")  # literal braces, no nesting
    assert formula_within_bounds("{x}" * 600)  # long but flat
    assert not formula_within_bounds("x" * 2001)


def test_the_browser_uses_the_same_bounds_as_the_server() -> None:
    script = RENDER_MATH_JS.read_text(encoding="utf-8")
    for name in ("MAX_FORMULA_CHARS", "MAX_FORMULA_DEPTH"):
        found = re.search(rf"var {name} = (\d+);", script)
        assert found is not None, name
        assert int(found.group(1)) == getattr(markup, name)
