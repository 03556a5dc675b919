"""The rest of Hugging Face's papers API (issue #13): `GET /api/papers` (every paper, newest
first, paged by a cursor in a `Link: <…>; rel="next"` header, as `huggingface_hub`'s
`paginate()` follows it), `GET /api/arxiv/{id}/repos` and `GET /papers/{id}.md`.

Included before web/routes/api.py, whose `/api/papers/{id}` takes any path, and before
web/routes/papers.py, whose paper page takes `/papers/{anything}`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import listing, queries
from papertide.db.listing import After
from papertide.web.api_models import ERRORS, HfListItem, HfPaperRepos
from papertide.web.deps import DatabaseDep
from papertide.web.hf_items import list_item
from papertide.web.markdown import paper_markdown
from papertide.web.routes.api import ArxivIdPath, JSONBytes, Limit

router = APIRouter(tags=["Hugging Face compatible"])

CursorQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="where the page starts: the `cursor` of the previous page's "
        '`Link: <…>; rel="next"` header (leave it out for the first page)',
    ),
]


@router.get(
    "/api/papers",
    summary="Every paper, newest first, page by page",
    response_class=JSONBytes,
    responses={
        200: {
            "model": list[HfListItem],
            "headers": {
                "Link": {
                    "description": 'the next page, `<…?cursor=…&limit=…>; rel="next"`; '
                    "absent on the last page",
                    "schema": {"type": "string"},
                }
            },
        },
        **ERRORS,
    },
)
def papers(
    request: Request, db: DatabaseDep, limit: Limit = 50, cursor: CursorQuery = None
) -> Response:
    """Every paper known here, featured or not, newest arXiv date first (papers without a
    date last), as HF list items. Follow the `Link` header's `rel="next"` address for the next
    page: `huggingface_hub.utils.paginate()` does."""
    after = _after(cursor) if cursor else None
    with db.read() as conn:
        ids = listing.newest_ids(conn, limit + 1, after)
        details = [queries.get_paper(conn, arxiv_id) for arxiv_id in ids[:limit]]
    items = [list_item(detail) for detail in details if detail is not None]
    response = JSONBytes(items)
    if len(ids) > limit and details and (last := details[-1]) is not None:
        following = _cursor(After(last.published_at, last.arxiv_id))
        url = request.url.include_query_params(cursor=following, limit=limit)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


def _cursor(after: After) -> str:
    published = after.published_at.isoformat() if after.published_at else None
    raw = json.dumps([published, after.arxiv_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> After:
    """The position a cursor names; 400 for one this server did not write."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        published, arxiv_id = json.loads(raw)
        when = dt.datetime.fromisoformat(published) if published is not None else None
        if not isinstance(arxiv_id, str):
            raise ValueError(arxiv_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, "cursor: not a cursor this server gave out.") from exc
    return After(when, arxiv_id)


@router.get(
    "/api/arxiv/{arxiv_id:path}/repos",
    summary="What refers to a paper: models, datasets, Spaces, code",
    response_class=JSONBytes,
    responses={200: {"model": HfPaperRepos}, **ERRORS},
)
def paper_repos(db: DatabaseDep, arxiv_id: ArxivIdPath) -> Response:
    """Hugging Face's shape for the repositories that refer to a paper. Papertide is not
    the Hugging Face Hub and knows no models, datasets or Spaces, so those lists are always
    empty (for any well-formed id, as on Hugging Face); the paper's GitHub repository and its
    stars are added when known."""
    try:
        base = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise HTTPException(400, str(exc)) from exc
    with db.read() as conn:
        detail = queries.get_paper(conn, base)
    repo = detail.github_repo if detail else None
    return JSONBytes(
        {
            "models": [],
            "datasets": [],
            "spaces": [],
            "githubRepo": f"https://github.com/{repo}" if repo else None,
            "githubStars": detail.github_stars if detail and repo else None,
        }
    )


MARKDOWN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
    301: {"description": "a versioned id: the paper's one address (`/papers/2608.16590.md`)"},
    400: {"description": "not an arXiv id", "content": {"text/html": {}}},
    404: {"description": "a paper not known here", "content": {"text/html": {}}},
}


@router.get(
    "/papers/{arxiv_id}.md",
    summary="One paper as Markdown",
    response_class=PlainTextResponse,
    responses=MARKDOWN_RESPONSES,
)
def paper_as_markdown(db: DatabaseDep, arxiv_id: ArxivIdPath) -> Response:
    """The paper page as Markdown (title, authors, links, abstract), as `HfApi.read_paper`
    and `hf papers read` read it. The page itself, `/papers/{id}`, answers the same to a
    request with `Accept: text/markdown`."""
    try:
        canonical = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise HTTPException(400, str(exc)) from exc
    if canonical != arxiv_id:
        return RedirectResponse(f"/papers/{canonical}.md", status_code=301)
    with db.read() as conn:
        detail = queries.get_paper(conn, canonical)
    if detail is None:
        raise HTTPException(404, f"Paper {canonical} is not known here.")
    return markdown_response(paper_markdown(detail))


def markdown_response(text: str) -> Response:
    """Markdown, saying that the paper page's answer depends on `Accept`."""
    return PlainTextResponse(
        text, media_type="text/markdown; charset=utf-8", headers={"Vary": "Accept"}
    )
