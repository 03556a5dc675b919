"""Hugging Face daily papers (`GET /api/daily_papers?date=`): day files, tarballs, JSONL.

Real dumps are messy: some days hold Python-repr strings instead of JSON objects, one is
wrapped as `{status, date, count, data}`. Every good record is imported; every bad one (a
field of the wrong type, a date that does not parse) is reported with its file and position
and skipped, never coerced; a damaged archive keeps the days before the damage (issue #10).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import Field

from papertide.arxiv_ids import parse_github_repo
from papertide.ingest.base import (
    BATCH_SIZE,
    Batch,
    Report,
    clean_text,
    iter_json_lines,
)
from papertide.ingest.validation import (
    BadRecord,
    Count,
    IsoDate,
    IsoDatetime,
    StrictModel,
    check,
    checked_id,
)
from papertide.models import DailyRecord, PaperRecord, StarsRecord, Submitter

_DAY_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.json$")

Parsed = tuple[PaperRecord, DailyRecord, StarsRecord | None]


class HfAuthor(StrictModel):
    name: str
    hidden: bool = False


class HfUser(StrictModel):
    """`submittedOnDailyBy` names the account `user`; the item's `submittedBy` says `name`."""

    user: str | None = None
    name: str | None = None
    fullname: str | None = None
    avatarUrl: str | None = None


class HfOrganization(StrictModel):
    """The organization a paper is claimed by (`{_id, name, fullname, avatar}`)."""

    name: str
    fullname: str | None = None
    avatar: str | None = None


class HfPaper(StrictModel):
    id: str
    title: str | None = None
    summary: str | None = None
    authors: list[HfAuthor] = Field(default_factory=list)
    publishedAt: IsoDatetime | None = None
    submittedOnDailyAt: IsoDatetime | None = None
    submittedOnDailyBy: HfUser | None = None
    upvotes: Count | None = None
    githubRepo: str | None = None
    githubStars: Count | None = None
    projectPage: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    discussionId: str | None = None
    organization: HfOrganization | None = None
    mediaUrls: list[str] | None = None


class HfItem(StrictModel):
    """One element of a daily_papers response (the item repeats some of the paper's fields)."""

    paper: HfPaper
    title: str | None = None
    summary: str | None = None
    publishedAt: IsoDatetime | None = None
    numComments: Count | None = None
    submittedBy: HfUser | None = None
    thumbnail: str | None = None
    organization: HfOrganization | None = None
    mediaUrls: list[str] | None = None


class HfRow(StrictModel):
    """One row of the flattened JSONL (`daily_date, arxiv_id, title, ...`)."""

    daily_date: IsoDate
    arxiv_id: str
    title: str | None = None
    summary: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: IsoDatetime | None = None
    submitted_on_daily_at: IsoDatetime | None = None
    submitter: str | None = None
    submitter_fullname: str | None = None
    upvotes: Count | None = None
    num_comments: Count | None = None
    github_repo: str | None = None
    github_stars: Count | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    # The rows flatten `organization` to one display name ("DENG Lab @ SJTU"), not HF's
    # {name, fullname} object: it is not guessed back into one.
    thumbnail: str | None = None


def _day_from_name(name: str) -> dt.date | None:
    match = _DAY_NAME.search(name)
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _submitter(user: HfUser | None) -> Submitter | None:
    username = user and (user.user or user.name)
    if not user or not username:
        return None
    return Submitter(username=username, fullname=user.fullname, avatar_url=user.avatarUrl)


