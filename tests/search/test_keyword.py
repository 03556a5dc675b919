"""Keyword search (search/keyword.py) on the real sample days: every test of the keyword page
runs twice, ranked by the database's full text (db/fts.py) and by the keyword index
(search/text_index.py), which must agree on what matches, the counts and the paging."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import DatabaseFactory

from papertide.db import Database, fts, queries, writes
from papertide.db.fts import Filters
from papertide.db.migrate import upgrade
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.models import PaperRecord, SearchResults
from papertide.search.keyword import (
    ParsedQuery,
    and_expression,
    highlight,
    parse_query,
    recall_expression,
    terms,
)
from papertide.search.keyword import search as keyword_search
from papertide.search.text_index import TextIndex

# The 2025-09-08 sample papers that arXiv's 2025-09 listings also hold (with categories).
LISTED = {
    "2509.03800": ["cs.CV"],
    "2509.04013": ["cs.CL", "cs.AI"],
    "2509.05263": ["cs.AI", "cs.CV", "cs.LG"],
    "2509.04504": ["cs.CL", "cs.AI"],
    "2509.05296": ["cs.CV", "cs.AI"],
    "2509.04664": ["cs.CL"],
}
HALLUCINATE = "2509.04664"  # "Why Language Models Hallucinate"
DECOY = "2609.00001"
SCRIPT = "2609.00002"
GENERIC = "2609.00003"  # titled just "Language Models"


@pytest.fixture(scope="module")
def search_db(
    tmp_path_factory: pytest.TempPathFactory,
    samples: Path,
    shared_data: Path,
    databases: DatabaseFactory,
) -> Iterator[Database]:
    folder = tmp_path_factory.mktemp("search")
    db = Database(databases.url(folder))
    upgrade(db)
    run_import(db, HfDailySource(sorted(samples.glob("*.json"))))
    listing = shared_data / "arxiv_listings" / "arxiv_listings_2025-09.jsonl.gz"
    with gzip.open(listing, "rt", encoding="utf-8") as handle:
        lines = [line for line in handle if json.loads(line)["id"] in LISTED]
    assert len(lines) == 6
    (folder / "listed.jsonl").write_text("".join(lines), encoding="utf-8")
    result = run_import(db, arxiv_jsonl_source([folder / "listed.jsonl"]))
    assert result.counts.papers_updated == 6
    with db.write() as conn:
        writes.upsert_papers(
            conn,
            [
                PaperRecord(
                    DECOY,
                    title="Why do language models hallucinate? Why language models hallucinate",
                    abstract="Language models hallucinate. " * 5,
                    published_at=dt.datetime(2026, 9, 1),
                ),
                PaperRecord(
                    SCRIPT,
                    title="Sanitising untrusted markup",
                    abstract='We show that <script>alert("x")</script> & friends are inert '
                    "when every snippet is escaped before highlighting.",
                    published_at=dt.datetime(2026, 9, 2),
                ),
                PaperRecord(GENERIC, title="Language Models", abstract="A short note."),
            ],
        )
    yield db
    db.dispose()


@pytest.fixture
def conn(search_db: Database) -> Iterator[sa.Connection]:
    with search_db.read() as connection:
        yield connection


Search = Callable[..., SearchResults]


@pytest.fixture(scope="module")
def keyword_index(search_db: Database, tmp_path_factory: pytest.TempPathFactory) -> TextIndex:
    return TextIndex.build(search_db, tmp_path_factory.mktemp("keyword-index"))


@pytest.fixture(params=["full text", "keyword index"])
def search(request: pytest.FixtureRequest, keyword_index: TextIndex) -> Search:
    """The keyword page, ranked by the database's full text or by the keyword index."""
    index = keyword_index if request.param == "keyword index" else None
    return functools.partial(keyword_search, index=index)


def _ids(results: SearchResults) -> list[str]:
    return [card.arxiv_id for card in results.cards]


def test_terms_are_words_only() -> None:
    assert terms('"Diffusion" NEAR(trans-former*) AND') == [
        "diffusion",
        "near",
        "trans",
        "former",
        "and",
    ]
    assert terms("x " * 100) == ["x"] * 32
    assert and_expression(["a", "near"]) == '"a" AND "near"'


@pytest.mark.parametrize(
    "query", ["2412.07730", "2412.07730v2", "arXiv:2412.07730", "https://arxiv.org/abs/2412.07730"]
)
def test_exact_arxiv_id_is_pinned_first(conn: sa.Connection, query: str, search: Search) -> None:
    results = search(conn, query)
    assert results.pinned == 1
    assert _ids(results)[0] == "2412.07730"
    assert _ids(results).count("2412.07730") == 1
    assert results.total >= 1


def test_unknown_arxiv_id_pins_nothing(conn: sa.Connection, search: Search) -> None:
    results = search(conn, "2412.99999")
    assert (results.pinned, results.total, results.cards) == (0, 0, [])


