"""`papertide create-admin`: the first admin, with a password from stdin (or a prompt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.backends import this_tests_database
from typer.testing import CliRunner

from papertide import cli
from papertide.auth import accounts
from papertide.cli import EXIT_ERROR, app
from papertide.db import Database
from papertide.db import accounts as account_rows

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 1000)


def _url(tmp_path: Path) -> str:
    return this_tests_database(f"sqlite:///{tmp_path / 'cli.db'}")


def _create(tmp_path: Path, username: str, email: str, password: str) -> object:
    args = ["create-admin", username, "--email", email, "--database-url", _url(tmp_path)]
    return runner.invoke(app, args, input=password + "\n")


def test_create_admin_reads_the_password_from_stdin(tmp_path: Path) -> None:
    result = _create(tmp_path, "root", "root@example.org", "a long admin secret")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Created the admin root" in result.output  # type: ignore[attr-defined]
    db = Database(_url(tmp_path))
    try:
        account = accounts.authenticate(db, "root", "a long admin secret")
        assert account is not None and account.role == "admin"
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 12"), ("password1234", "most common"), ("root-is-the-boss", "username")],
)
def test_weak_passwords_are_refused(tmp_path: Path, password: str, message: str) -> None:
    result = _create(tmp_path, "root", "root@example.org", password)
    assert result.exit_code == EXIT_ERROR  # type: ignore[attr-defined]
    assert message in result.output  # type: ignore[attr-defined]
    db = Database(_url(tmp_path))
    try:
        with db.read() as conn:
            assert account_rows.account_by_username(conn, "root") is None
    finally:
        db.dispose()


def test_an_existing_username_or_email_is_refused(tmp_path: Path) -> None:
    assert _create(tmp_path, "root", "root@example.org", "a long admin secret").exit_code == 0  # type: ignore[attr-defined]
    again = _create(tmp_path, "ROOT", "other@example.org", "a long admin secret")
    assert again.exit_code == EXIT_ERROR and "username is taken" in again.output  # type: ignore[attr-defined]
    email = _create(tmp_path, "root2", "Root@Example.org", "a long admin secret")
    assert email.exit_code == EXIT_ERROR and "email" in email.output  # type: ignore[attr-defined]
