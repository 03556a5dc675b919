"""`papertide db copy`: move a deployment to another database, e.g. to PostgreSQL (issue #11)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from papertide.cli.common import EXIT_ERROR, console, counting_bar
from papertide.db.copy import (
    DEFAULT_BATCH,
    Copier,
    CopyError,
    TableCheck,
    open_source,
    open_target,
    shown,
)

db_app = typer.Typer(help="Operate on the database as a whole.", no_args_is_help=True)


@db_app.command("copy")
def copy_database(
    from_url: Annotated[
        str, typer.Option("--from", help="Database URL to copy from (left unchanged).")
    ],
    to_url: Annotated[
        str, typer.Option("--to", help="Database URL to copy to (migrated to the current schema).")
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Delete the target's rows first when it is not empty."),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Rows per batch (one transaction each).", min=1)
    ] = DEFAULT_BATCH,
    sample: Annotated[
        int, typer.Option("--sample", help="Rows per table compared after the copy.", min=0)
    ] = 50,
) -> None:
    """Copy every table (papers, votes, vectors, the digest ledger, ...) to another database.

    Stop the web processes and workers first. A killed copy resumes when run again with the
    same --from and --to.
    """
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        source = open_source(from_url)
        target = open_target(to_url)
        copier = Copier(source, target, batch_size)
        plans, resumed = copier.plan(force)
        done = sum(plan.copied for plan in plans)
        if resumed:
            console.print(f"Resuming the copy: {done} rows were copied before.")
        total = max(done, sum(plan.source_rows for plan in plans))
        with counting_bar("Copying rows") as bar:
            task = bar.add_task("rows", total=total, completed=done)
            for plan in plans:
                bar.update(task, description=plan.name)
                copier.copy_table(plan, lambda rows: bar.advance(task, rows))
        copier.finish()
        checks = copier.verify(sample)
    except CopyError as exc:
        console.print(f"[red]Copy failed:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    Console().print(_checks_table(checks))
    if not all(check.ok for check in checks):
        console.print(
            "[red]The copy differs from the source[/red] (was the source written to meanwhile?). "
            "Run again with --force to start over."
        )
        raise typer.Exit(EXIT_ERROR)
    copier.drop_state()
    console.print(f"Copied {shown(from_url)} to {shown(to_url)}: counts and samples match.")


def _checks_table(checks: list[TableCheck]) -> Table:
    table = Table("table", "source rows", "target rows", "sampled", "check")
    for check in checks:
        verdict = "ok" if check.ok else "[red]differs[/red]"
        if check.differing:
            verdict += f" (rows {'; '.join(check.differing[:3])})"
        table.add_row(
            check.name, str(check.source_rows), str(check.target_rows), str(check.sampled), verdict
        )
    return table
