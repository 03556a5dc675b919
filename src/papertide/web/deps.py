"""Named dependencies for route handlers.

They are `async def` on purpose: they only read `app.state`, and FastAPI would run a plain
`def` dependency in its thread pool, a hop that costs more than the lookup. Anything that
touches the database is a plain `def` or goes through `papertide.web.offload.off_loop`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from papertide.config import Settings
from papertide.db.engine import Database
from papertide.ranking.personal import ForYouService
from papertide.search.service import SearchService
from papertide.web.auth import PRIVATE, clear_session_cookie, current_viewer


class Page:
    """Renders a template for the current request."""

    def __init__(self, request: Request, templates: Jinja2Templates) -> None:
        self.request = request
        self.templates = templates

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render `name`; every template sees `viewer` (who is signed in, their CSRF token)."""
        viewer = current_viewer(self.request)
        context.setdefault("viewer", viewer)
        response = self.templates.TemplateResponse(
            self.request, name, context, status_code=status_code
        )
        if viewer.signed_in:
            # Names the person and carries their CSRF token: for nobody else's eyes or caches.
            response.headers["cache-control"] = PRIVATE
        elif viewer.had_session_cookie:
            clear_session_cookie(response, self.request)  # expired or ended elsewhere
        return response


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_page(request: Request) -> Page:
    return Page(request, request.app.state.templates)


async def get_search(request: Request) -> SearchService:
    search: SearchService = request.app.state.search
    return search


async def get_for_you(request: Request) -> ForYouService:
    """The one For-you ranker of the app (the page, the personal feed)."""
    for_you: ForYouService = request.app.state.for_you
    return for_you


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
PageDep = Annotated[Page, Depends(get_page)]
SearchDep = Annotated[SearchService, Depends(get_search)]
ForYouDep = Annotated[ForYouService, Depends(get_for_you)]

# A database row id from a URL or a form: SQLite's INTEGER is 64-bit signed, and a larger number
# handed to it raises OverflowError, a 500 (issue #10). Out of range is a 400 at the edge.
MAX_ROW_ID = 2**63 - 1
RowIdPath = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
RowIdField = Annotated[int | None, Form(ge=1, le=MAX_ROW_ID)]
