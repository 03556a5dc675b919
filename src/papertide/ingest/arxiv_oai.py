"""arXiv's OAI-PMH interface (`oaipmh.arxiv.org/oai`): resumable, incremental harvests.

`parse_list_records` is pure: one response body in, one `OaiPage` out. `OaiHarvest` follows
resumption tokens, writing each page and its checkpoint in one transaction, so a harvest
killed between pages resumes at the page it had not finished, and a finished one remembers
its latest datestamp as the next run's `from` (issue #3). The `arXiv` prefix gives no
version numbers (only created/updated dates); `arXivRaw` does, so only `arXivRaw` harvests
let a newer version replace an older one under the merge rules of db/writes.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from papertide.db.engine import Database
from papertide.db.state import get_state, set_state
from papertide.ingest import safe_xml
from papertide.ingest.arxiv_snapshot import split_authors
from papertide.ingest.base import Batch, Problem, Report, clean_text
from papertide.ingest.http import FetchError, HttpClient
from papertide.ingest.validation import BadRecord, checked_id, parse_email_datetime, parse_iso_date
from papertide.models import PaperRecord

SOURCE_NAME = "arxiv-oai"
DEFAULT_BASE_URL = "https://oaipmh.arxiv.org/oai"
METADATA_PREFIXES = ("arXiv", "arXivRaw")
NO_RECORDS = "noRecordsMatch"
BAD_TOKEN = "badResumptionToken"
# Some OAI-PMH servers send their error documents with a 4xx status instead of 200.
_ERROR_STATUSES = frozenset({400, 404, 422})
_VERSION = re.compile(r"v(\d+)")


class OaiError(RuntimeError):
    """The repository answered with an OAI-PMH error (`badArgument`, `badResumptionToken`...)."""

    def __init__(self, url: str, code: str, message: str) -> None:
        super().__init__(f"{url}: OAI-PMH error {code}: {message}")
        self.url = url
        self.code = code


class OaiFormatError(ValueError):
    """A response body is not a well-formed OAI-PMH document (truncated, HTML, a DOCTYPE)."""


@dataclass(slots=True)
class OaiPage:
    """One ListRecords (or GetRecord) response."""

    records: list[PaperRecord] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # arXiv ids whose header says deleted
    token: str | None = None  # resumption token; None on the last page
    complete_list_size: int | None = None
    cursor: int | None = None
    error: tuple[str, str] | None = None  # (code, message) of an OAI-PMH error response
    datestamp: str | None = None  # the latest header datestamp on the page, deleted included
    licenses: dict[str, str] = field(default_factory=dict)  # arXiv id -> licence URL
    problems: list[Problem] = field(default_factory=list)


def _parse_xml(body: bytes | str, url: str) -> ET.Element:
    try:
        return safe_xml.parse_xml(body)
    except safe_xml.XmlError as exc:
        raise OaiFormatError(f"{url}: {exc}") from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    # By local name: one real arXiv response puts <arXiv> in the OAI namespace by mistake.
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    return None if child is None else clean_text(child.text)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _day(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.combine(parse_iso_date(text), dt.time())
    except ValueError as exc:
        raise BadRecord(f"unreadable date: {exc}") from None


def _base_id(text: str | None) -> tuple[str, int | None]:
    arxiv = checked_id(text or "")
    return arxiv.base, arxiv.version


def _author_name(author: ET.Element) -> str | None:
    parts = (_text(author, "forenames"), _text(author, "keyname"), _text(author, "suffix"))
    return " ".join(part for part in parts if part) or None


def _record_from_arxiv(meta: ET.Element) -> PaperRecord:
    """The `arXiv` format: structured authors, created/updated days, no version number."""
    arxiv_id, version = _base_id(_text(meta, "id"))
    created = _day(_text(meta, "created"))
    authors = [_author_name(a) for a in _children(_child(meta, "authors"), "author")]
    return _common_fields(
        meta,
        arxiv_id,
        version=version,
        authors=[name for name in authors if name] or None,
        published_at=created,
        updated_at=_day(_text(meta, "updated")) or created,
    )


def _version_date(version: ET.Element) -> dt.datetime | None:
    text = _text(version, "date")
    if not text:
        return None
    try:
        return parse_email_datetime(text)
    except ValueError as exc:
        raise BadRecord(f"unreadable version date: {exc}") from None


def _record_from_arxiv_raw(meta: ET.Element) -> PaperRecord:
    """The `arXivRaw` format: every version with its date; authors as one string."""
    arxiv_id, id_version = _base_id(_text(meta, "id"))
    versions: list[tuple[int, dt.datetime | None]] = []
    for element in _children(meta, "version"):
        match = _VERSION.fullmatch(element.get("version", ""))
        if not match:
            raise BadRecord(f"{arxiv_id}: version {element.get('version')!r} is not v<number>")
        versions.append((int(match.group(1)), _version_date(element)))
    versions.sort(key=lambda pair: pair[0])
    return _common_fields(
        meta,
        arxiv_id,
        version=versions[-1][0] if versions else id_version,
        authors=split_authors(_text(meta, "authors")) or None,
        published_at=versions[0][1] if versions else None,
        updated_at=versions[-1][1] if versions else None,
    )


def _common_fields(meta: ET.Element, arxiv_id: str, **known: Any) -> PaperRecord:
    title = _text(meta, "title")
    if not title:
        raise BadRecord(f"{arxiv_id} has no title")
    categories = (_text(meta, "categories") or "").split()
    return PaperRecord(
        arxiv_id=arxiv_id,
        title=title,
        abstract=_text(meta, "abstract"),
        categories=categories or None,
        comments=_text(meta, "comments"),
        doi=_text(meta, "doi"),
        journal_ref=_text(meta, "journal-ref"),
        **known,
    )


_FORMATS = {"arXiv": _record_from_arxiv, "arXivRaw": _record_from_arxiv_raw}


def _read_record(record: ET.Element, page: OaiPage) -> None:
    header = _child(record, "header")
    if header is None:
        raise BadRecord("record without a header")
    identifier = _text(header, "identifier") or ""
    datestamp = _text(header, "datestamp")
    if datestamp and (page.datestamp is None or datestamp > page.datestamp):
        page.datestamp = datestamp
    if header.get("status") == "deleted":
        oai_id = identifier.rpartition(":")[2]
        page.deleted.append(_base_id(oai_id)[0] if oai_id else identifier)
        return
    metadata = _child(record, "metadata")
    meta = None if metadata is None else next(iter(metadata), None)
    if meta is None:
        raise BadRecord(f"{identifier or 'a record'} has no metadata")
    parse = _FORMATS.get(_local(meta.tag))
    if parse is None:
        raise BadRecord(f"{identifier}: unsupported metadata format {_local(meta.tag)!r}")
    paper = parse(meta)
    page.records.append(paper)
    licence = _text(meta, "license")
    if licence:
        page.licenses[paper.arxiv_id] = licence


def parse_list_records(body: bytes | str, url: str = "OAI-PMH response") -> OaiPage:
    """Parse one ListRecords/GetRecord response; records that cannot be read become problems.

    Raises OaiFormatError (naming `url`) for a body that is not a whole OAI-PMH document.
    An OAI-PMH error response gives a page with `error` set and no records.
    """
    root = _parse_xml(body, url)
    if _local(root.tag) != "OAI-PMH":
        raise OaiFormatError(f"{url}: not an OAI-PMH response (root <{_local(root.tag)}>)")
    error = _child(root, "error")
    if error is not None:
        return OaiPage(error=(error.get("code", "unknown"), clean_text(error.text) or ""))
    container = _child(root, "ListRecords")
    if container is None:
        container = _child(root, "GetRecord")
    if container is None:
        raise OaiFormatError(f"{url}: neither ListRecords nor GetRecord in the response")
    page = OaiPage()
    for position, record in enumerate(_children(container, "record"), start=1):
        try:
            _read_record(record, page)
        except BadRecord as exc:
            page.problems.append(Problem(f"{url} record {position}", str(exc)))
    token = _child(container, "resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
        page.complete_list_size = _int(token.get("completeListSize"))
        page.cursor = _int(token.get("cursor"))
    return page


def fetch_page(http: HttpClient, base_url: str, params: dict[str, str]) -> OaiPage:
    """GET one page; raises OaiError for any OAI-PMH error except noRecordsMatch (empty)."""
    response = http.get(base_url, params=params, ok_statuses=_ERROR_STATUSES)
    url = str(response.url)
    status = response.status_code
    try:
        page: OaiPage | None = parse_list_records(response.content, url)
    except OaiFormatError:
        if status < 300:
            raise
        page = None
    if page is None or (status >= 300 and page.error is None):  # an HTTP error page
        raise FetchError(url, f"HTTP {status} {response.reason_phrase}".strip(), status)
    if page.error is not None and page.error[0] != NO_RECORDS:
        raise OaiError(url, *page.error)
    return page


def state_key(base_url: str, metadata_prefix: str, set_spec: str | None) -> str:
    """The ingest_state key of one harvest: `arxiv-oai|<base_url>|<prefix>|<set or *>`."""
    return f"{SOURCE_NAME}|{base_url}|{metadata_prefix}|{set_spec or '*'}"


@dataclass(slots=True)
class _Harvest:
    """Where one harvest stands; `state()` is what ingest_state keeps between runs."""

    token: str | None
    from_date: str | None
    until: str | None
    last_seen: str | None = None

    def params(self, metadata_prefix: str, set_spec: str | None) -> dict[str, str]:
        if self.token:  # OAI-PMH forbids any other argument next to a resumption token
            return {"verb": "ListRecords", "resumptionToken": self.token}
        params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
        optional = {"set": set_spec, "from": self.from_date, "until": self.until}
        return params | {name: value for name, value in optional.items() if value}

    def state(self) -> dict[str, str | None]:
        if self.token:
            return {
                "token": self.token,
                "from": self.from_date,
                "until": self.until,
                "last_datestamp_seen": self.last_seen,
            }
        # Finished: the next run starts at the latest datestamp seen (inclusive, since more
        # records can still be stamped with that day), or where this one started.
        next_from = self.last_seen or self.from_date
        return {"token": None, "from": next_from, "until": None, "last_datestamp_seen": next_from}


def _plan(
    stored: Any, from_date: dt.date | None, until: dt.date | None, notes: list[str]
) -> _Harvest:
    """Resume a stored harvest when this run asks for nothing else; else start one."""
    stored = stored if isinstance(stored, dict) else {}
    wanted_from = from_date.isoformat() if from_date else None
    wanted_until = until.isoformat() if until else None
    if stored.get("token"):
        same_from = wanted_from in (None, stored.get("from"))
        same_until = wanted_until in (None, stored.get("until"))
        if same_from and same_until:
            notes.append(f"resuming the harvest from {stored.get('from') or 'the start'}")
            return _Harvest(
                stored["token"],
                stored.get("from"),
                stored.get("until"),
                stored.get("last_datestamp_seen"),
            )
        notes.append("a stored resumption token was dropped: this run asks for another range")
    return _Harvest(None, wanted_from or stored.get("from"), wanted_until)


def _page_batch(key: str, page: OaiPage, harvest: _Harvest, report: Report) -> Batch:
    """The page's records and the checkpoint after it, to be written in one transaction."""
    harvest.token = page.token
    if page.datestamp and (harvest.last_seen is None or page.datestamp > harvest.last_seen):
        harvest.last_seen = page.datestamp
    report.records_read += len(page.records)
    report.problems.extend(page.problems)
    if page.deleted:
        report.notes.append(
            f"{len(page.deleted)} deleted by arXiv, not imported: {', '.join(page.deleted)}"
        )
    checkpoint = functools.partial(_checkpoint, key, harvest.state())
    return Batch(papers=page.records, apply=checkpoint)


