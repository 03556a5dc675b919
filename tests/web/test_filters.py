import datetime as dt

from papertide.web.filters import compact_number, is_http_url, long_date, short_authors


def test_short_authors() -> None:
    assert short_authors([]) == ""
    assert short_authors(["A"]) == "A"
    assert short_authors(["A", "B", "C", "D"]) == "A, B, C, D"
    assert short_authors(["A", "B", "C", "D", "E"]) == "A, B, C et al. (5 authors)"


def test_compact_number() -> None:
    assert [compact_number(n) for n in (None, 0, 999, 1000, 1250, 12_345, 3_400_000)] == [
        "",
        "0",
        "999",
        "1k",
        "1.2k",
        "12k",
        "3.4M",
    ]


def test_long_date() -> None:
    assert long_date(dt.date(2026, 8, 20)) == "August 20, 2026"
    assert long_date(dt.datetime(2026, 8, 1, 23, 59)) == "August 1, 2026"
    assert long_date(None) == ""


def test_only_plain_web_links_are_linked() -> None:
    assert is_http_url("https://example.org/project")
    assert is_http_url("http://example.org")
    for bad in (
        None,
        "",
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//example.org",
        "https://",
        "ftp://example.org",
    ):
        assert not is_http_url(bad), bad