def test_exact_title_is_pinned_first(conn: sa.Connection, search: Search) -> None:
    query = "why  LANGUAGE models hallucinate"
    # Without pinning, the decoy that repeats every word ranks first.
    hits, _ = fts.match(conn, and_expression(terms(query)), Filters(), limit=5, offset=0)
    assert hits[0].arxiv_id == DECOY
    results = search(conn, query)
    assert results.pinned == 1
    assert _ids(results)[:2] == [HALLUCINATE, DECOY]
    assert results.total == 2
    assert results.cards[0].snippet_html  # pinned cards get a snippet too
    assert "<mark>" in (results.cards[0].snippet_html or "")


def test_part_of_a_title_pins_nothing(conn: sa.Connection, search: Search) -> None:
    results = search(conn, "language models hallucinate")
    assert results.pinned == 0
    assert set(_ids(results)[:2]) == {HALLUCINATE, DECOY}


def test_snippet_escapes_html(conn: sa.Connection, search: Search) -> None:
    results = search(conn, "script inert escaped")
    assert _ids(results) == [SCRIPT]
    snippet = results.cards[0].snippet_html or ""
    assert "&lt;" in snippet and "&gt;" in snippet
    assert "<script" not in snippet and "</script" not in snippet
    assert "&lt;<mark>script</mark>&gt;" in snippet
    assert "<mark>inert</mark>" in snippet
    assert "&amp;" in snippet and "&quot;x&quot;" in snippet


def test_highlight() -> None:
    raw = f"a <b> {fts.MARK_OPEN}word{fts.MARK_CLOSE} & 'c'"
    assert highlight(raw) == "a &lt;b&gt; <mark>word</mark> &amp; &#x27;c&#x27;"


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "NEAR",
        "NEAR(",
        "-",
        "(",
        ")",
        "AND OR",
        "'",
        "model*",
        '"model',
        "-model",
        "(model",
        "model NOT",
        "NOT model",
        "title:model",
        "^model",
        "+",
        ":",
        "{}",
        "model AND",
        "a OR",
        "\\",
        "%",
        "_",
        "\x00",
        "     ",
        "ümlaut",
        "模型",
    ],
)
def test_fts_syntax_never_raises(conn: sa.Connection, query: str, search: Search) -> None:
    results = search(conn, query)
    assert results.query == query.strip()
    assert results.total >= len(results.cards)
    words = terms(query)
    if not words:
        assert (results.total, results.cards) == (0, [])
    if words == ["model"]:
        assert results.total == search(conn, "model").total > 0


def test_fallback_to_any_word(conn: sa.Connection, search: Search) -> None:
    # No paper has both words, so any word will do.
    all_words = search(conn, "hallucinate zyzzyvaqq", per_page=100)
    any_word = search(conn, "hallucinate", per_page=100)
    assert all_words.total == any_word.total >= 3
    assert set(_ids(all_words)) == set(_ids(any_word)) >= {HALLUCINATE, DECOY}
    # When every word matches somewhere, only papers with all of them are shown.
    both = search(conn, "hallucinate benchmark", per_page=100)
    assert both.total == 2
    assert set(_ids(both)) < set(_ids(any_word))


def test_date_filter(conn: sa.Connection, search: Search) -> None:
    everything = search(conn, "model", per_page=200)
    start, end = dt.date(2026, 8, 1), dt.date(2026, 8, 31)
    expected = {
        card.arxiv_id
        for card in everything.cards
        if card.published_at and start <= card.published_at.date() <= end
    }
    assert 0 < len(expected) < everything.total
    results = search(conn, "model", Filters(date_from=start, date_to=end), per_page=200)
    assert set(_ids(results)) == expected
    assert results.total == len(expected)
    only_to = search(conn, "model", Filters(date_to=dt.date(2024, 5, 31)), per_page=200)
    assert only_to.total > 0
    assert all(
        c.published_at and c.published_at.date() <= dt.date(2024, 5, 31) for c in only_to.cards
    )


def test_category_filter(conn: sa.Connection, search: Search) -> None:
    results = search(conn, "model", Filters(category="cs.CV"), per_page=200)
    assert set(_ids(results)) == {"2509.03800", "2509.05263", "2509.05296"}
    assert all("cs.CV" in c.categories for c in results.cards)
    cl = search(conn, "language", Filters(category="cs.CL"), per_page=200)
    assert set(_ids(cl)) == {"2509.04013", "2509.04504", HALLUCINATE}
    # LIKE wildcards in the category are literal characters.
    assert search(conn, "model", Filters(category="cs.C%")).total == 0
    assert search(conn, "model", Filters(category="cs_CV")).total == 0
    assert search(conn, "model", Filters(category="cs")).total == 0


