"""Merge rules and idempotency of db/writes.py."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from papertide.db import Database, queries, writes
from papertide.db.schema import paper, repo_stars, user
from papertide.ingest import hf_daily
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.models import DailyRecord, PaperRecord, StarsRecord, Submitter, WriteCounts
from papertide.search import keyword

ID = "2608.16590"


def _upsert(db: Database, *records: PaperRecord) -> WriteCounts:
    with db.write() as conn:
        return writes.upsert_papers(conn, list(records))


def _row(db: Database, arxiv_id: str = ID) -> dict[str, Any]:
    with db.read() as conn:
        return dict(conn.execute(sa.select(paper).where(paper.c.id == arxiv_id)).mappings().one())


def _v(version: int | None, **fields: Any) -> PaperRecord:
    return PaperRecord(arxiv_id=ID, version=version, **fields)


def test_new_paper_defaults(db: Database) -> None:
    counts = _upsert(db, _v(None))
    assert (counts.papers_new, counts.papers_updated) == (1, 0)
    row = _row(db)
    assert row["title"] == ID  # no title at all: the id stands in
    assert (row["abstract"], row["authors"], row["categories"]) == ("", [], [])
    assert (row["imported_upvotes"], row["withdrawn"], row["seq"]) == (0, False, 1)


def test_newer_version_replaces_title_and_abstract(db: Database) -> None:
    _upsert(db, _v(1, title="Old title", abstract="Old abstract.", authors=["A"]))
    counts = _upsert(
        db, _v(2, title="New title", abstract="New abstract.", updated_at=dt.datetime(2026, 8, 1))
    )
    assert (counts.papers_new, counts.papers_updated, counts.papers_unchanged) == (0, 1, 0)
    row = _row(db)
    assert (row["version"], row["title"], row["abstract"]) == (2, "New title", "New abstract.")
    assert row["authors"] == ["A"]  # not given by v2, so kept
    assert row["updated_at"] == dt.datetime(2026, 8, 1)


def test_older_version_never_replaces_a_newer_one(db: Database) -> None:
    _upsert(db, _v(3, title="Third", abstract="v3", updated_at=dt.datetime(2026, 3, 1)))
    counts = _upsert(
        db, _v(2, title="Second", abstract="v2", updated_at=dt.datetime(2026, 2, 1), withdrawn=True)
    )
    assert (counts.papers_updated, counts.papers_unchanged) == (0, 1)
    row = _row(db)
    assert (row["version"], row["title"], row["abstract"]) == (3, "Third", "v3")
    assert row["updated_at"] == dt.datetime(2026, 3, 1)
    assert row["withdrawn"] is False


def test_unversioned_source_only_fills_gaps(db: Database) -> None:
    _upsert(db, _v(2, title="arXiv title", abstract=""))
    _upsert(db, _v(None, title="HF title", abstract="HF abstract"))
    row = _row(db)
    assert (row["title"], row["abstract"], row["version"]) == ("arXiv title", "HF abstract", 2)


def test_missing_fields_never_erase(db: Database) -> None:
    _upsert(
        db,
        _v(
            1,
            title="T",
            categories=["cs.CL", "cs.AI"],
            github_repo="org/repo",
            ai_keywords=["llm"],
            comments="10 pages",
            doi="10.1/x",
        ),
    )
    counts = _upsert(
        db, _v(2, title="T2", categories=[], github_repo=None, comments=None, ai_keywords=None)
    )
    assert counts.papers_updated == 1
    row = _row(db)
    assert row["title"] == "T2"
    assert row["categories"] == ["cs.CL", "cs.AI"]
    assert row["github_repo"] == "org/repo"
    assert row["ai_keywords"] == ["llm"]
    assert (row["comments"], row["doi"]) == ("10 pages", "10.1/x")


def test_fill_only_fields_keep_the_first_value(db: Database) -> None:
    _upsert(db, _v(1, title="T", github_repo="first/repo"))
    _upsert(db, _v(5, title="T", github_repo="second/repo", project_page="https://x.org"))
    row = _row(db)
    assert row["github_repo"] == "first/repo"
    assert row["project_page"] == "https://x.org"


def test_imported_counts_only_grow(db: Database) -> None:
    _upsert(db, _v(None, title="T", upvotes=10, num_comments=3))
    assert _upsert(db, _v(None, upvotes=4, num_comments=1)).papers_unchanged == 1
    assert (_row(db)["imported_upvotes"], _row(db)["imported_comments"]) == (10, 3)
    assert _upsert(db, _v(None, upvotes=12)).papers_updated == 1
    assert (_row(db)["imported_upvotes"], _row(db)["imported_comments"]) == (12, 3)


def test_earliest_published_at_wins(db: Database) -> None:
    _upsert(db, _v(None, title="T", published_at=dt.datetime(2026, 8, 18)))
    _upsert(db, _v(None, published_at=dt.datetime(2026, 8, 20)))
    assert _row(db)["published_at"] == dt.datetime(2026, 8, 18)
    _upsert(db, _v(None, published_at=dt.datetime(2026, 8, 17)))
    assert _row(db)["published_at"] == dt.datetime(2026, 8, 17)


def test_repeated_ids_in_one_batch_are_merged(db: Database) -> None:
    counts = _upsert(
        db,
        _v(1, title="First", upvotes=5),
        PaperRecord(arxiv_id="2608.00001", title="Other"),
        _v(2, title="Second", upvotes=3, categories=["cs.CV"]),
        _v(None, title="Third", upvotes=9),
    )
    assert (counts.papers_new, counts.papers_updated) == (2, 0)
    row = _row(db)
    assert (row["version"], row["title"], row["categories"]) == (2, "Second", ["cs.CV"])
    assert row["imported_upvotes"] == 9
    with db.read() as conn:
        assert queries.paper_count(conn) == 2


def test_a_paper_created_by_an_earlier_batch_of_the_same_import_is_not_updated(
    db: Database,
) -> None:
    _upsert(db, PaperRecord("2608.00001", title="Known before"))
    with db.read() as conn:
        start = writes.last_seq(conn)
    with db.write() as conn:
        first = writes.upsert_papers(conn, [_v(1, title="First", upvotes=5)], start)
        # The same paper again (featured on a second day), and one that existed before.
        second = writes.upsert_papers(
            conn,
            [_v(1, title="First", upvotes=8), PaperRecord("2608.00001", comments="10 pages")],
            start,
        )
    assert (first.papers_new, first.papers_updated) == (1, 0)
    assert (second.papers_new, second.papers_updated, second.papers_unchanged) == (0, 1, 0)
    assert _row(db)["imported_upvotes"] == 8  # merged all the same
    # Without the import's start, the second day's record reads as an update.
    with db.write() as conn:
        assert writes.upsert_papers(conn, [_v(1, upvotes=9)]).papers_updated == 1


def test_an_import_into_an_empty_database_updates_nothing(
    db: Database, samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hf_daily, "BATCH_SIZE", 5)  # the second day in a later batch
    day = json.loads((samples / "2026-08-20.json").read_text(encoding="utf-8"))
    again = copy.deepcopy(day[:2])
    again[0]["paper"]["upvotes"] += 10  # featured again a day later, with more upvotes
    (tmp_path / "2026-08-20.json").write_text(json.dumps(day), encoding="utf-8")
    (tmp_path / "2026-08-21.json").write_text(json.dumps(again), encoding="utf-8")
    result = run_import(db, HfDailySource(sorted(tmp_path.glob("*.json"))))
    assert (result.counts.papers_new, result.counts.papers_updated) == (len(day), 0)
    assert result.counts.entries_new == len(day) + 2
    assert _row(db, day[0]["paper"]["id"])["imported_upvotes"] == again[0]["paper"]["upvotes"]


def test_seq_keeps_growing(db: Database) -> None:
    _upsert(db, PaperRecord("2608.00001", title="a"), PaperRecord("2608.00002", title="b"))
    _upsert(db, PaperRecord("2608.00003", title="c"))
    assert [_row(db, f"2608.0000{n}")["seq"] for n in (1, 2, 3)] == [1, 2, 3]


def test_search_index_follows_updates(db: Database) -> None:
    _upsert(db, _v(1, title="Quantum walrus", abstract="About walruses."))
    _upsert(db, _v(2, title="Classical penguin", abstract="About penguins."))
    with db.read() as conn:

        def hits(word: str) -> int:
            # The keyword page's own search: FTS5 on SQLite, the tsvector on PostgreSQL.
            return keyword.search(conn, word).total

        assert (hits("walrus"), hits("penguin")) == (0, 1)


def test_daily_entries_and_users_are_idempotent(db: Database) -> None:
    _upsert(db, _v(None, title="T"))
    day = dt.date(2026, 8, 20)
    entry = DailyRecord(ID, day, dt.datetime(2026, 8, 20), Submitter("Xin64", "Xin Ding"))
    other_day = DailyRecord(ID, dt.date(2026, 8, 21), dt.datetime(2026, 8, 21), Submitter("xin64"))
    with db.write() as conn:
        assert writes.add_daily_entries(conn, [entry, entry, other_day]) == 2
        assert writes.add_daily_entries(conn, [entry]) == 0
        users = conn.execute(sa.select(user.c.username, user.c.origin, user.c.password_hash))
        assert [tuple(u) for u in users] == [("Xin64", "hf", None)]
    with db.read() as conn:
        detail = queries.get_paper(conn, ID)
    assert detail is not None
    assert [(f.date, f.submitted_by) for f in detail.featured] == [
        (day, "Xin64"),
        (dt.date(2026, 8, 21), "Xin64"),
    ]


def test_star_snapshots_are_lowercased_and_kept_once(db: Database) -> None:
    at = dt.datetime(2026, 8, 20)
    with db.write() as conn:
        stored = writes.add_star_snapshots(
            conn, [StarsRecord("Org/Repo", 5, at), StarsRecord("org/repo", 7, at)]
        )
        assert stored == 1
        assert writes.add_star_snapshots(conn, [StarsRecord("ORG/REPO", 9, at)]) == 0
        rows = conn.execute(sa.select(repo_stars.c.repo, repo_stars.c.stars)).all()
    assert [tuple(r) for r in rows] == [("org/repo", 7)]


def test_reimport_of_real_days_is_a_no_op(db: Database, samples: Path) -> None:
    paths = sorted(samples.glob("*.json"))
    first = run_import(db, HfDailySource(paths))
    assert first.counts.changed
    with db.read() as conn:
        before = writes.count_rows(conn)
        modified = conn.execute(sa.select(sa.func.max(paper.c.modified_at))).scalar_one()
    again = run_import(db, HfDailySource(paths))
    assert again.summary().startswith("hf-daily: 0 new, 0 updated, 61 unchanged papers")
    assert (again.counts.entries_new, again.counts.stars_new) == (0, 0)
    assert not again.counts.changed
    with db.read() as conn:
        assert writes.count_rows(conn) == before
        assert conn.execute(sa.select(sa.func.max(paper.c.modified_at))).scalar_one() == modified


def test_concurrent_writers_number_papers_without_collisions(
    db: Database, database_url: str
) -> None:
    # Four processes' worth of handles writing at once: each batch reads max(seq) and
    # max(revision), so without serialised paper writers two batches would reuse a seq
    # (`UNIQUE constraint failed: paper.seq`) or commit revisions out of order (issue #11).
    handles = [Database(database_url) for _ in range(4)]
    start = threading.Barrier(len(handles))

    def write(n: int) -> None:
        start.wait()
        for batch in range(5):
            records = [
                PaperRecord(arxiv_id=f"2609.{n}{batch}{i:03d}", title=f"P {n} {batch} {i}")
                for i in range(10)
            ]
            # Every writer also touches one shared paper, so updates race with inserts.
            records.append(PaperRecord(arxiv_id=ID, version=batch + 1, title=f"v{batch + 1}"))
            with handles[n].write() as conn:
                writes.write_batch(conn, records)

    try:
        with ThreadPoolExecutor(len(handles)) as pool:
            list(pool.map(write, range(len(handles))))
        with handles[0].read() as conn:
            seqs = list(conn.execute(sa.select(paper.c.seq).order_by(paper.c.seq)).scalars())
            revisions = list(conn.execute(sa.select(paper.c.revision)).scalars())
    finally:
        for handle in handles:
            handle.dispose()
    assert seqs == list(range(1, 4 * 5 * 10 + 2))
    # Each batch gave its ten new papers a revision of its own: 1 to 20, none shared.
    assert set(revisions) == set(range(1, 21))
