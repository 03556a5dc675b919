"""Comments, paper submission and moderation (issue #5).

- `POST /papers/{id}/comments` (body, optional parent), `POST /comments/{n}/edit`,
  `POST /comments/{n}/delete` by the author; `POST /comments/{n}/hide` by curators.
- `GET|POST /submit`: submit an arXiv paper to today's feed.
- `POST /papers/{id}/feature | unfeature | move`, `GET /admin/moderation` (the audit log) and
  `POST /admin/suspend`: curators and admins.

Forms post and redirect back (so they work without JavaScript); a refusal re-renders the
form with the reason, or redirects back with it in `?error=` for the paper page's forms.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.clock import utcnow
from papertide.db import comments, moderation
from papertide.db.comments import CommentError
from papertide.db.moderation import Actor, ModerationError
from papertide.ingest.submission import (
    ArxivLookup,
    ArxivUnavailable,
    Rules,
    SubmissionRefused,
    SubmittingUser,
    lookup_from_settings,
    submit,
)
from papertide.models import Account
from papertide.web.auth import PRIVATE, SignedIn, enforce_rate, require_account
from papertide.web.deps import DatabaseDep, PageDep, RowIdField, RowIdPath, SettingsDep
from papertide.web.notices import notice

router = APIRouter()

CURATORS = frozenset({"curator", "admin"})

Body = Annotated[str, Form(max_length=comments.MAX_BODY_CHARS * 2)]
DayField = Annotated[str, Form(max_length=20)]


async def require_curator(request: Request) -> Account:
    """Dependency: a signed-in curator or admin (403 for anyone else signed in)."""
    account = await require_account(request)
    if account.role not in CURATORS:
        raise HTTPException(403, "Only curators and admins can do this.")
    return account


Curator = Annotated[Account, Depends(require_curator)]


def _paper_id(text: str) -> str:
    try:
        return parse_arxiv_id(text).base
    except InvalidArxivId as exc:
        raise HTTPException(404, f"“{text}” is not an arXiv id.") from exc


def _back(paper_id: str, anchor: str = "comments", error: str | None = None) -> RedirectResponse:
    """Back to the paper page; `error` is a code the page turns into its own message."""
    query = f"?{urlencode({'error': error})}" if error else ""
    return RedirectResponse(f"/papers/{paper_id}{query}#{anchor}", status_code=303)


# Comments.


@router.post("/papers/{arxiv_id:path}/comments", response_model=None)
def add_comment(
    arxiv_id: str,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    account: SignedIn,
    body: Body,
    parent: RowIdField = None,
) -> Response:
    """Comment on a paper (or reply to a comment)."""
    paper_id = _paper_id(arxiv_id)
    enforce_rate(request, "comment", f"user:{account.id}", settings.rate("comment"), "comments")
    try:
        with db.write() as conn:
            new_id = comments.add_comment(conn, paper_id, account.id, body, utcnow(), parent)
    except CommentError as exc:
        return _back(paper_id, "comment-form", exc.code)
    return _back(paper_id, f"comment-{new_id}")


def _own_comment(db: DatabaseDep, comment_id: int) -> comments.CommentView:
    with db.read() as conn:
        found = comments.get_comment(conn, comment_id)
    if found is None:
        raise HTTPException(404, f"There is no comment {comment_id}.")
    return found


@router.post("/comments/{comment_id}/edit", response_model=None)
def edit_comment(comment_id: RowIdPath, db: DatabaseDep, account: SignedIn, body: Body) -> Response:
    """Replace the text of one's own comment."""
    found = _own_comment(db, comment_id)
    try:
        with db.write() as conn:
            changed = comments.edit_comment(conn, comment_id, account.id, body, utcnow())
    except CommentError as exc:
        return _back(found.paper_id, f"comment-{comment_id}", exc.code)
    if not changed:
        raise HTTPException(403, "You can only edit your own comments.")
    return _back(found.paper_id, f"comment-{comment_id}")


@router.post("/comments/{comment_id}/delete", response_model=None)
def delete_comment(comment_id: RowIdPath, db: DatabaseDep, account: SignedIn) -> Response:
    """Delete one's own comment."""
    found = _own_comment(db, comment_id)
    with db.write() as conn:
        if not comments.delete_comment(conn, comment_id, account.id):
            raise HTTPException(403, "You can only delete your own comments.")
    return _back(found.paper_id)


