"""Two web apps on one database serve the ranking a worker stored (issue #11)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.ranking import scenario
from tests.ranking.scenario import A, B, C, D, Z
from tests.web.conftest import make_app

from papertide.clock import utcnow
from papertide.config import Settings
from papertide.db import Database, trending_store
from papertide.ingest.http import client_from_settings
from papertide.jobs import Context, run_job
from papertide.jobs import trending as trending_job

CardIds = Callable[[str], list[str]]
SEVEN_DAYS = [B, D, A, C]  # worked out by hand in tests/ranking/test_trending.py


@pytest.fixture
def hosts(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps with data directories of their own (as two hosts have) on one database."""
    first = make_app(tmp_path / "one", database_url=database_url)
    second = make_app(tmp_path / "two", database_url=database_url)
    scenario.build(first.state.db)
    with TestClient(first) as one, TestClient(second) as two:
        yield one, two


def _db(client: TestClient) -> Database:
    return client.app.state.db  # type: ignore[attr-defined,no-any-return]


def _run_worker_job(db: Database) -> str:
    settings = Settings(load_demo=False)
    with client_from_settings(settings) as http:
        ctx = Context(db, http, settings, utcnow())
        outcome = run_job(db, "trending", lambda: trending_job(ctx))
    assert outcome.result is not None
    return outcome.result.summary


def _stamps(db: Database) -> list[object]:
    with db.read() as conn:
        return [trending_store.stamp(conn, window) for window in ("7d", "30d", "all")]


def test_both_hosts_serve_the_ranking_the_worker_stored(
    hosts: tuple[TestClient, TestClient], card_ids: CardIds
) -> None:
    db = _db(hosts[0])
    assert _run_worker_job(db) == "trending: 3 computed, 0 current"
    before = _stamps(db)
    # Reverse the stored 7-day ranking: what the hosts show can only come from that row.
    with db.read() as conn:
        found = trending_store.load(conn, "7d")
    assert found is not None
    found.ranking["scores"].reverse()
    with db.write() as conn:
        stamp = found.stamp
        trending_store.store(
            conn, "7d", stamp.content_version, stamp.computed_at, stamp.params, found.ranking
        )
    for client in hosts:
        page = client.get("/papers/trending")
        assert card_ids(page.text) == SEVEN_DAYS[::-1]
        assert "cache-control" not in page.headers
        assert card_ids(client.get("/papers/trending?window=all").text)[:4] == SEVEN_DAYS
    assert _stamps(db) == before  # neither host computed anything


def test_a_vote_moves_both_hosts_after_the_next_computation(
    hosts: tuple[TestClient, TestClient], card_ids: CardIds
) -> None:
    db = _db(hosts[0])
    _run_worker_job(db)
    with db.write() as conn:
        for i in range(11):  # 11 votes at the clock: 11 > B's 10.45
            voter = scenario.add_user(conn, f"late{i}", scenario.ESTABLISHED)
            scenario.add_vote(conn, voter, Z, scenario.NOW)
    for client in hosts:  # the worker's ranking is seconds old: served as it is, uncached
        page = client.get("/papers/trending")
        assert card_ids(page.text) == SEVEN_DAYS
        assert page.headers["cache-control"] == "no-store"
    assert _run_worker_job(db) == "trending: 3 computed, 0 current"
    for client in hosts:
        page = client.get("/papers/trending")
        assert card_ids(page.text) == [Z, *SEVEN_DAYS]
        assert "cache-control" not in page.headers
    assert _run_worker_job(db) == "trending: 0 computed, 3 current"


def test_a_fresh_database_serves_a_correct_page_and_stores_it(
    hosts: tuple[TestClient, TestClient], card_ids: CardIds
) -> None:
    one, two = hosts
    assert _stamps(_db(one)) == [None, None, None]
    assert card_ids(one.get("/papers/trending").text) == SEVEN_DAYS
    stamp = _stamps(_db(one))[0]
    assert stamp is not None
    assert card_ids(two.get("/papers/trending").text) == SEVEN_DAYS
    assert _stamps(_db(one))[0] == stamp  # the second host read what the first stored
