"""Rendering a digest (issue #6): its plain-text and HTML bodies, from Jinja2 templates.

The HTML is what mail clients keep: tables for layout, every style inline, no stylesheet,
script or remote image. Everything is escaped (autoescape), so a `<script>` in a title stays
text. Speed: the templates are compiled once per Renderer, and each paper's fragments are
rendered once and reused by every digest that lists it (as ASCII HTML: character references
for the rest, ready for a 7-bit part); and the digest templates themselves
are rendered once per heading and introduction with markers where the per-subscriber values go
(the papers, the "why", the links), so a digest is a join of ready-made pieces with those
values escaped in (docs/benchmarks.md). A test holds the two ways to the same output.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import jinja2
from markupsafe import Markup, escape

from papertide.digest.compose import Digest, DigestPaper, short_authors
from papertide.digest.links import preferences_url, subscriber_token, unsubscribe_url

FRAGMENTS_KEPT = 20_000  # papers whose fragments are cached (an edition has a few hundred)
SKELETONS_KEPT = 256  # rendered templates with slots: one per heading and introduction
# The values that differ between subscribers, as markers in a rendered template.
SLOTS = ("papers", "why", "site_url", "preferences_url", "unsubscribe_url")
_SLOT = re.compile("\x00(" + "|".join(SLOTS) + ")\x00")


@dataclass(frozen=True, slots=True)
class DigestLinks:
    """The links at the foot of one subscriber's digest."""

    site_url: str
    preferences_url: str
    unsubscribe_url: str

    @classmethod
    def for_subscriber(
        cls, public_url: str, secret_key: str, subscriber_id: int, token_salt: str
    ) -> DigestLinks:
        """Signed links (digest/links.py) for one subscriber."""
        token = subscriber_token(secret_key, subscriber_id, token_salt)
        return cls(
            site_url=public_url.rstrip("/") + "/",
            preferences_url=preferences_url(public_url, token),
            unsubscribe_url=unsubscribe_url(public_url, token),
        )


def _figures(paper: DigestPaper) -> str:
    parts = [f"▲ {paper.upvotes:,} upvote{'' if paper.upvotes == 1 else 's'}"]
    if paper.stars is not None:
        parts.append(f"★ {paper.stars:,} GitHub star{'' if paper.stars == 1 else 's'}")
    return " · ".join(parts)


def heading(digest: Digest, site_name: str = "Papertide") -> str:
    """`Trending papers of 2026-11-27` / `… of the week 2026-W48`: also a fine subject."""
    when = f"the week {digest.period}" if digest.kind == "weekly" else digest.period
    return f"{site_name}: trending papers of {when}"


def _intro(digest: Digest) -> str:
    count = len(digest.papers)
    noun = f"{count} paper{'' if count == 1 else 's'}"
    if digest.fallback:
        return f"Nothing matched your topics this time, so here are the {noun} trending most."
    if digest.topics.empty:
        return f"The {noun} trending most, best first."
    return f"{noun.capitalize()} for you, trending most first."


def _why(digest: Digest, site_name: str) -> str:
    return (
        f"You get this {digest.kind} digest because you subscribed to {site_name} "
        f"with {digest.email} (topics: {digest.topics.describe()})."
    )


