"""`papertide serve`, `migrate`, `worker` and `jobs`: running the app and its scheduled jobs."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console

from papertide import jobs
from papertide.bootstrap import open_database
from papertide.cli.common import (
    ConfigOption,
    DatabaseOption,
    DataDirOption,
    console,
    load_or_exit,
)
from papertide.config import settings_environment

GRACEFUL_SHUTDOWN_S = 20


def app_from_environment() -> object:
    """Uvicorn factory for worker processes: settings come from PAPERTIDE_* variables."""
    from papertide.web.app import create_app

    return create_app(load_or_exit(None))


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
    settings = load_or_exit(config, **overrides)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    open_database(settings).dispose()
    # Workers rebuild the same settings from the environment.
    os.environ.update(settings_environment(settings))
    os.environ.pop("PAPERTIDE_CONFIG", None)
    console.print(f"Papertide is serving on [bold]http://{settings.host}:{settings.port}/[/bold]")
    uvicorn.run(
        "papertide.cli.serve:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        # SIGTERM: stop accepting, let requests in flight finish (at most this long).
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        loop="uvloop" if _has("uvloop") else "auto",
        http="httptools" if _has("httptools") else "auto",
    )


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def migrate(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Create or upgrade the database schema (serve does this too)."""
    settings = load_or_exit(config, database_url=database_url, load_demo=False)
    open_database(settings).dispose()
    console.print(f"Database at {settings.resolved_database_url} is up to date.")


def worker(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
) -> None:
    """Run the scheduled jobs (arXiv listings, HF mirror, GitHub stars) until stopped."""
    settings = load_or_exit(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    db = open_database(settings.model_copy(update={"load_demo": False}))
    scheduled = jobs.scheduled_jobs(settings)
    for job in scheduled:
        console.print(f"{job.name}: {job.schedule.describe() if job.schedule else 'on demand'}")
    with jobs.http_client(settings) as http:
        runner = jobs.Worker(db, settings, scheduled, http, tick_s=settings.worker_tick_s)
        runner.sleep = _waiter(runner.stop)  # a stop ends the wait between ticks at once

        def graceful(signum: int, _frame: object) -> None:
            # SIGTERM (systemd, docker stop): finish the job in hand, hand back unsent digest
            # claims, exit. A second signal stops at once.
            console.print(f"{signal.Signals(signum).name}: stopping after the current job.")
            runner.stop.set()
            signal.signal(signum, signal.SIG_DFL)

        signal.signal(signal.SIGTERM, graceful)
        try:
            runner.run_forever(ticks=1 if once else None)
        except KeyboardInterrupt:
            runner.stop.set()
        console.print("Worker stopped.")


def _waiter(stop: threading.Event) -> Callable[[float], None]:
    def wait(seconds: float) -> None:
        stop.wait(seconds)

    return wait


def list_jobs(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20,
) -> None:
    """The latest job runs, newest first."""
    from rich.table import Table

    from papertide.db import jobs as job_records

    settings = load_or_exit(config)
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
