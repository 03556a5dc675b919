"""Who is asking, and may they: the session cookie, CSRF checks, sign-in and rate-limit guards.

CSRF (docs/accounts.md): every POST (and PUT, PATCH, DELETE) must carry a token, in the
`csrf_token` form field or the `X-CSRF-Token` header, unless its endpoint is marked
`@csrf_exempt`. Signed-in forms use the session's token, an HMAC of the session token under
the secret key. Anonymous forms (log-in, sign-up) use a signed double-submit token: a random
cookie scoped to the form's own path, and the HMAC of that cookie in the form. A cross-site
page can read neither, so it cannot forge either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from papertide.auth import api_tokens, sessions
from papertide.auth.ratelimit import RateLimiter, retry_after_header
from papertide.auth.redirects import safe_next
from papertide.auth.tokens import derive, looks_like_token, new_token, same
from papertide.config import Rate, Settings
from papertide.db import votes
from papertide.db.engine import Database
from papertide.models import Account
from papertide.web import splice
from papertide.web.offload import off_loop

SESSION_COOKIE = "papertide_session"
DEVICE_COOKIE = "papertide_device"  # "this browser logged in to account N before" (issue #10)
DEVICE_LIFETIME = dt.timedelta(days=365)
CSRF_COOKIE = "papertide_csrf"
# Set by the page cache on a request it renders once for every member (web/splice.py).
SKELETON_SCOPE_KEY = "papertide.skeleton"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRIVATE = "private, no-store"
CSRF_REFUSED = (
    "This form has expired or did not come from this site. Go back, reload the page and try "
    "again (cookies must be allowed for this site)."
)

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass
class Viewer:
    """The person behind a request: an account (signed in) or nobody, and their CSRF token.

    In skeleton mode (web/splice.py) it stands for "any member": signed in, with no account
    of its own, its CSRF token and the header's account links are slots to fill per member.
    """

    account: Account | None
    csrf_token: str | None  # the per-session token; None when not signed in
    here: str  # this page's path and query, for `next=` links
    had_session_cookie: bool = False
    _db: Database | None = None
    _upvoted: set[str] | None = field(default=None, repr=False)
    skeleton: bool = False

    @classmethod
    def any_member(cls, here: str) -> Viewer:
        return cls(None, splice.slot("csrf"), here, skeleton=True)

    @property
    def signed_in(self) -> bool:
        return self.account is not None or self.skeleton

    def slot(self, kind: str, argument: str = "") -> str:
        """A skeleton page's marker (the templates ask only in skeleton mode)."""
        return splice.slot(kind, argument)

    def has_upvoted(self, paper_id: str) -> bool:
        """Whether this viewer upvoted `paper_id` (their votes are read once per request)."""
        if self.account is None or self._db is None:
            return False
        if self._upvoted is None:
            with self._db.read() as conn:
                self._upvoted = votes.upvoted_ids(conn, self.account.id)
        return paper_id in self._upvoted


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def current_viewer(request: Request) -> Viewer:
    """The request's Viewer, looked up once (one indexed read, and only with a cookie)."""
    cached = getattr(request.state, "viewer", None)
    if isinstance(cached, Viewer):
        return cached
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.scope.get(SKELETON_SCOPE_KEY):
        skeleton = Viewer.any_member(safe_next(here))
        request.state.viewer = skeleton
        return skeleton
    token = request.cookies.get(SESSION_COOKIE)
    db: Database = request.app.state.db
    account = sessions.account_for(db, token) if token else None
    csrf = (
        derive(_settings(request).secret_key, "session-csrf", token) if account and token else None
    )
    viewer = Viewer(account, csrf, safe_next(here), token is not None, db)
    request.state.viewer = viewer
    return viewer


def member_state(db: Database, secret_key: str, token: str) -> tuple[Viewer, set[str]] | None:
    """Blocking: the member signed in with session `token` as a Viewer, and every paper they
    upvoted; None for no valid session (what the page cache needs, web/splice.py)."""
    account = sessions.account_for(db, token)
    if account is None:
        return None
    with db.read() as conn:
        upvoted = votes.upvoted_ids(conn, account.id)
    return Viewer(account, derive(secret_key, "session-csrf", token), "/"), upvoted


def cookie_secure(request: Request) -> bool:
    """Secure cookies everywhere except a development server reached over plain http."""
    return not (_settings(request).mode == "development" and request.url.scheme == "http")


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    lifetime = dt.timedelta(days=_settings(request).session_lifetime_days)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )
    response.headers["cache-control"] = PRIVATE


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=cookie_secure(request), httponly=True, samesite="lax"
    )
    response.headers["cache-control"] = PRIVATE


def trusted_device(request: Request, account_id: int) -> bool:
    """Whether this browser holds a device cookie from an earlier log-in to `account_id`."""
    owner, _, rest = request.cookies.get(DEVICE_COOKIE, "").partition(".")
    nonce, _, signature = rest.partition(".")
    if owner != str(account_id) or not looks_like_token(nonce):
        return False
    return same(signature, derive(_settings(request).secret_key, "device", f"{owner}.{nonce}"))


def set_device_cookie(response: Response, request: Request, account_id: int) -> None:
    """Remember that this browser logged in to `account_id` (exempts it from the account's
    log-in lock, papertide.auth.lockout); sent back only to /login."""
    nonce = new_token()
    signature = derive(_settings(request).secret_key, "device", f"{account_id}.{nonce}")
    response.set_cookie(
        DEVICE_COOKIE,
        f"{account_id}.{nonce}.{signature}",
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path="/login",
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )


