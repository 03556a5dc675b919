"""The JSON API the `huggingface_hub` client uses: `HfApi(endpoint="http://localhost:8000")`.

`GET /api/daily_papers`, `GET /api/papers/search`, `GET /api/papers/{id}` (the listing, the
repos and the Markdown are in web/routes/api_papers.py); errors are JSON (`{"error": ...}`)
with 400 for bad parameters and 404 for unknown papers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from papertide.arxiv_ids import ID_PATTERN, InvalidArxivId, parse_arxiv_id
from papertide.db import listing, queries
from papertide.models import PaperCard
from papertide.periods import InvalidPeriod, Period, parse_period
from papertide.ranking.service import TrendingService
from papertide.ranking.trending import explain
from papertide.search.keyword import marked_html
from papertide.web.api_models import ERRORS, NOT_FOUND, HfListItem, HfPaper
from papertide.web.deps import DatabaseDep, SearchDep
from papertide.web.hf_items import list_item, paper_object
from papertide.web.trending import TrendingDep

router = APIRouter(prefix="/api", tags=["Hugging Face compatible"])

# Hugging Face's own limit for its papers listings; beyond it (or below 1) is a 400, as
# every malformed parameter is here.
MAX_LIMIT = 100
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")]
ArxivIdPath = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description="an arXiv id, optionally with its version: 2401.01234, hep-th/9901001v2",
        examples=["2608.16590"],
    ),
]


class JSONBytes(JSONResponse):
    """JSON through orjson (several times faster than the standard library for a day's list)."""

    def render(self, content: Any) -> bytes:
        import orjson

        return orjson.dumps(content)


@router.get(
    "/daily_papers",
    summary="Featured papers of a day, week or month",
    response_class=JSONBytes,
    responses={200: {"model": list[HfListItem]}, **ERRORS},
)
def daily_papers(
    db: DatabaseDep,
    trending: TrendingDep,
    p: Annotated[int, Query(ge=0, le=10_000)] = 0,
    limit: Limit = 50,
    sort: Literal["publishedAt", "trending"] = "publishedAt",
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    submitter: Annotated[str | None, Query(max_length=64)] = None,
) -> JSONBytes:
    """Featured papers of a day, week or month (default: the latest featured day).

    `sort=trending` orders them by the trending score (docs/trending.md) and adds each item's
    score and reason as `trending: {score, why}`; the formula is in `X-Trending-Formula`.
    """
    period = _period(date, week, month)
    with db.read() as conn:
        if period is None:
            latest = queries.latest_featured_date(conn)
            if latest is None:
                return JSONBytes([])
            period = parse_period("day", latest.isoformat())
        paged = not submitter and sort != "trending"
        if paged:
            cards, _ = queries.feed(conn, period.start, period.end, "newest", limit, p * limit)
        else:  # a period holds at most a month of entries: filter and order them here
            cards, _ = queries.feed(conn, period.start, period.end, "newest")
            if submitter:
                wanted = submitter.lower()
                cards = [c for c in cards if (c.submitted_by or "").lower() == wanted]
    headers: dict[str, str] = {}
    extra: dict[str, dict[str, Any]] = {}
    if sort == "trending":
        cards, extra, formula = _by_trending(trending, cards)
        headers["X-Trending-Formula"] = formula
    if not paged:
        cards = cards[p * limit : (p + 1) * limit]
    with db.read() as conn:
        items = [_item(conn, card.arxiv_id, card.featured_on) for card in cards]
    return JSONBytes(
        [{**item, **extra.get(item["paper"]["id"], {})} for item in items if item is not None],
        headers=headers,
    )


def _by_trending(
    trending: TrendingService, cards: list[PaperCard]
) -> tuple[list[PaperCard], dict[str, dict[str, Any]], str]:
    """`cards` by trending score (issue #5), what to add to each item, and the formula."""
    ranking = trending.papers([card.arxiv_id for card in cards])
    by_id = {card.arxiv_id: card for card in cards}
    clock = ranking.clock or dt.datetime.min
    extra = {
        score.paper_id: {"trending": {"score": score.score, "why": explain(score, clock)}}
        for score in ranking.scores
    }
    ordered = [by_id[score.paper_id] for score in ranking.scores if score.paper_id in by_id]
    return ordered, extra, ranking.params.formula(plain=True)


@router.get(
    "/papers/search",
    summary="Search papers",
    response_class=JSONBytes,
    responses={200: {"model": list[HfListItem]}, **ERRORS},
)
def search_papers(
    search: SearchDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    limit: Limit = 50,
) -> JSONBytes:
    """The same ranking as the search page, as HF list items, each with `highlightedTitle`
    and `highlightedSummary` (matching words in `<mark>`). Without `q` (`HfApi.list_papers()`
    with no query): the newest papers, the first page of `GET /api/papers`."""
    if not q.strip():
        with search.db.read() as conn:
            ids = listing.newest_ids(conn, limit)
            items = [_item(conn, arxiv_id, None) for arxiv_id in ids]
        return JSONBytes([item for item in items if item is not None])
    results = search.run(q, page=1, per_page=limit)
    with search.db.read() as conn:
        items = [_item(conn, card.arxiv_id, None) for card in results.cards]
    return JSONBytes(
        [
            {
                **item,
                "highlightedTitle": marked_html(item["title"], q),
                "highlightedSummary": marked_html(item["summary"], q),
            }
            for item in items
            if item is not None
        ]
    )


@router.get(
    "/papers/{arxiv_id:path}",
    summary="One paper",
    response_class=JSONBytes,
    responses={200: {"model": HfPaper}, **NOT_FOUND},
)
def paper(db: DatabaseDep, arxiv_id: ArxivIdPath) -> JSONBytes:
    """One paper, flat, as `HfApi.paper_info` reads it."""
    try:
        parsed = parse_arxiv_id(arxiv_id)
    except InvalidArxivId as exc:
        raise HTTPException(400, str(exc)) from exc
    with db.read() as conn:
        detail = queries.get_paper(conn, parsed.base)
    if detail is None:
        raise HTTPException(404, f"Paper {parsed.base} is not known here.")
    return JSONBytes(paper_object(detail))


def _period(date: str | None, week: str | None, month: str | None) -> Period | None:
    asked = (("day", date), ("week", week), ("month", month))
    given = [(kind, text) for kind, text in asked if text]
    if len(given) > 1:
        raise HTTPException(400, "Give at most one of date, week and month.")
    if not given:
        return None
    kind, text = given[0]
    try:
        return parse_period(kind, text)  # type: ignore[arg-type]
    except InvalidPeriod as exc:
        raise HTTPException(400, str(exc)) from exc


def _item(conn: Any, arxiv_id: str, featured_on: dt.date | None) -> dict[str, Any] | None:
    detail = queries.get_paper(conn, arxiv_id)
    return list_item(detail, featured_on) if detail else None