def test_pagination(conn: sa.Connection, search: Search) -> None:
    everything = search(conn, "model", per_page=500)
    assert everything.total == len(everything.cards) > 40
    pages = [search(conn, "model", page=n, per_page=10) for n in range(1, 7)]
    assert {page.total for page in pages} == {everything.total}
    assert _ids(pages[0]) != _ids(pages[1])
    seen = [arxiv_id for page in pages for arxiv_id in _ids(page)]
    assert len(seen) == len(set(seen)) == everything.total
    assert set(seen) == set(_ids(everything))
    assert search(conn, "model", page=0).page == 1
    assert search(conn, "model", page=99).cards == []


def test_pagination_with_a_pinned_paper(conn: sa.Connection, search: Search) -> None:
    query = "Language models"
    everything = search(conn, query, per_page=500)
    assert everything.pinned == 1 and _ids(everything)[0] == GENERIC
    assert everything.total == len(everything.cards) > 20
    pages = [search(conn, query, page=n, per_page=5) for n in range(1, 12)]
    assert {page.total for page in pages} == {everything.total}
    assert [page.pinned for page in pages[:2]] == [1, 0]
    assert [len(page.cards) for page in pages[:2]] == [5, 5]
    seen = [arxiv_id for page in pages for arxiv_id in _ids(page)]
    assert seen == _ids(everything)  # nothing lost or repeated at page boundaries


def test_pinned_paper_ranked_below_others_loses_nothing(
    conn: sa.Connection, search: Search
) -> None:
    # The decoy outranks the pinned paper in BM25; paging one at a time must still show both.
    query = "Why Language Models Hallucinate"
    pages = [search(conn, query, page=n, per_page=1) for n in (1, 2, 3)]
    assert [_ids(page) for page in pages] == [[HALLUCINATE], [DECOY], []]
    assert [page.total for page in pages] == [2, 2, 2]
    assert [page.pinned for page in pages] == [1, 0, 0]


def test_pinned_id_is_the_only_result(conn: sa.Connection, search: Search) -> None:
    results = search(conn, "https://arxiv.org/abs/2608.17253")
    assert (_ids(results), results.total, results.pinned) == (["2608.17253"], 1, 1)


def test_cards_carry_paper_fields(conn: sa.Connection, search: Search) -> None:
    results = search(conn, "Zetta closed-loop embodied harness")
    card = results.cards[0]
    assert card.arxiv_id == "2608.16590"
    assert (card.upvotes, card.github_stars) == (92, 152)
    detail = queries.get_paper(conn, card.arxiv_id)
    assert detail is not None and card.title == detail.title


@pytest.mark.parametrize(
    ("query", "text", "author"),
    [
        ("author:Jane Doe", "", "Jane Doe"),
        ('author:"Jane  Doe" diffusion models', "diffusion models", "Jane Doe"),
        ('diffusion AUTHOR:"Jane Doe"', "diffusion", "Jane Doe"),
        ("diffusion models", "diffusion models", None),
        ("author:", "author:", None),
        ("coauthor:Jane", "coauthor:Jane", None),
    ],
)
def test_parse_query(query: str, text: str, author: str | None) -> None:
    assert parse_query(query) == ParsedQuery(text, author)


def test_recall_expression_drops_stop_words() -> None:
    assert recall_expression(["the", "role", "of", "the", "gut"]) == '"role" OR "gut"'
    assert recall_expression(["the", "of"]) == '"the" OR "of"'


def test_author_query(conn: sa.Connection, search: Search) -> None:
    detail = queries.get_paper(conn, HALLUCINATE)
    assert detail is not None
    name = detail.authors[0]
    results = search(conn, f"author:{name}", per_page=100)
    assert HALLUCINATE in _ids(results)
    assert results.pinned == results.total == len(results.cards) >= 1
    for card in results.cards:
        assert name in card.authors
    dates = [card.published_at for card in results.cards]
    assert dates == sorted(dates, key=lambda d: d or dt.datetime.min, reverse=True)
    assert search(conn, f'author:"{name}" hallucinate').cards[0].arxiv_id == HALLUCINATE
    assert search(conn, "author:Nobody Atall").total == 0


def test_accents_and_case_are_folded_on_both_sides(db: Database, tmp_path: Path) -> None:
    # FTS5's remove_diacritics on SQLite; papertide_fold on PostgreSQL (migration 0014);
    # the keyword index's ascii_fold filter.
    with db.write() as conn:
        writes.upsert_papers(
            conn, [PaperRecord("2501.00001", title="Café models", abstract="A naïve ÉCOLE.")]
        )
    index = TextIndex.build(db, tmp_path)
    with db.read() as conn:
        for query in ("cafe", "CAFÉ", "naive ecole", "école"):
            assert _ids(keyword_search(conn, query)) == ["2501.00001"], query
            assert _ids(keyword_search(conn, query, index=index)) == ["2501.00001"], query
