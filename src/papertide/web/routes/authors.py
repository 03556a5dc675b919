"""Author pages: `/authors/{name}`, a name's papers with its co-authors and categories (#14)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide.search.authors import author_page
from papertide.web.deps import DatabaseDep, PageDep
from papertide.web.syndication import FeedLink

router = APIRouter()


def author_path(name: str) -> str:
    return "/authors/" + quote(" ".join(name.split()), safe="")


@router.get("/authors/{name}", response_class=HTMLResponse, response_model=None)
def author(name: str, db: DatabaseDep, page: PageDep) -> Response:
    with db.read() as conn:
        view = author_page(conn, name)
    if view is None:
        raise HTTPException(404, f"No paper here has an author named “{name}”.")
    if view.name != name:  # one address per name, as arXiv writes it on the newest paper
        return RedirectResponse(author_path(view.name), status_code=301)
    feed = FeedLink(f"Papers by {view.name}", "/feeds" + author_path(view.name))
    return page.render("author.html", nav="papers", author=view, syndication=feed)
