"""Papertide's own JSON endpoints, for what Hugging Face's papers API lacks (issue #13).

`GET /api/papers/{id}/comments` · `GET /api/papers/{id}/related` · `GET /api/trending` ·
`GET /api/submission_rules`. Errors are JSON (`{"error": …}`): 400 for a bad parameter, 404
for an unknown paper. Included before web/routes/api.py, whose `/api/papers/{id}` takes any
path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import comments, queries
from papertide.db.comments import CommentView
from papertide.ranking.trending import DEFAULT_WINDOW, Window
from papertide.web.api_models import (
    ERRORS,
    NOT_FOUND,
    ApiComment,
    HfListItem,
    SubmissionRules,
    TrendingWindow,
)
from papertide.web.deps import DatabaseDep, SearchDep, SettingsDep
from papertide.web.hf_items import iso_z, list_item, paper_object
from papertide.web.routes.api import ArxivIdPath, JSONBytes
from papertide.web.trending import TrendingDep

router = APIRouter(prefix="/api", tags=["Papertide"])


def _known_paper(db: DatabaseDep, arxiv_id: str) -> str:
    """The paper's base id; 400 for a malformed id, 404 for one not here."""
    try:
        base = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise HTTPException(400, str(exc)) from exc
    with db.read() as conn:
        if not queries.cards_by_ids(conn, [base]):
            raise HTTPException(404, f"Paper {base} is not known here.")
    return base


@router.get(
    "/papers/{arxiv_id:path}/comments",
    summary="A paper's comments",
    response_class=JSONBytes,
    responses={200: {"model": list[ApiComment]}, **NOT_FOUND},
)
def paper_comments(db: DatabaseDep, arxiv_id: ArxivIdPath) -> Response:
    """The comment threads under a paper, oldest first, replies nested. Comments a moderator
    hid are left out; deleted ones keep their place (empty, without an author) when they
    have replies."""
    base = _known_paper(db, arxiv_id)
    with db.read() as conn:
        threads = comments.thread(conn, base)
    return JSONBytes([_comment(view) for view in threads])


def _comment(view: CommentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "author": view.username,
        "body": view.body,
        "createdAt": iso_z(view.created_at),
        "editedAt": iso_z(view.edited_at),
        "replies": [_comment(reply) for reply in view.replies],
    }


@router.get(
    "/papers/{arxiv_id:path}/related",
    summary="Papers related to a paper",
    response_class=JSONBytes,
    responses={200: {"model": list[HfListItem]}, **NOT_FOUND},
)
def related_papers(
    db: DatabaseDep,
    search: SearchDep,
    arxiv_id: ArxivIdPath,
    limit: Annotated[int, Query(ge=1, le=50)] = 6,
) -> Response:
    """The papers nearest in meaning (the paper page's "Related papers"), best first; an
    empty list while semantic search is unavailable."""
    base = _known_paper(db, arxiv_id)
    cards = search.related(base, k=limit)
    with db.read() as conn:
        details = [queries.get_paper(conn, card.arxiv_id) for card in cards]
    return JSONBytes([list_item(detail) for detail in details if detail is not None])


@router.get(
    "/trending",
    summary="Trending papers, with why",
    response_class=JSONBytes,
    responses={200: {"model": TrendingWindow}, **ERRORS},
)
def trending(
    service: TrendingDep,
    db: DatabaseDep,
    window: Annotated[Window, Query(description="7d (default), 30d or all")] = DEFAULT_WINDOW,
    p: Annotated[int, Query(ge=0, le=10_000, description="page, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
) -> Response:
    """The trending page as data: each paper's rank, score, the parts it is made of and the
    sentence explaining it, with the formula (docs/trending.md)."""
    ranking = service.window(window)
    items = service.items(ranking, p * limit, limit)
    with db.read() as conn:
        details = {
            item.card.arxiv_id: queries.get_paper(conn, item.card.arxiv_id) for item in items
        }
    papers = [
        {
            "rank": p * limit + number,
            "score": item.score.score,
            "upvotePart": item.score.upvote_part,
            "starPart": item.score.star_part,
            "why": item.why,
            "paper": paper_object(detail),
        }
        for number, item in enumerate(items, start=1)
        if (detail := details[item.card.arxiv_id]) is not None
    ]
    body = {
        "window": window,
        "formula": ranking.params.formula(plain=True),
        "computedAt": iso_z(ranking.clock),
        "stale": ranking.stale,
        "total": len(ranking.trending),
        "papers": papers,
    }
    response = JSONBytes(body)
    if ranking.stale:  # as the page: not cached while another process recomputes it
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get(
    "/submission_rules",
    summary="What may be submitted to the daily feed",
    response_class=JSONBytes,
    responses={200: {"model": SubmissionRules}},
)
def submission_rules(settings: SettingsDep) -> Response:
    """The rules `/submit` applies, with this site's numbers (docs/community.md)."""
    days, cap = settings.submission_max_age_days, settings.submission_daily_cap
    rules = [
        "Signed in, give an arXiv id or URL and an optional comment; the paper is featured on "
        "today's (UTC) daily page, its title, authors and abstract as arXiv has them.",
        f"It was first published on arXiv at most {days} days ago.",
        f"At most {cap} submissions a day per member, and {settings.rate_limit_submit}.",
        "A paper is featured once; a withdrawn paper, or an id arXiv does not know, is refused.",
        "Curators and admins are exempt from the age and the daily cap.",
    ]
    return JSONBytes(
        {
            "maxAgeDays": days,
            "dailyCapPerMember": cap,
            "rateLimit": settings.rate_limit_submit,
            "arxivDeadlineSeconds": settings.submission_arxiv_deadline_s,
            "rules": rules,
        }
    )