def parse_item(raw: Any, day: dt.date | None, report: Report | None = None) -> Parsed:
    """One element of a daily_papers response -> paper, daily entry, star snapshot.

    Raises BadRecord for an item of the wrong shape. A `githubRepo` that names no GitHub
    repository (an organisation page, a URL broken by a newline) is not one: the paper is
    kept without a repository, and `report` (when given) notes it.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("paper"), dict):
        raise BadRecord("item has no `paper` object")
    return _records(check(HfItem, raw), day, report)


def _records(item: HfItem, day: dt.date | None, report: Report | None) -> Parsed:
    paper = item.paper
    arxiv = checked_id(paper.id)
    featured_at = paper.submittedOnDailyAt or item.publishedAt
    if day is None:
        if featured_at is None:
            raise BadRecord(
                "no featured date: neither the file name nor submittedOnDailyAt gives one"
            )
        day = featured_at.date()
    repo = parse_github_repo(paper.githubRepo)
    if paper.githubRepo and repo is None and report is not None:
        report.notes.append(
            f"{arxiv.base}: githubRepo {paper.githubRepo!r} names no GitHub repository; "
            "kept without one"
        )
    record = PaperRecord(
        arxiv_id=arxiv.base,
        version=arxiv.version,
        title=clean_text(paper.title or item.title),
        abstract=clean_text(paper.summary or item.summary),
        authors=[name for a in paper.authors if not a.hidden and (name := " ".join(a.name.split()))]
        or None,
        published_at=paper.publishedAt,
        github_repo=repo,
        project_page=paper.projectPage or None,
        ai_summary=clean_text(paper.ai_summary),
        ai_keywords=paper.ai_keywords or None,
        upvotes=paper.upvotes,
        num_comments=item.numComments,
        hf_discussion_id=paper.discussionId or None,
        hf_organization=_organization(paper.organization or item.organization),
        hf_thumbnail=item.thumbnail or None,
        hf_media_urls=paper.mediaUrls or item.mediaUrls or None,
    )
    entry = DailyRecord(
        arxiv_id=arxiv.base,
        date=day,
        submitted_at=featured_at or dt.datetime.combine(day, dt.time()),
        submitter=_submitter(paper.submittedOnDailyBy or item.submittedBy),
    )
    snapshot = None
    if repo and paper.githubStars is not None:
        # HF reports the star count at capture time; the day is the best time we know.
        snapshot = StarsRecord(
            repo=repo, stars=paper.githubStars, observed_at=dt.datetime.combine(day, dt.time())
        )
    return record, entry, snapshot


def _organization(found: HfOrganization | None) -> dict[str, str] | None:
    if found is None:
        return None
    return {
        key: value
        for key, value in (
            ("name", found.name),
            ("fullname", found.fullname),
            ("avatar", found.avatar),
        )
        if value
    }


def parse_normalized_row(raw: Any, report: Report | None = None) -> Parsed:
    """One row of the flattened JSONL, checked as a row, then read as the item it flattens."""
    row = check(HfRow, raw)
    submitter = None
    if row.submitter:
        submitter = HfUser(user=row.submitter, fullname=row.submitter_fullname)
    paper = HfPaper(
        id=row.arxiv_id,
        title=row.title,
        summary=row.summary,
        authors=[HfAuthor(name=name) for name in row.authors],
        publishedAt=row.published_at,
        submittedOnDailyAt=row.submitted_on_daily_at,
        submittedOnDailyBy=submitter,
        upvotes=row.upvotes,
        githubRepo=row.github_repo,
        githubStars=row.github_stars,
        projectPage=row.project_page,
        ai_summary=row.ai_summary,
        ai_keywords=row.ai_keywords,
    )
    item = HfItem(
        paper=paper,
        numComments=row.num_comments,
        thumbnail=row.thumbnail,
    )
    return _records(item, row.daily_date, report)


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


def parse_day(data: bytes, where: str, day: dt.date | None, report: Report) -> Iterator[Parsed]:
    """Every importable item of one day file; the others go to `report`."""
    return parse_items(decode_day(data, where, report), day, report)


def parse_items(
    items: list[tuple[str, Any]], day: dt.date | None, report: Report
) -> Iterator[Parsed]:
    """The importable ones of a day's decoded (position, item) pairs; the others go to `report`."""
    for position, item in items:
        try:
            yield parse_item(item, day, report)
        except BadRecord as exc:
            report.problem(position, str(exc))


# What reading a damaged or cut-off .tar.gz raises, at a header or inside a member.
_DAMAGED = (tarfile.TarError, EOFError, OSError, zlib.error)


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
            for record, entry, snapshot in self._records(path, report):
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

    def _records(self, path: Path, report: Report) -> Iterator[Parsed]:
        name = path.name
        if name.endswith((".jsonl", ".jsonl.gz")):
            yield from self._jsonl(path, report)
        elif name.endswith((".tar.gz", ".tgz", ".tar")):
            yield from self._tarball(path, report)
        else:
            yield from parse_day(path.read_bytes(), str(path), _day_from_name(name), report)

    def _tarball(self, path: Path, report: Report) -> Iterator[Parsed]:
        try:
            archive = tarfile.open(path)  # noqa: SIM115 (closed by the `with` below)
        except _DAMAGED as exc:
            report.problem(str(path), f"not a readable tar archive: {exc}")
            return
        with archive:
            days = kept = 0
            name = None  # the member being read when the archive breaks off
            try:
                while (member := archive.next()) is not None:
                    name, where = member.name, f"{path}:{member.name}"
                    data = _day_file(archive, member, where, report)
                    name = None
                    if data is None:
                        continue
                    days += 1
                    for parsed in parse_day(data, where, _day_from_name(member.name), report):
                        kept += 1
                        yield parsed
            except _DAMAGED as exc:
                at = f"at member {name}" if name else "after its last whole member"
                report.problem(
                    str(path),
                    f"archive truncated or damaged {at} ({exc}); kept the {kept} records of "
                    f"the {days} day files before it, the rest of the archive was not read",
                )

    def _jsonl(self, path: Path, report: Report) -> Iterator[Parsed]:
        for position, row, _step in iter_json_lines(path, report):
            try:
                yield parse_normalized_row(row, report)
            except BadRecord as exc:
                report.problem(position, str(exc))


def _day_file(
    archive: tarfile.TarFile, member: tarfile.TarInfo, where: str, report: Report
) -> bytes | None:
    """The bytes of a `.json` day member; None (reported) for anything else."""
    if not member.isfile():
        return None
    if not member.name.endswith(".json"):
        report.problem(where, "skipped: not a .json day file")
        return None
    handle: IO[bytes] | None = archive.extractfile(member)
    return None if handle is None else handle.read()
