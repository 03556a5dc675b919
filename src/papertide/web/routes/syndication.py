"""RSS 2.0 and Atom 1.0 for every list a visitor can read (issue #13).

`/feeds/daily.rss` (or `.atom`: every feed comes in both formats) · `/feeds/papers/date/{day}`,
`/feeds/papers/week/{week}`, `/feeds/papers/month/{month}` · `/feeds/trending?window=…` ·
`/feeds/category/{category}` · `/feeds/search?q=…&from=…&to=…&category=…&code=1&featured=1` ·
`/feeds/u/{username}/submissions` · `/feeds/personal/{token}` (a member's digest selection,
behind a secret address from settings).

Each gathers its papers through the same service as its page, so a feed and its page never
disagree; web/syndication.py writes the XML.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from papertide import following, reading
from papertide.auth import feed_links
from papertide.clock import utcnow
from papertide.config import Settings
from papertide.db import accounts as account_rows
from papertide.db import lists as list_rows
from papertide.db import queries
from papertide.db.engine import Database
from papertide.digest import personal
from papertide.models import PaperCard
from papertide.periods import PeriodKind, parse_period
from papertide.ranking.trending import DEFAULT_WINDOW, WINDOW_LABELS, Window
from papertide.search.authors import author_page
from papertide.web.deps import DatabaseDep, ForYouDep, SearchDep, SettingsDep
from papertide.web.routes.authors import author_path
from papertide.web.routes.search import CATEGORY, MAX_QUERY, SearchForm
from papertide.web.syndication import ATOM_TYPE, RSS_TYPE, Channel, Entry, atom, rss
from papertide.web.trending import TrendingDep
from papertide.web.views import page_url

FEED = {
    "description": "The feed: RSS 2.0 for `.rss`, Atom 1.0 for `.atom`.",
    "content": {"application/rss+xml": {}, "application/atom+xml": {}},
}
# ErrorBody is in the schema through the API's routes.
ERROR_BODY = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
PROBLEM = {"content": {"text/html": {}, "application/json": ERROR_BODY}}
router = APIRouter(
    prefix="/feeds",
    tags=["Feeds"],
    default_response_class=Response,
    responses={
        200: FEED,
        400: {**PROBLEM, "description": "A malformed period, format or filter: it says which."},
        404: {**PROBLEM, "description": "No such member, author or public list."},
    },
)

Format = Literal["rss", "atom"]
FormatPath = Annotated[Format, Path(description="rss (RSS 2.0) or atom (Atom 1.0)")]
MAX_ENTRIES = 50  # what one feed document carries: a reader polling daily misses nothing
DAILY_DAYS = 7  # the daily feed reaches back this many featured days (or MAX_ENTRIES papers)


def _respond(request: Request, settings: Settings, fmt: Format, channel: Channel) -> Response:
    self_url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        self_url += "?" + request.url.query
    # Last-Modified lets a reader ask "anything new?" (web/manners.py answers 304).
    updated = channel.updated.astimezone(dt.UTC)
    headers = {"Last-Modified": email.utils.format_datetime(updated, usegmt=True)}
    if fmt == "atom":
        return Response(atom(channel, self_url), media_type=ATOM_TYPE, headers=headers)
    return Response(rss(channel, self_url), media_type=RSS_TYPE, headers=headers)


def _entries(
    db: Database,
    settings: Settings,
    cards: Sequence[PaperCard],
    notes: dict[str, str] | None = None,
) -> list[Entry]:
    """An entry per card, in order, with its abstract (after a note, e.g. why it trends)."""
    with db.read() as conn:
        abstracts = queries.abstracts_by_ids(conn, [card.arxiv_id for card in cards])
    base = settings.public_url.rstrip("/")
    entries = []
    for card in cards:
        url = f"{base}/papers/{card.arxiv_id}"
        published = card.published_at or _midnight(card.featured_on) or utcnow()
        published = published if published.tzinfo else published.replace(tzinfo=dt.UTC)
        listed = _midnight(card.featured_on)
        summary = abstracts.get(card.arxiv_id, "")
        if notes and card.arxiv_id in notes:
            summary = f"{notes[card.arxiv_id]}\n\n{summary}"
        entries.append(
            Entry(
                id=url,
                title=card.title,
                link=url,
                summary=summary,
                authors=card.authors,
                categories=card.categories,
                published=published,
                updated=max(published, listed) if listed else published,
            )
        )
    return entries


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), dt.UTC) if day else None


def _channel(
    settings: Settings, title: str, description: str, page: str, feed: str, entries: list[Entry]
) -> Channel:
    base = settings.public_url.rstrip("/")
    updated = max(
        (entry.updated for entry in entries), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    )
    return Channel(
        title=f"{title} · {settings.site_name}",
        description=description,
        page_url=base + page,
        feed_url=base + feed,
        entries=entries,
        updated=updated,
    )


@router.get("/daily.{fmt}", summary="The daily feed")
def daily(fmt: FormatPath, request: Request, db: DatabaseDep, settings: SettingsDep) -> Response:
    """The latest featured days, newest first, each day's papers by upvotes."""
    cards: list[PaperCard] = []
    with db.read() as conn:
        day = queries.latest_featured_date(conn)
        for _ in range(DAILY_DAYS):
            if day is None or len(cards) >= MAX_ENTRIES:
                break
            found, _total = queries.feed(conn, day, day, "upvotes")
            cards += found
            day, _after = queries.adjacent_featured_dates(conn, day, day)
    entries = _entries(db, settings, cards[:MAX_ENTRIES])
    channel = _channel(
        settings, "Daily papers", "The papers featured each day, by upvotes.", "/", "/feeds/daily",
        entries,
    )  # fmt: skip
    return _respond(request, settings, fmt, channel)


