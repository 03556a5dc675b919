"""Author pages, `/authors/{name}` (a name's papers, co-authors and categories), and what a
member follows: authors, and saved searches (`POST /searches`) (issue #14)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide import following
from papertide.auth.redirects import safe_next
from papertide.following import FollowProblem, SavedSearch
from papertide.search.authors import author_page
from papertide.web.auth import SignedIn, current_viewer
from papertide.web.deps import DatabaseDep, PageDep, RowIdPath
from papertide.web.syndication import FeedLink

router = APIRouter()


def author_path(name: str) -> str:
    return "/authors/" + quote(" ".join(name.split()), safe="")


@router.get("/authors/{name}", response_class=HTMLResponse, response_model=None)
def author(name: str, request: Request, db: DatabaseDep, page: PageDep) -> Response:
    with db.read() as conn:
        view = author_page(conn, name)
    if view is None:
        raise HTTPException(404, f"No paper here has an author named “{name}”.")
    if view.name != name:  # one address per name, as arXiv writes it on the newest paper
        return RedirectResponse(author_path(view.name), status_code=301)
    feed = FeedLink(f"Papers by {view.name}", "/feeds" + author_path(view.name))
    account = current_viewer(request).account
    following_id = following.following_author(db, account, view.name) if account else None
    return page.render(
        "author.html", nav="papers", author=view, syndication=feed, following_id=following_id
    )


@router.post("/authors/{name}/follow", response_model=None)
def follow_author(name: str, db: DatabaseDep, account: SignedIn) -> Response:
    """Follow an author: their new papers in the member's personal feed and digest."""
    with db.read() as conn:
        view = author_page(conn, name)
    if view is None:
        raise HTTPException(404, f"No paper here has an author named “{name}”.")
    try:
        following.follow_author(db, account, view.name)
    except FollowProblem as exc:
        raise HTTPException(400, str(exc)) from exc
    return RedirectResponse(author_path(view.name), status_code=303)


@router.post("/searches", response_model=None)
def save_search(
    db: DatabaseDep,
    account: SignedIn,
    q: Annotated[str, Form(max_length=2000)] = "",
    category: Annotated[str, Form(max_length=40)] = "",
    code: Annotated[bool, Form()] = False,
    featured: Annotated[bool, Form()] = False,
) -> Response:
    """Save a search: its new matches in the member's personal feed and digest."""
    saved = SavedSearch(" ".join(q.split())[:500], category.strip(), code, featured)
    try:
        following.save_search(db, account, saved)
    except FollowProblem as exc:
        raise HTTPException(400, str(exc)) from exc
    return RedirectResponse("/lists#following", status_code=303)


@router.post("/follows/{follow_id}/remove", response_model=None)
def unfollow(
    db: DatabaseDep,
    account: SignedIn,
    follow_id: RowIdPath,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not following.unfollow(db, account, follow_id):
        raise HTTPException(404, "You do not follow that.")
    return RedirectResponse(safe_next(next, "/lists#following"), status_code=303)
