"""Email digests, the subscriber's side (issue #6, docs/digests.md): `/subscribe` with double
opt-in, `/subscribe/confirm/{token}`, the preferences page `/subscribe/manage/{token}` and
`/unsubscribe/{token}` (RFC 8058 one-click).

Pages reached by a token from a mail name a subscriber: they are never cached
(`private, no-store`) and send no Referer. A GET never changes anything; every form carries a
CSRF token (the anonymous double-submit one when nobody is signed in), except the RFC 8058
POST, which mail clients send without cookies.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from papertide.config import Settings
from papertide.db.subscribers import Subscriber
from papertide.digest import subscriptions
from papertide.digest.links import subscriber_token
from papertide.digest.mailer import DeliveryError, Mailer
from papertide.digest.subscriptions import SubscribeErrors, Topics
from papertide.web.auth import (
    PRIVATE,
    anonymous_csrf,
    client_address,
    csrf_exempt,
    current_viewer,
    enforce_rate,
    set_csrf_cookie,
)
from papertide.web.deps import DatabaseDep, Page, PageDep, SettingsDep

router = APIRouter()
logger = logging.getLogger(__name__)

EmailQuery = Annotated[str, Query(max_length=254)]
TextField = Annotated[str, Form(max_length=1000)]
ListField = Annotated[list[str], Form()]
ONE_CLICK = "List-Unsubscribe=One-Click"
BAD_LINK = (
    "This link is not valid: it may be incomplete (check it was not cut in two by your mail "
    "program) or no longer work. Nothing was changed."
)


def _private(response: Response) -> Response:
    response.headers["cache-control"] = PRIVATE
    response.headers["referrer-policy"] = "no-referrer"
    return response


def _render(
    page: Page, request: Request, template: str, status_code: int = 200, **context: Any
) -> Response:
    """A page with a CSRF token for its forms (the session's, or an anonymous one), not cached."""
    viewer = current_viewer(request)
    cookie = None
    token = viewer.csrf_token
    if token is None:
        cookie, token = anonymous_csrf(request)
    context.setdefault("errors", {})
    response = page.render(template, status_code=status_code, csrf_token=token, **context)
    if cookie is not None:
        set_csrf_cookie(response, request, cookie)
    return _private(response)


def _form_values(
    email: str, frequency: str, categories: list[str], keywords: str, search: str, like: bool
) -> dict[str, Any]:
    return {
        "email": email,
        "frequency": frequency,
        "topics": Topics(categories, [k for k in keywords.split(",") if k.strip()], search, like),
    }


@router.get("/subscribe", response_class=HTMLResponse, response_model=None)
def subscribe_form(
    request: Request, page: PageDep, settings: SettingsDep, email: EmailQuery = ""
) -> Response:
    account = current_viewer(request).account
    prefill = email or (account.email if account else None) or ""
    values = _form_values(prefill, "daily", [], "", "", False)
    return _form_page(page, request, settings, values)


def _form_page(
    page: Page,
    request: Request,
    settings: Settings,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    status_code = 400 if errors else 200
    choices = settings.arxiv_categories
    return _render(
        page,
        request,
        "subscribe.html",
        status_code,
        nav="subscribe",
        values=values,
        errors=errors or {},
        category_choices=choices,
    )


def _choices(settings: Settings) -> dict[str, Any]:
    return {"category_choices": settings.arxiv_categories}


@router.post("/subscribe", response_model=None)
def subscribe(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    frequency: Annotated[str, Form(max_length=16)] = "daily",
    categories: ListField = [],  # noqa: B006 - FastAPI copies form defaults
    more_categories: TextField = "",
    keywords: TextField = "",
    search: TextField = "",
    like_upvotes: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    rate = settings.rate("subscribe")
    enforce_rate(request, "subscribe", client_address(request), rate, "subscription requests")
    account = current_viewer(request).account
    try:
        preferences = subscriptions.parse_preferences(
            frequency,
            [*categories, more_categories],
            keywords,
            search,
            bool(like_upvotes),
            signed_in=account is not None,
        )
        outcome = subscriptions.request_subscription(
            db,
            settings,
            email,
            preferences,
            user_id=account.id if account else None,
            user_email=account.email if account else None,
        )
    except (SubscribeErrors, ValueError) as exc:
        errors = exc.errors if isinstance(exc, SubscribeErrors) else {"email": str(exc)}
        values = _form_values(email, frequency, categories, keywords, search, bool(like_upvotes))
        values["more_categories"] = more_categories
        return _form_page(page, request, settings, values, errors)
    response = _render(
        page,
        request,
        "subscribe_sent.html",
        nav="subscribe",
        hours=settings.subscribe_confirm_hours,
    )
    if outcome.mail != "none":
        message = subscriptions.transactional_message(settings, outcome)
        mailer: Mailer = request.app.state.mailer
        response.background = BackgroundTask(_deliver, mailer, message, settings, outcome.email)
    return response


def _deliver(mailer: Mailer, message: EmailMessage, settings: Settings, recipient: str) -> None:
    """Send one confirmation mail after the answer went out (so its timing reveals nothing),
    then close the connection: the web process keeps none open between such rare mails."""
    sender = parseaddr(settings.mail_from)[1]
    try:
        mailer.send(message, sender, recipient)
    except (DeliveryError, OSError) as exc:
        logger.warning("confirmation mail to %s not sent: %s", recipient, exc)
    finally:
        mailer.close()


@router.get("/subscribe/confirm/{token}", response_class=HTMLResponse, response_model=None)
def confirm_form(request: Request, page: PageDep, db: DatabaseDep, token: str) -> Response:
    state, found = subscriptions.confirmation(db, token)
    status_code = {"ok": 200, "expired": 410, "invalid": 404}[state]
    return _render(
        page,
        request,
        "subscribe_confirm.html",
        status_code,
        state=state,
        subscriber=found,
        token=token,
        topics=_topics(found),
    )


@router.post("/subscribe/confirm/{token}", response_class=HTMLResponse, response_model=None)
def confirm(
    request: Request, page: PageDep, db: DatabaseDep, settings: SettingsDep, token: str
) -> Response:
    confirmed = subscriptions.confirm(db, token)
    if confirmed is None:
        state, found = subscriptions.confirmation(db, token)
        status_code = 410 if state == "expired" else 404
        return _render(
            page,
            request,
            "subscribe_confirm.html",
            status_code,
            state=state if state != "ok" else "invalid",
            subscriber=found,
            token=token,
            topics=_topics(found),
        )
    return _render(
        page,
        request,
        "subscribe_confirmed.html",
        subscriber=confirmed,
        manage_url=_manage_path(settings, confirmed),
        topics=_topics(confirmed),
    )


def _topics(found: Subscriber | None) -> Topics | None:
    return Topics.from_json(found.topics) if found is not None else None


def _manage_path(settings: Settings, found: Subscriber) -> str:
    return f"/subscribe/manage/{subscriber_token(settings.secret_key, found.id, found.token_salt)}"


def _linked(db: Any, settings: Settings, token: str) -> Subscriber | None:
    return subscriptions.subscriber_for_link(db, settings.secret_key, token)


def _bad_link(page: Page, request: Request) -> Response:
    return _render(page, request, "subscribe_link.html", 404, message=BAD_LINK)


DONE = {
    "preferences": "Your preferences are saved.",
    "paused": "Your digest is paused: nothing is sent until you resume it.",
    "resumed": "Your digest is resumed.",
}


@router.get("/subscribe/manage/{token}", response_class=HTMLResponse, response_model=None)
def manage_page(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    token: str,
    done: str = "",
) -> Response:
    found = _linked(db, settings, token)
    if found is None:
        return _bad_link(page, request)
    return _manage(page, request, settings, found, token, done=DONE.get(done))


def _manage(
    page: Page,
    request: Request,
    settings: Settings,
    found: Subscriber,
    token: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    topics = context.pop("topics", None) or Topics.from_json(found.topics)
    values = {
        "email": found.email,
        "frequency": context.pop("frequency", found.frequency),
        "topics": topics,
    }
    return _render(
        page,
        request,
        "subscribe_manage.html",
        status_code,
        subscriber=found,
        token=token,
        values=values,
        **_choices(settings),
        **context,
    )


@router.post("/subscribe/manage/{token}/preferences", response_model=None)
def save_preferences(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    token: str,
    frequency: Annotated[str, Form(max_length=16)] = "daily",
    categories: ListField = [],  # noqa: B006
    more_categories: TextField = "",
    keywords: TextField = "",
    search: TextField = "",
    like_upvotes: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    found = _linked(db, settings, token)
    if found is None:
        return _bad_link(page, request)
    try:
        preferences = subscriptions.parse_preferences(
            frequency,
            [*categories, more_categories],
            keywords,
            search,
            bool(like_upvotes),
            signed_in=found.user_id is not None,
        )
    except SubscribeErrors as exc:
        return _manage(page, request, settings, found, token, 400, errors=exc.errors)
    subscriptions.change_preferences(db, found.id, preferences)
    return RedirectResponse(f"/subscribe/manage/{token}?done=preferences", status_code=303)


@router.post("/subscribe/manage/{token}/pause", response_model=None)
def pause(
    request: Request, page: PageDep, db: DatabaseDep, settings: SettingsDep, token: str
) -> Response:
    return _pause(request, page, db, settings, token, paused=True)


@router.post("/subscribe/manage/{token}/resume", response_model=None)
def resume(
    request: Request, page: PageDep, db: DatabaseDep, settings: SettingsDep, token: str
) -> Response:
    return _pause(request, page, db, settings, token, paused=False)


def _pause(
    request: Request, page: Page, db: Any, settings: Settings, token: str, *, paused: bool
) -> Response:
    found = _linked(db, settings, token)
    if found is None:
        return _bad_link(page, request)
    subscriptions.set_paused(db, found.id, paused)
    done = "paused" if paused else "resumed"
    return RedirectResponse(f"/subscribe/manage/{token}?done={done}", status_code=303)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, response_model=None)
def unsubscribe_form(
    request: Request, page: PageDep, db: DatabaseDep, settings: SettingsDep, token: str
) -> Response:
    """RFC 8058: a GET (a link scanner, a prefetch) only shows a page with a button."""
    found = _linked(db, settings, token)
    if found is None:
        return _bad_link(page, request)
    return _render(page, request, "unsubscribe.html", subscriber=found, token=token)


@router.post("/unsubscribe/{token}/confirm", response_class=HTMLResponse, response_model=None)
@router.post(
    "/subscribe/manage/{token}/unsubscribe", response_class=HTMLResponse, response_model=None
)
def unsubscribe_button(
    request: Request, page: PageDep, db: DatabaseDep, settings: SettingsDep, token: str
) -> Response:
    """The button on the unsubscribe and preferences pages (a CSRF-protected form)."""
    found = _linked(db, settings, token)
    if found is None:
        return _bad_link(page, request)
    subscriptions.unsubscribe(db, found.id)
    return _render(page, request, "unsubscribed.html", subscriber=found, token=token)


@router.post("/unsubscribe/{token}", response_model=None)
@csrf_exempt
def one_click_unsubscribe(
    db: DatabaseDep,
    settings: SettingsDep,
    token: str,
    one_click: Annotated[str, Form(alias="List-Unsubscribe", max_length=32)] = "",
) -> Response:
    """RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` with no cookie;
    the answer is 200 (never a redirect, which clients may not follow with a POST)."""
    if one_click != "One-Click":
        return _plain(f"Send the form field {ONE_CLICK} to unsubscribe.", 400)
    found = _linked(db, settings, token)
    if found is None:
        return _plain("Unknown or revoked unsubscribe link; nothing was changed.", 404)
    subscriptions.unsubscribe(db, found.id)
    return _plain("Unsubscribed: no more digests will be sent to this address.", 200)


def _plain(text: str, status_code: int) -> Response:
    return _private(Response(text + "\n", status_code=status_code, media_type="text/plain"))