@router.get("/papers/{kind}/{period}.{fmt}", summary="A day's, week's or month's papers")
def period_feed(
    kind: Literal["date", "week", "month"],
    period: Annotated[
        str,
        Path(
            pattern=r"^\d{4}-(?:\d{2}-\d{2}|W\d{2}|\d{2})$",
            description="YYYY-MM-DD for a date, YYYY-Www for a week, YYYY-MM for a month",
        ),
    ],
    fmt: FormatPath,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    """The papers featured in one day (`YYYY-MM-DD`), week (`YYYY-Www`) or month (`YYYY-MM`),
    by upvotes (the first 50)."""
    period_kind: PeriodKind = "day" if kind == "date" else kind
    found = parse_period(period_kind, period)  # InvalidPeriod: a 400 naming the format
    with db.read() as conn:
        cards, total = queries.feed(conn, found.start, found.end, "upvotes", MAX_ENTRIES)
    entries = _entries(db, settings, cards)
    title = {"day": "Papers of", "week": "Papers of the week", "month": "Papers of"}[period_kind]
    channel = _channel(
        settings,
        f"{title} {found.slug}",
        f"The {min(total, MAX_ENTRIES)} most upvoted of the {total} papers featured then.",
        found.url,
        f"/feeds/papers/{kind}/{found.slug}",
        entries,
    )
    return _respond(request, settings, fmt, channel)


@router.get("/trending.{fmt}", summary="Trending papers, each with why")
def trending_feed(
    fmt: FormatPath,
    request: Request,
    service: TrendingDep,
    db: DatabaseDep,
    settings: SettingsDep,
    window: Annotated[Window, Query(description="7d (default), 30d or all")] = DEFAULT_WINDOW,
) -> Response:
    """The trending window's best papers, in order, each entry opening with its score's
    explanation."""
    ranking = service.window(window)
    items = service.items(ranking, 0, MAX_ENTRIES)
    notes = {item.card.arxiv_id: f"Trending score {item.score_text}: {item.why}" for item in items}
    entries = _entries(db, settings, [item.card for item in items], notes)
    query = None if window == DEFAULT_WINDOW else window
    channel = _channel(
        settings,
        f"Trending, {WINDOW_LABELS[window].lower()}",
        "Featured papers ranked by upvotes and GitHub stars, newer counting more.",
        page_url("/papers/trending", {"window": query}),
        page_url("/feeds/trending", {"window": query}),
        entries,
    )
    response = _respond(request, settings, fmt, channel)
    if ranking.stale:  # as on the page: another process is recomputing it (issue #11)
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/category/{category}.{fmt}", summary="An arXiv category's newest papers")
def category_feed(
    category: Annotated[str, Path(max_length=40, pattern=f"^{CATEGORY.pattern}$")],
    fmt: FormatPath,
    request: Request,
    search: SearchDep,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    """The newest papers listed in `category` (e.g. `cs.LG`), featured or not."""
    form = SearchForm("", category=category)
    results = search.run("", form.filters(), per_page=MAX_ENTRIES)
    entries = _entries(db, settings, results.cards)
    channel = _channel(
        settings,
        f"New in {category}",
        f"The newest papers in arXiv's {category}.",
        page_url("/papers", form.params()),
        f"/feeds/category/{category}",
        entries,
    )
    return _respond(request, settings, fmt, channel)


@router.get("/search.{fmt}", summary="Any search, as a feed")
def search_feed(
    fmt: FormatPath,
    request: Request,
    search: SearchDep,
    db: DatabaseDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=20)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=20)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    code: Annotated[bool, Query()] = False,
    featured: Annotated[bool, Query()] = False,
) -> Response:
    """The first 50 results of the search `/papers` would run with the same parameters."""
    form = SearchForm(q, date_from.strip(), date_to.strip(), category.strip(), code, featured)
    filters = form.filters()  # a bad date: a 400 naming it
    if not form.query and filters == type(filters)():
        raise HTTPException(400, "A search feed needs words (q=…) or a filter.")
    results = search.run(form.query[:MAX_QUERY], filters, per_page=MAX_ENTRIES)
    entries = _entries(db, settings, results.cards)
    params = form.params()
    channel = _channel(
        settings,
        f"Search: {form.query}" if form.query else "Search",
        "The best matches of this search; new papers appear as they are listed.",
        page_url("/papers", params),
        page_url("/feeds/search", params),
        entries,
    )
    return _respond(request, settings, fmt, channel)


