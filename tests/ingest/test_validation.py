"""The validation layer every importer shares: strict types, messages that name the field."""

from __future__ import annotations

import datetime as dt

import pytest

from papertide.ingest.validation import (
    BadRecord,
    Count,
    IsoDatetime,
    StrictModel,
    check,
    parse_email_datetime,
    parse_iso_datetime,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-08-20T00:00:00.000Z", dt.datetime(2026, 8, 20)),
        ("2026-08-20T02:30:00+02:00", dt.datetime(2026, 8, 20, 0, 30)),
        ("2026-08-20", dt.datetime(2026, 8, 20)),
    ],
)
def test_parse_iso_datetime(text: str, value: dt.datetime) -> None:
    assert parse_iso_datetime(text) == value


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-01T00:00:00Z"])
def test_parse_iso_datetime_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 date-time"):
        parse_iso_datetime(text)


def test_parse_email_datetime() -> None:
    assert parse_email_datetime("Thu, 28 Nov 2024 00:00:00 -0500") == dt.datetime(2024, 11, 28, 5)
    assert parse_email_datetime("Mon, 2 Apr 2007 19:18:42 GMT") == dt.datetime(
        2007, 4, 2, 19, 18, 42
    )
    with pytest.raises(ValueError, match="not an RFC 2822 date: 'soon'"):
        parse_email_datetime("soon")


class _Inner(StrictModel):
    name: str


class _Record(StrictModel):
    title: str
    count: Count | None = None
    when: IsoDatetime | None = None
    people: list[_Inner] = []  # noqa: RUF012 (pydantic copies defaults)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"title": 12}, "title: expected a string, got 12"),
        ({}, "title: field required"),
        ({"title": "x", "count": "many"}, "count: expected an integer, got 'many'"),
        ({"title": "x", "count": True}, "count: expected an integer, got True"),
        ({"title": "x", "count": -1}, "count: should be greater than or equal to 0, got -1"),
        ({"title": "x", "count": 1.0}, "count: expected an integer, got 1.0"),
        ({"title": "x", "when": "soon"}, "when: not an ISO 8601 date-time: 'soon'"),
        ({"title": "x", "when": 1700000000}, "when: expected a datetime, got 1700000000"),
        ({"title": "x", "people": "Ada"}, "people: expected a list, got 'Ada'"),
        ({"title": "x", "people": [{"name": "A"}, {}]}, "people[1].name: field required"),
        ({"title": 1, "count": "x"}, "title: expected a string, got 1 (and 1 more)"),
        ([1, 2], "not a JSON object but list [1, 2]"),
        (None, "not a JSON object but null"),
    ],
)
def test_check_names_the_field_and_never_coerces(raw: object, message: str) -> None:
    with pytest.raises(BadRecord) as raised:
        check(_Record, raw)
    assert str(raised.value) == message


def test_check_accepts_the_right_shape_and_ignores_extra_fields() -> None:
    record = check(
        _Record,
        {"title": "x", "count": 3, "when": "2026-08-20T00:00:00Z", "people": [], "extra": [1]},
    )
    assert (record.title, record.count, record.when) == ("x", 3, dt.datetime(2026, 8, 20))
    assert check(_Record, {"title": "y", "count": None}).count is None


def test_a_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(BadRecord) as raised:
        check(_Record, {"title": ["word"] * 100})
    assert str(raised.value).startswith("title: expected a string, got ['word', ")
    assert str(raised.value).endswith("…")
    assert len(str(raised.value)) < 120
