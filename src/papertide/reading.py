"""Reading lists (issue #14): save papers to named lists, private or public, with a note;
export them as BibTeX, RIS or CSL-JSON; import a BibTeX file (from Zotero, say).

An imported entry is matched to a paper here by its arXiv id (the `eprint` field, an arXiv
URL or DOI, `arXiv:…` anywhere in `note`/`journal`), then its DOI, then its exact title
(folded as exact-title search folds it); the result says which entries matched how and which
did not, and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from papertide import cite
from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.clock import utcnow
from papertide.db import lists as rows
from papertide.db import queries
from papertide.db.engine import Database
from papertide.db.lists import ReadingList
from papertide.db.writes import bump_content_version
from papertide.models import Account
from papertide.text import title_key

MAX_NAME, MAX_NOTE = 100, 2_000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ENTRIES = 2_000
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv[:\s]\s*|10\.48550/arxiv\.)"
    r"([a-z\-]+(?:\.[a-z]{2})?/\d{7}|\d{4}\.\d{4,5})",
    re.IGNORECASE,
)


class ListProblem(ValueError):
    """A request about a list that cannot be done; the message says why."""


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ListProblem(f"Give the list a name of 1 to {MAX_NAME} characters.")
    return name


def create(db: Database, account: Account, name: str, public: bool = False) -> int:
    name = _name(name)
    with db.write() as conn:
        if rows.count_of_user(conn, account.id) >= rows.MAX_LISTS:
            raise ListProblem(f"You have {rows.MAX_LISTS} lists: delete one first.")
        return rows.create(conn, account.id, name, public, utcnow())


def readable(db: Database, list_id: int, viewer: Account | None) -> ReadingList | None:
    """The list if `viewer` may see it (its owner, or anyone when it is public), else None:
    a private list is as absent to others as one that does not exist."""
    with db.read() as conn:
        found = rows.get(conn, list_id)
    if found is None or not (found.public or (viewer is not None and viewer.id == found.user_id)):
        return None
    return found


def owned(db: Database, list_id: int, account: Account) -> ReadingList:
    """The list, which must be `account`'s own; ListProblem otherwise (shown as a 404)."""
    with db.read() as conn:
        found = rows.get(conn, list_id)
    if found is None or found.user_id != account.id:
        raise ListProblem("You have no such list.")
    return found


def change(db: Database, account: Account, list_id: int, name: str, public: bool) -> None:
    owned(db, list_id, account)
    with db.write() as conn:
        rows.update(conn, list_id, _name(name), public, utcnow())
        bump_content_version(conn)  # a public list's feed is cached like the pages


def delete(db: Database, account: Account, list_id: int) -> None:
    owned(db, list_id, account)
    with db.write() as conn:
        rows.delete(conn, list_id)
        bump_content_version(conn)


def save(db: Database, account: Account, list_id: int, paper_id: str, note: str = "") -> bool:
    """Save a paper to one of the member's lists (a repeat changes its note); True if new."""
    owned(db, list_id, account)
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ListProblem(f"A note holds at most {MAX_NOTE} characters.")
    with db.write() as conn:
        if queries.get_paper(conn, paper_id) is None:
            raise ListProblem(f"There is no paper {paper_id} here.")
        if rows.size(conn, list_id) >= rows.MAX_ITEMS:
            raise ListProblem(f"A list holds at most {rows.MAX_ITEMS} papers.")
        added = rows.save(conn, list_id, paper_id, note, utcnow())
        bump_content_version(conn)
    return added


def remove(db: Database, account: Account, list_id: int, paper_id: str) -> bool:
    owned(db, list_id, account)
    with db.write() as conn:
        removed = rows.remove(conn, list_id, paper_id, utcnow())
        bump_content_version(conn)
    return removed


def citables(db: Database, paper_ids: Sequence[str]) -> list[cite.Citable]:
    """The papers, in order, as citations need them (unknown ids are left out)."""
    with db.read() as conn:
        found = [queries.get_paper(conn, paper_id) for paper_id in paper_ids]
    return [cite.Citable.of(paper) for paper in found if paper is not None]


