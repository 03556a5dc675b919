"""The admin job-runs page: off without a token, Basic auth with it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from papertide.config import Settings
from papertide.db import jobs
from papertide.web.app import create_app

TOKEN = "a-long-admin-token-for-tests"


def make_client(tmp_path: Path, token: str | None) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", load_demo=False, admin_token=token)
    return TestClient(create_app(settings))


def test_admin_pages_are_off_without_a_token(tmp_path: Path) -> None:
    response = make_client(tmp_path, None).get("/admin/jobs", auth=("admin", ""))
    assert response.status_code == 403
    assert "PAPERTIDE_ADMIN_TOKEN" in response.text


def test_wrong_or_missing_credentials_are_refused(tmp_path: Path) -> None:
    client = make_client(tmp_path, TOKEN)
    missing = client.get("/admin/jobs")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Basic")
    assert client.get("/admin/jobs", auth=("admin", "wrong")).status_code == 401
    assert client.get("/admin/jobs", auth=("root", TOKEN)).status_code == 401


def test_job_runs_are_listed(tmp_path: Path) -> None:
    client = make_client(tmp_path, TOKEN)
    db = client.app.state.db  # type: ignore[attr-defined]
    started = dt.datetime(2026, 11, 23, 1, 30)
    with db.write() as conn:
        ok = jobs.start_run(conn, "arxiv-new", started)
        jobs.finish_run(
            conn,
            ok,
            "ok",
            started + dt.timedelta(seconds=12),
            {"papers_new": 321, "papers_updated": 7, "skipped": 0},
            "arxiv-new: 321 new",
        )
        failed = jobs.start_run(conn, "github-stars", started + dt.timedelta(hours=1))
        jobs.finish_run(
            conn,
            failed,
            "failed",
            started + dt.timedelta(hours=1, seconds=2),
            None,
            "FetchError: <b>boom</b>",
        )
    page = client.get("/admin/jobs", auth=("admin", TOKEN))
    assert page.status_code == 200
    assert page.text.index("github-stars") < page.text.index("arxiv-new")  # newest first
    assert "321" in page.text and "12.0 s" in page.text
    assert "&lt;b&gt;boom&lt;/b&gt;" in page.text  # messages are escaped
    only = client.get("/admin/jobs?job=arxiv-new", auth=("admin", TOKEN))
    assert "github-stars</a>" not in only.text
