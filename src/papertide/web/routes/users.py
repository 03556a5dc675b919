"""User pages: `/u/{username}`, with the papers the user upvoted (issue #5).

Also the papers they submitted to the daily feed and their latest comments (issue #5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide.db import accounts as account_rows
from papertide.db import comments, queries, votes
from papertide.db import lists as list_rows
from papertide.db.comments import CommentView
from papertide.models import Account, PaperCard
from papertide.web.deps import DatabaseDep, PageDep
from papertide.web.syndication import FeedLink
from papertide.web.views import Pager, make_pager

router = APIRouter()

PER_PAGE = 20


@dataclass(frozen=True, slots=True)
class UserPage:
    """What /u/{username} shows."""

    profile: Account
    upvoted: list[PaperCard]
    pager: Pager
    submitted: list[PaperCard]
    comments: list[CommentView]
    titles: dict[str, str]  # paper id -> title, for the comments' links


@router.get("/u/{username}", response_class=HTMLResponse, response_model=None)
def user_page(
    username: str,
    db: DatabaseDep,
    page: PageDep,
    number: Annotated[int, Query(alias="p", ge=1, le=10_000)] = 1,
) -> Response:
    with db.read() as conn:
        profile = account_rows.account_by_username(conn, username)
        if profile is None:
            raise HTTPException(404, f"There is no user called “{username}” here.")
        if profile.username != username:  # one address per user
            suffix = f"?p={number}" if number > 1 else ""
            return RedirectResponse(f"/u/{profile.username}{suffix}", status_code=301)
        ids, total = votes.recent_upvotes(conn, profile.id, PER_PAGE, (number - 1) * PER_PAGE)
        cards = queries.cards_by_ids(conn, ids)
        submitted = queries.cards_by_ids(conn, queries.submitted_ids(conn, profile.id, PER_PAGE))
        recent = comments.by_user(conn, profile.id, PER_PAGE)
        titles = {
            c.arxiv_id: c.title for c in queries.cards_by_ids(conn, [c.paper_id for c in recent])
        }
        public_lists = list_rows.of_user(conn, profile.id, public_only=True)
    pager = make_pager(f"/u/{profile.username}", {}, number, PER_PAGE, total)
    view = UserPage(profile, cards, pager, submitted, recent, titles)
    feed = FeedLink(f"Submitted by {profile.username}", f"/feeds/u/{profile.username}/submissions")
    return page.render(
        "user.html", nav="me", user_page=view, syndication=feed, public_lists=public_lists
    )
