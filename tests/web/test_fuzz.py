"""Schemathesis over every route of the app (issue #10): no 5xx, no dropped connection.

The OpenAPI schema of every route is generated in-process (the app publishes only the API's
and the feeds' at /openapi.json: tests/web/test_openapi.py fuzzes that one as published) and
every operation is called with schema-conforming and schema-violating input through a real
uvicorn server, so a response the server cannot send (a bad header) shows as a dropped
connection, as it would for a visitor. Three roles each get their own run: anonymous (with
the anonymous CSRF cookie, so public forms run), a member and a curator (a session cookie and
its CSRF token in the header, so state-changing routes get past the CSRF guard and run). A
role whose session the fuzzer ended (log-out, a password change) gets a fresh one.

The budget is fixed: EXAMPLES per operation, role and mode, Hypothesis derandomised (a fixed
seed), so a CI run takes the same time and finds the same things every time. To explore
further by hand, FUZZ_EXAMPLES=200 FUZZ_SEED=7 run more cases from another seed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from tests.conftest import SHARED_DATA
from tests.live_server import serve
from tests.replay import Replay
from tests.web.conftest import SAMPLE_DAY, SAMPLES

from papertide.auth import sessions
from papertide.auth.passwords import hash_password
from papertide.auth.tokens import derive
from papertide.config import Settings
from papertide.db import accounts, comments
from papertide.ingest.arxiv_api import ArxivApi
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.http import HttpClient, HttpOptions
from papertide.ingest.runner import run_import
from papertide.ingest.submission import ArxivLookup
from papertide.web.app import create_app
from papertide.web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))  # per operation, role and mode
SEED = os.environ.get("FUZZ_SEED")  # None: derandomised
PAPER = "2608.16590"
NOTHING_FOUND = (
    "fixtures/arxiv_api_atom/arxiv.py/recorded_2026/id_0000.0000_s0_m100_8b51d9633a68.json"
)
NOW = dt.datetime(2026, 8, 21, 12, 0)


@dataclass
class Role:
    """Who the fuzzer is: nobody, or an account whose session is renewed when it ends."""

    name: str
    app: FastAPI
    role: str | None  # the account's role; None: anonymous
    password_hash: str = ""
    token: str = ""

    def credentials(self) -> tuple[dict[str, str], dict[str, str]]:
        """(cookies, headers) for the next request."""
        settings: Settings = self.app.state.settings
        if self.role is None:
            cookie = "a" * 43  # any well-formed value: the form token is derived from it
            token = derive(settings.secret_key, "anonymous-csrf", cookie)
            return {CSRF_COOKIE: cookie}, {CSRF_HEADER: token}
        db = self.app.state.db
        if not self.token or sessions.account_for(db, self.token) is None:
            self.token = sessions.start(db, self._account_id(), dt.timedelta(days=1))
        token = derive(settings.secret_key, "session-csrf", self.token)
        return {SESSION_COOKIE: self.token}, {CSRF_HEADER: token}

    def _account_id(self) -> int:
        """The role's account, made again if the fuzzer deleted or suspended it."""
        with self.app.state.db.write() as conn:
            found = accounts.account_by_username(conn, self.name)
            if found is not None:
                if found.suspended:
                    accounts.set_suspended(conn, found.id, None)
                return found.id
            assert self.role is not None
            email = f"{self.name}@example.org"
            return accounts.create_user(
                conn, self.name, email, self.password_hash, self.role, NOW
            ).id


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The sample day, a comment to edit and hide, and no outside service to wait for."""
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    off = {f"rate_limit_{name}": "off" for name in ("vote", "comment", "submit", "subscribe")}
    app = create_app(Settings(data_dir=data_dir, load_demo=False, **off))  # type: ignore[arg-type]
    run_import(app.state.db, HfDailySource([SAMPLES / f"{SAMPLE_DAY}.json"]))
    # arXiv knows none of the papers the fuzzer submits: a 4xx, quickly, and no network.
    unknown = json.loads((SHARED_DATA / NOTHING_FOUND).read_text(encoding="utf-8"))["body"]
    replay = Replay()
    replay.fallback = lambda request: httpx.Response(200, text=unknown)
    http = HttpClient(HttpOptions(retries=0), transport=replay.transport, sleep=replay.sleep)
    app.state.arxiv_lookup = ArxivLookup(ArxivApi(http), deadline_s=5.0)
    with app.state.db.write() as conn:
        author = accounts.create_user(conn, "author", "author@example.org", "x", "member", NOW)
        comments.add_comment(conn, PAPER, author.id, "Nice $a+b$ result.", NOW)
    return app


@pytest.fixture(scope="module")
def base_url(fuzzed_app: FastAPI) -> Iterator[str]:
    with serve(fuzzed_app) as url:
        yield url


def every_route(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI schema of every route, the HTML pages and their forms included."""
    return get_openapi(title=app.title, version=app.version, routes=app.routes)


@pytest.mark.parametrize("role", [None, "member", "curator"])
def test_no_route_answers_a_server_error_or_drops_the_connection(
    fuzzed_app: FastAPI, base_url: str, role: str | None
) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
    from schemathesis.generation import GenerationMode

    who = Role(role or "anonymous", fuzzed_app, role, hash_password("fuzzing is fun, 42!"))
    schema = schemathesis.openapi.from_dict(every_route(fuzzed_app))
    failures: list[str] = []
    session = requests.Session()
    statuses: dict[int, int] = {}

    def call(case: Any) -> None:
        cookies, headers = who.credentials()
        session.cookies.clear()
        try:
            response = case.call(
                base_url=base_url,
                session=session,
                headers=headers,
                cookies=cookies,
                timeout=15,
                allow_redirects=False,
            )
        except requests.ConnectionError as exc:
            failures.append(f"{case.method} {case.formatted_path}: no response ({exc})")
            raise
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
        assert response.status_code < 500, case.as_curl_command()

    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES * 2,
            derandomize=SEED is None,  # a fixed seed: the same cases on every run
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def fuzz(case: Any) -> None:
            call(case)

        if SEED is not None:
            fuzz = seed(int(SEED))(fuzz)

        try:
            fuzz()
        except Exception as exc:  # keep going: report every failing operation at once
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:500]}")
    assert failures == []
    # The credentials worked: forms ran and redirected (303) instead of all being refused.
    assert statuses.get(200, 0) > 0 and statuses.get(303, 0) > 0, statuses
