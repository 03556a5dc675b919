"""arXiv's daily announcement feed (`rss.arxiv.org/rss/<cats joined by +>`, RSS 2.0).

Each item carries an `arxiv:announce_type`: `new` and `cross` (a new paper listed in, or
cross-listed to, the categories) are papers to store; `replace` and `replace-cross` announce
a new version of an older paper, which updates a paper we have and never creates one.
"""

from __future__ import annotations

import datetime as dt
import functools
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from papertide.arxiv_ids import ArxivId, InvalidArxivId, parse_arxiv_id
from papertide.db import writes
from papertide.ingest.arxiv_api import ArxivFeedError, parse_xml
from papertide.ingest.base import Batch, Report, clean_text
from papertide.ingest.http import HttpClient
from papertide.ingest.validation import BadRecord, parse_email_datetime
from papertide.models import PaperRecord, WriteCounts

RSS_URL = "https://rss.arxiv.org/rss"
NEW_TYPES = ("new", "cross")
REPLACE_TYPES = ("replace", "replace-cross")

_ARXIV = "{http://arxiv.org/schemas/atom}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_GUID_PREFIX = "oai:arXiv.org:"
_ERROR_TITLE = "Feed error for query"


@dataclass(frozen=True, slots=True)
class Announcement:
    """One feed item: the paper as announced, and why it is announced."""

    paper: PaperRecord
    announce_type: str  # new | cross | replace | replace-cross


def listing_url(categories: Sequence[str], base_url: str = RSS_URL) -> str:
    """`["cs.LG", "cs.CL"]` -> `https://rss.arxiv.org/rss/cs.LG+cs.CL`."""
    if not categories:
        raise ValueError("at least one arXiv category is needed for the listings feed")
    return f"{base_url.rstrip('/')}/{'+'.join(categories)}"


def parse_rss(
    xml: bytes | str, url: str = "<feed>", report: Report | None = None
) -> list[Announcement]:
    """Parse one RSS feed (pure); a day without announcements is [].

    Items that name no arXiv paper or carry an unreadable date are skipped and, when `report`
    is given, reported there; a feed whose own date is unreadable raises ArxivFeedError.
    """
    root = parse_xml(xml, url)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ArxivFeedError(url, f"expected an RSS <rss><channel>, got <{root.tag}>")
    title = channel.findtext("title") or ""
    if title.startswith(_ERROR_TITLE):
        message = clean_text(channel.findtext("description")) or title
        raise ArxivFeedError(url, f"arXiv refused the feed: {message}")
    try:
        channel_date = _rss_date(channel.findtext("pubDate"))
    except BadRecord as exc:
        raise ArxivFeedError(url, f"the channel's {exc}") from None
    announcements = []
    for number, item in enumerate(channel.iter("item"), start=1):
        try:
            announcements.append(parse_item(item, channel_date))
        except BadRecord as exc:
            if report is not None:
                report.problem(f"{url}:item {number}", str(exc))
    return announcements


def parse_item(item: ET.Element, channel_date: dt.datetime | None = None) -> Announcement:
    """One `<item>`; raises BadRecord when it names no arXiv paper or its date is unreadable."""
    arxiv_id = _item_id(item)
    announced = _rss_date(item.findtext("pubDate")) or channel_date
    first_version = arxiv_id.version in (None, 1)
    description = item.findtext("description") or ""
    _, marker, abstract = description.partition("Abstract:")
    paper = PaperRecord(
        arxiv_id=arxiv_id.base,
        version=arxiv_id.version,
        title=clean_text(item.findtext("title")),
        abstract=clean_text(abstract) if marker else None,
        authors=split_authors(item.findtext(f"{_DC}creator") or ""),
        categories=[c for e in item.findall("category") if (c := clean_text(e.text))],
        # The announcement date is when v1 appeared; for a later version it dates only that.
        published_at=announced if first_version else None,
        updated_at=None if first_version else announced,
    )
    # A missing type is not guessed: taking a replacement for a new paper would create one.
    announce_type = (item.findtext(f"{_ARXIV}announce_type") or "").strip() or "unknown"
    return Announcement(paper, announce_type)


def _item_id(item: ET.Element) -> ArxivId:
    """The versioned id from the guid (`oai:arXiv.org:2411.17700v1`), else from the link."""
    guid = (item.findtext("guid") or "").strip()
    link = (item.findtext("link") or "").strip()
    for candidate in (guid.removeprefix(_GUID_PREFIX), link):
        try:
            return parse_arxiv_id(candidate)
        except InvalidArxivId:
            continue
    raise BadRecord(f"no arXiv id in the item's guid {guid!r} or link {link!r}")


def split_authors(creator: str) -> list[str]:
    """`A (Univ X, Dept Y), B` -> `["A", "B"]`: commas inside affiliations do not split."""
    names: list[str] = []
    current: list[str] = []
    depth = 0
    for char in creator + ",":
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            if name := clean_text("".join(current)):
                names.append(name)
            current = []
        elif depth == 0:
            current.append(char)
    return names


def _rss_date(text: str | None) -> dt.datetime | None:
    """RFC 822 (`Thu, 28 Nov 2024 00:00:00 -0500`) to naive UTC; None if absent, BadRecord if
    unreadable."""
    if not text or not text.strip():
        return None
    try:
        return parse_email_datetime(text)
    except ValueError as exc:
        raise BadRecord(f"pubDate: {exc}") from None


class ArxivListings:
    """The `arxiv-rss` source: today's announcement for `categories`.

    New and cross-listed papers are upserted; replacements update the version of papers
    already stored and are otherwise ignored (counted in the report's notes).
    """

    name = "arxiv-rss"

    def __init__(
        self, http: HttpClient, categories: Sequence[str], base_url: str = RSS_URL
    ) -> None:
        self.http = http
        self.url = listing_url(categories, base_url)

    def total(self) -> None:
        return None

    def batches(self, report: Report) -> Iterator[Batch]:
        response = self.http.get(self.url)
        announcements = parse_rss(response.content, str(response.url), report)
        report.records_read = len(announcements)
        by_type = Counter(a.announce_type for a in announcements)
        report.notes.append(
            f"{self.url}: " + ", ".join(f"{by_type[t]} {t}" for t in (*NEW_TYPES, *REPLACE_TYPES))
        )
        for unknown in sorted(set(by_type) - {*NEW_TYPES, *REPLACE_TYPES}):
            report.notes.append(
                f"ignored {by_type[unknown]} item(s) of unknown announce type {unknown!r}"
            )
        papers = [a.paper for a in announcements if a.announce_type in NEW_TYPES]
        replacements = [a.paper for a in announcements if a.announce_type in REPLACE_TYPES]
        yield Batch(papers=papers, apply=functools.partial(_replace, replacements, report))


def _replace(replacements: list[PaperRecord], report: Report, conn: Connection) -> WriteCounts:
    """Newer versions of papers we have; the others are noted as ignored."""
    replaced = writes.update_known_papers(conn, replacements)
    known = replaced.papers_updated + replaced.papers_unchanged
    ignored = len({r.arxiv_id for r in replacements}) - known
    if ignored:
        report.notes.append(f"{ignored} replacements of papers we do not have were ignored")
    return replaced
