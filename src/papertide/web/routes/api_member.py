"""The API for scripts acting for a member (issue #13): who am I, upvote, comment, submit.

Each route takes a personal API token (`Authorization: Bearer pt_…`, created in Settings) with
the route's scope, or a browser session with its CSRF token. They share the forms' rate
limits and rules: a script can do what its owner can do in a browser, no more and no faster.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.clock import utcnow
from papertide.db import comments, votes
from papertide.db.comments import CommentError
from papertide.ingest.submission import (
    ArxivUnavailable,
    Rules,
    SubmissionRefused,
    SubmittingUser,
    submit,
)
from papertide.models import API_SCOPES, Account
from papertide.web.api_models import ERRORS, ErrorBody
from papertide.web.auth import PRIVATE, api_member, enforce_rate
from papertide.web.deps import DatabaseDep, SettingsDep
from papertide.web.hf_items import iso_z
from papertide.web.routes.api import ArxivIdPath
from papertide.web.routes.community import arxiv_lookup

router = APIRouter(prefix="/api", tags=["Papertide: for a member"])

class SignInError(ErrorBody):
    """A 401: no token or session, or a revoked token."""

    login_url: str | None = Field(default=None, description="where a browser logs in")


SIGNED_IN: dict[int | str, dict[str, object]] = {
    401: {"model": SignInError, "description": "No token or session, or a revoked token."},
    403: {"model": ErrorBody, "description": "The token lacks this route's scope."},
    429: {"model": ErrorBody, "description": "Over the rate limit: see Retry-After."},
}
PAPER_ERRORS: dict[int | str, dict[str, object]] = {
    **ERRORS,
    **SIGNED_IN,
    404: {"model": ErrorBody, "description": "No such paper here."},
}


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Me(_Shape):
    """`GET /api/whoami`: the member a token (or session) acts for."""

    id: int
    name: str = Field(description="username")
    fullname: str | None
    role: str
    scopes: list[str] = Field(description="what this token may do; a session may do all")


class VoteIn(_Shape):
    upvoted: bool = Field(default=True, description="false takes the upvote back")


class VoteOut(_Shape):
    paper: str
    upvoted: bool
    upvotes: int


class CommentIn(_Shape):
    body: str = Field(min_length=1, max_length=comments.MAX_BODY_CHARS * 2, description="Markdown")
    parent: int | None = Field(default=None, ge=1, le=2**63 - 1, description="reply to this")


class CommentOut(_Shape):
    id: int
    paper: str
    parent: int | None
    author: str
    body: str
    createdAt: str


class SubmissionIn(_Shape):
    paper: str = Field(max_length=300, description="an arXiv id or URL")
    comment: str = Field(default="", max_length=2000, description="shown on the card")


class SubmissionOut(_Shape):
    paper: str
    day: str = Field(description="the day it is featured on, YYYY-MM-DD")
    title: str


def _paper(arxiv_id: str) -> str:
    try:
        return parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get(
    "/whoami",
    summary="The member a token acts for",
    response_model=Me,
    responses={401: SIGNED_IN[401], 403: SIGNED_IN[403]},
)
def whoami(
    request: Request, account: Annotated[Account, Depends(api_member("read"))]
) -> JSONResponse:
    """Check a token: its owner and its scopes (scope `read`; a session has them all)."""
    scopes = getattr(request.state, "token_scopes", API_SCOPES)
    me = Me(
        id=account.id,
        name=account.username,
        fullname=account.fullname,
        role=account.role,
        scopes=list(scopes),
    )
    # For this member's eyes only: never in the page cache or a shared cache.
    return JSONResponse(me.model_dump(), headers={"cache-control": PRIVATE})


@router.post(
    "/papers/{arxiv_id:path}/upvote",
    summary="Upvote a paper (or take it back)",
    response_model=VoteOut,
    responses=PAPER_ERRORS,
)
def upvote(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    arxiv_id: ArxivIdPath,
    account: Annotated[Account, Depends(api_member("vote"))],
    vote: VoteIn | None = None,
) -> JSONResponse:
    """Set the member's vote on a paper (scope `vote`). Repeating a vote changes nothing."""
    paper_id = _paper(arxiv_id)
    enforce_rate(request, "vote", f"user:{account.id}", settings.rate("vote"), "votes")
    wanted = True if vote is None else vote.upvoted
    try:
        with db.write() as conn:
            result = votes.set_upvote(conn, account.id, paper_id, wanted, utcnow())
    except votes.UnknownPaper as exc:
        raise HTTPException(404, f"Paper {paper_id} is not known here.") from exc
    body = VoteOut(paper=result.paper_id, upvoted=result.upvoted, upvotes=result.upvotes)
    return JSONResponse(body.model_dump(), headers={"cache-control": PRIVATE})


@router.post(
    "/papers/{arxiv_id:path}/comments",
    summary="Comment on a paper (or reply)",
    status_code=201,
    response_model=CommentOut,
    responses=PAPER_ERRORS,
)
def add_comment(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    arxiv_id: ArxivIdPath,
    comment: CommentIn,
    account: Annotated[Account, Depends(api_member("comment"))],
) -> JSONResponse:
    """Post a comment as the member (scope `comment`), Markdown with LaTeX, as on the page."""
    paper_id = _paper(arxiv_id)
    enforce_rate(request, "comment", f"user:{account.id}", settings.rate("comment"), "comments")
    try:
        with db.write() as conn:
            new_id = comments.add_comment(
                conn, paper_id, account.id, comment.body, utcnow(), comment.parent
            )
            written = comments.get_comment(conn, new_id)
    except CommentError as exc:
        raise HTTPException(404 if exc.code == "no-paper" else 400, str(exc)) from exc
    assert written is not None
    body = CommentOut(
        id=written.id,
        paper=paper_id,
        parent=written.parent_id,  # a reply to a reply joins its thread (one level)
        author=account.username,
        body=written.body,
        createdAt=iso_z(written.created_at) or "",
    )
    return JSONResponse(body.model_dump(), status_code=201, headers={"cache-control": PRIVATE})


@router.post(
    "/papers/submit",
    summary="Submit a paper to today's feed",
    status_code=201,
    response_model=SubmissionOut,
    responses={
        **ERRORS,
        **SIGNED_IN,
        503: {"model": ErrorBody, "description": "arXiv did not answer."},
    },
)
def submit_paper(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    submission: SubmissionIn,
    account: Annotated[Account, Depends(api_member("submit"))],
) -> JSONResponse:
    """Submit a paper as the member (scope `submit`), under the rules of
    `/api/submission_rules`; a refusal is a 400 that says which rule."""
    enforce_rate(request, "submit", f"user:{account.id}", settings.rate("submit"), "submissions")
    who = SubmittingUser(account.id, account.username, account.role)
    rules = Rules(settings.submission_max_age_days, settings.submission_daily_cap)
    try:
        done = submit(
            db, arxiv_lookup(request), submission.paper, who, utcnow(), rules, submission.comment
        )
    except ArxivUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    except SubmissionRefused as exc:
        raise HTTPException(400, str(exc)) from exc
    body = SubmissionOut(paper=done.arxiv_id, day=done.day.isoformat(), title=done.title)
    return JSONResponse(body.model_dump(), status_code=201, headers={"cache-control": PRIVATE})
