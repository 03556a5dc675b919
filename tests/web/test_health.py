"""`/healthz` for load balancers (issue #11): 200 only when the host can serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from papertide.db import migrate
from papertide.db.engine import Database


def test_a_ready_host_answers_200_naming_its_checks(empty_client: TestClient) -> None:
    response = empty_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"]["ok"] is True
    assert checks["database"]["backend"] in ("sqlite", "postgresql")
    assert checks["migrations"] == {
        "ok": True,
        "current": migrate.head_revision(),
        "expected": migrate.head_revision(),
    }
    assert checks["search"]["ok"] is True
    # Which keyword engine ranks now, and where this host's keyword index stands (the demo's
    # is opened by the first search, not at start-up).
    assert checks["search"]["keyword"] == "database full text"
    assert checks["search"]["keyword_index"] == "not opened yet"
    empty_client.get("/api/papers/search", params={"q": "transformer"})
    search = empty_client.get("/healthz").json()["checks"]["search"]
    assert (search["keyword"], search["keyword_index"]) == ("index", "ready")
    assert response.headers["cache-control"] == "no-store"


def test_a_schema_behind_this_version_is_unavailable(
    empty_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrate, "head_revision", lambda: "9999_from_a_newer_release")
    response = empty_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["expected"] == "9999_from_a_newer_release"


def test_an_unreachable_database_is_unavailable_not_an_error_page(
    empty_client: TestClient, tmp_path: Path
) -> None:
    app = empty_client.app
    working = app.state.db  # type: ignore[attr-defined]
    # A "database file" that is a directory: every connection attempt fails.
    broken = Database(f"sqlite:///{tmp_path}")
    app.state.db = broken  # type: ignore[attr-defined]
    try:
        response = empty_client.get("/healthz")
    finally:
        app.state.db = working  # type: ignore[attr-defined]
        broken.dispose()
    assert response.status_code == 503
    database = response.json()["checks"]["database"]
    assert database["ok"] is False
    assert "Error" in database["error"]
    assert "migrations" not in response.json()["checks"]
