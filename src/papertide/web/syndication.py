"""RSS 2.0 and Atom 1.0 documents for any list of papers (issue #13).

A `Channel` is what a feed says about itself and its `Entry`s; `rss()` and `atom()` write the
same channel in either format. Both are pure: the routes in web/routes/syndication.py gather
the papers through the same services as the pages, and this module only writes XML.

What feed readers and validators expect, and why it is done so here:
- Each entry's id (RSS `guid`, Atom `id`) is the paper's page under the configured public URL:
  stable across feeds and days, so a paper seen in the daily feed is not new again in a search
  feed of the same reader, and a permalink (RSS `isPermaLink="true"`).
- Abstracts go in as plain text, their LaTeX left as arXiv writes it (`$\\mathcal{O}(n)$` reads
  fine as text; rendered markup would not survive readers that strip HTML).
- Characters XML 1.0 cannot hold (control characters that do occur in arXiv abstracts) are
  dropped, so one bad abstract never makes a whole feed unparseable.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
FORMATS = ("rss", "atom")
GENERATOR = "Papertide"

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates
# and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("dc", DC_NS)


@dataclass(frozen=True, slots=True)
class Entry:
    """One paper in a feed."""

    id: str  # the paper page's absolute URL: the GUID
    title: str
    link: str
    summary: str
    authors: Sequence[str]
    categories: Sequence[str]
    published: dt.datetime  # aware
    updated: dt.datetime  # aware; when it entered this list if later than published


@dataclass(frozen=True, slots=True)
class Channel:
    """A feed: its own URL, the page it mirrors, and its entries in the page's order."""

    title: str
    description: str
    page_url: str  # the HTML page this feed mirrors (RSS `link`, Atom `alternate`)
    feed_url: str  # this document's own URL, without the format suffix's choice
    entries: Sequence[Entry]
    updated: dt.datetime  # aware: the newest entry's, or the site's content time


@dataclass(frozen=True, slots=True)
class FeedLink:
    """Where a page's feed is, for `<link rel="alternate">` and the feed button."""

    title: str
    path: str  # without the format: "/feeds/daily"
    query: str = ""  # "window=30d"

    def url(self, fmt: str) -> str:
        return f"{self.path}.{fmt}" + (f"?{self.query}" if self.query else "")

    @property
    def rss(self) -> str:
        return self.url("rss")

    @property
    def atom(self) -> str:
        return self.url("atom")


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry, whitespace runs collapsed."""
    return " ".join(_NOT_XML.sub("", text).split())


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = clean(text)
    return element


def _rfc822(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def rss(channel: Channel, self_url: str) -> bytes:
    """The channel as RSS 2.0 (with the Atom `self` link the RSS Advisory Board recommends)."""
    root = ET.Element("rss", {"version": "2.0"})
    head = ET.SubElement(root, "channel")
    _text(head, "title", channel.title)
    _text(head, "link", channel.page_url)
    _text(head, "description", channel.description)
    ET.SubElement(
        head,
        f"{{{ATOM_NS}}}link",
        {"href": self_url, "rel": "self", "type": RSS_TYPE.split(";")[0]},
    )
    _text(head, "lastBuildDate", _rfc822(channel.updated))
    _text(head, "generator", GENERATOR)
    _text(head, "docs", "https://www.rssboard.org/rss-specification")
    for entry in channel.entries:
        item = ET.SubElement(head, "item")
        _text(item, "title", entry.title)
        _text(item, "link", entry.link)
        _text(item, "description", entry.summary)
        _text(item, "guid", entry.id, isPermaLink="true")
        _text(item, "pubDate", _rfc822(entry.updated))
        for author in entry.authors:
            _text(item, f"{{{DC_NS}}}creator", author)
        for category in entry.categories:
            _text(item, "category", category)
    return _document(root)


def atom(channel: Channel, self_url: str) -> bytes:
    """The channel as Atom 1.0 (RFC 4287)."""
    # Atom's own elements in the default namespace, declared by hand: ElementTree would
    # otherwise prefix every one of them ("atom:entry"), which some readers do not follow.
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    _atom_head(root, channel, self_url)
    for entry in channel.entries:
        _atom_entry(ET.SubElement(root, "entry"), entry)
    return _document(root)


def _atom_head(root: ET.Element, channel: Channel, self_url: str) -> None:
    _text(root, "id", channel.feed_url)
    _text(root, "title", channel.title)
    _text(root, "subtitle", channel.description)
    _text(root, "updated", _rfc3339(channel.updated))
    ET.SubElement(root, "link", {"rel": "self", "href": self_url, "type": "application/atom+xml"})
    ET.SubElement(root, "link", {"rel": "alternate", "href": channel.page_url, "type": "text/html"})
    # RFC 4287 4.1.1: a feed needs an author unless every entry has one; an arXiv listing
    # can lack authors, so the feed names who compiled it.
    author = ET.SubElement(root, "author")
    _text(author, "name", GENERATOR)
    _text(root, "generator", GENERATOR)


def _atom_entry(element: ET.Element, entry: Entry) -> None:
    _text(element, "id", entry.id)
    _text(element, "title", entry.title)
    _text(element, "updated", _rfc3339(entry.updated))
    _text(element, "published", _rfc3339(entry.published))
    ET.SubElement(element, "link", {"rel": "alternate", "href": entry.link, "type": "text/html"})
    for name in entry.authors:
        _text(ET.SubElement(element, "author"), "name", name)
    for category in entry.categories:
        ET.SubElement(element, "category", {"term": category})
    _text(element, "summary", entry.summary, type="text")


def _document(root: ET.Element) -> bytes:
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
