"""Submitting a paper to the daily feed (ingest/submission.py), against recorded arXiv answers."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.replay import Replay

from papertide.db import Database, queries, submissions, writes
from papertide.ingest.arxiv_api import API_URL, ArxivApi
from papertide.ingest.http import HttpClient, HttpOptions
from papertide.ingest.submission import (
    ArxivLookup,
    ArxivUnavailable,
    Rules,
    SubmissionRefused,
    SubmittingUser,
    submit,
)
from papertide.models import DailyRecord, PaperRecord, Submitter

# 2104.12255 ("0", cs.CR) was first published on 2021-04-20 16:07 UTC.
SOON = dt.datetime(2021, 4, 25, 9, 0)
QUERY = {"sortBy": "relevance", "sortOrder": "descending", "start": "0", "max_results": "100"}


def _url(id_list: str) -> str:
    return str(httpx.URL(API_URL, params={"search_query": "", "id_list": id_list, **QUERY}))


@pytest.fixture
def recorded(shared_data: Path) -> Path:
    return shared_data / "fixtures" / "arxiv_api_atom" / "arxiv.py" / "recorded_2026"


def _body(recorded: Path, prefix: str) -> str:
    (path,) = recorded.glob(f"{prefix}_*.json")
    text: str = json.loads(path.read_text(encoding="utf-8"))["body"]
    return text


@pytest.fixture
def replay(recorded: Path) -> Replay:
    replay = Replay()
    replay.add(_url("2104.12255"), 200, _body(recorded, "id_2104.12255v1"))
    replay.add(_url("0000.0000"), 200, _body(recorded, "id_0000.0000"))
    withdrawn = _body(recorded, "id_2104.12255v1").replace(
        "</summary>", "</summary>\n    <arxiv:comment>This paper has been withdrawn</arxiv:comment>"
    )
    replay.add(_url("2104.99999"), 200, withdrawn.replace("2104.12255", "2104.99999"))
    replay.add(_url("2104.50000"), 503, "down")
    twin = _body(recorded, "id_2104.12255v1").replace("2104.12255", "2104.12256")
    replay.add(_url("2104.12256"), 200, twin)
    return replay


def _lookup(replay: Replay, deadline_s: float = 5.0, slots: int = 2) -> ArxivLookup:
    http = HttpClient(HttpOptions(retries=0), transport=replay.transport, sleep=replay.sleep)
    return ArxivLookup(ArxivApi(http), deadline_s, slots)


@pytest.fixture
def lookup(replay: Replay) -> Iterator[ArxivLookup]:
    lookup = _lookup(replay)
    yield lookup
    lookup.close()


@pytest.fixture
def members(db: Database) -> dict[str, SubmittingUser]:
    with db.write() as conn:
        ids = writes.ensure_users(conn, [Submitter("ada"), Submitter("cur")])
    return {
        "ada": SubmittingUser(ids["ada"], "ada"),
        "cur": SubmittingUser(ids["cur"], "cur", role="curator"),
    }


def test_a_submitted_paper_is_fetched_and_featured_today(
    db: Database, lookup: ArxivLookup, members: dict[str, SubmittingUser], replay: Replay
) -> None:
    done = submit(
        db, lookup, "https://arxiv.org/abs/2104.12255v1", members["ada"], SOON, comment=" Zero! "
    )
    assert (done.arxiv_id, done.day, done.title) == ("2104.12255", SOON.date(), "0")
    assert len(replay.requests) == 1
    with db.read() as conn:
        (card,) = queries.cards_by_ids(conn, ["2104.12255"])
        detail = queries.get_paper(conn, "2104.12255")
    assert card.categories == ["cs.CR"]
    assert detail is not None
    (featuring,) = detail.featured
    assert (featuring.date, featuring.submitted_by, featuring.comment) == (
        SOON.date(),
        "ada",
        "Zero!",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not an id", "is not an arXiv id or arXiv URL"),
        ("https://evil.example/abs/2104.12255", "is not an arXiv id or arXiv URL"),
        ("0000.0000", "arXiv has no paper 0000.0000"),
        ("2104.99999", "2104.99999 has been withdrawn"),
        ("2104.50000", "arXiv could not be reached"),
    ],
)
def test_bad_submissions_are_refused_clearly(
    db: Database, lookup: ArxivLookup, members: dict[str, SubmittingUser], text: str, message: str
) -> None:
    with pytest.raises(SubmissionRefused, match=message):
        submit(db, lookup, text, members["ada"], SOON)
    with db.read() as conn:
        assert writes.count_rows(conn)["daily_entry"] == 0


def test_too_old_for_a_member_not_for_a_curator(
    db: Database, lookup: ArxivLookup, members: dict[str, SubmittingUser]
) -> None:
    late = dt.datetime(2021, 5, 10, 12, 0)
    with pytest.raises(SubmissionRefused, match="19 days ago; papers can be submitted within 14"):
        submit(db, lookup, "2104.12255", members["ada"], late)
    assert submit(db, lookup, "2104.12255", members["cur"], late).day == late.date()


def test_a_paper_is_featured_once(
    db: Database, lookup: ArxivLookup, members: dict[str, SubmittingUser], replay: Replay
) -> None:
    submit(db, lookup, "2104.12255", members["ada"], SOON)
    for who in members.values():
        with pytest.raises(SubmissionRefused, match="already featured on April 25, 2021"):
            submit(db, lookup, "arXiv:2104.12255", who, SOON + dt.timedelta(days=1))
    assert len(replay.requests) == 1  # refused before asking arXiv again


def test_the_daily_cap_counts_a_members_submissions_of_the_day(
    db: Database, lookup: ArxivLookup, members: dict[str, SubmittingUser]
) -> None:
    cap = Rules(daily_cap=2)
    with db.write() as conn:
        writes.upsert_papers(conn, [PaperRecord(f"2104.0000{i}", title=f"P{i}") for i in range(4)])
        writes.add_daily_entries(
            conn,
            [DailyRecord(f"2104.0000{i}", SOON.date(), SOON, Submitter("ada")) for i in (0, 1)]
            + [DailyRecord(f"2104.0000{i}", SOON.date(), SOON, Submitter("cur")) for i in (2, 3)],
        )
    with pytest.raises(SubmissionRefused, match=r"submitted 2 papers today.*\(2 a day\)"):
        submit(db, lookup, "2104.12255", members["ada"], SOON, cap)
    # Yesterday's submissions do not count today.
    tomorrow = SOON + dt.timedelta(days=1)
    assert submit(db, lookup, "2104.12256", members["ada"], tomorrow, cap).day == tomorrow.date()
    # Curators have no cap.
    assert submit(db, lookup, "2104.12255", members["cur"], SOON, cap).day == SOON.date()


def test_a_long_comment_is_refused(
    db: Database, lookup: ArxivLookup, members: dict[str, SubmittingUser]
) -> None:
    with pytest.raises(SubmissionRefused, match="at most 500 characters"):
        submit(db, lookup, "2104.12255", members["ada"], SOON, comment="x" * 501)


def _stalled(replay: Replay, recorded: Path, until: threading.Event) -> None:
    """arXiv stalls every lookup until `until` is set, then answers for the id asked."""
    body = _body(recorded, "id_2104.12255v1")

    def answer(request: httpx.Request) -> httpx.Response:
        assert until.wait(timeout=30), "the test never let arXiv answer"
        asked = request.url.params["id_list"]
        return httpx.Response(200, text=body.replace("2104.12255", asked))

    replay.fallback = answer


def _claims(db: Database) -> list[tuple[int, str]]:
    with db.read() as conn:
        return submissions.claims(conn)


def test_an_unreachable_arxiv_is_a_clear_refusal_and_frees_the_claim(
    db: Database, lookup: ArxivLookup, members: dict[str, SubmittingUser], replay: Replay
) -> None:
    replay.add(_url("2104.77777"), httpx.ConnectError("connection refused"))
    with pytest.raises(ArxivUnavailable, match=r"arXiv could not be reached.*try again later"):
        submit(db, lookup, "2104.77777", members["ada"], SOON, Rules(daily_cap=1))
    assert _claims(db) == []  # the failed try does not use up the member's day
    assert submit(db, lookup, "2104.12255", members["ada"], SOON, Rules(daily_cap=1))


def test_a_stalled_arxiv_costs_a_member_the_deadline_then_nothing(
    db: Database, members: dict[str, SubmittingUser], replay: Replay, recorded: Path
) -> None:
    release = threading.Event()
    _stalled(replay, recorded, release)
    lookup = _lookup(replay, deadline_s=0.3, slots=1)
    try:
        started = time.monotonic()
        with pytest.raises(ArxivUnavailable, match=r"did not answer within 0\.3 seconds"):
            submit(db, lookup, "2104.40001", members["ada"], SOON)
        assert 0.3 <= time.monotonic() - started < 1.5
        # Its lookup still holds the only slot: the next one is refused at once, not queued.
        started = time.monotonic()
        with pytest.raises(ArxivUnavailable, match="other submissions are waiting for it"):
            submit(db, lookup, "2104.40002", members["ada"], SOON)
        assert time.monotonic() - started < 0.3
        assert _claims(db) == []
    finally:
        release.set()
        lookup.close()
    with db.read() as conn:
        assert writes.count_rows(conn)["daily_entry"] == 0  # the late answer features nothing


def test_parallel_submissions_cannot_pass_the_cap(
    db: Database, members: dict[str, SubmittingUser], replay: Replay, recorded: Path
) -> None:
    """12 submissions at once by one member with a cap of 3: 3 claims, 9 refusals, 3 lookups."""
    release = threading.Event()
    _stalled(replay, recorded, release)
    lookup = _lookup(replay, deadline_s=20, slots=12)
    outcomes: list[str] = []

    def one(n: int) -> None:
        try:
            outcomes.append(submit(db, lookup, f"2104.{n:05d}", members["ada"], SOON).arxiv_id)
        except SubmissionRefused as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(100, 112)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(outcomes) < 9 and time.monotonic() < deadline:  # the refusals come at once
        time.sleep(0.01)
    assert len(outcomes) == 9 and len(_claims(db)) == 3
    release.set()
    for thread in threads:
        thread.join(timeout=20)
    lookup.close()
    refused = [text for text in outcomes if "counting those still being looked up" in text]
    featured = [text for text in outcomes if text.startswith("2104.")]
    assert (len(refused), len(featured), len(replay.requests)) == (9, 3, 3)
    assert "You have submitted 3 papers today" in refused[0]
    with db.read() as conn:
        assert writes.count_rows(conn)["daily_entry"] == 3
    assert _claims(db) == []
