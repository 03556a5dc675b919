"""Error pages: every 4xx and 500 is a real HTML page (JSON under /api/ and for fetch).

The handlers are plain `def`: rendering a page may look up the signed-in viewer in the
database, so Starlette runs them in its thread pool.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from papertide.periods import InvalidPeriod
from papertide.web.auth import wants_json
from papertide.web.deps import Page

logger = logging.getLogger(__name__)


def error_response(request: Request, status_code: int, message: str) -> Response:
    """An error page (or a JSON error for API paths and fetch callers) with `status_code`."""
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status_code)
    page = Page(request, request.app.state.templates)
    return page.render(
        "error.html",
        status_code=status_code,
        error_code=status_code,
        error_title=_phrase(status_code),
        message=message,
    )


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


_DEFAULT_MESSAGES = {
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request.",
}


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else ""
    if not message or message == _phrase(exc.status_code):
        message = _DEFAULT_MESSAGES.get(exc.status_code, "The request could not be completed.")
    response = error_response(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(_describe(error) for error in exc.errors())
    return error_response(request, 400, f"Bad request: {problems}.")


def _describe(error: dict[str, object]) -> str:
    location = error.get("loc", ())
    name = location[-1] if isinstance(location, tuple | list) and location else "value"
    if name == "arxiv_id" and error.get("type") == "string_pattern_mismatch":
        # The API's published pattern (papertide.arxiv_ids.ID_PATTERN), said as people say it.
        return f"arxiv_id: {error.get('input')!r} is not an arXiv id (e.g. 2401.01234v2)"
    return f"{name}: {error.get('msg', 'invalid')}"


def _invalid_period(request: Request, exc: Exception) -> Response:
    return error_response(request, 400, str(exc))


def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(request, 500, "Something went wrong on our side. Please try again.")


def install_error_handlers(app: FastAPI) -> None:
    """Render 4xx/5xx errors with error.html."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidPeriod, _invalid_period)
    app.add_exception_handler(Exception, _server_error)
