"""Admin pages: `/admin/jobs`, the last runs of the scheduled and CLI jobs.

Open to signed-in accounts with the admin role (issue #5), and, for scripts and for instances
without accounts yet, to HTTP Basic authentication with the user `admin` and the password
PAPERTIDE_ADMIN_TOKEN. Without an admin session or a configured token they are off (403).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from papertide.db import jobs as job_records
from papertide.web.auth import current_viewer
from papertide.web.deps import DatabaseDep, PageDep, SettingsDep

router = APIRouter()
basic = HTTPBasic(auto_error=False, realm="Papertide admin")


def require_admin(  # a plain `def`: looking up the session reads the database
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
) -> None:
    account = current_viewer(request).account
    if account is not None and account.is_admin:
        return
    if not settings.admin_token:
        raise HTTPException(403, "Admin pages are off: set PAPERTIDE_ADMIN_TOKEN to turn them on.")
    given = credentials.password.encode() if credentials else b""
    user_ok = credentials is not None and secrets.compare_digest(credentials.username, "admin")
    if not (user_ok and secrets.compare_digest(given, settings.admin_token.encode())):
        raise HTTPException(
            401,
            "Sign in as admin with the PAPERTIDE_ADMIN_TOKEN password.",
            headers={"WWW-Authenticate": 'Basic realm="Papertide admin"'},
        )


@router.get("/admin/jobs", response_class=HTMLResponse, dependencies=[Depends(require_admin)])
def job_runs(db: DatabaseDep, page: PageDep, job: str | None = None) -> HTMLResponse:
    """The latest job runs, newest first, optionally of one job."""
    with db.read() as conn:
        runs = job_records.recent_runs(conn, limit=100, job=job)
    return page.render("admin_jobs.html", runs=runs, job=job)
