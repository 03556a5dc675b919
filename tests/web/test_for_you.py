"""The For-you page (issue #14): onboarding, learning from a vote at once, "more like this" /
"not for me" with undo, follows first, and never for anyone else's eyes."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import page_token, sign_up
from tests.web.conftest import card_ids, make_app

from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.runner import run_import

DAY, EARLIER = "2026-03-10", "2026-03-09"
TOPICS = {
    "robot": "Robot grasping with tactile sensors: a robot arm learns grasping policies.",
    "proteins": "Protein folding with diffusion: structures of proteins from sequences.",
    "speech": "Speech recognition for low-resource languages with self-supervised audio.",
}


def _listing(paper_id: str, title: str, abstract: str, day: str, author: str) -> str:
    record = {
        "id": paper_id, "title": title, "authors": [author], "categories": ["cs.LG"],
        "comments": None, "abstract": abstract, "listing_dates": [day],
    }  # fmt: skip
    return json.dumps(record) + "\n"


def _client(tmp_path: Path) -> TestClient:
    return TestClient(for_you_app(make_app(tmp_path)))


def for_you_app(app: FastAPI) -> FastAPI:
    """`app` with three topics' papers: one of each listed on EARLIER, three of each on DAY."""
    lines = []
    for n, (topic, abstract) in enumerate(TOPICS.items()):
        lines.append(_listing(f"2603.0010{n}", f"Old {topic} paper", abstract, EARLIER, "Old Hand"))
        for k in range(3):
            title = f"New {topic} paper {k}"
            lines.append(_listing(f"2603.002{n}{k}", title, abstract, DAY, f"Author {n}{k}"))
    path = app.state.settings.data_dir / "listings.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)  # on PostgreSQL nothing else made it
    path.write_text("".join(lines), encoding="utf-8")
    run_import(app.state.db, arxiv_jsonl_source([path]))
    return app


def test_for_you_learns_from_a_vote_at_once_and_takes_feedback(tmp_path: Path) -> None:
    client = _client(tmp_path)
    anonymous = client.get("/papers/for-you")
    assert anonymous.status_code == 200 and "Log in</a> or" in anonymous.text
    sign_up(client, "alice")
    first = client.get("/papers/for-you").text
    assert 'action="/papers/for-you/start"' in first  # nothing to go by: pick interests
    assert len(card_ids(first)) == 9  # the day's nine new papers, by upvotes meanwhile

    token = page_token(client)
    client.post("/papers/2603.00101/upvote", data={"csrf_token": token, "vote": "1"})
    ranked = client.get(f"/papers/for-you?date={DAY}")
    assert ranked.headers["cache-control"] == "private, no-store"
    order = card_ids(ranked.text)
    assert set(order[:3]) == {"2603.00210", "2603.00211", "2603.00212"}  # proteins first
    assert "Ranked from 1 paper you upvoted" in ranked.text
    assert "close to" in ranked.text.lower() or "like" in ranked.text.lower()

    marked = {"csrf_token": token, "signal": "less", "next": f"/papers/for-you?date={DAY}"}
    client.post("/papers/2603.00210/feedback", data=marked)
    after = client.get(f"/papers/for-you?date={DAY}").text
    assert "Not for you: noted." in after and "Undo" in after
    undo = {**marked, "signal": "clear"}
    client.post("/papers/2603.00210/feedback", data=undo)
    assert "Not for you: noted." not in client.get(f"/papers/for-you?date={DAY}").text

    # A followed author's paper comes first, saying why.
    client.post("/authors/Author%2022/follow", data={"csrf_token": token})
    followed = client.get(f"/papers/for-you?date={DAY}").text
    assert card_ids(followed)[0] == "2603.00222"
    assert "By Author 22, whom you follow." in followed


def test_picking_interests_gives_a_page_from_the_first_visit(tmp_path: Path) -> None:
    client = _client(tmp_path)
    sign_up(client, "bob")
    start = client.post(
        "/papers/for-you/start",
        data={"csrf_token": page_token(client), "keywords": "speech recognition"},
        follow_redirects=False,
    )
    assert start.status_code == 303
    page = client.get(f"/papers/for-you?date={DAY}").text
    assert set(card_ids(page)[:3]) == {"2603.00220", "2603.00221", "2603.00222"}  # speech
    assert "Matches your saved search “speech recognition”." in page
    assert 'action="/papers/for-you/start"' not in page
    empty = client.post("/papers/for-you/start", data={"csrf_token": page_token(client)})
    assert empty.status_code == 400


def test_naming_authors_at_the_start_follows_them(tmp_path: Path) -> None:
    client = _client(tmp_path)
    sign_up(client, "carol")
    client.post(
        "/papers/for-you/start",
        data={"csrf_token": page_token(client), "authors": " Author  11 , Nobody Known"},
    )
    page = client.get(f"/papers/for-you?date={DAY}").text
    assert card_ids(page)[0] == "2603.00211"
    assert "By Author 11, whom you follow." in page
    assert ">Nobody Known</a>" in client.get("/lists").text  # followed, papers or not
    # Every card links to its paper's "Save to list" panel.
    assert 'href="/papers/2603.00211#save"' in page
