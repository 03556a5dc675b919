"""The keyword index (search/text_index.py): built from the database, caught up from
paper.revision after every kind of write, filters inside the search, crash and lock safety."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
from pathlib import Path

import pytest

from papertide.db import Database, fts, github, writes
from papertide.db.fts import Filters
from papertide.models import DailyRecord, PaperRecord
from papertide.search import keyword
from papertide.search.hybrid import FTS5
from papertide.search.text_index import (
    TextIndex,
    TextIndexUnavailable,
    _writer_lock,
    ensure_text_index,
    index_root,
)


def _records(shared_data: Path, count: int) -> list[PaperRecord]:
    listing = shared_data / "arxiv_listings" / "arxiv_listings_2025-09.jsonl.gz"
    with gzip.open(listing, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in itertools.islice(handle, count)]
    return [
        PaperRecord(
            row["id"],
            title=row["title"],
            abstract=row["abstract"],
            authors=row["authors"],
            categories=row["categories"],
            published_at=dt.datetime(2025, 9, 1) + dt.timedelta(hours=i),
        )
        for i, row in enumerate(rows)
    ]


@pytest.fixture
def loaded(db: Database, shared_data: Path) -> list[PaperRecord]:
    records = _records(shared_data, 600)
    with db.write() as conn:
        writes.write_batch(conn, records)
    return records


def _ids(index: TextIndex, db: Database, query: str, filters: Filters = Filters()) -> list[str]:
    words = keyword.recall_words(keyword.terms(query))
    with db.read() as conn:
        return [paper_id for paper_id, _ in index.ranked(conn, words, filters, 1_000)]


def _fts_ids(db: Database, query: str, filters: Filters = Filters()) -> list[str]:
    words = keyword.recall_words(keyword.terms(query))
    with db.read() as conn:
        return [paper_id for paper_id, _ in FTS5.ranked(conn, words, filters, 1_000)]


def test_build_finds_the_papers_fts5_finds(
    db: Database, tmp_path: Path, loaded: list[PaperRecord]
) -> None:
    index = ensure_text_index(db, tmp_path)
    assert len(index) == 600
    for query in ("diffusion", "graph neural network", "reinforcement learning robots"):
        found, expected = _ids(index, db, query), _fts_ids(db, query)
        assert found, query
        # Both stem English (Porter); they may differ on a handful of word forms.
        overlap = len(set(found) & set(expected)) / len(set(found) | set(expected))
        assert overlap >= 0.9, (query, overlap)


def test_a_title_match_outranks_an_abstract_match(db: Database, tmp_path: Path) -> None:
    with db.write() as conn:
        writes.write_batch(
            conn,
            [
                PaperRecord("2501.00001", title="Other things", abstract="About a zebrafish."),
                PaperRecord("2501.00002", title="Zebrafish", abstract="About other things."),
            ],
        )
    index = ensure_text_index(db, tmp_path)
    assert _ids(index, db, "zebrafish") == ["2501.00002", "2501.00001"]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(date_from=dt.date(2025, 9, 5), date_to=dt.date(2025, 9, 12)),
        Filters(date_to=dt.date(2025, 9, 3)),
        Filters(category="cs.CV"),
        Filters(category="stat.ML", date_from=dt.date(2025, 9, 10)),
        # Beyond the years tantivy's dates hold (1678 to 2262): no bound, not an error.
        Filters(date_from=dt.date(1, 1, 1), date_to=dt.date(9999, 12, 31)),
        Filters(date_from=dt.date(1600, 1, 1), date_to=dt.date(2025, 9, 12)),
        Filters(date_from=dt.date(2025, 9, 5), date_to=dt.date(2999, 12, 31)),
    ],
)
def test_filters_are_applied_inside_the_search(
    db: Database, tmp_path: Path, loaded: list[PaperRecord], filters: Filters
) -> None:
    index = ensure_text_index(db, tmp_path)
    found = set(_ids(index, db, "learning model data", filters))
    with db.read() as conn:
        allowed = fts.filtered_ids(conn, filters)
    assert allowed is not None and found and found <= allowed
    assert found == set(_fts_ids(db, "learning model data", filters))


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("learning", Filters()),
        ("model data", Filters(category="cs.LG")),
        ("", Filters(category="cs.CV")),
        ("", Filters(date_from=dt.date(2025, 9, 10), date_to=dt.date(2025, 9, 20))),
    ],
)
def test_the_keyword_page_from_the_index_pages_and_counts_as_the_full_text_does(
    db: Database, tmp_path: Path, loaded: list[PaperRecord], query: str, filters: Filters
) -> None:
    # Issue #12: the keyword-only page and the filter-only listing come from the index, with
    # exact counts, pages past the facets' first 200 results included.
    index = ensure_text_index(db, tmp_path)
    with db.read() as conn:
        expected = keyword.search(conn, query, filters, per_page=1_000)
        assert expected.total > 200 if query == "learning" else expected.total > 25
        pages = [
            keyword.search(conn, query, filters, page=n, per_page=10, index=index)
            for n in range(1, expected.total // 10 + 3)
        ]
    assert {page.total for page in pages} == {expected.total}
    seen = [card.arxiv_id for page in pages for card in page.cards]
    assert len(seen) == len(set(seen)) == expected.total
    assert set(seen) == {card.arxiv_id for card in expected.cards}
    assert pages[-1].cards == []
    if not query:  # newest first, as the database lists them
        assert seen == [card.arxiv_id for card in expected.cards]
    else:
        assert all(card.snippet_html and "<mark>" in card.snippet_html for card in pages[0].cards)
    assert pages[0].facet_ids == tuple(seen[:200])


def test_the_keyword_page_from_the_index_leaves_out_pinned_papers_and_falls_back(
    db: Database, tmp_path: Path, loaded: list[PaperRecord]
) -> None:
    index = ensure_text_index(db, tmp_path)
    pinned = loaded[3]
    with db.read() as conn:
        by_title = keyword.search(conn, pinned.title or "", index=index, per_page=500)
        # Nothing has both words: any word will do, counted as the full text counts it.
        fallback = keyword.search(conn, "diffusion zyzzyvaqq", index=index)
        expected = keyword.search(conn, "diffusion zyzzyvaqq")
    ids = [card.arxiv_id for card in by_title.cards]
    assert ids[0] == pinned.arxiv_id and ids.count(pinned.arxiv_id) == 1
    assert by_title.pinned == 1 and by_title.total == len(ids)
    assert fallback.total == expected.total > 0


def test_catch_up_follows_inserts_updates_featuring_and_repositories(
    db: Database, tmp_path: Path, loaded: list[PaperRecord]
) -> None:
    index = ensure_text_index(db, tmp_path)
    target = loaded[0].arxiv_id
    assert _ids(index, db, "axolotl") == []
    with db.write() as conn:
        writes.write_batch(
            conn,
            [
                PaperRecord("2509.99999", title="Axolotl regeneration", abstract="Limbs."),
                PaperRecord(target, version=9, title="Axolotl limbs", abstract="Regrown."),
            ],
        )
    assert index.catch_up(db)
    assert set(_ids(index, db, "axolotl")) == {"2509.99999", target}
    assert len(index) == 601  # the updated paper replaced, not duplicated
    assert _ids(index, db, "axolotl", Filters(featured=True)) == []
    with db.write() as conn:
        writes.write_batch(
            conn,
            [],
            entries=[DailyRecord(target, dt.date(2025, 9, 30), dt.datetime(2025, 9, 30, 8))],
        )
    index.catch_up(db)
    assert _ids(index, db, "axolotl", Filters(featured=True)) == [target]
    with db.write() as conn:
        github.fill_paper_repos(conn, {"2509.99999": "axo/lotl"})
    index.catch_up(db)
    assert _ids(index, db, "axolotl", Filters(has_code=True)) == ["2509.99999"]
    # Another process opening the index sees the same state.
    assert TextIndex.open(tmp_path).state == index.state


def test_a_crash_before_the_state_file_is_written_only_repeats_work(
    db: Database, tmp_path: Path, loaded: list[PaperRecord]
) -> None:
    index = ensure_text_index(db, tmp_path)
    before = index.state
    with db.write() as conn:
        writes.write_batch(conn, [PaperRecord("2509.99999", title="Axolotl")])
    index.catch_up(db)
    # Put back the old state file: as if the process died after tantivy's commit.
    state = {"format": 1, "generation": before.generation, "watermark": before.watermark}
    (index_root(tmp_path) / "current.json").write_text(json.dumps({**state, "docs": 600}))
    again = ensure_text_index(db, tmp_path)
    assert again.state.watermark == index.state.watermark
    assert len(again) == 601
    assert _ids(again, db, "axolotl") == ["2509.99999"]


def test_a_busy_writer_leaves_the_search_a_moment_stale(
    db: Database, tmp_path: Path, loaded: list[PaperRecord]
) -> None:
    index = ensure_text_index(db, tmp_path)
    with db.write() as conn:
        writes.write_batch(conn, [PaperRecord("2509.99999", title="Axolotl")])
    with _writer_lock(index_root(tmp_path), wait=True):
        assert index.catch_up(db, wait=False) is False
        assert _ids(index, db, "axolotl") == []
    assert index.catch_up(db, wait=False) is True
    assert _ids(index, db, "axolotl") == ["2509.99999"]


def test_a_missing_or_broken_index_is_rebuilt(
    db: Database, tmp_path: Path, loaded: list[PaperRecord]
) -> None:
    first = ensure_text_index(db, tmp_path)
    (index_root(tmp_path) / "current.json").write_text("{not json")
    with pytest.raises(TextIndexUnavailable):
        TextIndex.open(tmp_path)
    rebuilt = ensure_text_index(db, tmp_path)
    assert rebuilt.state.generation != first.state.generation
    assert len(rebuilt) == 600
    assert not (index_root(tmp_path) / first.state.generation).exists()
    assert _ids(rebuilt, db, "diffusion")


def test_words_are_tokenized_as_the_index_was(db: Database, tmp_path: Path) -> None:
    with db.write() as conn:
        writes.write_batch(
            conn,
            [PaperRecord("2501.00001", title="Café models", abstract="A snake_case name.")],
        )
    index = ensure_text_index(db, tmp_path)
    for query in ("cafe", "café", "model", "MODELS", "snake_case", "case"):
        assert _ids(index, db, query) == ["2501.00001"], query
    for query in ("and or not", "title", "__", "٣"):
        assert _ids(index, db, query) == [], query
