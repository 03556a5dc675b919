"""Run a Source into the database: one transaction per batch, progress, a summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from papertide.db import writes
from papertide.db.engine import Database
from papertide.ingest.base import Report, Source
from papertide.models import WriteCounts

Progress = Callable[[int], None]


@dataclass(slots=True)
class ImportResult:
    """What an import did: the counts written and the report of what was read."""

    source: str
    counts: WriteCounts = field(default_factory=WriteCounts)
    report: Report = field(default_factory=Report)

    def merge(self, other: ImportResult) -> None:
        """Fold another run of the same source into this one."""
        self.counts.add(other.counts)
        self.report.problems.extend(other.report.problems)
        self.report.notes.extend(other.report.notes)
        self.report.records_read += other.report.records_read

    def summary(self) -> str:
        c = self.counts
        skipped = len(self.report.problems)
        return (
            f"{self.source}: {c.papers_new} new, {c.papers_updated} updated, "
            f"{c.papers_unchanged} unchanged papers; {c.entries_new} new daily entries; "
            f"{c.stars_new} new star snapshots; {skipped} skipped"
        )


def run_import(
    db: Database,
    source: Source,
    progress: Progress | None = None,
    new_after_seq: int | None = None,
) -> ImportResult:
    """Read `source` to the end, writing each batch in its own transaction.

    A paper that this import created counts as new however many of its batches mention it
    (a paper featured on two days, issue #10). `new_after_seq` (a `writes.last_seq()`) makes
    several imports count as one, as the demo load does; by default this import's own start.
    """
    result = ImportResult(source=source.name)
    if new_after_seq is None:
        with db.read() as conn:
            new_after_seq = writes.last_seq(conn)
    for batch in source.batches(result.report):
        if len(batch) or batch.apply is not None:
            with db.write() as conn:
                if len(batch):
                    counts = writes.write_batch(
                        conn, batch.papers, batch.entries, batch.stars, new_after_seq
                    )
                    result.counts.add(counts)
                if batch.apply is not None and (more := batch.apply(conn)) is not None:
                    result.counts.add(more)
        if progress is not None:
            progress(batch.advance)
    return result
