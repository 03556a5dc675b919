"""Upvotes: `POST /papers/{arxiv_id}/upvote` with `vote=1` (upvote) or `vote=0` (take back).

A plain form post answers with a redirect back to the page (`next`); a fetch with
`Accept: application/json` (static/upvote.js) gets the new state and count as JSON.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.auth.redirects import safe_next
from papertide.clock import utcnow
from papertide.db import feedback, votes
from papertide.web.auth import PRIVATE, SignedIn, enforce_rate, wants_json
from papertide.web.deps import DatabaseDep, SettingsDep
from papertide.web.filters import compact_number

router = APIRouter()


# A plain `def`: FastAPI runs it in the thread pool, so waiting for SQLite's write lock does
# not hold up the event loop.
@router.post("/papers/{arxiv_id:path}/upvote", response_model=None)
def upvote(
    arxiv_id: str,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    account: SignedIn,
    vote: Annotated[str, Form(max_length=1)] = "1",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Set the signed-in user's vote on a paper (repeating a vote changes nothing)."""
    enforce_rate(request, "vote", f"user:{account.id}", settings.rate("vote"), "votes")
    try:
        paper_id = parse_arxiv_id(arxiv_id).base
        now = utcnow()
        with db.write() as conn:
            result = votes.set_upvote(conn, account.id, paper_id, vote != "0", now)
    except (InvalidArxivId, votes.UnknownPaper) as exc:
        raise HTTPException(404, f"Paper {arxiv_id} is not in this instance's database.") from exc
    if wants_json(request):
        body = {
            "paper": result.paper_id,
            "upvoted": result.upvoted,
            "upvotes": result.upvotes,
            "label": compact_number(result.upvotes),
        }
        return JSONResponse(body, headers={"cache-control": PRIVATE})
    target = safe_next(next, f"/papers/{paper_id}")
    if "#" not in target and target != f"/papers/{paper_id}":
        target += f"#paper-{paper_id}"  # back to the card that was voted on
    return RedirectResponse(target, status_code=303)


SIGNALS = {"more": feedback.MORE, "less": feedback.LESS, "clear": 0}


@router.post("/papers/{arxiv_id:path}/feedback", response_model=None)
def paper_feedback(
    arxiv_id: str,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    account: SignedIn,
    signal: Annotated[str, Form(max_length=8)] = "more",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """ "More like this" (`signal=more`), "not for me" (`less`), or take it back (`clear`):
    what For you learns from besides upvotes, saves and follows (issue #14)."""
    if signal not in SIGNALS:
        raise HTTPException(400, "signal must be more, less or clear.")
    enforce_rate(request, "vote", f"user:{account.id}", settings.rate("vote"), "votes")
    try:
        paper_id = parse_arxiv_id(arxiv_id).base
        with db.write() as conn:
            feedback.set_signal(conn, account.id, paper_id, SIGNALS[signal], utcnow())
    except (InvalidArxivId, feedback.UnknownPaper) as exc:
        raise HTTPException(404, f"Paper {arxiv_id} is not in this instance's database.") from exc
    if wants_json(request):
        return JSONResponse(
            {"paper": paper_id, "signal": signal}, headers={"cache-control": PRIVATE}
        )
    return RedirectResponse(
        safe_next(next, "/papers/for-you") + f"#paper-{paper_id}", status_code=303
    )
