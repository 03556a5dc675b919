"""The published API description (issue #13): /openapi.json and /docs, and Schemathesis
holding every answer of the API and the feeds to it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.live_server import serve
from tests.web.conftest import SAMPLE_DAY, SAMPLES

from papertide.auth import api_tokens
from papertide.config import Settings
from papertide.db import accounts, comments
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.web.app import create_app

PAPER = "2608.16590"
NOW = dt.datetime(2026, 8, 21, 12, 0)
EXAMPLES = 12  # per operation and mode; derandomised, so every run makes the same cases


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi"), load_demo=False))
    run_import(app.state.db, HfDailySource([SAMPLES / f"{SAMPLE_DAY}.json"]))
    with app.state.db.write() as conn:
        author = accounts.create_user(conn, "author", "author@example.org", "x", "member", NOW)
        first = comments.add_comment(conn, PAPER, author.id, "Nice $a+b$ result.", NOW)
        comments.add_comment(conn, PAPER, author.id, "Agreed.", NOW, parent_id=first)
    return app


@pytest.fixture(scope="module")
def base_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_the_schema_describes_the_api_and_the_feeds_and_nothing_else(app: FastAPI) -> None:
    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/daily_papers", "/api/papers/search", "/api/papers/{arxiv_id}"} <= paths
    assert {"/api/papers/{arxiv_id}/comments", "/api/papers/{arxiv_id}/related"} <= paths
    assert {"/api/trending", "/api/submission_rules", "/feeds/daily.{fmt}"} <= paths
    assert {"/api/papers", "/api/arxiv/{arxiv_id}/repos", "/papers/{arxiv_id}.md"} <= paths
    # The API, the feeds, and the one page route scripts read (HfApi.read_paper).
    assert all(p.startswith(("/api/", "/feeds/")) or p == "/papers/{arxiv_id}.md" for p in paths)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            name = f"{method.upper()} {path}"
            assert operation.get("summary") and operation.get("description"), name
            success = operation["responses"].get("200") or operation["responses"].get("201")
            assert success and success.get("content"), name
            assert "422" not in operation["responses"], name  # bad input is a 400 here
            if operation.get("parameters") or operation.get("requestBody"):
                assert "400" in operation["responses"], name
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_the_docs_page_lists_every_operation_without_outside_scripts(app: FastAPI) -> None:
    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()
        page = client.get("/docs")
    assert page.status_code == 200
    for path in schema["paths"]:
        assert f"<code>{path}</code>" in page.text
    assert "<script" not in page.text.split("</header>", 1)[1]
    assert not re.search(r"src=\"https?://", page.text)
    assert "HfListItem" in page.text and "curl -s" in page.text


def test_papertides_own_endpoints_answer_what_they_describe(app: FastAPI) -> None:
    with TestClient(app) as client:
        thread = client.get(f"/api/papers/{PAPER}/comments").json()
        assert [c["body"] for c in thread] == ["Nice $a+b$ result."]
        assert [r["body"] for r in thread[0]["replies"]] == ["Agreed."]
        assert thread[0]["author"] == "author" and thread[0]["createdAt"].endswith("Z")
        assert client.get("/api/papers/2608.99999/comments").status_code == 404
        assert client.get("/api/papers/not-an-id/comments").json()["error"]
        trending = client.get("/api/trending?window=all&limit=5").json()
        assert trending["window"] == "all" and len(trending["papers"]) == 5
        assert [p["rank"] for p in trending["papers"]] == [1, 2, 3, 4, 5]
        assert trending["papers"][0]["why"] and "score" in trending["formula"]
        page = client.get("/papers/trending?window=all").text
        assert f'/papers/{trending["papers"][0]["paper"]["id"]}"' in page
        rules = client.get("/api/submission_rules").json()
        assert rules["maxAgeDays"] == 14 and rules["dailyCapPerMember"] == 3
        assert client.get(f"/api/papers/{PAPER}/related").status_code == 200
        assert client.get("/api/trending?window=1y").status_code == 400


# What a member's token may call besides the reads (submitting asks arXiv: tests/web covers it).
TOKEN_WRITES = {"/api/papers/{arxiv_id}/upvote", "/api/papers/{arxiv_id}/comments"}


def _conformance(base_url: str, app: FastAPI, mode: Any, token: str | None = None) -> list[str]:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import positive_data_acceptance
    from schemathesis.generation import GenerationMode

    with TestClient(app) as client:
        schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    session = requests.Session()
    if token is not None:
        session.headers["Authorization"] = f"Bearer {token}"
    failures: list[str] = []
    exclusions: dict[str, list[Any]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        writes = token is not None and operation.path in TOKEN_WRITES
        if operation.method.upper() != "GET" and not writes:
            continue  # the bounce hook needs a provider's token: tests/digest covers it
        if mode == GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters"):
            continue  # nothing to get wrong
        # Rules OpenAPI cannot say make some schema-valid input a (documented) 400, not the
        # acceptance this check expects: date, week and month exclude each other; a period
        # must be a real day, week or month of its kind; a search feed needs words or a filter;
        # a cursor must be one the server gave out.
        checked = {
            "/api/daily_papers",
            "/api/papers",
            "/feeds/papers/{kind}/{period}.{fmt}",
            "/feeds/search.{fmt}",
        }
        # A write may also be refused by a rule (a blank comment, the rate limit): a 400 or 429.
        excluded = [positive_data_acceptance] if operation.path in checked or writes else []

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def check(case: Any) -> None:
            response = case.call(base_url=base_url, session=session, timeout=15)
            case.validate_response(response, excluded_checks=exclusions[case.operation.path])

        exclusions[operation.path] = excluded
        try:
            check()
        except Exception as exc:  # every failing operation at once
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:800]}")
    return failures


def test_every_answer_matches_the_published_schema(base_url: str, app: FastAPI) -> None:
    from schemathesis.generation import GenerationMode

    assert _conformance(base_url, app, GenerationMode.POSITIVE) == []


def test_malformed_requests_get_a_described_error_not_a_crash(base_url: str, app: FastAPI) -> None:
    from schemathesis.generation import GenerationMode

    assert _conformance(base_url, app, GenerationMode.NEGATIVE) == []


def test_a_members_token_gets_answers_that_match_the_schema(base_url: str, app: FastAPI) -> None:
    """The reads and the writes a token may make (issue #13), valid and malformed."""
    from schemathesis.generation import GenerationMode

    with app.state.db.write() as conn:
        member = accounts.create_user(conn, "scripter", "s@example.org", "x", "member", NOW)
    token = api_tokens.create(app.state.db, member, "schemathesis", ["read", "vote", "comment"])
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        assert _conformance(base_url, app, mode, token) == []
