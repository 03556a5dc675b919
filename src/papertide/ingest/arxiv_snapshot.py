"""The arXiv metadata bulk snapshot (Kaggle "arxiv-metadata-oai-snapshot" line format).

Streamed line by line so memory stays flat for files of millions of lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from papertide.ingest.base import JsonLinesSource, clean_text
from papertide.ingest.validation import (
    BadRecord,
    EmailDatetime,
    StrictModel,
    check,
    checked_id,
)
from papertide.models import PaperRecord

_WITHDRAWN = re.compile(
    r"\b(this (papers?|article|submission) (has been|is) withdrawn|withdrawn by)", re.I
)
_SPLIT_AUTHORS = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


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


class SnapshotVersion(StrictModel):
    version: Annotated[str, StringConstraints(pattern=r"^v[0-9]+$")]
    created: EmailDatetime | None = None


class SnapshotLine(StrictModel):
    """One line of the snapshot; `authors_parsed`, `license`, `submitter`... are not read."""

    id: str
    title: str | None = None
    abstract: str | None = None
    authors: str | None = None
    categories: str | None = None
    comments: str | None = None
    doi: str | None = None
    journal_ref: str | None = Field(default=None, alias="journal-ref")
    versions: list[SnapshotVersion] = Field(default_factory=list)


def parse_snapshot_line(row: Any) -> PaperRecord:
    """One decoded snapshot line -> a paper record; BadRecord for a line of the wrong shape."""
    line = check(SnapshotLine, row)
    arxiv = checked_id(line.id)
    title = clean_text(line.title)
    if not title:
        raise BadRecord(f"{arxiv.base} has no title")
    versions = sorted(line.versions, key=lambda v: int(v.version[1:]))
    comments = clean_text(line.comments)
    categories = (line.categories or "").split()
    return PaperRecord(
        arxiv_id=arxiv.base,
        version=int(versions[-1].version[1:]) if versions else arxiv.version,
        title=title,
        abstract=clean_text(line.abstract),
        authors=split_authors(line.authors) or None,
        categories=categories or None,
        published_at=versions[0].created if versions else None,
        updated_at=versions[-1].created if versions else None,
        comments=comments,
        doi=clean_text(line.doi),
        journal_ref=clean_text(line.journal_ref),
        withdrawn=bool(comments and _WITHDRAWN.search(comments)),
    )


def arxiv_snapshot_source(paths: list[Path]) -> JsonLinesSource:
    """The `arxiv-snapshot` importer over `paths`."""
    return JsonLinesSource("arxiv-snapshot", paths, parse_snapshot_line)
