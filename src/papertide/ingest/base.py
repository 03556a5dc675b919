"""What every ingest source shares: the Source protocol, batches, and the problem report."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Connection

from papertide.ingest.validation import BadRecord
from papertide.models import DailyRecord, PaperRecord, StarsRecord, WriteCounts

BATCH_SIZE = 500


# Further writes of a batch through db/, in the batch's transaction (e.g. a harvest's
# checkpoint); may return what they changed.
Apply = Callable[[Connection], WriteCounts | None]


@dataclass(slots=True)
class Batch:
    """Records to write together, and how far through the input they take us."""

    papers: list[PaperRecord] = field(default_factory=list)
    entries: list[DailyRecord] = field(default_factory=list)
    stars: list[StarsRecord] = field(default_factory=list)
    advance: int = 0  # progress units (bytes of input) consumed since the previous batch
    apply: Apply | None = None

    def __len__(self) -> int:
        return len(self.papers) + len(self.entries) + len(self.stars)


@dataclass(frozen=True, slots=True)
class Problem:
    """One input record that could not be imported, and where it is."""

    where: str  # file[:member][:position]
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(slots=True)
class Report:
    """Problems and notes gathered while reading a source."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # messy input that was handled
    records_read: int = 0

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))


class Source(Protocol):
    """Anything that yields batches of records: files and live services alike.

    The runner (ingest/runner.py) writes each batch in its own transaction before it asks
    for the next, so a source that reads the database between batches sees its own writes,
    and an exception leaves every batch before it written.
    """

    name: str

    def total(self) -> int | None:
        """Total progress units (bytes) for a progress bar; None when unknown (live sources)."""
        ...

    def batches(self, report: Report) -> Iterator[Batch]:
        """Read the input lazily, reporting bad records instead of raising."""
        ...


def clean_text(text: object) -> str | None:
    """Collapse runs of whitespace (arXiv hard-wraps titles and abstracts); None if no text."""
    if not isinstance(text, str):
        return None
    cleaned = " ".join(text.split())
    return cleaned or None


def iter_json_lines(path: Path, report: Report) -> Iterator[tuple[str, Any, int]]:
    """Stream a `.jsonl` or `.jsonl.gz` file: (position, decoded object, bytes consumed).

    Lines that are not JSON are reported with their line number and skipped; memory stays
    flat however long the file is.
    """
    gzipped = path.name.endswith(".gz")
    consumed = 0
    try:
        with path.open("rb") as raw:
            stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[assignment]
            for number, line in enumerate(stream, start=1):
                position = raw.tell()
                step, consumed = position - consumed, position
                if not line.strip():
                    continue
                try:
                    yield f"{path}:{number}", json.loads(line), step
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    report.problem(f"{path}:{number}", f"not a JSON line ({exc})")
    except (OSError, EOFError, zlib.error) as exc:
        # A cut-off or corrupt .gz: the lines before the damage were yielded and are kept.
        report.problem(str(path), f"could not be read to the end: {exc}")


class JsonLinesSource:
    """A source of one paper per JSON line, parsed by `parse` (which raises BadRecord)."""

    def __init__(self, name: str, paths: list[Path], parse: Callable[[Any], PaperRecord]) -> None:
        self.name = name
        self.paths = paths
        self.parse = parse

    def total(self) -> int:
        return sum(path.stat().st_size for path in self.paths)

    def batches(self, report: Report) -> Iterator[Batch]:
        batch = Batch()
        for path in self.paths:
            for position, row, step in iter_json_lines(path, report):
                batch.advance += step
                try:
                    batch.papers.append(self.parse(row))
                    report.records_read += 1
                except BadRecord as exc:
                    report.problem(position, str(exc))
                if len(batch.papers) >= BATCH_SIZE:
                    yield batch
                    batch = Batch()
        yield batch
