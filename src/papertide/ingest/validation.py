"""The one validation layer every importer shares: strict models of the input shapes.

A record whose fields have the wrong type (a number where a string belongs, a string where
a list belongs, a date that does not parse) raises `BadRecord`, which the importer reports
with the record's file and position and then skips: nothing is coerced (issue #10). What
the real data legitimately varies in (fields that are absent or null, extra fields) is
spelled out in each model, so a reader sees there what an importer accepts.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from papertide.arxiv_ids import ArxivId, InvalidArxivId, parse_arxiv_id

_MAX_SHOWN = 60  # characters of an offending value quoted in a message


class BadRecord(ValueError):
    """One input record cannot be imported; the message names the field and the reason."""


class StrictModel(BaseModel):
    """Types are checked, never converted (`"12"` is no int); unknown fields are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


Model = TypeVar("Model", bound=StrictModel)


def check(model: type[Model], raw: Any) -> Model:
    """`raw` as a `model`, or BadRecord saying which field is wrong and what it holds."""
    if not isinstance(raw, dict):
        raise BadRecord(f"not a JSON object but {_kind(raw)}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise BadRecord(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """The first error of a validation, e.g. `paper.upvotes: expected an integer, got 'many'`."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = _location(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    message = re.sub(
        r"^Input should be a valid (\w)",
        lambda match: f"expected {'an' if match[1] in 'aeiou' else 'a'} {match[1]}",
        message,
    ).replace("Input should be", "should be")
    text = f"{where}: {message[:1].lower()}{message[1:]}"
    if first["type"] not in ("missing", "value_error"):  # our own messages quote the value
        text += f", got {_quote(first['input'])}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return text


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "record"


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _kind(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {_quote(value)}"


def parse_iso_datetime(text: str) -> dt.datetime:
    """ISO 8601 (`Z` or an offset) to naive UTC; ValueError naming the text if it is not one."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_email_datetime(text: str) -> dt.datetime:
    """RFC 2822 (`Mon, 2 Apr 2007 19:18:42 GMT`) to naive UTC; ValueError if it is not one."""
    try:
        value = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        raise ValueError(f"not an RFC 2822 date: {text!r}") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_iso_date(text: str) -> dt.date:
    """`2025-03-14` -> a date; ValueError naming the text otherwise."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {text!r}") from None


def checked_id(text: str) -> ArxivId:
    """A checked arXiv id; BadRecord (`'x' is not an arXiv id`) otherwise."""
    try:
        return parse_arxiv_id(text)
    except InvalidArxivId as exc:
        raise BadRecord(str(exc)) from exc


def _from_text(parse: Any) -> BeforeValidator:
    # Strings are parsed; anything else goes on to the strict type check (and fails there).
    return BeforeValidator(lambda value: parse(value) if isinstance(value, str) else value)


IsoDatetime = Annotated[dt.datetime, _from_text(parse_iso_datetime)]
IsoDate = Annotated[dt.date, _from_text(parse_iso_date)]
EmailDatetime = Annotated[dt.datetime, _from_text(parse_email_datetime)]
Count = Annotated[int, Field(ge=0)]
