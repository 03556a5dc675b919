import re
from collections.abc import Callable
from html import unescape

import pytest
from fastapi.testclient import TestClient

CardIds = Callable[[str], list[str]]


def test_search_finds_highlights_and_keeps_the_query(client: TestClient, card_ids: CardIds) -> None:
    response = client.get("/papers", params={"q": "embodied harness"})
    assert response.status_code == 200
    html = response.text
    assert card_ids(html)[0] == "2608.16590"
    assert 'value="embodied harness"' in html
    assert "<mark>" in html
    assert 'id="result-count"' in html


def test_exact_id_is_pinned_and_marked(client: TestClient, card_ids: CardIds) -> None:
    html = client.get("/papers", params={"q": "2608.17253"}).text
    assert card_ids(html)[0] == "2608.17253"
    assert "card card-pinned" in html
    assert "Exact match" in html


def test_empty_query_shows_the_form(client: TestClient, card_ids: CardIds) -> None:
    response = client.get("/papers")
    assert response.status_code == 200
    assert card_ids(response.text) == []
    assert "Type a few words" in response.text


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unbalanced',
        "*",
        "model*",
        "NEAR(a b)",
        "a NEAR b",
        "-model",
        "((",
        "a) OR (b",
        "AND OR NOT",
        "title:foo",
        "^start",
        "<script>alert(1)</script>",
        "\x00",
        "x" * 1500,
    ],
)
def test_fts_syntax_never_breaks_the_page(client: TestClient, query: str) -> None:
    response = client.get("/papers", params={"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text


def test_filters_by_date_range_and_category(client: TestClient, card_ids: CardIds) -> None:
    # "language models" matches papers on both sample days.
    everything = card_ids(client.get("/papers", params={"q": "language models"}).text)
    in_2025 = card_ids(
        client.get("/papers", params={"q": "language models", "to": "2025-12-31"}).text
    )
    assert in_2025 and set(in_2025) < set(everything)
    assert all(arxiv_id.startswith("2509.") for arxiv_id in in_2025)
    response = client.get(
        "/papers", params={"q": "language models", "from": "2025-09-08", "category": "zz.XX"}
    )
    assert response.status_code == 200
    assert 'value="2025-09-08"' in response.text
    assert 'value="zz.XX"' in response.text


def test_blank_filter_fields_from_the_form_are_no_filter(client: TestClient) -> None:
    response = client.get("/papers?q=embodied&from=&to=&category=")
    assert response.status_code == 200


def test_bad_filter_dates_are_a_400_page(client: TestClient) -> None:
    response = client.get("/papers", params={"q": "x", "from": "2025-13-45"})
    assert response.status_code == 400
    assert "is not a date" in response.text


def _facet_links(html: str) -> list[tuple[str, str, int, bool]]:
    """(label, href, count, active) of every facet link on a search page."""
    aside = html.split('id="facets"', 1)[1].split("</aside>", 1)[0]
    found = re.findall(
        r'<a href="([^"]+)"( class="active"[^>]*)?><span class="facet-label">(?:✓ )?([^<]+)</span>'
        r' <span class="facet-count">(\d+)</span>',
        aside,
    )
    return [
        (label, unescape(href), int(count), bool(active)) for href, active, label, count in found
    ]


def _total(html: str) -> int:
    return int(re.search(r'id="result-count">(\d+) result', html).group(1))  # type: ignore[union-attr]


def test_facets_count_what_each_filter_leaves(client: TestClient) -> None:
    html = client.get("/papers", params={"q": "language models"}).text
    total = _total(html)
    links = _facet_links(html)
    labels = {label for label, *_ in links}
    assert {"with code", "featured"} <= labels and "2025" in labels
    assert "Counted over the" in html
    years = [(label, count) for label, _, count, _ in links if label.isdigit()]
    assert sum(count for _, count in years) == total  # every result has a date
    for label, href, count, active in links:
        assert not active
        # Following a facet gives exactly the results it counted (all results were counted).
        assert _total(client.get(href).text) == count, label
    featured = next(href for label, href, *_ in links if label == "featured")
    narrowed = client.get(featured).text
    assert 'name="featured" value="1" checked' in narrowed
    active = [link for link in _facet_links(narrowed) if link[3]]
    assert [label for label, *_ in active] == ["featured"]
    # The active facet's link takes the filter off again.
    assert _total(client.get(active[0][1]).text) == total


def test_code_and_featured_filters_from_the_form(client: TestClient, card_ids: CardIds) -> None:
    everything = card_ids(client.get("/papers", params={"q": "language models"}).text)
    with_code = client.get("/papers", params={"q": "language models", "code": "1"}).text
    assert 'name="code" value="1" checked' in with_code
    assert set(card_ids(with_code)) < set(everything)
    assert client.get("/papers", params={"q": "x", "code": "maybe"}).status_code == 400
