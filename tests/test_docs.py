"""Docs that can drift are tested (STYLE.md, as datasette does; issue #10).

Every setting is in docs/settings.md; every `PAPERTIDE_*` variable the docs name is a setting;
every command of `papertide`, with each of its options and arguments, is in docs/cli.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from papertide.cli import app
from papertide.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
VARIABLE = re.compile(r"PAPERTIDE_[A-Z0-9_]*")
NOT_SETTINGS = {
    "PAPERTIDE_CONFIG",  # names the settings file; not a setting itself
    # The test suite's own (tests/backends.py, scripts/test.sh; docs/development.md).
    "PAPERTIDE_TEST_BACKEND",
    "PAPERTIDE_TEST_BACKENDS",
    "PAPERTIDE_TEST_DATABASE_URL",
}


def setting_variables() -> set[str]:
    return {f"PAPERTIDE_{name.upper()}" for name in Settings.model_fields}


def commands(command: Any = None, path: tuple[str, ...] = ("papertide",)) -> Iterator[Any]:
    """(path, command) for every command and group below the root, depth first."""
    command = command or typer.main.get_command(app)
    if len(path) > 1:
        yield path, command
    if hasattr(command, "list_commands"):
        context = command.make_context(path[-1], [], resilient_parsing=True)
        for name in command.list_commands(context):
            yield from commands(command.get_command(context, name), (*path, name))


def sections(markdown: str) -> dict[str, str]:
    """The text under each heading, keyed by the heading without `#` and backticks."""
    found: dict[str, str] = {}
    heading = ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip().strip("`")
            found[heading] = ""
        elif heading:
            found[heading] += line + "\n"
    return found


def undocumented_parameters(command: Any, text: str) -> list[str]:
    missing = []
    for param in command.params:
        if param.param_type_name == "argument":
            names = [f"`{param.name.upper()}`"]
        else:
            names = [f"`{opt}`" for opt in param.opts if opt.startswith("--")]
        missing += [name.strip("`") for name in names if name not in text]
    return missing


def test_every_setting_is_in_docs_settings_md() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = sorted(v for v in setting_variables() if f"| `{v}` |" not in text)
    assert missing == [], f"docs/settings.md does not document {missing}"


def test_every_variable_the_docs_name_is_a_setting() -> None:
    known = setting_variables() | NOT_SETTINGS
    unknown = {}
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for name in set(VARIABLE.findall(page.read_text(encoding="utf-8"))):
            # `PAPERTIDE_RATE_LIMIT_*` names a family: some setting must start with it.
            if name not in known and not any(v.startswith(name) for v in known if name[-1] == "_"):
                unknown.setdefault(page.name, []).append(name)
    assert unknown == {}, f"the docs name variables that are no setting: {unknown}"


def test_every_command_and_option_is_in_docs_cli_md() -> None:
    documented = sections((DOCS / "cli.md").read_text(encoding="utf-8"))
    missing = []
    for path, command in commands():
        name = " ".join(path)
        if name not in documented:
            missing.append(name)
        else:
            missing += [f"{name} {p}" for p in undocumented_parameters(command, documented[name])]
    assert missing == [], f"docs/cli.md does not document {missing}"


def test_the_command_walk_sees_nested_commands_and_their_options() -> None:
    found = {" ".join(path): command for path, command in commands()}
    assert {"papertide serve", "papertide import hf-daily", "papertide digest send"} <= set(found)
    text = "- `--kind`: ...\n- `--config` / `-c`: ..."
    assert undocumented_parameters(found["papertide digest build"], text) == [
        "--data-dir",
        "--database-url",
        "--now",
    ]
