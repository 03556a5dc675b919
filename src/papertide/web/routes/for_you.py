"""For you: `/papers/for-you`, a day's new papers ranked for the signed-in member (issue #14).

The ranking is ranking/personal.py's (what the member upvoted, saved and marked); papers by the
authors they follow and matches of their saved searches come first, each saying why. A member
with no history yet picks categories or keywords (kept as saved searches) and gets those
matches first, the rest of the day by upvotes, from the first visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide import following
from papertide.db import foryou as stored
from papertide.db import queries
from papertide.following import FollowProblem, SavedSearch
from papertide.models import PaperCard
from papertide.periods import InvalidPeriod, parse_period, period_containing
from papertide.web.auth import PRIVATE, SignedIn, current_viewer
from papertide.web.deps import DatabaseDep, ForYouDep, PageDep, SearchDep

router = APIRouter()

SHOWN = 30  # papers a page; `p` pages on
STARTER_CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "stat.ML", "cs.IR", "eess.AS")


@dataclass(frozen=True, slots=True)
class Pick:
    card: PaperCard
    why: str
    signal: int  # +1 "more like this", -1 "not for me", 0 neither


def _day(date: str, db: DatabaseDep) -> dt.date | None:
    with db.read() as conn:
        if not date:
            return stored.latest_day(conn)
    try:
        return parse_period("day", date).start
    except InvalidPeriod as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get("/papers/for-you", response_class=HTMLResponse, response_model=None)
def for_you_page(
    request: Request,
    db: DatabaseDep,
    page: PageDep,
    search: SearchDep,
    for_you: ForYouDep,
    date: Annotated[str, Query(max_length=20)] = "",
    number: Annotated[int, Query(alias="p", ge=1, le=100)] = 1,
) -> Response:
    """The day's new papers (every listing, featured or not), ranked for the member."""
    viewer = current_viewer(request)
    day = _day(date, db)
    tabs = {"day": "/", "week": "/", "month": "/"}
    if day is not None:
        tabs = {kind: period_containing(kind, day).url for kind in ("day", "week", "month")}
    if viewer.account is None:
        return page.render(
            "for_you.html", nav="for-you", day=day, picks=[], signed_out=True, tabs=tabs
        )
    account = viewer.account
    picks: list[Pick] = []
    learned, total = 0, 0
    previous = following_day = None
    if day is not None:
        ranked = for_you.for_you(account, day)
        learned = ranked.upvotes
        with db.read() as conn:
            if learned:
                order = [(s.arxiv_id, s.reason) for s in ranked.ranked]
            else:  # nothing to learn from yet: the day by upvotes
                ids = [p.arxiv_id for p in stored.day_papers(conn, day)]
                by_votes = queries.cards_by_ids(conn, ids)
                by_votes.sort(key=lambda c: (-c.upvotes, c.arxiv_id))
                order = [(c.arxiv_id, "") for c in by_votes]
            previous = stored.latest_day(conn, day - dt.timedelta(days=1))
            following_day = stored.next_day(conn, day)
        asked = {
            card.arxiv_id: why
            for card, why in following.news(db, search, account, day, day)
            if card.published_at is not None and card.published_at.date() == day
        }
        first = [(pid, why) for pid, why in asked.items()]
        rest = [(pid, why) for pid, why in order if pid not in asked]
        chosen = first + rest
        total = len(chosen)
        start = (number - 1) * SHOWN
        shown = chosen[start : start + SHOWN]
        with db.read() as conn:  # cards for this page only, not the whole day
            cards = {c.arxiv_id: c for c in queries.cards_by_ids(conn, [pid for pid, _ in shown])}
        picks = [
            Pick(cards[pid], why, ranked.marked.get(pid, 0)) for pid, why in shown if pid in cards
        ]
    authors, searches = following.of_member(db, account)
    response = page.render(
        "for_you.html",
        nav="for-you",
        day=day,
        picks=picks,
        total=total,
        number=number,
        shown=SHOWN,
        learned=learned,
        follows=len(authors) + len(searches),
        previous=previous,
        following_day=following_day,
        starters=STARTER_CATEGORIES,
        signed_out=False,
        tabs=tabs,
    )
    response.headers["cache-control"] = PRIVATE
    return response


@router.post("/papers/for-you/start", response_model=None)
def start_for_you(
    db: DatabaseDep,
    account: SignedIn,
    category: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 - FastAPI copies it
    keywords: Annotated[str, Form(max_length=500)] = "",
    authors: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """First visit: the categories and keywords picked become saved searches and the authors
    named are followed, so the page has something to go by before the first upvote."""
    picked = [SavedSearch(category=c.strip()) for c in category if c.strip()]
    picked += [SavedSearch(q=" ".join(k.split())) for k in keywords.split(",") if k.strip()]
    names = [" ".join(a.split()) for a in authors.split(",") if a.strip()]
    if not picked and not names:
        raise HTTPException(400, "Pick at least one category, keyword or author.")
    try:
        for saved in picked:
            following.save_search(db, account, saved)
        for name in names:
            following.follow_author(db, account, name)
    except FollowProblem as exc:
        raise HTTPException(400, str(exc)) from exc
    return RedirectResponse("/papers/for-you", status_code=303)
