"""The house's layering (STYLE.md): dependencies point inward, nothing imports web or cli.

Checked on the source, so a stray import fails here rather than in review (issue #10).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "papertide"
DOMAIN = ("auth", "db", "digest", "ingest", "ranking", "search")


def imported_modules(path: Path) -> set[str]:
    """Every papertide module `path` imports, at any level (TYPE_CHECKING and functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("papertide")}


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    files = [SRC / f"{package}.py"] if (SRC / f"{package}.py").exists() else []
    files += sorted((SRC / package).rglob("*.py")) if (SRC / package).is_dir() else []
    return [
        f"{path.relative_to(SRC)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize("package", [*DOMAIN, "jobs", "models", "periods", "config"])
def test_nothing_below_the_web_imports_web_or_cli(package: str) -> None:
    assert offenders(package, ("papertide.web", "papertide.cli")) == []


def test_the_checker_sees_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from papertide.web.views import page_url\n")
    assert imported_modules(module) == {"papertide.web.views", "papertide.web.views.page_url"}
