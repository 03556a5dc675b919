"""arXiv daily-listing records as JSON lines (`id, title, authors, categories, comments,
abstract, listing_dates`), plain or gzipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import Field

from papertide.ingest.base import JsonLinesSource, clean_text
from papertide.ingest.validation import BadRecord, IsoDate, StrictModel, check, checked_id
from papertide.models import PaperRecord


class Listing(StrictModel):
    """One line of a listing file, as the scraper writes it."""

    id: str
    title: str | None = None
    abstract: str | None = None
    authors: list[str] | None = None
    categories: list[str] | None = None
    comments: str | None = None
    listing_dates: list[IsoDate] = Field(default_factory=list)


def _names(values: list[str] | None) -> list[str] | None:
    """Whitespace-normalised names; blank entries are not names."""
    return [name for value in values or [] if (name := " ".join(value.split()))] or None


def parse_listing(row: Any) -> PaperRecord:
    """One listing object -> a paper record; BadRecord for a line of the wrong shape."""
    listing = check(Listing, row)
    arxiv = checked_id(listing.id)
    title = clean_text(listing.title)
    if not title:
        raise BadRecord(f"{arxiv.base} has no title")
    listed = None
    if listing.listing_dates:
        # The first announcement stands in for the submission date the listing lacks.
        listed = dt.datetime.combine(listing.listing_dates[0], dt.time())
    return PaperRecord(
        arxiv_id=arxiv.base,
        version=arxiv.version,
        title=title,
        abstract=clean_text(listing.abstract),
        authors=_names(listing.authors),
        categories=_names(listing.categories),
        comments=clean_text(listing.comments),
        published_at=listed,
    )


def arxiv_jsonl_source(paths: list[Path]) -> JsonLinesSource:
    """The `arxiv-jsonl` importer over `paths`."""
    return JsonLinesSource("arxiv-jsonl", paths, parse_listing)
