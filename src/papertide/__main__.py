"""`python -m papertide` runs the CLI."""

from papertide.cli import app

app()
