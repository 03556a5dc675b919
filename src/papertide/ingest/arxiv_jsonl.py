"""arXiv daily-listing records as JSON lines (`id, title, authors, categories, comments,
abstract, listing_dates`), plain or gzipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.ingest.base import BadLine, JsonLinesSource, clean_text
from papertide.models import PaperRecord


class BadListing(BadLine):
    """A listing line cannot be imported."""


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list):
        return None
    return [" ".join(str(v).split()) for v in value if isinstance(v, str) and v.strip()] or None


def parse_listing(row: Any) -> PaperRecord:
    """One listing object -> a paper record."""
    if not isinstance(row, dict):
        raise BadListing("line is not a JSON object")
    try:
        arxiv = parse_arxiv_id(str(row.get("id", "")))
    except InvalidArxivId as exc:
        raise BadListing(str(exc)) from exc
    title = clean_text(row.get("title"))
    if not title:
        raise BadListing(f"{arxiv.base} has no title")
    listed = None
    dates = row.get("listing_dates") or []
    if dates and isinstance(dates[0], str):
        try:
            # The first announcement stands in for the submission date the listing lacks.
            listed = dt.datetime.combine(dt.date.fromisoformat(dates[0]), dt.time())
        except ValueError:
            listed = None
    return PaperRecord(
        arxiv_id=arxiv.base,
        version=arxiv.version,
        title=title,
        abstract=clean_text(row.get("abstract")),
        authors=_strings(row.get("authors")),
        categories=_strings(row.get("categories")),
        comments=clean_text(row.get("comments")),
        published_at=listed,
    )


def arxiv_jsonl_source(paths: list[Path]) -> JsonLinesSource:
    """The `arxiv-jsonl` importer over `paths`."""
    return JsonLinesSource("arxiv-jsonl", paths, parse_listing)
