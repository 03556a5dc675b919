"""`papertide digest`: build editions, send them, record bounces."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from papertide.bootstrap import open_database
from papertide.cli.common import (
    EXIT_CHANGED,
    EXIT_ERROR,
    EXIT_UNCHANGED,
    ConfigOption,
    DatabaseOption,
    DataDirOption,
    console,
    counting_bar,
    load_or_exit,
)
from papertide.clock import utcnow
from papertide.db import Database

if TYPE_CHECKING:
    from papertide.digest.send import SendOptions


digest_app = typer.Typer(
    help=(
        "Email digests (issue #6, docs/digests.md): build editions, send them. Exit status: "
        "0 something changed, 3 nothing to do, 1 on an error."
    ),
    no_args_is_help=True,
)


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
    at = utcnow()
    if now is not None:
        try:
            parsed = dt.datetime.fromisoformat(now)
        except ValueError as exc:
            raise typer.BadParameter(
                f"{now!r} is not an ISO 8601 time", param_hint="--now"
            ) from exc
        at = parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    settings = load_or_exit(config, data_dir=data_dir, database_url=database_url)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    with counting_bar(f"[bold]{kind} edition[/bold]") as progress:
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

    settings = load_or_exit(config)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    options = send.SendOptions.from_settings(settings, max_wait_s=wait)
    if processes is not None:
        options = dataclasses.replace(options, processes=processes)
    try:  # the worker's send path (jobs.py); it closes its mailer however it ends
        reports = send.send_due(
            db, settings, edition_id=edition, kind=kind, worker_name=worker_name,
            options=options, watch=functools.partial(_progress_bar, db),
            on_report=lambda report: console.print(report.summary()),
        )  # fmt: skip
    except DkimConfigError as exc:
        console.print(f"[red]DKIM:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    finally:
        db.dispose()
    if not reports:
        console.print("Nothing to send.")
        raise typer.Exit(EXIT_UNCHANGED)
    changed = any(r.sent + r.failed + r.suppressed + r.skipped for r in reports)
    raise typer.Exit(EXIT_CHANGED if changed else EXIT_UNCHANGED)


@contextmanager
def _progress_bar(
    db: Database, edition_id: int, options: SendOptions
) -> Iterator[Callable[[str], None] | None]:
    """A progress bar over one edition: fed by this process's outcomes (the callback it
    yields), or, with helper processes (whose sends reach this one through the ledger only),
    by reading the ledger twice a second."""
    from papertide.digest import send

    with counting_bar(f"[bold]edition {edition_id}[/bold]") as progress:
        total = send.outstanding(db, edition_id)
        task = progress.add_task("sending", total=total)
        if options.processes <= 1:

            def advance(outcome: str) -> None:
                if outcome != "retried":  # still pending: it comes back later
                    progress.advance(task)

            yield advance
            return
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.5):
                progress.update(task, completed=total - send.outstanding(db, edition_id))

        threading.Thread(target=poll, daemon=True).start()
        try:
            yield None
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

    settings = load_or_exit(config)
    db = open_database(settings.model_copy(update={"load_demo": False}))
    if not send.record_bounce(db, address, reason):
        console.print(f"No subscriber has the address {address}.")
        raise typer.Exit(EXIT_UNCHANGED)
    console.print(f"Suppressed {address} ({reason}).")
    raise typer.Exit(EXIT_CHANGED)