class Renderer:
    """Renders digests; keep one per edition (or process) so its caches pay off."""

    def __init__(self, site_name: str = "Papertide") -> None:
        self.site_name = site_name
        loader = jinja2.PackageLoader("papertide.digest", "templates")
        html = jinja2.Environment(loader=loader, autoescape=True, keep_trailing_newline=True)
        text = jinja2.Environment(loader=loader, autoescape=False, keep_trailing_newline=True)
        self._html = html.get_template("digest.html.j2")
        self._text = text.get_template("digest.txt.j2")
        self._paper_html = html.get_template("paper.html.j2")
        self._paper_text = text.get_template("paper.txt.j2")
        self._fragments: dict[int, tuple[DigestPaper, str, Markup]] = {}
        self._skeleton_cache: dict[tuple[str, str], tuple[list[str], list[str]]] = {}

    def fragments(self, paper: DigestPaper) -> tuple[str, Markup]:
        """One paper's text and HTML, rendered once.

        Keyed by the object's identity (an edition hands the same DigestPaper to every
        digest, and hashing its fields cost more than the rest of a render); the entry keeps
        the object, so its identity cannot be reused while it is cached.
        """
        found = self._fragments.get(id(paper))
        if found is not None and found[0] is paper:
            return found[1], found[2]
        if len(self._fragments) >= FRAGMENTS_KEPT:
            self._fragments.clear()
        values = {"paper": paper, "authors": short_authors(paper.authors)}
        values["figures"] = _figures(paper)
        text = self._paper_text.render(values).rstrip("\n")
        html = Markup(_ascii(self._paper_html.render(values)))
        self._fragments[id(paper)] = (paper, text, html)
        return text, html

    def render(self, digest: Digest, links: DigestLinks) -> tuple[str, str]:
        """The digest's plain-text and HTML bodies."""
        parts = [self.fragments(paper) for paper in digest.papers]
        # The papers go in joined, as one value: a loop over them in the template cost more
        # than everything else in it.
        papers_text = "".join(f"{n}. {text}\n\n" for n, (text, _html) in enumerate(parts, 1))
        papers_html = Markup("".join(html for _text, html in parts))
        slots = {
            "papers": papers_text,
            "why": _why(digest, self.site_name),
            "site_url": links.site_url,
            "preferences_url": links.preferences_url,
            "unsubscribe_url": links.unsubscribe_url,
        }
        text_pieces, html_pieces = self._skeletons(heading(digest, self.site_name), _intro(digest))
        html_slots = {name: _ascii(escape(value)) for name, value in slots.items()}
        html_slots["papers"] = str(papers_html)
        return _filled(text_pieces, slots), _filled(html_pieces, html_slots)

    def render_directly(self, digest: Digest, links: DigestLinks) -> tuple[str, str]:
        """What `render` makes, by rendering both templates with every value (the tests
        compare the two)."""
        parts = [self.fragments(paper) for paper in digest.papers]
        values = self._values(heading(digest, self.site_name), _intro(digest))
        values |= {"why": _why(digest, self.site_name), "links": links}
        papers_text = "".join(f"{n}. {text}\n\n" for n, (text, _html) in enumerate(parts, 1))
        papers_html = Markup("".join(html for _text, html in parts))
        text = self._text.render(values, papers=papers_text)
        html = self._html.render(values, papers=papers_html)
        return text, _ascii(html)

    def _values(self, heading: str, intro: str) -> dict[str, object]:
        return {"heading": heading, "intro": intro, "site_name": self.site_name}

    def _skeletons(self, heading: str, intro: str) -> tuple[list[str], list[str]]:
        """Both templates rendered with markers in the slots, split at them: literal, slot
        name, literal, ... Cached per heading and introduction (a handful per edition)."""
        key = (heading, intro)
        found = self._skeleton_cache.get(key)
        if found is not None:
            return found
        marked = {name: f"\x00{name}\x00" for name in SLOTS}
        links = DigestLinks(
            marked["site_url"], marked["preferences_url"], marked["unsubscribe_url"]
        )
        marked_html = DigestLinks(
            *(
                Markup(value)
                for value in (links.site_url, links.preferences_url, links.unsubscribe_url)
            )
        )
        values = self._values(heading, intro)
        text = self._text.render(values, why=marked["why"], links=links, papers=marked["papers"])
        html = self._html.render(
            values, why=Markup(marked["why"]), links=marked_html, papers=Markup(marked["papers"])
        )
        pieces = (_SLOT.split(text), _SLOT.split(_ascii(html)))
        if len(self._skeleton_cache) >= SKELETONS_KEPT:
            self._skeleton_cache.clear()
        self._skeleton_cache[key] = pieces
        return pieces


def _ascii(html: str) -> str:
    """HTML with character references for everything beyond ASCII: the same document, and
    the message layer then has a 7-bit part without converting it (digest/message.py)."""
    return html if html.isascii() else html.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _filled(pieces: list[str], values: dict[str, str]) -> str:
    """A skeleton's literal pieces with the slot values between them."""
    filled = pieces.copy()
    for index in range(1, len(filled), 2):
        filled[index] = values[filled[index]]
    return "".join(filled)


@functools.cache
def _renderer(site_name: str) -> Renderer:
    return Renderer(site_name)


def render_digest(
    digest: Digest, links: DigestLinks, site_name: str = "Papertide"
) -> tuple[str, str]:
    """`(text, html)` of one digest, with a shared Renderer per site name."""
    return _renderer(site_name).render(digest, links)
