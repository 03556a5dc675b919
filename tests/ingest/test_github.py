"""GitHub stars (ingest/github.py) through the replaying transport, on recorded GitHub answers.

The recordings: PyGithub's replay of `GET /repos/PyGithub/PyGithub` (headers and body as
GitHub sent them in 2025) and octokit's fixtures (a repository, its raw response headers, an
error body). The cases they lack (304, exhausted rate limit, rename, 404) are built from them
by changing the status or one header.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.replay import Replay, response

from papertide.db import Database, writes
from papertide.db import github as store
from papertide.db.schema import paper, repo_stars
from papertide.ingest.github import (
    BadResponse,
    GithubStars,
    exhausted_quota,
    find_repos_in_text,
    parse_repo_response,
)
from papertide.ingest.http import HttpClient, HttpOptions
from papertide.ingest.runner import ImportResult, run_import
from papertide.models import PaperRecord, StarsRecord

API = "https://api.github.com"
NOW = dt.datetime(2025, 1, 7, 7, 40)
PYGITHUB_URL = f"{API}/repos/PyGithub/PyGithub"
HELLO_URL = f"{API}/repos/octokit-fixture-org/hello-world"
NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
    "status": "404",
}
# Transfer headers describe the recorded wire bytes, not the decoded body we replay.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "connection"}


@pytest.fixture(scope="module")
def fixtures(shared_data: Path) -> Path:
    return shared_data / "fixtures" / "github_rest"


@pytest.fixture(scope="module")
def pygithub(fixtures: Path) -> tuple[dict[str, str], str]:
    """Headers and body of the recorded `GET /repos/PyGithub/PyGithub` (PyGithub's format)."""
    lines = (fixtures / "pygithub-replay" / "Repository.setUp.txt").read_text().splitlines()
    assert lines[1:5] == ["GET", "api.github.com", "None", "/repos/PyGithub/PyGithub"]
    assert lines[7] == "200"
    headers = {k: v for k, v in ast.literal_eval(lines[8]) if k.lower() not in _WIRE_HEADERS}
    return headers, lines[9]


@pytest.fixture(scope="module")
def octokit(fixtures: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Raw headers (real rate-limit values) and body of octokit's `GET /repos/.../hello-world`."""
    path = fixtures / "octokit-fixtures" / "get-repository__raw-fixture.json"
    (recorded,) = json.loads(path.read_text())
    raw = recorded["rawHeaders"]
    headers = {k: v for k, v in zip(raw[::2], raw[1::2], strict=True)}
    headers = {k: v for k, v in headers.items() if k.lower() not in _WIRE_HEADERS}
    return headers, recorded["response"]


def _changed(headers: dict[str, str], **changes: str) -> dict[str, str]:
    """A copy of recorded headers with some replaced (names in any case)."""
    wanted = {k.replace("_", "-").lower(): v for k, v in changes.items()}
    kept = {k: v for k, v in headers.items() if k.lower() not in wanted}
    return {**kept, **wanted}


def _client(replay: Replay, **options: Any) -> HttpClient:
    return HttpClient(HttpOptions(**options), transport=replay.transport, sleep=replay.sleep)


def _papers(db: Database, *repos: str | None, abstract: str | None = None) -> None:
    records = [
        PaperRecord(arxiv_id=f"2501.{n:05d}", title="t", github_repo=repo, abstract=abstract)
        for n, repo in enumerate(repos, start=1)
    ]
    with db.write() as conn:
        writes.upsert_papers(conn, records)


def _run(db: Database, replay: Replay, now: dt.datetime = NOW, **kwargs: Any) -> ImportResult:
    with _client(replay, retries=kwargs.pop("retries", 4)) as http:
        return run_import(db, GithubStars(db, http, api_url=API, now=now, **kwargs))


def _snapshots(db: Database) -> list[tuple[str, int, dt.datetime]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(repo_stars.c.repo, repo_stars.c.stars, repo_stars.c.observed_at).order_by(
                repo_stars.c.observed_at, repo_stars.c.repo
            )
        )
        return [(r.repo, r.stars, r.observed_at) for r in rows]


def _status(db: Database, repo: str) -> dict[str, object] | None:
    with db.read() as conn:
        return store.repo_status(conn, repo)


def test_parse_the_recorded_repositories(
    pygithub: tuple[dict[str, str], str],
    octokit: tuple[dict[str, str], dict[str, Any]],
    fixtures: Path,
) -> None:
    info = parse_repo_response(json.loads(pygithub[1]))
    assert (info.full_name, info.stars, info.repo_id, info.archived) == (
        "PyGithub/PyGithub",
        7122,
        3544490,
        False,
    )
    same = json.loads((fixtures / "pygithub-replay" / "repos_PyGithub_PyGithub.json").read_text())
    assert parse_repo_response(same) == info
    assert parse_repo_response(octokit[1]).stars == 0
    normalized = fixtures / "octokit-fixtures" / "get-repository__normalized-fixture.json"
    hello = parse_repo_response(json.loads(normalized.read_text())[0]["response"])
    assert (hello.full_name, hello.stars, hello.repo_id) == (
        "octokit-fixture-org/hello-world",
        42,
        1000,
    )


def test_parse_rejects_what_is_not_a_repository(fixtures: Path, octokit: Any) -> None:
    errors = fixtures / "octokit-fixtures" / "errors__normalized-fixture.json"
    error_body = json.loads(errors.read_text())[0]["response"]
    assert error_body["message"] == "Validation Failed"
    broken = [
        error_body,
        [octokit[1]],
        {**octokit[1], "stargazers_count": None},
        {**octokit[1], "stargazers_count": True},
        {**octokit[1], "stargazers_count": -1},
        {**octokit[1], "full_name": "no-slash"},
        {**octokit[1], "full_name": "https://evil.example/x/y"},
    ]
    for payload in broken:
        with pytest.raises(BadResponse):
            parse_repo_response(payload)


@pytest.mark.parametrize(
    ("text", "repos"),
    [
        ("Code: https://github.com/PyGithub/PyGithub.", ["PyGithub/PyGithub"]),
        (
            "at github.com/a-b/c_d.js/tree/main/src and www.github.com/x/y.git",
            ["a-b/c_d.js", "x/y"],
        ),
        ("http://github.com/A/B and https://github.com/a/b/issues", ["A/B"]),
        ("\\url{https://github.com/owner/repo}", ["owner/repo"]),
        ("https://github.com/orgs/acme/repositories https://github.com/topics/llm", []),
        ("github.com/features/copilot github.com/sponsors/me github.com/settings/tokens", []),
        ("gist.github.com/user/abc123 and notgithub.com/a/b and github.io/a/b", []),
        ("https://github.com/justanowner and https://github.com/ alone", []),
        (None, []),
    ],
)
def test_find_repos_in_text(text: str | None, repos: list[str]) -> None:
    assert find_repos_in_text(text) == repos


def test_quota_from_real_headers(pygithub: tuple[dict[str, str], str]) -> None:
    headers = pygithub[0]
    assert exhausted_quota(httpx.Response(200, headers=headers)) is None
    spent = httpx.Response(200, headers=_changed(headers, x_ratelimit_remaining="0"))
    quota = exhausted_quota(spent)
    assert quota is not None
    # Reset 1736238735 is 3600 s after the recorded Date (07:32:15 GMT), plus a second.
    assert quota.wait_s == 3601.0
    assert str(quota) == "rate limited until 08:32 UTC"
    secondary = httpx.Response(429, headers=_changed(headers, retry_after="30"))
    assert exhausted_quota(secondary).wait_s == 30.0  # type: ignore[union-attr]
    message = {"message": "You have exceeded a secondary rate limit."}
    assert exhausted_quota(httpx.Response(403, json=message)).wait_s == 60.0  # type: ignore[union-attr]


def test_stars_from_a_recorded_response(db: Database, pygithub: tuple[dict[str, str], str]) -> None:
    headers, body = pygithub
    _papers(db, "PyGithub/PyGithub")
    replay = Replay()
    replay.add(PYGITHUB_URL, 200, body, headers)
    with _client(replay) as http:
        result = run_import(db, GithubStars(db, http, api_url=API, token="ghp_test", now=NOW))
    assert result.counts.stars_new == 1
    assert result.report.problems == [] and result.report.notes == []
    assert _snapshots(db) == [("pygithub/pygithub", 7122, NOW)]
    sent = replay.requests[0].headers
    assert sent["authorization"] == "Bearer ghp_test"
    assert sent["accept"] == "application/vnd.github+json"
    assert sent["x-github-api-version"] == "2022-11-28"
    assert "if-none-match" not in sent
    assert _status(db, "PyGithub/PyGithub") == {
        "repo": "pygithub/pygithub",
        "etag": 'W/"37ea58577585c38f93634ef43114c657de2581286eb6976ec18c274de296eff0"',
        "checked_at": NOW,
        "status": "ok",
        "moved_to": None,
    }


def test_etag_round_trip_adds_a_snapshot_with_the_same_stars(
    db: Database, pygithub: tuple[dict[str, str], str]
) -> None:
    headers, body = pygithub
    etag = headers["ETag"]

    def conditional(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == etag:
            return response(304, None, headers)
        return response(200, body, headers)

    _papers(db, "PyGithub/PyGithub")
    replay = Replay()
    replay.add(PYGITHUB_URL, conditional)
    assert _run(db, replay).counts.stars_new == 1
    later = NOW + dt.timedelta(hours=6)
    second = _run(db, replay, now=later)
    assert replay.requests[1].headers["if-none-match"] == etag
    assert second.counts.stars_new == 1
    assert _snapshots(db) == [
        ("pygithub/pygithub", 7122, NOW),
        ("pygithub/pygithub", 7122, later),
    ]
    # Checked a moment ago: a re-run asks nothing and changes nothing.
    again = _run(db, replay, now=later)
    assert (len(replay.requests), again.counts.stars_new, again.counts.changed) == (2, 0, False)
    # Unauthenticated: no Authorization header at all.
    assert "authorization" not in replay.requests[0].headers


def test_exhausted_rate_limit_pauses_when_the_wait_is_short(
    db: Database, pygithub: tuple[dict[str, str], str], octokit: Any
) -> None:
    headers, body = octokit
    # As recorded (Date 04:37:49), but the window's last request, and it resets 5 minutes later.
    spent = _changed(headers, x_ratelimit_remaining="0", x_ratelimit_reset="1658205769")
    _papers(db, "PyGithub/PyGithub", "octokit-fixture-org/hello-world")
    replay = Replay()
    replay.add(HELLO_URL, 200, body, spent)
    replay.add(PYGITHUB_URL, 200, pygithub[1], pygithub[0])
    result = _run(db, replay)
    assert [str(r.url) for r in replay.requests] == [HELLO_URL, PYGITHUB_URL]
    assert replay.slept == [301.0]
    assert result.report.notes == ["paused 301 s for GitHub's rate limit"]
    assert result.counts.stars_new == 2


def test_exhausted_rate_limit_stops_the_run_when_the_wait_is_long(
    db: Database, pygithub: tuple[dict[str, str], str], octokit: Any
) -> None:
    headers, body = octokit
    spent = _changed(headers, x_ratelimit_remaining="0")  # the recorded reset: 05:36:40 UTC
    _papers(db, "PyGithub/PyGithub", "octokit-fixture-org/hello-world")
    replay = Replay()
    replay.add(HELLO_URL, 200, body, spent)
    replay.add(PYGITHUB_URL, 200, pygithub[1], pygithub[0])
    result = _run(db, replay)
    assert [str(r.url) for r in replay.requests] == [HELLO_URL]
    assert replay.slept == []
    assert result.report.notes == [
        "stopped: rate limited until 05:36 UTC; 1 repositories left for the next run"
    ]
    assert result.counts.stars_new == 1
    # The next run starts with the repository that was left.
    nxt = _run(db, replay, now=NOW + dt.timedelta(minutes=10), limit=1)
    assert [str(r.url) for r in replay.requests] == [HELLO_URL, PYGITHUB_URL]
    assert nxt.counts.stars_new == 1


def test_a_refusal_with_no_requests_left_is_not_retried(
    db: Database, octokit: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, _body = octokit
    refused = _changed(headers, x_ratelimit_remaining="0")  # reset 1658208999: 05:36:40
    message = {"message": "API rate limit exceeded for 192.0.2.1."}
    _papers(db, "octokit-fixture-org/hello-world")
    replay = Replay()
    replay.add(HELLO_URL, 403, message, refused)
    result = _run(db, replay)
    assert len(replay.requests) == 1 and replay.slept == []
    assert result.report.notes == [
        "stopped: rate limited until 05:36 UTC; 1 repositories left for the next run"
    ]
    assert _snapshots(db) == [] and _status(db, "octokit-fixture-org/hello-world") is None


def test_secondary_limit_waits_retry_after_then_asks_once_more(
    db: Database, octokit: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, body = octokit
    _papers(db, "octokit-fixture-org/hello-world")
    replay = Replay()
    replay.add(
        HELLO_URL,
        [
            response(429, {"message": "slow down"}, {"Retry-After": "30"}),
            response(200, body, headers),
        ],
    )
    result = _run(db, replay)
    assert replay.slept == [30.0]
    assert len(replay.requests) == 2
    assert result.counts.stars_new == 1


def test_refused_twice_stops(db: Database) -> None:
    _papers(db, "a/b")
    replay = Replay()
    replay.add(f"{API}/repos/a/b", 429, {"message": "slow down"}, {"Retry-After": "30"})
    result = _run(db, replay)
    assert len(replay.requests) == 2 and replay.slept == [30.0]
    assert result.report.notes[-1].startswith("stopped: rate limited until")


def test_renamed_repository(db: Database, fixtures: Path) -> None:
    normalized = fixtures / "octokit-fixtures" / "get-repository__normalized-fixture.json"
    (recorded,) = json.loads(normalized.read_text())
    old_url = f"{API}/repos/octokit-fixture-org/Old-Name"
    new_url = f"{API}/repositories/1000"
    _papers(db, "octokit-fixture-org/Old-Name", "octokit-fixture-org/old-name")
    with db.write() as conn:
        yesterday = StarsRecord("octokit-fixture-org/old-name", 40, NOW - dt.timedelta(days=1))
        writes.add_star_snapshots(conn, [yesterday])
    replay = Replay()
    replay.add(
        old_url, 301, {"message": "Moved Permanently", "url": new_url}, {"Location": new_url}
    )
    recorded_headers = {k: str(v) for k, v in recorded["headers"].items()}
    replay.add(new_url, 200, recorded["response"], recorded_headers)
    result = _run(db, replay)
    assert [str(r.url) for r in replay.requests] == [old_url, new_url]
    assert result.report.notes == [
        "octokit-fixture-org/Old-Name: renamed to octokit-fixture-org/hello-world",
        "2 papers repointed to renamed repositories",
    ]
    with db.read() as conn:
        repos = set(conn.execute(sa.select(paper.c.github_repo)).scalars())
    assert repos == {"octokit-fixture-org/hello-world"}
    assert _status(db, "octokit-fixture-org/old-name") == {
        "repo": "octokit-fixture-org/old-name",
        "etag": None,
        "checked_at": NOW,
        "status": "moved",
        "moved_to": "octokit-fixture-org/hello-world",
    }
    renamed = _status(db, "octokit-fixture-org/hello-world")
    assert renamed is not None and renamed["etag"] == '"00000000000000000000000000000000"'
    assert _snapshots(db) == [
        ("octokit-fixture-org/hello-world", 40, NOW - dt.timedelta(days=1)),
        ("octokit-fixture-org/hello-world", 42, NOW),
    ]
    # A source that still names the old repository is pointed at the new one without a request.
    _papers(db, None, None, "octokit-fixture-org/old-name")
    later = _run(db, replay, now=NOW + dt.timedelta(minutes=5))
    assert len(replay.requests) == 2
    assert later.report.notes == ["1 papers repointed to renamed repositories"]
    with db.read() as conn:
        third = sa.select(paper.c.github_repo).where(paper.c.id == "2501.00003")
        assert conn.execute(third).scalar_one() == "octokit-fixture-org/hello-world"


@pytest.mark.parametrize(
    ("status", "body", "note"),
    [
        (404, NOT_FOUND, "x/deleted: missing (HTTP 404 Not Found)"),
        (
            451,
            {"message": "Repository access blocked"},
            "x/deleted: missing (HTTP 451 Repository access blocked)",
        ),
    ],
)
def test_deleted_or_blocked_repository_rests(
    db: Database, octokit: Any, status: int, body: dict[str, str], note: str
) -> None:
    _papers(db, "x/deleted")
    replay = Replay()
    replay.add(f"{API}/repos/x/deleted", status, body, octokit[0])
    result = _run(db, replay)
    assert result.report.notes == [note]
    assert result.report.problems == []
    assert result.counts.stars_new == 0 and _snapshots(db) == []
    assert (_status(db, "x/deleted") or {}).get("status") == "missing"
    _run(db, replay, now=NOW + dt.timedelta(days=6))
    assert len(replay.requests) == 1
    _run(db, replay, now=NOW + dt.timedelta(days=7), missing_retry=dt.timedelta(days=7))
    assert len(replay.requests) == 2


def test_a_timeout_is_retried(db: Database, octokit: tuple[dict[str, str], dict[str, Any]]) -> None:
    headers, body = octokit
    _papers(db, "octokit-fixture-org/hello-world")
    replay = Replay()
    replay.add(HELLO_URL, [httpx.ReadTimeout("slow"), response(200, body, headers)])
    result = _run(db, replay)
    assert replay.slept == [2.0]
    assert result.counts.stars_new == 1 and result.report.problems == []


def test_github_down_stops_after_three_failures(db: Database) -> None:
    _papers(db, "a/one", "a/two", "a/three", "a/four")
    replay = Replay()
    for name in ("one", "two", "three", "four"):
        replay.add(f"{API}/repos/a/{name}", httpx.ConnectTimeout("down"))
    result = _run(db, replay, retries=0)
    assert len(replay.requests) == 3
    assert [p.where for p in result.report.problems] == ["a/four", "a/one", "a/three"]
    assert result.report.notes == [
        "stopped: 3 requests in a row failed; 1 repositories left for the next run"
    ]
    # The failed ones go to the back of the queue: the untried one is first next time.
    with db.read() as conn:
        due = store.due_repos(
            conn, now=NOW, refresh_after=dt.timedelta(0), missing_retry=dt.timedelta(days=7)
        )
    assert due[0].name == "a/two"


def test_rejected_token_stops(db: Database) -> None:
    _papers(db, "a/one", "a/two")
    replay = Replay()
    replay.add(f"{API}/repos/a/one", 401, {"message": "Bad credentials"})
    result = _run(db, replay)
    assert len(replay.requests) == 1
    assert result.report.notes == [
        "stopped: GitHub rejected the token (HTTP 401); 2 repositories left for the next run"
    ]


def test_links_in_abstracts_are_polled(db: Database, pygithub: tuple[dict[str, str], str]) -> None:
    headers, body = pygithub
    _papers(db, None, abstract="We release code at https://github.com/PyGithub/PyGithub.")
    replay = Replay()
    replay.add(PYGITHUB_URL, 200, body, headers)
    result = _run(db, replay)
    assert result.report.notes == [
        "linked 1 papers to a GitHub repository named in their abstract or comments"
    ]
    assert _snapshots(db) == [("pygithub/pygithub", 7122, NOW)]
    with db.read() as conn:
        assert conn.execute(sa.select(paper.c.github_repo)).scalar_one() == "PyGithub/PyGithub"
