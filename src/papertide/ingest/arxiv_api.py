"""The arXiv query API (`export.arxiv.org/api/query`, Atom): id lookups and searches.

arXiv reports a bad request (e.g. an invalid id) as an Atom entry whose id is
`https://arxiv.org/api/errors#...`, since 2026 with HTTP 400; those come back as `ApiError`s,
never as papers and never as an exception. A body that is not a whole Atom feed raises
`ArxivFeedError` naming the URL. Both the legacy (2016) and the current (2026) layouts parse.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from papertide.arxiv_ids import ArxivId, InvalidArxivId, parse_arxiv_id
from papertide.ingest import safe_xml
from papertide.ingest.base import Batch, Report, clean_text
from papertide.ingest.http import FetchError, HttpClient
from papertide.ingest.validation import BadRecord, checked_id, parse_iso_datetime
from papertide.models import PaperRecord

API_URL = "https://export.arxiv.org/api/query"
MAX_IDS_PER_REQUEST = 100

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ERROR_ID = re.compile(r"^https?://arxiv\.org/api/errors\b")
_WITHDRAWN = re.compile(r"\bwithdrawn\b", re.I)


class ArxivFeedError(FetchError):
    """arXiv answered with something that is not a usable feed (truncated, malformed, an error)."""


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error arXiv reported as a feed entry, e.g. `incorrect id format for abc`."""

    id_text: str  # the entry's id, `https://arxiv.org/api/errors#...`
    message: str


@dataclass(slots=True)
class ApiPage:
    """One response of the query API: its papers, its error entries and the paging figures."""

    papers: list[PaperRecord] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)
    total_results: int = 0
    start_index: int = 0
    items_per_page: int = 0


def parse_xml(xml: bytes | str, url: str) -> ET.Element:
    """Parse a whole XML document safely (ingest/safe_xml.py); errors name `url`."""
    try:
        return safe_xml.parse_xml(xml)
    except safe_xml.XmlError as exc:
        raise ArxivFeedError(url, str(exc)) from None


def parse_feed(xml: bytes | str, url: str = "<feed>") -> ApiPage:
    """Parse one Atom response of the query API (pure)."""
    root = parse_xml(xml, url)
    if root.tag != f"{_ATOM}feed":
        raise ArxivFeedError(url, f"expected an Atom <feed>, got <{root.tag}>")
    page = ApiPage(
        total_results=_int(root.findtext(f"{_OPENSEARCH}totalResults")),
        start_index=_int(root.findtext(f"{_OPENSEARCH}startIndex")),
        items_per_page=_int(root.findtext(f"{_OPENSEARCH}itemsPerPage")),
    )
    for entry in root.iter(f"{_ATOM}entry"):
        id_text = (entry.findtext(f"{_ATOM}id") or "").strip()
        if _ERROR_ID.match(id_text):
            message = clean_text(entry.findtext(f"{_ATOM}summary")) or "error without a message"
            page.errors.append(ApiError(id_text, message))
            continue
        try:
            page.papers.append(parse_entry(entry))
        except BadRecord as exc:
            page.errors.append(ApiError(id_text, f"entry cannot be imported: {exc}"))
    return page


def parse_entry(entry: ET.Element) -> PaperRecord:
    """One Atom `<entry>` as a PaperRecord; BadRecord if its id is not arXiv's or a date
    does not parse (a date is never dropped silently, issue #10)."""
    paper_id = checked_id(entry.findtext(f"{_ATOM}id") or "")
    comments = clean_text(entry.findtext(f"{_ARXIV}comment"))
    return PaperRecord(
        arxiv_id=paper_id.base,
        version=paper_id.version,
        title=clean_text(entry.findtext(f"{_ATOM}title")),
        abstract=clean_text(entry.findtext(f"{_ATOM}summary")),
        authors=[
            name
            for author in entry.findall(f"{_ATOM}author")
            if (name := clean_text(author.findtext(f"{_ATOM}name")))
        ],
        categories=_categories(entry),
        published_at=_datetime(entry, "published"),
        updated_at=_datetime(entry, "updated"),
        comments=comments,
        doi=clean_text(entry.findtext(f"{_ARXIV}doi")),
        journal_ref=clean_text(entry.findtext(f"{_ARXIV}journal_ref")),
        withdrawn=bool(comments and _WITHDRAWN.search(comments)),
    )


def _datetime(entry: ET.Element, name: str) -> dt.datetime | None:
    text = (entry.findtext(f"{_ATOM}{name}") or "").strip()
    if not text:
        return None
    try:
        return parse_iso_datetime(text)
    except ValueError as exc:
        raise BadRecord(f"<{name}>: {exc}") from None


def _categories(entry: ET.Element) -> list[str]:
    """The primary category first, then the others in feed order, without repeats."""
    primary = entry.find(f"{_ARXIV}primary_category")
    terms = [primary.get("term")] if primary is not None else []
    terms += [element.get("term") for element in entry.findall(f"{_ATOM}category")]
    return list(dict.fromkeys(term.strip() for term in terms if term and term.strip()))


