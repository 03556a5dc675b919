"""Accounts: `/signup`, `/login`, `/logout`, `/settings` (issue #5, docs/accounts.md).

The handlers that hash passwords are plain `def`: FastAPI runs them in its thread pool, so
argon2's ~50 ms never blocks the event loop.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide.auth import accounts, api_tokens, feed_links, lockout, sessions, your_data
from papertide.auth.accounts import FormErrors
from papertide.auth.ratelimit import retry_after_header
from papertide.auth.redirects import safe_next
from papertide.config import Settings
from papertide.db.engine import Database
from papertide.models import API_SCOPES, Account
from papertide.web.auth import (
    PRIVATE,
    SESSION_COOKIE,
    SignedIn,
    anonymous_csrf,
    clear_session_cookie,
    client_address,
    current_viewer,
    enforce_rate,
    set_csrf_cookie,
    set_device_cookie,
    set_session_cookie,
    trusted_device,
)
from papertide.web.deps import DatabaseDep, Page, PageDep, RowIdPath, SettingsDep

router = APIRouter()

SUSPENDED = (
    "This account is suspended. Contact the site's administrators if you think this is a mistake."
)
NextQuery = Annotated[str, Query(max_length=2000)]
NextField = Annotated[str, Form(max_length=2000)]
TextField = Annotated[str, Form(max_length=254)]
PasswordField = Annotated[str, Form(max_length=4096)]


def _lifetime(settings: Settings) -> dt.timedelta:
    return dt.timedelta(days=settings.session_lifetime_days)


def _anonymous_form(
    page: Page, request: Request, template: str, status_code: int = 200, **context: Any
) -> Response:
    """A log-in or sign-up form with its double-submit CSRF token and cookie."""
    cookie, token = anonymous_csrf(request)
    context.setdefault("values", {})
    context.setdefault("errors", {})
    context.setdefault("min_length", request.app.state.settings.password_min_length)
    response = page.render(template, status_code=status_code, csrf_token=token, **context)
    set_csrf_cookie(response, request, cookie)
    return response


def _signed_in(
    request: Request, db: Database, settings: Settings, account: Account, target: str
) -> Response:
    """Start a fresh session (a new token: rotated at every log-in) and go to `target`."""
    old = request.cookies.get(SESSION_COOKIE)
    token = sessions.start(db, account.id, _lifetime(settings), replacing=old)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.get("/signup", response_class=HTMLResponse, response_model=None)
def signup_form(request: Request, page: PageDep, next: NextQuery = "/") -> Response:
    if current_viewer(request).signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return _anonymous_form(page, request, "signup.html", next=safe_next(next))


@router.post("/signup", response_model=None)
def signup(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    username: TextField = "",
    email: TextField = "",
    password: PasswordField = "",
    next: NextField = "/",
) -> Response:
    enforce_rate(request, "signup", client_address(request), settings.rate("signup"), "sign-ups")
    try:
        account = accounts.sign_up(
            db, username, email, password, min_password_length=settings.password_min_length
        )
    except FormErrors as exc:
        values = {"username": username, "email": email}
        return _anonymous_form(
            page,
            request,
            "signup.html",
            400,
            next=safe_next(next),
            values=values,
            errors=exc.errors,
        )
    return _signed_in(request, db, settings, account, safe_next(next))


@router.get("/login", response_class=HTMLResponse, response_model=None)
def login_form(request: Request, page: PageDep, next: NextQuery = "/") -> Response:
    if current_viewer(request).signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return _anonymous_form(page, request, "login.html", next=safe_next(next))


@router.post("/login", response_model=None)
def login(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    login: TextField = "",
    password: PasswordField = "",
    next: NextField = "/",
) -> Response:
    address = client_address(request)
    enforce_rate(request, "login", address, settings.rate("login"), "log-in attempts")
    try:
        account = lockout.log_in(
            db, login, password, request.app.state.login_backoff,
            trusted=lambda account_id: trusted_device(request, account_id),
        )  # fmt: skip
    except lockout.AccountLocked as exc:
        return _locked_out(page, request, login, next, exc.wait_s)
    if account is None or account.suspended:
        message = SUSPENDED if account else accounts.WRONG_CREDENTIALS
        return _anonymous_form(
            page,
            request,
            "login.html",
            403 if account else 400,
            next=safe_next(next),
            values={"login": login},
            errors={"form": message},
        )
    response = _signed_in(request, db, settings, account, safe_next(next))
    set_device_cookie(response, request, account.id)
    return response


def _locked_out(page: Page, request: Request, login: str, next: str, wait_s: float) -> Response:
    """429: this account had too many failed log-ins (from any address) just now."""
    minutes = max(1, math.ceil(wait_s / 60))
    message = (
        "Too many failed log-ins for this account. Try again in "
        f"{minutes} minute{'s' if minutes > 1 else ''}; a browser you logged in with before "
        "can log in now."
    )
    response = _anonymous_form(
        page, request, "login.html", 429, next=safe_next(next), values={"login": login},
        errors={"form": message},
    )  # fmt: skip
    response.headers["retry-after"] = retry_after_header(wait_s)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, db: DatabaseDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sessions.end(db, token)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, request)
    return response


DONE = {
    "password": "Your password is changed; every other session has been logged out.",
    "revoked": "The token is revoked: scripts using it are refused from now on.",
    "feed": "Your personal feed has a new address; the old one no longer works.",
    "feed-stopped": "Your personal feed is stopped; its address no longer works.",
}


def _settings(
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    account: Account,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    done: str | None = None,
    new_token: str | None = None,
) -> HTMLResponse:
    return page.render(
        "settings.html",
        status_code=status_code,
        nav="settings",
        account=account,
        errors=errors or {},
        done=done,
        min_length=settings.password_min_length,
        tokens=api_tokens.listed(db, account),
        scopes=API_SCOPES,
        new_token=new_token,
        feed_token=feed_links.current(db, settings.secret_key, account),
        public_url=settings.public_url.rstrip("/"),
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    page: PageDep, db: DatabaseDep, account: SignedIn, settings: SettingsDep, done: str = ""
) -> HTMLResponse:
    return _settings(page, db, settings, account, done=DONE.get(done))


@router.post("/settings/tokens", response_model=None)
def create_token(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    account: SignedIn,
    name: TextField = "",
    scope: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006 - FastAPI copies it
) -> Response:
    """A new personal API token (issue #13), shown on this page once and never again."""
    enforce_rate(request, "token", f"user:{account.id}", settings.rate("comment"), "new tokens")
    try:
        value = api_tokens.create(db, account, name, scope)
    except api_tokens.TokenProblem as exc:
        errors = {"token": str(exc)}
        return _settings(page, db, settings, account, status_code=400, errors=errors)
    return _settings(page, db, settings, account, new_token=value)


@router.get("/settings/data.json", response_model=None)
def download_data(db: DatabaseDep, account: SignedIn) -> Response:
    """Everything Papertide keeps about the member, as JSON (issue #14)."""
    body = json.dumps(your_data.member_data(db, account), ensure_ascii=False, indent=2)
    filename = f"papertide-{account.username}.json"
    headers = {
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": PRIVATE,
    }
    return Response(body, media_type="application/json", headers=headers)


@router.post("/settings/feed", response_model=None)
def renew_feed(db: DatabaseDep, settings: SettingsDep, account: SignedIn) -> Response:
    """A (new) secret address for the member's personal feed (issue #13)."""
    feed_links.renew(db, settings.secret_key, account)
    return RedirectResponse("/settings?done=feed#feed", status_code=303)


@router.post("/settings/feed/stop", response_model=None)
def stop_feed(db: DatabaseDep, account: SignedIn) -> Response:
    feed_links.stop(db, account)
    return RedirectResponse("/settings?done=feed-stopped#feed", status_code=303)


@router.post("/settings/tokens/{token_id}/revoke", response_model=None)
def revoke_token(token_id: RowIdPath, db: DatabaseDep, account: SignedIn) -> Response:
    if not api_tokens.revoke(db, account, token_id):
        raise HTTPException(404, "You have no such token (already revoked?).")
    return RedirectResponse("/settings?done=revoked#tokens", status_code=303)


@router.post("/settings/password", response_model=None)
def change_password(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    account: SignedIn,
    current_password: PasswordField = "",
    new_password: PasswordField = "",
) -> Response:
    rate = settings.rate("login")
    enforce_rate(request, "password", f"user:{account.id}", rate, "password attempts")
    try:
        token = accounts.change_password(
            db,
            account,
            current_password,
            new_password,
            min_password_length=settings.password_min_length,
            lifetime=_lifetime(settings),
        )
    except FormErrors as exc:
        return _settings(page, db, settings, account, status_code=400, errors=exc.errors)
    response = RedirectResponse("/settings?done=password", status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.post("/settings/delete", response_model=None)
def delete_account(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    settings: SettingsDep,
    account: SignedIn,
    password: PasswordField = "",
    confirm: TextField = "",
) -> Response:
    rate = settings.rate("login")
    enforce_rate(request, "password", f"user:{account.id}", rate, "password attempts")
    try:
        accounts.delete_account(db, account, password, confirm)
    except FormErrors as exc:
        return _settings(page, db, settings, account, status_code=400, errors=exc.errors)
    # Look the viewer up again: the session is gone, so the page renders signed out and
    # Page.render clears the cookie.
    request.state.viewer = None
    return page.render("account_deleted.html", username=account.username)
