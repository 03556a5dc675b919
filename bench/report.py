"""The rich table bench/core.py prints, with each figure beside its target from issue #2."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

PAGE_TARGET_MS, SEARCH_TARGET_MS = 10.0, 20.0
LOAD_TARGET_RPS, LOAD_TARGET_P99_MS = 2_000.0, 60.0


def _verdict(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]missed[/red]"


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"


def _import_rows(table: Table, figures: dict[str, Any]) -> None:
    if "skipped" in figures:
        table.add_row("import", f"skipped ({figures['skipped']})", "", "", "", "")
        return
    for name in ("hf_daily", "arxiv_listings"):
        f = figures[name]
        table.add_row(
            f"import {name}",
            f"{f['papers_per_s']:,.0f} papers/s",
            "",
            "",
            f"{f['records']:,} records in {f['seconds']} s",
            "",
        )
    table.add_row(
        "import total",
        f"{figures['papers_per_s']:,.0f} papers/s",
        "",
        "",
        f"{figures['papers']:,} papers in {figures['seconds']} s ({figures['db_mib']} MiB)",
        "",
    )


def _page_rows(table: Table, figures: dict[str, Any]) -> None:
    for name, f in figures.items():
        target = SEARCH_TARGET_MS if name.startswith("search") else PAGE_TARGET_MS
        for mode in ("rendered", "cached"):
            m = f[mode]
            ok = _verdict(m["p50_ms"] < target) if mode == "rendered" else ""
            table.add_row(
                f"page {name}, {mode}",
                f"{f['bytes']:,} B, n={m['n']}",
                _ms(m["p50_ms"]),
                _ms(m["p99_ms"]),
                f"p50 < {target:.0f} ms",
                ok,
            )


def _load_rows(table: Table, figures: dict[str, Any]) -> None:
    if "skipped" in figures:
        table.add_row("wrk", f"skipped ({figures['skipped']})", "", "", "", "")
        return
    for name, f in figures.items():
        ratio = f", {f['ratio_to_baseline']:.0%} of baseline" if "ratio_to_baseline" in f else ""
        errors = f", {f['errors']} errors" if f["errors"] else ""
        ok = f["req_per_s"] >= LOAD_TARGET_RPS and f["p99_ms"] < LOAD_TARGET_P99_MS
        judged = name.startswith(("/ ", "busy"))
        table.add_row(
            f"wrk -c64 {name}",
            f"{f['req_per_s']:,.0f} req/s{ratio}{errors}",
            _ms(f["p50_ms"]),
            _ms(f["p99_ms"]),
            "≥ 2,000 req/s, p99 < 60 ms" if judged else "",
            _verdict(ok) if judged else "",
        )


def print_table(figures: dict[str, Any]) -> None:
    """Every figure, one row each, on stdout."""
    table = Table(
        title=f"Papertide core figures ({figures['machine']}, busiest day {figures['busy_day']})"
    )
    for column in ("figure", "value", "p50", "p99", "target", ""):
        table.add_column(column, justify="left" if column in ("figure", "target") else "right")
    _import_rows(table, figures["import"])
    _page_rows(table, figures["pages"])
    s = figures["search"]
    table.add_row(
        f"search() direct, {s['queries']} queries",
        f"n={s['n']}",
        _ms(s["p50_ms"]),
        _ms(s["p99_ms"]),
        f"p50 < {SEARCH_TARGET_MS:.0f} ms",
        _verdict(s["p50_ms"] < SEARCH_TARGET_MS),
    )
    _load_rows(table, figures["load"])
    out = Console(width=max(Console().width, 130))
    out.print(table)
    slow = ", ".join(f"{q!r} {ms:.1f} ms" for q, ms in s["slowest"])
    out.print(f"Slowest search() queries (median): {slow}")