def _int(text: str | None) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        return 0


def format_id(arxiv_id: ArxivId) -> str:
    """`ArxivId('2401.01234', 2)` -> `2401.01234v2` (the form `id_list` takes)."""
    return f"{arxiv_id.base}v{arxiv_id.version}" if arxiv_id.version else arxiv_id.base


class ArxivApi:
    """Client of the query API.

    arXiv's terms ask for one connection and at least 3 s between requests. This class
    does not sleep itself: the caller configures the pause on the HttpClient, e.g.
    `HttpOptions(min_interval_s={"export.arxiv.org": 3.0})` (`http.client_from_settings` does
    so from `Settings.arxiv_min_interval_s`); retries on timeouts and 5xx are the client's too.
    """

    def __init__(self, http: HttpClient, base_url: str = API_URL) -> None:
        self.http = http
        self.base_url = base_url

    def by_ids(self, ids: Sequence[str]) -> ApiPage:
        """Look up papers by id (`2401.01234`, `2401.01234v2`), 100 ids per request."""
        combined = ApiPage()
        for start in range(0, len(ids), MAX_IDS_PER_REQUEST):
            chunk = ids[start : start + MAX_IDS_PER_REQUEST]
            page = self._query(id_list=",".join(chunk), max_results=MAX_IDS_PER_REQUEST)
            combined.papers += page.papers
            combined.errors += page.errors
            combined.total_results += page.total_results
            combined.items_per_page += page.items_per_page
        return combined

    def search(
        self,
        query: str,
        start: int = 0,
        max_results: int = 100,
        sort_by: str = "relevance",
        sort_order: str = "descending",
    ) -> ApiPage:
        """One page of results for an arXiv `search_query` (e.g. `cat:cs.LG AND ti:diffusion`)."""
        return self._query(
            search_query=query,
            start=start,
            max_results=max_results,
            sort_by=sort_by,
            sort_order=sort_order,
        )

    def search_all(
        self, query: str, page_size: int = 100, limit: int | None = None
    ) -> Iterator[PaperRecord]:
        """Every result of `query` (at most `limit`), paging with start/max_results.

        Stops at totalResults, at `limit`, or at an empty page (arXiv sometimes serves one
        before the end; asking again is the caller's choice). Error entries raise.
        """
        start = 0
        yielded = 0
        while limit is None or yielded < limit:
            page = self.search(query, start=start, max_results=page_size)
            if page.errors:
                raise ArxivFeedError(self.base_url, "; ".join(e.message for e in page.errors))
            for record in page.papers:
                if limit is not None and yielded >= limit:
                    return
                yield record
                yielded += 1
            start += len(page.papers)
            if not page.papers or start >= page.total_results:
                return

    def _query(
        self,
        search_query: str = "",
        id_list: str = "",
        start: int = 0,
        max_results: int = 100,
        sort_by: str = "relevance",
        sort_order: str = "descending",
    ) -> ApiPage:
        params: dict[str, str | int] = {
            "search_query": search_query,
            "id_list": id_list,
            "sortBy": sort_by,
            "sortOrder": sort_order,
            "start": start,
            "max_results": max_results,
        }
        # Since 2026 arXiv answers a bad request with HTTP 400 *and* an error entry.
        response = self.http.get(self.base_url, params=params, ok_statuses=frozenset({400}))
        url = str(response.url)
        page = parse_feed(response.content, url)
        if response.status_code == 400 and not page.errors:
            raise ArxivFeedError(url, "HTTP 400 without an error entry", 400)
        return page


class ArxivLookup:
    """The `arxiv-api` source: papers by id; bad, unknown and refused ids are report problems.

    Ids are checked locally first: arXiv refuses a whole request for one malformed id.
    """

    name = "arxiv-api"

    def __init__(self, http: HttpClient, ids: Sequence[str], base_url: str = API_URL) -> None:
        self.api = ArxivApi(http, base_url)
        self.ids = ids

    def total(self) -> None:
        return None

    def batches(self, report: Report) -> Iterator[Batch]:
        wanted: list[ArxivId] = []
        for text in self.ids:
            try:
                wanted.append(parse_arxiv_id(text))
            except InvalidArxivId as exc:
                report.problem(text, str(exc))
        for start in range(0, len(wanted), MAX_IDS_PER_REQUEST):
            chunk = wanted[start : start + MAX_IDS_PER_REQUEST]
            page = self.api.by_ids([format_id(arxiv_id) for arxiv_id in chunk])
            for error in page.errors:
                report.problem(error.id_text, error.message)
            found = {record.arxiv_id for record in page.papers}
            for arxiv_id in chunk:
                if arxiv_id.base not in found and not page.errors:
                    report.problem(format_id(arxiv_id), "not found on arXiv")
            report.records_read += len(page.papers)
            yield Batch(papers=page.papers)