def anonymous_csrf(request: Request) -> tuple[str, str]:
    """(cookie value, form token) for an anonymous form: the visitor's cookie when it has one."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if not looks_like_token(value):
        value = new_token()
    return value, derive(_settings(request).secret_key, "anonymous-csrf", value)


def set_csrf_cookie(response: Response, request: Request, value: str) -> None:
    """The double-submit cookie, sent back only to `request`'s own path (the form's target),
    so visitors who opened a log-in form still get cached public pages elsewhere."""
    response.set_cookie(
        CSRF_COOKIE,
        value,
        # Percent-encoded as the browser sends it: a decoded path may hold a NUL or `;`, which
        # the server refuses to put in a header, dropping the connection (issue #10).
        path=quote(request.url.path, safe="/:@!$&'()*+,="),
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )
    response.headers["cache-control"] = PRIVATE


def csrf_exempt(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint whose POST needs no CSRF token (e.g. RFC 8058 one-click unsubscribe)."""
    endpoint.csrf_exempt = True  # type: ignore[attr-defined]
    return endpoint


async def _form(request: Request) -> FormData | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return await request.form()
    return None


def csrf_token_valid(request: Request, given: str) -> bool:
    """Whether `given` is this visitor's session token or their anonymous form token."""
    viewer = current_viewer(request)
    if viewer.csrf_token and same(given, viewer.csrf_token):
        return True
    cookie = request.cookies.get(CSRF_COOKIE, "")
    expected = derive(_settings(request).secret_key, "anonymous-csrf", cookie)
    return looks_like_token(cookie) and same(given, expected)


async def csrf_guard(request: Request) -> None:
    """App-wide dependency: refuse (403) a state-changing request without a valid token."""
    if request.method not in UNSAFE_METHODS:
        return
    if getattr(request.scope.get("endpoint"), "csrf_exempt", False):
        return
    # CSRF is a cookie's problem: a request that authenticates with a token in a header was
    # written by a script that holds the token, and no cookie acts for it (require_account).
    bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    if bearer and request.url.path.startswith("/api/"):
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise HTTPException(403, CSRF_REFUSED)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await _form(request)
        value = form.get(CSRF_FIELD) if form is not None else None
        given = value if isinstance(value, str) else None
    # Checking a session token reads the database: in a thread, not on the event loop.
    if not given or not await off_loop(csrf_token_valid, request, given):
        raise HTTPException(403, CSRF_REFUSED)


class LoginRequired(Exception):
    """The page or action needs a signed-in account; `next_url` is where to come back to."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def require_account(request: Request) -> Account:
    """Dependency: the signed-in account, or LoginRequired (a redirect to /login).

    `async` to read `next` from a posted form; the session lookup runs in a thread. A request
    with an API token is refused here: tokens act only on the API routes that take them
    (`api_member`), so a token never stands in for a browser's session and its CSRF check.
    """
    if request.headers.get("authorization"):
        raise HTTPException(
            401,
            "API tokens work only on the API routes that take them (see /docs); this page "
            "needs a browser session.",
        )
    viewer = await off_loop(current_viewer, request)
    if viewer.account is not None:
        return viewer.account
    target = viewer.here if request.method == "GET" else "/"
    form = await _form(request) if request.method in UNSAFE_METHODS else None
    if form is not None and isinstance(form.get("next"), str):
        target = safe_next(str(form.get("next")))
    raise LoginRequired(target)


SignedIn = Annotated[Account, Depends(require_account)]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header; None without the header; a 401 for
    any other kind of Authorization."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    kind, _, value = header.strip().partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise HTTPException(
            401,
            "Send the token as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return value.strip()


def api_member(scope: str) -> Callable[[Request], Awaitable[Account]]:
    """Dependency for an API route that acts for a member: a personal API token with `scope`
    (issue #13), or a browser session (whose POSTs carry the CSRF token, as every form's do)."""

    async def dependency(request: Request) -> Account:
        token = bearer_token(request)
        if token is None:
            return await require_account(request)
        db: Database = request.app.state.db
        found = await off_loop(api_tokens.account_for, db, token)
        if found is None:
            raise HTTPException(
                401,
                "This API token is unknown or was revoked: create one in Settings.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        account, scopes = found
        if scope not in scopes:
            raise HTTPException(
                403,
                f"This token may not {scope}: its scopes are {', '.join(scopes)}. Create a "
                f"token with the {scope!r} scope in Settings.",
            )
        request.state.token_scopes = scopes
        return account

    return dependency


def login_url(next_url: str) -> str:
    from urllib.parse import urlencode

    return "/login" if next_url == "/" else f"/login?{urlencode({'next': next_url})}"


def wants_json(request: Request) -> bool:
    """Whether the caller is a script (fetch with `Accept: application/json`) or the API."""
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if wants_json(request):
        body = {"error": "Log in first.", "login_url": login_url(exc.next_url)}
        return JSONResponse(body, status_code=401)
    return RedirectResponse(login_url(exc.next_url), status_code=303)


def client_address(request: Request) -> str:
    """The client's address (behind a proxy, uvicorn's --forwarded-allow-ips sets it)."""
    return request.client.host if request.client else "unknown"


def enforce_rate(request: Request, bucket: str, key: str, rate: Rate, what: str) -> None:
    """Count one `bucket` event for `key`; over the limit, HTTP 429 with Retry-After."""
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.hit(bucket, key, rate)
    if wait > 0:
        seconds = retry_after_header(wait)
        raise HTTPException(
            429,
            f"Too many {what} in a short time. Please wait {seconds} seconds and try again.",
            headers={"Retry-After": seconds},
        )


def install_auth(app: FastAPI) -> None:
    """The limiter and the LoginRequired redirect for `app` (the CSRF guard is a dependency)."""
    app.state.rate_limiter = RateLimiter(app.state.db)
    handler: Callable[[Request, Exception], Awaitable[Response]] = _login_required
    app.add_exception_handler(LoginRequired, handler)
