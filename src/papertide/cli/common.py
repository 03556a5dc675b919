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
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

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


class RateColumn(ProgressColumn):
    """Items a second, e.g. "112.4 papers/s": rich's estimate over the last half minute, or
    the average so far until it has one (it needs two updates)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.completed and task.elapsed:
            speed = task.completed / task.elapsed
        shown = "?" if speed is None else f"{speed:,.1f}"
        return Text(f"{shown} {self.unit}/s", style="progress.data.speed")


def counting_bar(title: str, unit: str | None = None) -> Progress:
    """A progress bar that counts items: done of total, the rate in `unit`s a second when
    `unit` is given, time taken and left."""
    rate = [RateColumn(unit)] if unit else []
    return Progress(
        TextColumn(title),
        BarColumn(),
        MofNCompleteColumn(),
        *rate,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
