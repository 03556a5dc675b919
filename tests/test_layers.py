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


def test_config_imports_no_domain_package() -> None:
    # Settings are the innermost layer: every package reads them, they read none (issue #10).
    domain = tuple(f"papertide.{name}" for name in (*DOMAIN, "web", "cli", "jobs"))
    assert offenders("config", domain) == []


# What code outside db/ may name from SQLAlchemy: connections and rows to pass along.
SQLALCHEMY_TYPES = {"Connection", "Row", "RowMapping", "Engine"}
SQL_NOT_YET_MOVED: set[str] = set()


def sql_outside_db(path: Path) -> list[str]:
    """What in `path` builds SQL: sqlalchemy beyond its types, raw SQL text, the tables."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("sa", "sqlalchemy")
            and node.attr not in SQLALCHEMY_TYPES
        ):
            found.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [
                f"from {node.module} import {a.name}"
                for a in node.names
                if a.name not in SQLALCHEMY_TYPES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module == "papertide.db.schema":
            found.append("papertide.db.schema")
    return found


def test_nothing_outside_db_writes_sql() -> None:
    found = {
        str(path.relative_to(SRC)): sql_outside_db(path)
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] != "db"
    }
    assert {name: what for name, what in found.items() if what} == {}


def test_the_sql_check_sees_a_query(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import sqlalchemy as sa\nfrom papertide.db.schema import paper\n"
        "def f(conn: sa.Connection):\n    return conn.execute(sa.text('SELECT 1'))\n"
    )
    assert sql_outside_db(module) == ["papertide.db.schema", "sa.text"]


def reads_the_clock(path: Path) -> bool:
    """Whether `path` calls `datetime.now(...)` itself instead of papertide.clock.utcnow."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("now", "utcnow")
        and isinstance(node.func.value, ast.Attribute | ast.Name)
        and getattr(node.func.value, "attr", getattr(node.func.value, "id", "")) == "datetime"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def test_one_clock() -> None:
    readers = [
        str(path.relative_to(SRC)) for path in sorted(SRC.rglob("*.py")) if reads_the_clock(path)
    ]
    assert readers == ["clock.py"]


def test_the_checker_sees_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from papertide.web.views import page_url\n")
    assert imported_modules(module) == {"papertide.web.views", "papertide.web.views.page_url"}
