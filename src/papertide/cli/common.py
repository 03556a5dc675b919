"""What every command shares: exit statuses, options, the console, settings, reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from papertide.config import ConfigError, Settings, load_settings
from papertide.ingest.base import Report

EXIT_CHANGED, EXIT_ERROR, EXIT_UNCHANGED, EXIT_SKIPPED, EXIT_BUSY = 0, 1, 3, 4, 5

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


def load_or_exit(config: Path | None, **overrides: object) -> Settings:
    """The settings, or a readable error and exit status 1."""
    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc


def print_report(report: Report, summary: str, show: int) -> None:
    """What an import or a live job handled and skipped, then its summary."""
    for note in report.notes[:show]:
        console.print(f"[cyan]handled[/cyan] {note}")
    if len(report.notes) > show:
        console.print(f"[cyan]handled[/cyan] … and {len(report.notes) - show} more")
    for problem in report.problems[:show]:
        console.print(f"[yellow]skipped[/yellow] {problem}")
    if len(report.problems) > show:
        console.print(f"[yellow]skipped[/yellow] … and {len(report.problems) - show} more")
    console.print(f"{report.records_read} records read. [bold]{summary}[/bold]")


def counting_bar(title: str) -> Progress:
    """A progress bar that counts items: done of total, time taken and left."""
    return Progress(
        TextColumn(title),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
