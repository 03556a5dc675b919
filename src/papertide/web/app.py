"""`create_app(settings)`: a fresh FastAPI application with its own database handle."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.templating import Jinja2Templates

from papertide import __version__
from papertide.auth.lockout import Backoff
from papertide.bootstrap import open_database
from papertide.config import Settings
from papertide.db import Database, queries
from papertide.digest.mailer import make_mailer
from papertide.ranking.personal import ForYouService
from papertide.ranking.service import TrendingService
from papertide.ranking.trending import TrendingParams
from papertide.search.service import SearchService
from papertide.web import splice
from papertide.web.auth import SESSION_COOKIE, csrf_guard, install_auth, member_state
from papertide.web.cache import Members, PageCache, VersionWatch
from papertide.web.errors import install_error_handlers
from papertide.web.filters import FILTERS
from papertide.web.manners import HttpManners
from papertide.web.offload import off_loop
from papertide.web.routes import (
    accounts,
    admin,
    api,
    api_docs,
    api_member,
    api_own,
    api_papers,
    authors,
    community,
    digest_admin,
    feed,
    for_you,
    health,
    lists,
    papers,
    search,
    subscribe,
    syndication,
    trending,
    users,
    votes,
)
from papertide.web.security import SecurityHeadersMiddleware
from papertide.web.static_files import StaticAssets

HERE = Path(__file__).parent
API_DESCRIPTION = (
    "Papertide's JSON API and feeds. The routes tagged Hugging Face compatible "
    "(`/api/daily_papers`, `/api/papers`, `/api/papers/search`, `/api/papers/{id}`, "
    "`/api/arxiv/{id}/repos`, `/papers/{id}.md`) speak Hugging Face's dialect, so "
    '`huggingface_hub`\'s `HfApi(endpoint="http://…")` and the `hf papers` command work '
    "unchanged; the others are Papertide's own. Every list "
    "is also an RSS 2.0 and Atom 1.0 feed under `/feeds/`. Errors under `/api/` are JSON, "
    '`{"error": "…"}`: 400 for a malformed parameter, 404 for what is not here. Lists answer '
    "with an ETag and `304 Not Modified` to `If-None-Match`, and may be read from any origin."
)


def create_app(settings: Settings) -> FastAPI:
    """Build the app: open (migrate, maybe seed) the database, templates, static files, routes."""
    db = open_database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A new host of a large corpus starts fetching its keyword index now, not at the
        # first search (issue #11): /healthz says how far it is.
        await off_loop(app.state.search.warm_up)
        # For you counts the corpus's term statistics once per process (~10 s at 80k papers):
        # on a large corpus, now and in the background rather than in a member's first request.
        if await off_loop(_paper_count, db) > FOR_YOU_WARM_PAPERS:
            threading.Thread(
                target=app.state.for_you.warm, name="papertide-for-you", daemon=True
            ).start()
        yield
        app.state.mailer.close()
        lookup = getattr(app.state, "arxiv_lookup", None)
        if lookup is not None:
            lookup.close()
        probe.close()
        db.dispose()

    app = FastAPI(
        title=f"{settings.site_name} API",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,  # web/routes/api_docs.py renders /docs without outside scripts
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        # Every POST of every route needs a CSRF token unless its endpoint is @csrf_exempt.
        dependencies=[Depends(csrf_guard)],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.search = SearchService(db, settings)
    app.state.for_you = ForYouService(db)
    app.state.trending = TrendingService(
        db, TrendingParams.from_settings(settings), max_stale_s=settings.trending_max_stale_s
    )
    static = StaticAssets(HERE / "static", reload=settings.mode == "development")
    app.state.templates = make_templates(settings, static)
    app.state.login_backoff = Backoff(
        free_failures=settings.login_lockout_after,
        max_s=settings.login_lockout_max_minutes * 60,
    )
    # Confirmation mail (issue #6); tests put a recording mailer here instead.
    app.state.mailer = make_mailer(settings)
    app.mount("/static", static, name="static")
    install_error_handlers(app)
    install_auth(app)
    # Order matters: papers.router's `/papers/{arxiv_id:path}` must come after every other
    # `/papers/...` route.
    for module in (
        health, api_docs, api_member, api_own, api_papers, api, feed, syndication, search,
        subscribe, admin, digest_admin, accounts, users, authors, lists, for_you, votes,
        trending, community, papers,
    ):  # fmt: skip
        app.include_router(module.router)
    app.openapi = _published_schema(app)  # type: ignore[method-assign]
    probe = db.change_probe()
    app.state.change_probe = probe
    app.add_middleware(
        PageCache,
        watch=VersionWatch(_content_version(db), probe),
        cacheable=_is_public_page,
        members=Members(SESSION_COOKIE, _is_list_page, _member_loader(app)),
    )
    app.add_middleware(HttpManners)  # outside the cache: cached answers get 304s too
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: cached replies get it too
    return app


# The one page route scripts use: `HfApi.read_paper` reads it (issue #13).
MARKDOWN_PATH = "/papers/{arxiv_id}.md"


def _published_schema(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`/openapi.json`: the routes scripts use (the JSON API and the feeds); the HTML pages and
    their forms are for browsers and stay out of it (issue #13)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema["paths"] = {
                path: spec
                for path, spec in schema["paths"].items()
                if path.startswith(("/api/", "/feeds/")) or path == MARKDOWN_PATH
            }
            for operation in (op for spec in schema["paths"].values() for op in spec.values()):
                # A malformed parameter is a 400 here (web/errors.py), never FastAPI's 422.
                operation["responses"].pop("422", None)
            _keep_used_shapes(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _keep_used_shapes(schema: dict[str, Any]) -> None:
    """Drop the component schemas no published path refers to (the forms' bodies)."""
    shapes = schema.get("components", {}).get("schemas", {})
    used: set[str] = set()
    pending: list[Any] = [schema["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in used:
                    used.add(name)
                    pending.append(shapes.get(name, {}))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    if shapes:
        schema["components"]["schemas"] = {k: v for k, v in shapes.items() if k in used}


FOR_YOU_WARM_PAPERS = 20_000  # below this, the first For-you request counts them in well under 3 s


def _paper_count(db: Database) -> int:
    with db.read() as conn:
        return queries.paper_count(conn)


def _content_version(db: Database) -> Callable[[], int]:
    def version() -> int:
        with db.read() as conn:
            return queries.content_version(conn)

    return version


def _member_loader(app: FastAPI) -> Callable[[str], splice.Member | None]:
    """Blocking: a member's bits for the page cache (web/splice.py), from their session."""
    db: Database = app.state.db
    secret_key = app.state.settings.secret_key
    templates: Jinja2Templates = app.state.templates

    def load(token: str) -> splice.Member | None:
        found = member_state(db, secret_key, token)
        if found is None:
            return None
        viewer, upvoted = found
        nav_template = templates.get_template("_account_nav.html")

        def render_nav(page: str) -> bytes:
            return nav_template.render(viewer=viewer, nav=page).encode()

        csrf = (viewer.csrf_token or "").encode()
        return splice.Member(csrf, frozenset(upvoted), render_nav)

    return load


def _is_list_page(path: str) -> bool:
    """Pages of paper cards, the same for every member but for their votes and header: the
    feeds, trending and search (a paper page, with its discussion, is rendered per member)."""
    return path in ("/", "/papers", "/papers/trending") or path.startswith(
        ("/papers/date/", "/papers/week/", "/papers/month/")
    )


def _is_public_page(path: str) -> bool:
    """Feeds (HTML, RSS, Atom), paper pages, search and the read-only API: the same for every
    anonymous visitor."""
    return path == "/" or path.startswith(("/papers", "/feeds/", "/api/"))


def make_templates(settings: Settings, static: StaticAssets) -> Jinja2Templates:
    """Jinja2 templates from the package (autoescaped), with Papertide's filters."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.autoescape = True
    # Checking every template file's mtime on each render costs ~10% outside development.
    templates.env.auto_reload = settings.mode == "development"
    templates.env.filters.update(FILTERS)
    templates.env.globals["site_name"] = settings.site_name
    templates.env.globals["static_url"] = static.url
    return templates
