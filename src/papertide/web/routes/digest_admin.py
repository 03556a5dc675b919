"""Digest sending, for admins and mail providers (issue #6).

`/admin/digests`: every edition with its deliveries counted by status (admins, as /admin/jobs).
`POST /api/digest/bounce`: a provider's bounce or complaint webhook. It carries no session, so
it is exempt from CSRF and authenticated by a bearer token (PAPERTIDE_DIGEST_BOUNCE_TOKEN);
without that setting the endpoint answers 404.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from papertide.db import deliveries as ledger
from papertide.digest.send import record_bounce
from papertide.web.api_models import ERRORS, ErrorBody
from papertide.web.auth import csrf_exempt
from papertide.web.deps import DatabaseDep, PageDep, SettingsDep
from papertide.web.routes.admin import require_admin

router = APIRouter()
STATUSES = ("sent", "pending", "claimed", "failed", "suppressed", "skipped")


@router.get("/admin/digests", response_class=HTMLResponse, dependencies=[Depends(require_admin)])
def digest_editions(db: DatabaseDep, page: PageDep) -> HTMLResponse:
    """The latest editions, newest first, with sent / pending / failed / ... counts."""
    with db.read() as conn:
        editions = ledger.counts(conn, limit=100)
    return page.render("admin_digests.html", editions=editions, statuses=STATUSES)


class Bounce(BaseModel):
    """One provider event: the address, and whether it bounced or complained."""

    email: str = Field(min_length=3, max_length=320)
    type: Literal["bounce", "complaint"] = "bounce"
    reason: str = Field(default="", max_length=500)


class Suppressed(BaseModel):
    """The address, and whether a subscriber had it (and is now suppressed)."""

    email: str
    suppressed: bool


@router.post(
    "/api/digest/bounce",
    summary="A mail provider's bounce or complaint",
    tags=["Digests"],
    responses={
        200: {"model": Suppressed},
        **ERRORS,
        401: {"model": ErrorBody, "description": "No valid bearer token."},
        404: {"model": ErrorBody, "description": "The webhook is off (no token configured)."},
    },
)
@csrf_exempt
def bounce(
    event: Bounce,
    db: DatabaseDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    """Suppress the address: no digest goes to it again."""
    if not settings.digest_bounce_token:
        raise HTTPException(404, "The bounce webhook is off: set PAPERTIDE_DIGEST_BOUNCE_TOKEN.")
    given = (authorization or "").removeprefix("Bearer ").strip().encode()
    if not secrets.compare_digest(given, settings.digest_bounce_token.encode()):
        raise HTTPException(401, "A valid bearer token is required.")
    reason = f"{event.type}: {event.reason}".rstrip(": ")
    found = record_bounce(db, event.email, reason)
    return {"email": event.email, "suppressed": found}
