"""Paper pages: `/papers/{arxiv_id}` (HTML) and `/papers/{arxiv_id}.md` (Markdown).

Registered last: `{arxiv_id:path}` would otherwise swallow `/papers/date/…` and friends.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import comments, queries
from papertide.db import lists as list_rows
from papertide.db.engine import Database
from papertide.models import PaperDetail
from papertide.web.auth import current_viewer
from papertide.web.charts import history_charts
from papertide.web.deps import DatabaseDep, PageDep, SearchDep
from papertide.web.markdown import paper_markdown
from papertide.web.notices import notice
from papertide.web.routes.api_papers import markdown_response
from papertide.web.trending import TrendingDep

router = APIRouter()


@router.get("/papers/{arxiv_id:path}", response_class=Response)
def paper_page(
    arxiv_id: str,
    request: Request,
    db: DatabaseDep,
    page: PageDep,
    search: SearchDep,
    trending: TrendingDep,
    error: Annotated[str, Query(max_length=40)] = "",
    submitted: bool = False,
    saved: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Response:
    """A paper's page; old-style ids (hep-th/9901001) contain a slash, hence `:path`."""
    as_markdown = arxiv_id.endswith(".md")
    requested = arxiv_id.removesuffix(".md")
    try:
        canonical = parse_arxiv_id(requested).base
    except InvalidArxivId as exc:
        raise HTTPException(404, f"“{requested}” is not an arXiv id.") from exc
    if canonical != requested:  # a version suffix or an arxiv.org URL: one address per paper
        suffix = ".md" if as_markdown else ""
        return RedirectResponse(f"/papers/{canonical}{suffix}", status_code=301)
    paper = _get_paper(db, canonical)
    if as_markdown or wants_markdown(request.headers.get("accept", "")):
        return markdown_response(paper_markdown(paper))
    related = search.related(canonical)
    history = history_charts(canonical, trending.events(canonical))  # issue #5
    viewer = current_viewer(request)
    curator = viewer.account is not None and viewer.account.role in ("curator", "admin")
    with db.read() as conn:
        thread = comments.thread(conn, canonical, include_hidden=curator)
        account = viewer.account
        own_lists = list_rows.of_user(conn, account.id) if account else []
        holding = list_rows.lists_holding(conn, account.id, canonical) if account else set()
    response = page.render(
        "paper.html",
        nav="papers",
        paper=paper,
        related=related,
        history=history,
        thread=thread,
        curator=curator,
        # A refused comment or moderation action: a code naming one of our own messages.
        error=notice(error) if viewer.signed_in else None,
        submitted=submitted and viewer.signed_in,
        own_lists=own_lists,
        holding=holding,
        saved=next((item for item in own_lists if item.id == saved), None),
    )
    response.headers["Vary"] = "Accept"  # Markdown to `Accept: text/markdown` (issue #13)
    return response


def wants_markdown(accept: str) -> bool:
    """Whether an `Accept` header prefers Markdown to HTML (`text/markdown`, ranked by `q`)."""
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        quality[media.lower()] = max(weight, quality.get(media.lower(), 0.0))
    markdown = quality.get("text/markdown", 0.0)
    return markdown > 0 and markdown >= quality.get("text/html", 0.0)


def _get_paper(db: Database, arxiv_id: str) -> PaperDetail:
    with db.read() as conn:
        paper = queries.get_paper(conn, arxiv_id)
    if paper is None:
        raise HTTPException(404, f"Paper {arxiv_id} is not in this instance's database.")
    return paper
