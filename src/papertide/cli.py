"""The `papertide` command: thin wrappers over the domain packages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from papertide import jobs
from papertide.bootstrap import open_database
from papertide.config import ConfigError, Settings, load_settings, settings_environment
from papertide.db import Database
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.arxiv_snapshot import arxiv_snapshot_source
from papertide.ingest.base import Source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import ImportResult, run_import
from papertide.search import reindex as reindexing
from papertide.search.embedder import Embedder, EmbedderUnavailable, load_embedder
from papertide.search.text_index import TextIndex, TextIndexUnavailable
from papertide.search.vectors import VectorIndexError

if TYPE_CHECKING:
    from papertide.digest.mailer import Mailer
    from papertide.digest.send import SendOptions, SendReport

EXIT_CHANGED, EXIT_ERROR, EXIT_UNCHANGED, EXIT_SKIPPED, EXIT_BUSY = 0, 1, 3, 4, 5

app = typer.Typer(help="Papertide: a self-hostable research-paper feed.", no_args_is_help=True)
import_app = typer.Typer(
    help=(
        "Import papers from files. Exit status: 0 something new or updated, 3 nothing "
        "changed, 4 with --strict when records were skipped, 1 on an error."
    ),
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
ingest_app = typer.Typer(
    help=(
        "Fetch from live sources (arXiv, GitHub, Hugging Face): each is also a worker job and "
        "leaves a job_run record. Exit status as for `import`; 5 when the same job is "
        "already running elsewhere."
    ),
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")
digest_app = typer.Typer(
    help=(
        "Email digests (issue #6, docs/digests.md): build editions, send them. Exit status: "
        "0 something changed, 3 nothing to do, 1 on an error."
    ),
    no_args_is_help=True,
)
app.add_typer(digest_app, name="digest")
console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="A TOML settings file.", envvar="PAPERTIDE_CONFIG"),
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the SQLite database lives.")
]
DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite in data dir).")
]
PathsArgument = Annotated[
    list[Path], typer.Argument(help="Input files.", exists=True, dir_okay=False, readable=True)
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Exit with 4 when any record was skipped.")
]
ShowOption = Annotated[int, typer.Option("--show", help="How many skipped records to list.")]


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc


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
    _report(result, show)
    problems = len(result.report.problems)
    if strict and problems:
        raise typer.Exit(EXIT_SKIPPED)
    raise typer.Exit(EXIT_CHANGED if result.counts.changed else EXIT_UNCHANGED)


def _report(result: ImportResult, show: int) -> None:
    for note in result.report.notes[:show]:
        console.print(f"[cyan]handled[/cyan] {note}")
    if len(result.report.notes) > show:
        console.print(f"[cyan]handled[/cyan] … and {len(result.report.notes) - show} more")
    for problem in result.report.problems[:show]:
        console.print(f"[yellow]skipped[/yellow] {problem}")
    if len(result.report.problems) > show:
        console.print(f"[yellow]skipped[/yellow] … and {len(result.report.problems) - show} more")
    console.print(f"{result.report.records_read} records read. [bold]{result.summary()}[/bold]")


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
        settings = _settings(config, data_dir=data_dir, database_url=database_url)
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


def app_from_environment() -> object:
    """Uvicorn factory for worker processes: settings come from PAPERTIDE_* variables."""
    from papertide.web.app import create_app

    return create_app(_settings(None))


@app.command()
def serve(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Web worker processes.", min=1)] = 1,
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Do not load the demo.")] = False,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (costs ~25% throughput).")
    ] = False,
) -> None:
    """Run the web app (creates and migrates the database, loads the demo when empty)."""
    import uvicorn

    overrides = {"data_dir": data_dir, "database_url": database_url, "host": host, "port": port}
    if no_demo:
        overrides["load_demo"] = False
    settings = _settings(config, **overrides)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    open_database(settings).dispose()
    # Workers rebuild the same settings from the environment.
    os.environ.update(settings_environment(settings))
    os.environ.pop("PAPERTIDE_CONFIG", None)
    console.print(f"Papertide is serving on [bold]http://{settings.host}:{settings.port}/[/bold]")
    uvicorn.run(
        "papertide.cli:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        loop="uvloop" if _has("uvloop") else "auto",
        http="httptools" if _has("httptools") else "auto",
    )


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@app.command()
def migrate(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Create or upgrade the database schema (serve does this too)."""
    settings = _settings(config, database_url=database_url, load_demo=False)
    open_database(settings).dispose()
    console.print(f"Database at {settings.resolved_database_url} is up to date.")


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="The admin's username.")],
    email: Annotated[str, typer.Option("--email", help="The admin's email address.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an admin account (issue #5). The password is asked for twice on a terminal, or
    read as the first line of standard input (`... < password-file`); weak ones are refused."""
    from papertide.auth.accounts import FormErrors
    from papertide.auth.accounts import create_admin as make_admin

    settings = _settings(config, data_dir=data_dir, database_url=database_url)
    password = _new_password()
    db = open_database(settings.model_copy(update={"load_demo": False}))
    try:
        account = make_admin(db, username, email, password, settings.password_min_length)
    except FormErrors as exc:
        for field, message in exc.errors.items():
            console.print(f"[red]{field}:[/red] {message}")
        raise typer.Exit(EXIT_ERROR) from exc
    finally:
        db.dispose()
    console.print(f"Created the admin [bold]{account.username}[/bold] ({account.email}).")


def _new_password() -> str:
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _live(name: str, action: jobs.Action, config: Path | None, show: int = 20) -> None:
    """Run one live-source job now, through the same lock and job_run record as the worker."""
    settings = _settings(config)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    with jobs.http_client(settings) as http, console.status(f"{name}: fetching…"):
        ctx = jobs.Context(db, http, settings, jobs.utcnow())
        outcome = jobs.run_job(db, name, lambda: action(ctx))
    if outcome.status == "busy":
        console.print(f"[yellow]{outcome.message}[/yellow]")
        raise typer.Exit(EXIT_BUSY)
    if outcome.result is None:
        console.print(f"[red]{name} failed:[/red] {outcome.message}")
        raise typer.Exit(EXIT_ERROR)
    _report(outcome.result, show)
    raise typer.Exit(EXIT_CHANGED if outcome.result.counts.changed else EXIT_UNCHANGED)


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


@app.command()
def worker(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
) -> None:
    """Run the scheduled jobs (arXiv listings, HF mirror, GitHub stars) until stopped."""
    settings = _settings(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    db = open_database(settings.model_copy(update={"load_demo": False}))
    scheduled = jobs.scheduled_jobs(settings)
    for job in scheduled:
        console.print(f"{job.name}: {job.schedule.describe() if job.schedule else 'on demand'}")
    with jobs.http_client(settings) as http:
        runner = jobs.Worker(db, settings, scheduled, http)
        try:
            runner.run_forever(ticks=1 if once else None)
        except KeyboardInterrupt:
            console.print("Worker stopped.")


@app.command()
def reindex(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Embedding model, minilm-int8 or sentence-transformers:<name> "
            "(default: PAPERTIDE_EMBEDDING_MODEL)."
        ),
    ] = None,
    rebuild_only: Annotated[
        bool, typer.Option("--rebuild-only", help="Only rebuild the index from stored vectors.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Papers embedded and committed together.", min=1)
    ] = 256,
) -> None:
    """Embed every paper without a current vector (all of them after a model change), then
    rebuild the vector index. Resumable: after an interruption, run it again."""
    settings = _settings(config, data_dir=data_dir, database_url=database_url)
    name = model or settings.embedding_model
    db = open_database(settings.model_copy(update={"load_demo": False}))
    try:
        if rebuild_only:
            with console.status("Rebuilding the vector index…"):
                index = reindexing.rebuild(db, settings.data_dir, name)
            console.print(f"The {name} index holds {index.count} vectors ({index.kind}).")
            _rebuild_keyword_index(db, settings.data_dir)
            raise typer.Exit(EXIT_CHANGED)
        embedder = load_embedder(name)
        embedded = _embed_with_progress(db, settings.data_dir, embedder, batch_size)
        _rebuild_keyword_index(db, settings.data_dir)
    except (VectorIndexError, EmbedderUnavailable, TextIndexUnavailable, ValueError) as exc:
        console.print(f"[red]reindex failed:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    console.print(f"Embedded {embedded} papers with {name}; the vector index is rebuilt.")
    if name != settings.embedding_model:
        console.print(
            f"[yellow]Set PAPERTIDE_EMBEDDING_MODEL={name}[/yellow] so the web app and the "
            "worker use these vectors."
        )
    raise typer.Exit(EXIT_CHANGED if embedded else EXIT_UNCHANGED)


def _rebuild_keyword_index(db: Database, data_dir: Path) -> None:
    """Build the keyword index afresh (hybrid search's BM25 side), with a progress bar."""
    with Progress(
        TextColumn("[bold]keyword index[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("keyword index", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        index = TextIndex.build(db, data_dir, advance)
    console.print(f"The keyword index holds {len(index)} papers.")


def _counting_bar(title: str) -> Progress:
    """A progress bar that counts items: done of total, time taken and left."""
    return Progress(
        TextColumn(title),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _embed_with_progress(db: Database, data_dir: Path, embedder: Embedder, batch: int) -> int:
    with _counting_bar(f"[bold]embedding with {embedder.name}[/bold]") as progress:
        task = progress.add_task("embedding", total=reindexing.pending(db, embedder))
        return reindexing.reindex(
            db, data_dir, embedder, lambda n: progress.advance(task, n), batch_size=batch
        )


@app.command("jobs")
def list_jobs(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20,
) -> None:
    """The latest job runs, newest first."""
    from rich.table import Table

    from papertide.db import jobs as job_records

    settings = _settings(config)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    table = Table("job", "started (UTC)", "seconds", "status", "summary")
    with db.read() as conn:
        for run in job_records.recent_runs(conn, limit):
            seconds = f"{run.seconds:.1f}" if run.seconds is not None else "…"
            summary = (run.message or "").splitlines()[0] if run.message else ""
            table.add_row(
                run.job, f"{run.started_at:%Y-%m-%d %H:%M:%S}", seconds, run.status, summary
            )
    Console().print(table)


@digest_app.command("build")
def digest_build(
    kind: Annotated[str, typer.Option(help="daily (weekdays) or weekly (ISO weeks).")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    now: Annotated[
        str | None, typer.Option(help="Build as if it were this UTC time (ISO 8601).")
    ] = None,
) -> None:
    """Freeze the latest complete period's edition: its papers in trending order and every
    confirmed subscriber's selection. Idempotent and resumable: run it again after a crash."""
    from papertide.digest.compose import Kind
    from papertide.digest.editions import build_edition

    if kind not in ("daily", "weekly"):
        raise typer.BadParameter(f"{kind!r} is not daily or weekly", param_hint="--kind")
    at = jobs.utcnow()
    if now is not None:
        try:
            parsed = dt.datetime.fromisoformat(now)
        except ValueError as exc:
            raise typer.BadParameter(
                f"{now!r} is not an ISO 8601 time", param_hint="--now"
            ) from exc
        at = parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    settings = _settings(config, data_dir=data_dir, database_url=database_url)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    with _counting_bar(f"[bold]{kind} edition[/bold]") as progress:
        task = progress.add_task("subscribers", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        edition_kind: Kind = "weekly" if kind == "weekly" else "daily"
        summary = build_edition(db, edition_kind, at, settings, progress=advance)
    db.dispose()
    console.print(summary.describe())
    raise typer.Exit(EXIT_CHANGED if summary.changed else EXIT_UNCHANGED)


@digest_app.command("send")
def digest_send(
    config: ConfigOption = None,
    edition: Annotated[int | None, typer.Option(help="Send this edition (by id).")] = None,
    kind: Annotated[
        str | None, typer.Option(help="Send every unfinished edition of this kind (daily|weekly).")
    ] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for due retries before leaving them.", min=0)
    ] = 60.0,
    worker_name: Annotated[
        str | None, typer.Option("--worker", help="Name recorded on claims (default host:pid).")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            help="Over 1: send with this many helper processes, a core each "
            "(default PAPERTIDE_DIGEST_SEND_PROCESSES).",
            min=1,
            max=64,
        ),
    ] = None,
) -> None:
    """Send unfinished editions through the delivery ledger (resumable: run it again after a
    crash). Without --edition or --kind: every unfinished edition."""
    from papertide.digest import send
    from papertide.digest.dkim import DkimConfigError
    from papertide.digest.mailer import make_mailer

    settings = _settings(config)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    editions = send.editions_to_send(db, edition, kind)
    if not editions:
        console.print("Nothing to send.")
        raise typer.Exit(EXIT_UNCHANGED)
    options = send.SendOptions.from_settings(settings, max_wait_s=wait)
    if processes is not None:
        options = dataclasses.replace(options, processes=processes)
    mailer = make_mailer(settings)
    changed = False
    for edition_id in editions:
        try:
            report = _send_with_progress(db, edition_id, mailer, settings, worker_name, options)
        except DkimConfigError as exc:
            console.print(f"[red]DKIM:[/red] {exc}")
            raise typer.Exit(EXIT_ERROR) from exc
        console.print(report.summary())
        changed = changed or report.sent + report.failed + report.suppressed + report.skipped > 0
    raise typer.Exit(EXIT_CHANGED if changed else EXIT_UNCHANGED)


def _send_with_progress(
    db: Database,
    edition_id: int,
    mailer: Mailer,
    settings: Settings,
    worker_name: str | None,
    options: SendOptions,
) -> SendReport:
    """One edition sent, with a progress bar: fed by this process's outcomes, or, with helper
    processes (whose sends reach this one through the ledger only), by reading the ledger."""
    from papertide.digest import send

    with _counting_bar(f"[bold]edition {edition_id}[/bold]") as progress:
        total = send.outstanding(db, edition_id)
        task = progress.add_task("sending", total=total)

        def advance(outcome: str) -> None:
            if outcome != "retried":  # still pending: it comes back later
                progress.advance(task)

        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.5):
                progress.update(task, completed=total - send.outstanding(db, edition_id))

        if options.processes > 1:
            threading.Thread(target=poll, daemon=True).start()
        try:
            return send.send_edition_in_processes(
                db, edition_id, mailer, settings, worker_name, options=options,
                progress=None if options.processes > 1 else advance,
            )  # fmt: skip
        finally:
            done.set()


@digest_app.command("bounce")
def digest_bounce(
    address: Annotated[str, typer.Argument(help="The address that bounced or complained.")],
    reason: Annotated[str, typer.Option(help="Recorded as the suppression reason.")] = "bounce",
    config: ConfigOption = None,
) -> None:
    """Suppress an address (a provider's bounce or complaint): it gets no more mail."""
    from papertide.digest import send

    settings = _settings(config)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    if not send.record_bounce(db, address, reason):
        console.print(f"No subscriber has the address {address}.")
        raise typer.Exit(EXIT_UNCHANGED)
    console.print(f"Suppressed {address} ({reason}).")
    raise typer.Exit(EXIT_CHANGED)
