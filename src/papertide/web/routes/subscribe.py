"""The subscribe page: honest that this instance cannot send email digests yet."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from papertide.web.auth import csrf_exempt
from papertide.web.deps import PageDep

router = APIRouter()

UNAVAILABLE = (
    "Email digests are not available on this instance yet; they arrive with the email feature."
)
NOT_SAVED = UNAVAILABLE + " Your address was not saved and no email will be sent."


@router.get("/subscribe", response_class=HTMLResponse)
async def subscribe_form(page: PageDep) -> HTMLResponse:
    return page.render("subscribe.html", nav="subscribe", unavailable_message=UNAVAILABLE)


# Exempt from CSRF only while it saves nothing: the email work must drop this (and put a
# token in the form) when the form starts recording addresses.
@router.post("/subscribe", response_class=HTMLResponse)
@csrf_exempt
async def subscribe(page: PageDep) -> HTMLResponse:
    # 503 rather than a fake success: the form must never pretend an address was recorded.
    return page.render(
        "subscribe.html", status_code=503, nav="subscribe", unavailable_message=NOT_SAVED
    )