@router.get("/u/{username}/submissions.{fmt}", summary="A member's submissions")
def submissions_feed(
    username: str, fmt: FormatPath, request: Request, db: DatabaseDep, settings: SettingsDep
) -> Response:
    """The papers `username` submitted to the daily feed, newest first."""
    with db.read() as conn:
        profile = account_rows.account_by_username(conn, username)
        if profile is None:
            raise HTTPException(404, f"There is no user called “{username}” here.")
        cards = queries.cards_by_ids(conn, queries.submitted_ids(conn, profile.id, MAX_ENTRIES))
    entries = _entries(db, settings, cards)
    channel = _channel(
        settings,
        f"Submitted by {profile.username}",
        f"The papers {profile.username} submitted to the daily feed.",
        f"/u/{profile.username}",
        f"/feeds/u/{profile.username}/submissions",
        entries,
    )
    return _respond(request, settings, fmt, channel)


@router.get("/authors/{name}.{fmt}", summary="An author's papers")
def author_feed(
    name: Annotated[str, Path(max_length=300, description="as arXiv writes it")],
    fmt: FormatPath,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    """The newest papers with an author of exactly this name (letter case and spacing aside;
    a name, not a person: see the author page)."""
    with db.read() as conn:
        view = author_page(conn, name)
    if view is None:
        raise HTTPException(404, f"No paper here has an author named “{name}”.")
    entries = _entries(db, settings, view.papers[:MAX_ENTRIES])
    channel = _channel(
        settings,
        f"Papers by {view.name}",
        f"The newest papers with {view.name} among their authors.",
        author_path(view.name),
        "/feeds" + author_path(view.name),
        entries,
    )
    return _respond(request, settings, fmt, channel)


@router.get("/lists/{list_id}.{fmt}", summary="A public reading list")
def list_feed(
    list_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    fmt: FormatPath,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    """A public reading list's papers, most recently added first, each with its note. A
    private list answers 404, as one that does not exist."""
    found = reading.readable(db, list_id, None)
    if found is None:
        raise HTTPException(404, "There is no such public list.")
    with db.read() as conn:
        items = list_rows.items(conn, list_id)
        cards = queries.cards_by_ids(conn, [item.paper_id for item in items[:MAX_ENTRIES]])
    notes = {item.paper_id: f"{found.owner}: {item.note}" for item in items if item.note}
    channel = _channel(
        settings,
        f"{found.name} ({found.owner})",
        f"A reading list by {found.owner}.",
        f"/lists/{found.id}",
        f"/feeds/lists/{found.id}",
        _entries(db, settings, cards, notes),
    )
    return _respond(request, settings, fmt, channel)


PERSONAL_DAYS = 7
FOLLOW_DAYS = 14  # followed authors' and saved searches' papers listed this recently
FOLLOW_RESULTS = 10  # the newest papers of each followed author or saved search


@router.get(
    "/personal/{token}.{fmt}",
    summary="A member's personal feed (their digest selection)",
    responses={404: {**PROBLEM, "description": "No such feed (renewed, stopped, or mistyped)."}},
)
def personal_feed(
    token: Annotated[str, Path(max_length=120, description="the secret part of the address")],
    fmt: FormatPath,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    for_you: ForYouDep,
) -> Response:
    """What the member's daily digest picks for them, day by day (the latest 7 featured days):
    the papers matching their subscription's topics and follows, or each day's trending
    papers; then the last 14 days' papers of the authors they follow and new matches of their
    saved searches. The address is secret (from Settings); renewing it retires the old one."""
    account = feed_links.owner(db, settings.secret_key, token)
    if account is None:
        raise HTTPException(404, "There is no such personal feed: copy its address from Settings.")
    search = request.app.state.search
    topics, days = personal.selection(db, settings, account, utcnow(), PERSONAL_DAYS, for_you)
    ids = [pid for day in days for pid in day.paper_ids]
    with db.read() as conn:
        cards = {card.arxiv_id: card for card in queries.cards_by_ids(conn, ids)}
    notes: dict[str, str] = {}
    for day in days:
        why = (
            "Trending that day" if day.fallback or topics.empty else f"Matches {topics.describe()}"
        )
        for pid in day.paper_ids:
            notes.setdefault(pid, f"{why} ({day.period.end.isoformat()}).")
    ordered = [cards[pid] for pid in dict.fromkeys(ids) if pid in cards]
    since = utcnow().date() - dt.timedelta(days=FOLLOW_DAYS)
    for card, why in following.news(db, search, account, since, per_follow=FOLLOW_RESULTS):
        if card.arxiv_id not in notes:
            ordered.append(card)
            notes[card.arxiv_id] = why
    entries = _entries(db, settings, ordered, notes)
    channel = _channel(
        settings,
        f"{account.username}'s papers",
        f"What {account.username}'s daily digest picks: {topics.describe()}.",
        "/settings#feed",
        f"/feeds/personal/{token}",
        entries,
    )
    response = _respond(request, settings, fmt, channel)
    # One member's selection: never stored by the page cache or a shared cache.
    response.headers["cache-control"] = "private, max-age=300"
    return response
