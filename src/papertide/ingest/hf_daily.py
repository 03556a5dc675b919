"""Hugging Face daily papers (`GET /api/daily_papers?date=`): day files, tarballs, JSONL.

Real dumps are messy: some days hold Python-repr strings instead of JSON objects, one is
wrapped as `{status, date, count, data}`. Every good record is imported; every bad one is
reported with its file and position, never dropped silently.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id, parse_github_repo
from papertide.ingest.base import (
    BATCH_SIZE,
    Batch,
    Report,
    clean_text,
    iter_json_lines,
    parse_datetime,
)
from papertide.models import DailyRecord, PaperRecord, StarsRecord, Submitter

_DAY_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.json$")


class BadRecord(ValueError):
    """One item of a day cannot be imported."""


def _day_from_name(name: str) -> dt.date | None:
    match = _DAY_NAME.search(name)
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _submitter(raw: Any) -> Submitter | None:
    if not isinstance(raw, dict):
        return None
    username = raw.get("user") or raw.get("name")
    if not username or not isinstance(username, str):
        return None
    return Submitter(
        username=username, fullname=raw.get("fullname"), avatar_url=raw.get("avatarUrl")
    )


def _authors(raw: Any) -> list[str]:
    names = []
    for author in raw or []:
        if isinstance(author, dict) and not author.get("hidden") and author.get("name"):
            names.append(" ".join(str(author["name"]).split()))
        elif isinstance(author, str):
            names.append(author)
    return names


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_item(
    item: Any, day: dt.date | None
) -> tuple[PaperRecord, DailyRecord, StarsRecord | None]:
    """One element of a daily_papers response -> paper, daily entry, star snapshot."""
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise BadRecord("item has no `paper` object")
    raw = item["paper"]
    try:
        arxiv = parse_arxiv_id(str(raw.get("id", "")))
    except InvalidArxivId as exc:
        raise BadRecord(str(exc)) from exc
    featured_at = parse_datetime(raw.get("submittedOnDailyAt")) or parse_datetime(
        item.get("publishedAt")
    )
    if day is None:
        if featured_at is None:
            raise BadRecord(
                "no featured date: neither the file name nor submittedOnDailyAt gives one"
            )
        day = featured_at.date()
    repo = parse_github_repo(raw.get("githubRepo"))
    record = PaperRecord(
        arxiv_id=arxiv.base,
        version=arxiv.version,
        title=clean_text(raw.get("title") or item.get("title")),
        abstract=clean_text(raw.get("summary") or item.get("summary")),
        authors=_authors(raw.get("authors")) or None,
        published_at=parse_datetime(raw.get("publishedAt")),
        github_repo=repo,
        project_page=raw.get("projectPage") or None,
        ai_summary=clean_text(raw.get("ai_summary")),
        ai_keywords=[k for k in raw.get("ai_keywords") or [] if isinstance(k, str)] or None,
        upvotes=_int(raw.get("upvotes")),
        num_comments=_int(item.get("numComments")),
    )
    entry = DailyRecord(
        arxiv_id=arxiv.base,
        date=day,
        submitted_at=featured_at or dt.datetime.combine(day, dt.time()),
        submitter=_submitter(raw.get("submittedOnDailyBy") or item.get("submittedBy")),
    )
    stars = _int(raw.get("githubStars"))
    snapshot = None
    if repo and stars is not None:
        # HF reports the star count at capture time; the day is the best time we know.
        snapshot = StarsRecord(
            repo=repo, stars=stars, observed_at=dt.datetime.combine(day, dt.time())
        )
    return record, entry, snapshot


def parse_normalized_row(row: Any) -> tuple[PaperRecord, DailyRecord, StarsRecord | None]:
    """One row of the flattened JSONL (`daily_date, arxiv_id, title, ...`)."""
    if not isinstance(row, dict):
        raise BadRecord("row is not a JSON object")
    try:
        day = dt.date.fromisoformat(str(row.get("daily_date")))
    except ValueError as exc:
        raise BadRecord(f"bad daily_date {row.get('daily_date')!r}") from exc
    submitter = None
    if row.get("submitter"):
        submitter = {"user": row["submitter"], "fullname": row.get("submitter_fullname")}
    item = {
        "paper": {
            "id": row.get("arxiv_id"),
            "title": row.get("title"),
            "summary": row.get("summary"),
            "authors": row.get("authors"),
            "publishedAt": row.get("published_at"),
            "submittedOnDailyAt": row.get("submitted_on_daily_at"),
            "submittedOnDailyBy": submitter,
            "upvotes": row.get("upvotes"),
            "githubRepo": row.get("github_repo"),
            "githubStars": row.get("github_stars"),
            "projectPage": row.get("project_page"),
            "ai_summary": row.get("ai_summary"),
            "ai_keywords": row.get("ai_keywords"),
        },
        "numComments": row.get("num_comments"),
    }
    return parse_item(item, day)


def decode_day(data: bytes, where: str, report: Report) -> list[tuple[str, Any]]:
    """A day file's bytes -> [(position, item)]; reports what cannot be decoded."""
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        report.problem(where, "empty file (no JSON at all)")
        return []
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        report.problem(where, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
        return []
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        report.notes.append(f"{where}: unwrapped a {{{', '.join(payload)}}} wrapper object")
        payload = payload["data"]
    if not isinstance(payload, list):
        report.problem(where, f"expected a JSON array of items, found {type(payload).__name__}")
        return []
    items: list[tuple[str, Any]] = []
    repr_count = 0
    for index, item in enumerate(payload):
        if isinstance(item, str):
            try:
                item = ast.literal_eval(item)
                repr_count += 1
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                report.problem(
                    f"{where}[{index}]", "string item is neither JSON nor a Python literal"
                )
                continue
        items.append((f"{where}[{index}]", item))
    if repr_count:
        report.notes.append(f"{where}: decoded {repr_count} Python-repr string items")
    return items


class HfDailySource:
    """Hugging Face daily-papers dumps: `.json` days, `.tar.gz` of days, `.jsonl[.gz]` rows."""

    name = "hf-daily"

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths

    def total(self) -> int:
        return sum(path.stat().st_size for path in self.paths)

    def batches(self, report: Report) -> Iterator[Batch]:
        batch = Batch()
        for path in self.paths:
            for parsed in self._records(path, report):
                record, entry, snapshot = parsed
                batch.papers.append(record)
                batch.entries.append(entry)
                if snapshot:
                    batch.stars.append(snapshot)
                report.records_read += 1
                if len(batch.papers) >= BATCH_SIZE:
                    yield batch
                    batch = Batch()
            batch.advance += path.stat().st_size
        yield batch

    def _records(
        self, path: Path, report: Report
    ) -> Iterator[tuple[PaperRecord, DailyRecord, StarsRecord | None]]:
        name = path.name
        if name.endswith((".jsonl", ".jsonl.gz")):
            yield from self._jsonl(path, report)
        elif name.endswith((".tar.gz", ".tgz", ".tar")):
            yield from self._tarball(path, report)
        else:
            yield from self._day(path.read_bytes(), str(path), _day_from_name(name), report)

    def _day(
        self, data: bytes, where: str, day: dt.date | None, report: Report
    ) -> Iterator[tuple[PaperRecord, DailyRecord, StarsRecord | None]]:
        for position, item in decode_day(data, where, report):
            try:
                yield parse_item(item, day)
            except BadRecord as exc:
                report.problem(position, str(exc))

    def _tarball(
        self, path: Path, report: Report
    ) -> Iterator[tuple[PaperRecord, DailyRecord, StarsRecord | None]]:
        try:
            archive = tarfile.open(path)  # noqa: SIM115 (closed by the `with` below)
        except (tarfile.TarError, OSError) as exc:
            report.problem(str(path), f"not a readable tar archive: {exc}")
            return
        with archive:
            for member in archive:
                where = f"{path}:{member.name}"
                if not member.isfile():
                    continue
                if not member.name.endswith(".json"):
                    report.problem(where, "skipped: not a .json day file")
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                yield from self._day(handle.read(), where, _day_from_name(member.name), report)

    def _jsonl(
        self, path: Path, report: Report
    ) -> Iterator[tuple[PaperRecord, DailyRecord, StarsRecord | None]]:
        for position, row, _step in iter_json_lines(path, report):
            try:
                yield parse_normalized_row(row)
            except BadRecord as exc:
                report.problem(position, str(exc))
