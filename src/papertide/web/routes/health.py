"""`/healthz`: what a load balancer asks before sending a host traffic (issue #11).

200 when this host can serve: the database answers, its schema is the one this version
expects, and search is ready to rank. 503, with the same JSON naming what is not ready,
otherwise. Never cached, and cheap: one round trip and one small read.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from papertide.db import migrate
from papertide.db.engine import Database

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    db: Database = request.app.state.db
    checks: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        with db.read() as conn:
            current = migrate.current_revision(conn)
    except Exception as error:  # any failure here means "not reachable"
        checks["database"] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    else:
        checks["database"] = {
            "ok": True,
            "backend": db.dialect,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        head = migrate.head_revision()
        checks["migrations"] = {"ok": current == head, "current": current, "expected": head}
    checks["search"] = request.app.state.search.readiness()
    ok = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503, headers={"cache-control": "no-store"})
