"""`papertide import` (files) and `papertide ingest` (live sources)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from papertide import jobs
from papertide.bootstrap import open_database
from papertide.cli.common import (
    EXIT_BUSY,
    EXIT_CHANGED,
    EXIT_ERROR,
    EXIT_SKIPPED,
    EXIT_UNCHANGED,
    ConfigOption,
    DatabaseOption,
    DataDirOption,
    PathsArgument,
    ShowOption,
    StrictOption,
    console,
    load_or_exit,
    print_report,
)
from papertide.clock import utcnow
from papertide.config import Settings
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.arxiv_snapshot import arxiv_snapshot_source
from papertide.ingest.base import Source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import

import_app = typer.Typer(
    help=(
        "Import papers from files. Exit status: 0 something new or updated, 3 nothing "
        "changed, 4 with --strict when records were skipped, 1 on an error."
    ),
    no_args_is_help=True,
)

ingest_app = typer.Typer(
    help=(
        "Fetch from live sources (arXiv, GitHub, Hugging Face): each is also a worker job and "
        "leaves a job_run record. Exit status as for `import`; 5 when the same job is "
        "already running elsewhere."
    ),
    no_args_is_help=True,
)


def _run(source: Source, settings: Settings, strict: bool, show: int) -> None:
    db = open_database(settings.model_copy(update={"load_demo": False}))
    with Progress(
        TextColumn(f"[bold]{source.name}[/bold]"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(source.name, total=source.total())
        result = run_import(db, source, lambda step: progress.advance(task, step))
    print_report(result.report, result.summary(), show)
    problems = len(result.report.problems)
    if strict and problems:
        raise typer.Exit(EXIT_SKIPPED)
    raise typer.Exit(EXIT_CHANGED if result.counts.changed else EXIT_UNCHANGED)


def _import_command(name: str, make_source: Callable[[list[Path]], Source], doc: str) -> None:
    """Register `papertide import NAME`: the options are the same for every source."""

    def command(
        paths: PathsArgument,
        config: ConfigOption = None,
        data_dir: DataDirOption = None,
        database_url: DatabaseOption = None,
        strict: StrictOption = False,
        show: ShowOption = 20,
    ) -> None:
        settings = load_or_exit(config, data_dir=data_dir, database_url=database_url)
        _run(make_source(paths), settings, strict, show)

    command.__doc__ = doc
    import_app.command(name)(command)


_import_command(
    "hf-daily",
    HfDailySource,
    "Hugging Face daily papers: day .json files, monthly .tar.gz, or normalized .jsonl[.gz].",
)
_import_command(
    "arxiv-jsonl",
    arxiv_jsonl_source,
    "arXiv listing records, one JSON object a line (.jsonl or .jsonl.gz).",
)
_import_command(
    "arxiv-snapshot",
    arxiv_snapshot_source,
    "The arXiv metadata bulk snapshot (one JSON record a line), streamed with flat memory.",
)


def _live(name: str, action: jobs.Action, config: Path | None, show: int = 20) -> None:
    """Run one live-source job now, through the same lock and job_run record as the worker."""
    settings = load_or_exit(config)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    with jobs.http_client(settings) as http, console.status(f"{name}: fetching…"):
        ctx = jobs.Context(db, http, settings, utcnow())
        outcome = jobs.run_job(db, name, lambda: action(ctx))
    if outcome.status == "busy":
        console.print(f"[yellow]{outcome.message}[/yellow]")
        raise typer.Exit(EXIT_BUSY)
    if outcome.result is None:
        console.print(f"[red]{name} failed:[/red] {outcome.message}")
        raise typer.Exit(EXIT_ERROR)
    print_report(outcome.result.report, outcome.result.summary, show)
    raise typer.Exit(EXIT_CHANGED if outcome.result.changed else EXIT_UNCHANGED)


def trending(config: ConfigOption = None) -> None:
    """Compute and store the trending windows that are out of date (the worker's `trending`
    job, run now); web processes serve the stored rankings (docs/trending.md)."""
    _live("trending", jobs.trending, config)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from exc


@ingest_app.command("arxiv-new")
def ingest_arxiv_new(config: ConfigOption = None) -> None:
    """Today's arXiv announcement for PAPERTIDE_ARXIV_CATEGORIES (new, cross, replaced)."""
    _live("arxiv-new", jobs.arxiv_new, config)


@ingest_app.command("arxiv-ids")
def ingest_arxiv_ids(
    ids: Annotated[list[str], typer.Argument(help="arXiv ids or abs/pdf URLs.")],
    config: ConfigOption = None,
) -> None:
    """Fetch specific papers through arXiv's query API (newer versions replace older ones)."""
    _live("arxiv-ids", lambda ctx: jobs.arxiv_ids(ctx, ids), config)


@ingest_app.command("oai")
def ingest_oai(
    config: ConfigOption = None,
    from_date: Annotated[
        str | None, typer.Option("--from", help="YYYY-MM-DD; default: where the last run ended.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD, inclusive.")] = None,
    set_spec: Annotated[
        str | None, typer.Option("--set", help="OAI set, e.g. cs or physics:hep-th.")
    ] = None,
    prefix: Annotated[
        str, typer.Option(help="arXivRaw (has version numbers, so newer versions win) or arXiv.")
    ] = "arXivRaw",
) -> None:
    """Harvest arXiv's OAI-PMH interface; resumable, incremental."""
    start, end = _date(from_date), _date(until)
    _live("oai", lambda ctx: jobs.oai_harvest(ctx, start, end, set_spec, prefix), config)


@ingest_app.command("github-stars")
def ingest_github_stars(
    config: ConfigOption = None,
    limit: Annotated[
        int | None, typer.Option(help="Refresh at most this many repositories.")
    ] = None,
) -> None:
    """Refresh GitHub star counts (PAPERTIDE_GITHUB_TOKEN raises the rate limit)."""
    _live("github-stars", lambda ctx: jobs.github_stars(ctx, limit), config)


@ingest_app.command("hf-daily")
def ingest_hf_daily(
    config: ConfigOption = None,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today (UTC).")] = None,
) -> None:
    """Mirror one day of Hugging Face's daily papers."""
    day = _date(date)
    _live("hf-daily", lambda ctx: jobs.hf_daily(ctx, day), config)