def _checkpoint(key: str, state: dict[str, str | None], conn: Connection) -> None:
    set_state(conn, key, state)


class OaiHarvest:
    """The `arxiv-oai` source: ListRecords, resuming or continuing the stored harvest.

    Without `from_date` the harvest starts at the latest datestamp of the previous one.
    `max_pages` stops early with the resumption token stored for the next run. Fetch and
    format errors propagate; every page written before them stays written, with its token.
    """

    name = SOURCE_NAME

    def __init__(
        self,
        db: Database,
        http: HttpClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        metadata_prefix: str = "arXiv",
        set_spec: str | None = None,
        from_date: dt.date | None = None,
        until: dt.date | None = None,
        max_pages: int | None = None,
    ) -> None:
        if metadata_prefix not in METADATA_PREFIXES:
            raise ValueError(
                f"metadata prefix must be one of {METADATA_PREFIXES}, not {metadata_prefix!r}"
            )
        self.db, self.http, self.base_url = db, http, base_url
        self.metadata_prefix, self.set_spec = metadata_prefix, set_spec
        self.from_date, self.until, self.max_pages = from_date, until, max_pages

    def total(self) -> None:
        return None

    def batches(self, report: Report) -> Iterator[Batch]:
        key = state_key(self.base_url, self.metadata_prefix, self.set_spec)
        with self.db.read() as conn:
            harvest = _plan(get_state(conn, key), self.from_date, self.until, report.notes)
        pages, restarted = 0, False
        while self.max_pages is None or pages < self.max_pages:
            params = harvest.params(self.metadata_prefix, self.set_spec)
            try:
                page = fetch_page(self.http, self.base_url, params)
            except OaiError as exc:
                # Tokens expire: start this harvest again from its `from`, once per run.
                if exc.code != BAD_TOKEN or harvest.token is None or restarted:
                    raise
                report.notes.append(
                    f"resumption token rejected ({exc}); restarting the harvest from "
                    f"{harvest.from_date or 'the start'}"
                )
                harvest.token, restarted = None, True
                continue
            pages += 1
            yield _page_batch(key, page, harvest, report)
            if page.token is None:
                return
        report.notes.append(f"stopped at the page limit ({pages}); the resumption token is stored")
