"""Rendering a digest (issue #6): its plain-text and HTML bodies, from Jinja2 templates.

The HTML is what mail clients keep: tables for layout, every style inline, no stylesheet,
script or remote image. Everything is escaped (autoescape), so a `<script>` in a title stays
text. Speed: the templates are compiled once per Renderer, and each paper's fragments are
rendered once and reused by every digest that lists it, so a digest costs one small template
over ten ready-made fragments (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from papertide.digest.compose import Digest, DigestPaper, short_authors
from papertide.digest.links import preferences_url, subscriber_token, unsubscribe_url

FRAGMENTS_KEPT = 20_000  # papers whose fragments are cached (an edition has a few hundred)


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
        html = Markup(self._paper_html.render(values))
        self._fragments[id(paper)] = (paper, text, html)
        return text, html

    def render(self, digest: Digest, links: DigestLinks) -> tuple[str, str]:
        """The digest's plain-text and HTML bodies."""
        parts = [self.fragments(paper) for paper in digest.papers]
        values = {
            "heading": heading(digest, self.site_name),
            "intro": _intro(digest),
            "why": _why(digest, self.site_name),
            "links": links,
            "site_name": self.site_name,
        }
        # The papers go in joined, as one value: a loop over them in the template cost more
        # than everything else in it.
        papers_text = "".join(f"{n}. {text}\n\n" for n, (text, _html) in enumerate(parts, 1))
        papers_html = Markup("".join(html for _text, html in parts))
        text = self._text.render(values, papers=papers_text)
        html = self._html.render(values, papers=papers_html)
        return text, html


@functools.cache
def _renderer(site_name: str) -> Renderer:
    return Renderer(site_name)


def render_digest(
    digest: Digest, links: DigestLinks, site_name: str = "Papertide"
) -> tuple[str, str]:
    """`(text, html)` of one digest, with a shared Renderer per site name."""
    return _renderer(site_name).render(digest, links)
