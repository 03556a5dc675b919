"""`papertide create-admin`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from papertide.bootstrap import open_database
from papertide.cli.common import (
    EXIT_ERROR,
    ConfigOption,
    DatabaseOption,
    DataDirOption,
    console,
    load_or_exit,
)


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

    settings = load_or_exit(config, data_dir=data_dir, database_url=database_url)
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
