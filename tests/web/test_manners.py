"""HTTP manners on the API and the feeds: ETag / Last-Modified with 304, Cache-Control, CORS,
gzip (issue #13)."""

from __future__ import annotations

import datetime as dt
import gzip

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import SAMPLE_DAY

from papertide.db import accounts, votes

LISTS = [f"/api/daily_papers?date={SAMPLE_DAY}", "/feeds/daily.atom", "/api/papers/search?q=video"]


@pytest.mark.parametrize("url", LISTS)
def test_an_unchanged_list_answers_304_until_it_changes(client: TestClient, url: str) -> None:
    first = client.get(url)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('W/"')
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": 'W/"other", ' + etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_list_whose_content_changed_is_sent_again(client: TestClient) -> None:
    url = f"/api/daily_papers?date={SAMPLE_DAY}"
    etag = client.get(url).headers["etag"]
    now = dt.datetime(2026, 8, 21, 12, 0)
    with client.app.state.db.write() as conn:  # type: ignore[attr-defined]
        voter = accounts.create_user(conn, "voter", "voter@example.org", "x", "member", now)
        votes.set_upvote(conn, voter.id, "2608.16590", True, now)  # the JSON has the count
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_a_feed_says_when_it_last_changed(client: TestClient) -> None:
    first = client.get("/feeds/daily.rss")
    modified = first.headers["last-modified"]
    assert modified.endswith(" GMT")
    assert (
        client.get("/feeds/daily.rss", headers={"If-Modified-Since": modified}).status_code == 304
    )
    earlier = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert client.get("/feeds/daily.rss", headers={"If-Modified-Since": earlier}).status_code == 200
    unparsable = client.get("/feeds/daily.rss", headers={"If-Modified-Since": "yesterday"})
    assert unparsable.status_code == 200


@pytest.mark.parametrize("url", LISTS)
def test_lists_are_cacheable_and_readable_from_any_origin(client: TestClient, url: str) -> None:
    response = client.get(url, headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "public" in response.headers["cache-control"]
    assert "access-control-allow-credentials" not in response.headers
    preflight = client.options(
        url,
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "POST" not in preflight.headers["access-control-allow-methods"]


def test_pages_for_people_stay_out_of_it(client: TestClient) -> None:
    page = client.get("/", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in page.headers
    assert "etag" not in page.headers


def test_large_answers_are_gzipped_for_clients_that_ask(client: TestClient) -> None:
    url = f"/api/daily_papers?date={SAMPLE_DAY}"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    with httpx.Client(transport=client._transport, base_url="http://testserver") as raw:
        request = raw.build_request("GET", url, headers={"Accept-Encoding": "gzip"})
        zipped = raw.send(request, stream=True)
        body = b"".join(zipped.iter_raw())
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"]
    assert gzip.decompress(body) == plain.content
    assert len(body) * 3 < len(plain.content)
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    with httpx.Client(transport=client._transport, base_url="http://testserver") as raw:
        refused = raw.send(
            raw.build_request("GET", url, headers={"Accept-Encoding": "br, gzip;q=0"}), stream=True
        )
        again = raw.send(
            raw.build_request("GET", url, headers={"Accept-Encoding": "gzip"}), stream=True
        )
        assert "content-encoding" not in refused.headers
        assert b"".join(again.iter_raw()) == body  # compressed once, the same bytes each time


def test_an_error_is_not_given_an_etag(client: TestClient) -> None:
    missing = client.get("/api/papers/2608.99999")
    assert missing.status_code == 404 and "etag" not in missing.headers
    assert missing.headers["access-control-allow-origin"] == "*"