@router.post("/comments/{comment_id}/hide", response_model=None)
def hide_comment(
    comment_id: RowIdPath,
    db: DatabaseDep,
    account: Curator,
    hidden: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    """Hide a comment from everyone but curators (or show it again)."""
    found = _own_comment(db, comment_id)
    with db.write() as conn:
        moderation.hide_comment(conn, _actor(account), comment_id, hidden != "0", utcnow())
    return _back(found.paper_id, f"comment-{comment_id}")


# Submitting papers.


_lookup_lock = threading.Lock()


def arxiv_lookup(request: Request) -> ArxivLookup:
    """The app's arXiv lookup: one per process, so arXiv's 3 s spacing and the limit on
    lookups waiting at once hold across requests."""
    state = request.app.state
    with _lookup_lock:
        lookup: ArxivLookup | None = getattr(state, "arxiv_lookup", None)
        if lookup is None:
            transport: httpx.BaseTransport | None = getattr(state, "http_transport", None)
            lookup = state.arxiv_lookup = lookup_from_settings(state.settings, transport)
    return lookup


@router.get("/submit", response_class=HTMLResponse)
def submit_form(page: PageDep, settings: SettingsDep, account: SignedIn) -> HTMLResponse:
    """The submission form."""
    return _submit_page(page, settings, account)


def _submit_page(
    page: PageDep,
    settings: SettingsDep,
    account: Account,
    paper: str = "",
    note: str = "",
    error: SubmissionRefused | None = None,
) -> HTMLResponse:
    response = page.render(
        "submit.html",
        status_code=(503 if isinstance(error, ArxivUnavailable) else 400) if error else 200,
        nav="submit",
        form={"paper": paper, "comment": note},
        error=str(error) if error else None,
        rules=Rules(settings.submission_max_age_days, settings.submission_daily_cap),
        exempt=account.role in CURATORS,
    )
    response.headers["cache-control"] = PRIVATE
    return response


@router.post("/submit", response_model=None)
def submit_paper(
    request: Request,
    db: DatabaseDep,
    page: PageDep,
    settings: SettingsDep,
    account: SignedIn,
    paper: Annotated[str, Form(max_length=300)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Submit a paper: featured today, or the form again with the reason it was refused."""
    enforce_rate(request, "submit", f"user:{account.id}", settings.rate("submit"), "submissions")
    who = SubmittingUser(account.id, account.username, account.role)
    rules = Rules(settings.submission_max_age_days, settings.submission_daily_cap)
    try:
        done = submit(db, arxiv_lookup(request), paper, who, utcnow(), rules, comment)
    except SubmissionRefused as exc:
        return _submit_page(page, settings, account, paper, comment, exc)
    return RedirectResponse(f"/papers/{done.arxiv_id}?submitted=1", status_code=303)


# Moderation.


def _actor(account: Account) -> Actor:
    return Actor(account.id, account.username)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise HTTPException(400, f"“{text}” is not a date (YYYY-MM-DD).") from exc


@router.post("/papers/{arxiv_id:path}/feature", response_model=None)
def feature(arxiv_id: str, db: DatabaseDep, account: Curator, day: DayField = "") -> Response:
    """Feature a paper on a day (today when none is given)."""
    paper_id = _paper_id(arxiv_id)
    when = _day(day) if day else utcnow().date()
    return _moderate(
        paper_id,
        lambda conn: moderation.feature(conn, _actor(account), paper_id, when, utcnow()),
        db,
    )


@router.post("/papers/{arxiv_id:path}/unfeature", response_model=None)
def unfeature(arxiv_id: str, db: DatabaseDep, account: Curator) -> Response:
    """Take a paper off the daily feed."""
    paper_id = _paper_id(arxiv_id)
    return _moderate(
        paper_id, lambda conn: moderation.unfeature(conn, _actor(account), paper_id, utcnow()), db
    )


@router.post("/papers/{arxiv_id:path}/move", response_model=None)
def move(arxiv_id: str, db: DatabaseDep, account: Curator, day: DayField = "") -> Response:
    """Move a featured paper to another day."""
    paper_id = _paper_id(arxiv_id)
    when = _day(day)
    return _moderate(
        paper_id, lambda conn: moderation.move(conn, _actor(account), paper_id, when, utcnow()), db
    )


def _moderate(paper_id: str, action: Callable[[sa.Connection], None], db: DatabaseDep) -> Response:
    try:
        with db.write() as conn:
            action(conn)
    except ModerationError as exc:
        return _back(paper_id, "moderation", exc.code)
    return _back(paper_id, "moderation")


@router.get("/admin/moderation", response_class=HTMLResponse)
def moderation_log(
    db: DatabaseDep, page: PageDep, account: Curator, error: str = ""
) -> HTMLResponse:
    """The audit log of moderation actions, and the suspension form."""
    with db.read() as conn:
        actions = moderation.recent_actions(conn, limit=200)
    response = page.render(
        "moderation.html", nav="moderation", actions=actions, error=notice(error)
    )
    response.headers["cache-control"] = PRIVATE
    return response


@router.post("/admin/suspend", response_model=None)
def suspend(
    db: DatabaseDep,
    account: Curator,
    username: Annotated[str, Form(max_length=64)] = "",
    action: Annotated[str, Form(max_length=10)] = "suspend",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Suspend an account (or lift a suspension)."""
    try:
        with db.write() as conn:
            moderation.suspend(
                conn, _actor(account), username.strip(), action != "unsuspend", utcnow(),
                reason.strip() or None,
            )  # fmt: skip
    except ModerationError as exc:
        return RedirectResponse(f"/admin/moderation?error={exc.code}", status_code=303)
    return RedirectResponse("/admin/moderation", status_code=303)
