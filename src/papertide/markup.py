"""Comment Markdown to safe HTML: CommonMark (markdown-it-py), then an allow-list (nh3).

What a comment may contain: paragraphs, emphasis, code, quotes, lists, links (http, https and
mailto only, opened with rel="nofollow ugc noopener"), and LaTeX between `$...$`, `$$...$$`,
`\\(...\\)` or `\\[...\\]`, left as text for the browser's KaTeX (trust off, bounded
expansion: static/render-math.js); a formula past MAX_FORMULA_CHARS or MAX_FORMULA_DEPTH
is shown as code and never handed to KaTeX (issue #10). Raw HTML in the source is shown as
text, never run; headings become bold paragraphs (a comment is not a document); images are
not allowed.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

MAX_COMMENT_CHARS = 10_000
# What KaTeX may be handed (issue #10: 765 nested `\\underbrace{` crashed the browser tab,
# 4,900 nested `{` overflowed KaTeX's stack). static/render-math.js holds the same numbers.
MAX_FORMULA_CHARS = 2000
MAX_FORMULA_DEPTH = 24

_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
# Math spans are protected from Markdown (which would eat `_` and `*` inside them) and put
# back verbatim, HTML-escaped, for KaTeX to render in the browser.
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\\$\w])\$[^$\n]+?\$", re.DOTALL)
_HEADING = re.compile(r"<h[1-6]>(.*?)</h[1-6]>", re.DOTALL)
_PLACEHOLDER = "\ue000math{}\ue001"  # private-use characters: Markdown leaves them alone
# What opens and closes a level of nesting; `\\` (a line break) and `\{` (a brace) do not.
_NESTING = re.compile(r"\\\\|\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\[{}]|[{}]")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("strikethrough")
_markdown.disable("image")


def render_comment(source: str) -> str:
    """Safe HTML for a comment's Markdown (an empty string for an empty comment)."""
    spans: list[str] = []

    def protect(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return _PLACEHOLDER.format(len(spans) - 1)

    text = _MATH.sub(protect, source[:MAX_COMMENT_CHARS])
    rendered = _HEADING.sub(r"<p><strong>\1</strong></p>", _markdown.render(text))
    for number, span in enumerate(spans):
        shown = _escape(span) if formula_within_bounds(span) else f"<code>{_escape(span)}</code>"
        rendered = rendered.replace(_PLACEHOLDER.format(number), shown)
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    ).strip()


def formula_within_bounds(formula: str) -> bool:
    """Whether KaTeX may be handed `formula`: short enough and not nested too deeply."""
    if len(formula) > MAX_FORMULA_CHARS:
        return False
    depth = 0
    for token in _NESTING.finditer(formula):
        if token.group(0) in ("{", "\\left"):
            depth += 1
            if depth > MAX_FORMULA_DEPTH:
                return False
        elif token.group(0) in ("}", "\\right"):
            depth -= 1
    return True


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
