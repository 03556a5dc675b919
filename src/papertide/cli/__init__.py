"""The `papertide` command: thin wrappers over the domain packages.

This module builds the command tree; each command lives in the module of its group.
"""

from __future__ import annotations

import typer

from papertide.cli import accounts, search, serve
from papertide.cli.common import (
    EXIT_BUSY,
    EXIT_CHANGED,
    EXIT_ERROR,
    EXIT_SKIPPED,
    EXIT_UNCHANGED,
    console,
)
from papertide.cli.database import db_app
from papertide.cli.digest import digest_app
from papertide.cli.imports import import_app, ingest_app, trending

__all__ = [
    "EXIT_BUSY",
    "EXIT_CHANGED",
    "EXIT_ERROR",
    "EXIT_SKIPPED",
    "EXIT_UNCHANGED",
    "app",
    "console",
]

app = typer.Typer(help="Papertide: a self-hostable research-paper feed.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(ingest_app, name="ingest")
app.add_typer(digest_app, name="digest")
app.add_typer(db_app, name="db")
app.command()(serve.serve)
app.command()(serve.migrate)
app.command("create-admin")(accounts.create_admin)
app.command()(serve.worker)
app.command()(search.reindex)
app.command("jobs")(serve.list_jobs)
app.command("trending")(trending)