@dataclass
class ImportReport:
    """What an import did, entry by entry."""

    matched: list[tuple[str, str, str]] = field(default_factory=list)  # key, paper id, how
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # key or title, why
    added: int = 0  # of the matched, those not on the list before
    problems: list[str] = field(default_factory=list)  # blocks the parser could not read


def _field(entry: object, name: str) -> str:
    fields = getattr(entry, "fields_dict", {})
    found = fields.get(name) or fields.get(name.upper()) or fields.get(name.capitalize())
    value = getattr(found, "value", "") if found is not None else ""
    return " ".join(str(value).replace("{", "").replace("}", "").split())


def _arxiv_id(entry: object) -> str | None:
    candidates = (
        [_field(entry, "eprint")]
        if _field(entry, "archiveprefix").lower()
        in (
            "arxiv",
            "",
        )
        else []
    )
    for name in ("url", "doi", "note", "journal", "howpublished", "eprint", "number"):
        candidates += [m.group(1) for m in _ARXIV_IN_TEXT.finditer(_field(entry, name))]
    for text in candidates:
        try:
            return parse_arxiv_id(text.strip()).base
        except InvalidArxivId:
            continue
    return None


def import_bibtex(db: Database, account: Account, list_id: int, text: str) -> ImportReport:
    """Match a BibTeX file's entries to papers here and save those found to the list."""
    from bibtexparser import parse_string  # type: ignore[attr-defined]

    owned(db, list_id, account)
    report = ImportReport()
    if len(text.encode()) > MAX_IMPORT_BYTES:
        raise ListProblem(f"The file is over {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    library = parse_string(text)
    report.problems = [
        f"line {getattr(block, 'start_line', '?')}: {type(block).__name__}"
        for block in library.failed_blocks
    ]
    entries = library.entries[:MAX_IMPORT_ENTRIES]
    if len(library.entries) > MAX_IMPORT_ENTRIES:
        report.problems.append(f"only the first {MAX_IMPORT_ENTRIES} entries were read")
    if not entries and not report.problems:
        raise ListProblem("No BibTeX entries in that file: is it a .bib file?")
    arxiv = {i: _arxiv_id(e) for i, e in enumerate(entries)}
    dois = {
        i: _field(e, "doi").lower().removeprefix("https://doi.org/") for i, e in enumerate(entries)
    }
    titles = {i: title_key(_field(e, "title")) or "" for i, e in enumerate(entries)}
    with db.read() as conn:
        known = rows.known_ids(conn, [pid for pid in arxiv.values() if pid])
        by_doi = rows.ids_by_doi(conn, list(dois.values()))
        by_title = rows.ids_by_title_key(conn, list(titles.values()))
    matches: list[tuple[int, str, str]] = []
    for i, entry in enumerate(entries):
        label = entry.key or _field(entry, "title")[:80] or f"entry {i + 1}"
        paper_id = arxiv[i]
        if paper_id and paper_id in known:
            matches.append((i, paper_id, "arXiv id"))
        elif dois[i] and dois[i] in by_doi:
            matches.append((i, by_doi[dois[i]], "DOI"))
        elif titles[i] and titles[i] in by_title:
            matches.append((i, by_title[titles[i]], "title"))
        elif paper_id:
            report.unmatched.append((label, f"arXiv {paper_id} is not in this Papertide"))
        elif not titles[i]:
            report.unmatched.append((label, "no arXiv id, DOI or title to match"))
        else:
            report.unmatched.append((label, "no paper here with its arXiv id, DOI or title"))
    for i, paper_id, how in matches:
        label = entries[i].key or paper_id
        report.matched.append((label, paper_id, how))
        note = _field(entries[i], "annote") or _field(entries[i], "annotation")
        if save(db, account, list_id, paper_id, note[:MAX_NOTE]):
            report.added += 1
    return report
