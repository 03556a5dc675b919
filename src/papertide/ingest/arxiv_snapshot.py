"""The arXiv metadata bulk snapshot (Kaggle "arxiv-metadata-oai-snapshot" line format).

Streamed line by line so memory stays flat for files of millions of lines.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from pathlib import Path
from typing import Any

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.ingest.base import BadLine, JsonLinesSource, clean_text
from papertide.models import PaperRecord

_WITHDRAWN = re.compile(
    r"\b(this (papers?|article|submission) (has been|is) withdrawn|withdrawn by)", re.I
)
_SPLIT_AUTHORS = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


class BadSnapshotLine(BadLine):
    """A snapshot line cannot be imported."""


def _strip_parentheses(text: str) -> str:
    """Drop parenthesised affiliations, nested ones included."""
    out, depth = [], 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def split_authors(text: str | None) -> list[str]:
    """`A. One, B. Two (Univ X) and C. Three` -> ["A. One", "B. Two", "C. Three"]."""
    if not text:
        return []
    flat = " ".join(_strip_parentheses(text).split())
    return [name.strip() for name in _SPLIT_AUTHORS.split(flat) if name.strip()]


def _version_dates(versions: Any) -> tuple[int | None, dt.datetime | None, dt.datetime | None]:
    """(latest version number, first created, last created) from the `versions` list."""
    numbers: list[tuple[int, dt.datetime | None]] = []
    for item in versions or []:
        if not isinstance(item, dict):
            continue
        match = re.fullmatch(r"v(\d+)", str(item.get("version", "")))
        if not match:
            continue
        created = None
        if item.get("created"):
            parsed = email.utils.parsedate_to_datetime(str(item["created"]))
            created = parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
        numbers.append((int(match.group(1)), created))
    if not numbers:
        return None, None, None
    numbers.sort(key=lambda pair: pair[0])
    return numbers[-1][0], numbers[0][1], numbers[-1][1]


def parse_snapshot_line(row: Any) -> PaperRecord:
    """One decoded snapshot line -> a paper record."""
    if not isinstance(row, dict):
        raise BadSnapshotLine("line is not a JSON object")
    try:
        arxiv = parse_arxiv_id(str(row.get("id", "")))
    except InvalidArxivId as exc:
        raise BadSnapshotLine(str(exc)) from exc
    title = clean_text(row.get("title"))
    if not title:
        raise BadSnapshotLine(f"{arxiv.base} has no title")
    try:
        version, first, last = _version_dates(row.get("versions"))
    except (TypeError, ValueError) as exc:
        raise BadSnapshotLine(f"{arxiv.base} has unreadable version dates: {exc}") from exc
    comments = clean_text(row.get("comments"))
    categories = str(row.get("categories") or "").split()
    return PaperRecord(
        arxiv_id=arxiv.base,
        version=version or arxiv.version,
        title=title,
        abstract=clean_text(row.get("abstract")),
        authors=split_authors(row.get("authors")) or None,
        categories=categories or None,
        published_at=first,
        updated_at=last,
        comments=comments,
        doi=clean_text(row.get("doi")),
        journal_ref=clean_text(row.get("journal-ref")),
        withdrawn=bool(comments and _WITHDRAWN.search(comments)),
    )


def arxiv_snapshot_source(paths: list[Path]) -> JsonLinesSource:
    """The `arxiv-snapshot` importer over `paths`."""
    return JsonLinesSource("arxiv-snapshot", paths, parse_snapshot_line)
