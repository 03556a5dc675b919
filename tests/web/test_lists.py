"""Reading lists (issue #14): save with a note, private or public, export (BibTeX parsed back
by a real BibTeX parser, RIS, CSL-JSON), import a BibTeX file into another account."""

from __future__ import annotations

import json
import re

import feedparser
import pytest
from bibtexparser import parse_string  # type: ignore[attr-defined]
from fastapi.testclient import TestClient
from tests.web.accounts_helpers import page_token, sign_up
from tests.web.conftest import card_ids, sample_items

from papertide.web.app import create_app

PAPER, OTHER = "2608.16590", "2608.17009"


def _save(client: TestClient, paper: str, list_choice: str = "new", **extra: str) -> str:
    data = {"csrf_token": page_token(client), "list": list_choice, **extra}
    done = client.post(f"/papers/{paper}/save", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    found = re.search(r"saved=(\d+)", done.headers["location"])
    assert found is not None
    return found.group(1)


def test_save_a_paper_with_a_note_and_export_it(client: TestClient) -> None:
    sign_up(client, "alice")
    other = next(
        item["paper"]["id"] for item in sample_items("2026-08-20") if item["paper"]["id"] != PAPER
    )
    list_id = _save(client, PAPER, new_list="Robots", note="read §3 first")
    assert _save(client, str(other), list_id) == list_id
    paper_page = client.get(f"/papers/{PAPER}?saved={list_id}").text
    assert "Saved to <a" in paper_page and ">Robots</a>" in paper_page
    page = client.get(f"/lists/{list_id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    assert set(card_ids(page.text)) == {PAPER, other} and "read §3 first" in page.text

    bib = client.get(f"/lists/{list_id}/export.bib")
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    library = parse_string(bib.text)
    assert not library.failed_blocks
    entries = {entry["eprint"]: entry for entry in library.entries}
    assert set(entries) == {PAPER, other}
    zetta = entries[PAPER]
    assert zetta["archivePrefix"] == "arXiv" and zetta["url"] == f"https://arxiv.org/abs/{PAPER}"
    assert zetta["title"].startswith("{Zetta") and " and " in zetta["author"]
    assert zetta["year"] == "2026" and zetta.entry_type == "misc"
    assert len({entry.key for entry in library.entries}) == 2

    ris = client.get(f"/lists/{list_id}/export.ris").text
    assert ris.count("TY  - ") == 2 and ris.count("ER  -") == 2 and f"M1  - arXiv:{PAPER}" in ris
    csl = json.loads(client.get(f"/lists/{list_id}/export.json").text)
    assert {item["number"] for item in csl} == {f"arXiv:{PAPER}", f"arXiv:{other}"}
    assert all(item["author"] and item["issued"]["date-parts"][0][0] == 2026 for item in csl)
    single = parse_string(client.get(f"/papers/{PAPER}/cite.bib").text)
    assert [entry["eprint"] for entry in single.entries] == [PAPER]
    assert client.get("/papers/2608.99999/cite.bib").status_code == 404


def test_a_private_list_is_invisible_to_everyone_else(client: TestClient) -> None:
    sign_up(client, "alice")
    list_id = _save(client, PAPER, new_list="Secret")
    app = client.app
    bob, anonymous = TestClient(app), TestClient(app)
    sign_up(bob, "bob")
    for visitor in (bob, anonymous):
        for path in (
            f"/lists/{list_id}",
            f"/lists/{list_id}/export.bib",
            f"/feeds/lists/{list_id}.rss",
        ):
            assert visitor.get(path).status_code == 404, path
    assert "Secret" not in anonymous.get("/u/alice").text
    # Bob cannot add to, rename or empty Alice's list either.
    token = page_token(bob)
    refused = bob.post(f"/papers/{PAPER}/save", data={"csrf_token": token, "list": list_id})
    assert refused.status_code == 400
    assert bob.post(f"/lists/{list_id}/delete", data={"csrf_token": token}).status_code == 404
    # Made public: anyone may read it, and follow its feed.
    settings = {"csrf_token": page_token(client), "name": "Robots", "public": "true"}
    assert client.post(f"/lists/{list_id}/settings", data=settings).status_code == 200
    assert anonymous.get(f"/lists/{list_id}").status_code == 200
    assert ">Robots</a>" in anonymous.get("/u/alice").text
    feed = feedparser.parse(anonymous.get(f"/feeds/lists/{list_id}.atom").content)
    assert not feed.bozo and [e.link.rsplit("/", 1)[1] for e in feed.entries] == [PAPER]


def test_a_bibtex_file_from_elsewhere_is_matched_and_says_what_did_not_match(
    client: TestClient,
) -> None:
    sign_up(client, "alice")
    list_id = _save(client, PAPER, new_list="Mine")
    exported = client.get(f"/lists/{list_id}/export.bib").text
    items = sample_items("2026-08-20")
    titled = next(i["paper"] for i in items if i["paper"]["id"] != PAPER)
    zotero = (
        exported
        + "\n@article{bytitle, title = {" + str(titled["title"]).upper() + "}, year = 2026}\n"
        + "@misc{elsewhere, title={A paper that is not here}, eprint={2401.00001}, "
        + "archivePrefix={arXiv}}\n"
        + "@book{nothing, publisher = {Nobody}}\n"
        + "@misc{url, title={x}, url={https://arxiv.org/abs/" + PAPER + "v3}}\n"
    )  # fmt: skip
    bob = TestClient(client.app)
    sign_up(bob, "bob")
    bob_list = _save(bob, "2608.16590", new_list="Imported")
    files = {"file": ("zotero.bib", zotero.encode(), "application/x-bibtex")}
    answer = bob.post(
        f"/lists/{bob_list}/import", data={"csrf_token": page_token(bob)}, files=files
    )
    assert answer.status_code == 200, answer.text
    text = answer.text
    # Alice's one entry, the title-only entry and the arXiv URL match; two do not.
    assert "3 of 5 entries matched a paper here (1 new on this list)" in text
    assert "(by arXiv id)" in text and "(by title)" in text
    assert "arXiv 2401.00001 is not in this Papertide" in text
    assert "nothing: no arXiv id, DOI or title to match" in text
    assert set(card_ids(bob.get(f"/lists/{bob_list}").text)) == {PAPER, str(titled["id"])}
    empty = bob.post(
        f"/lists/{bob_list}/import",
        data={"csrf_token": page_token(bob)},
        files={"file": ("notes.txt", b"just some words", "text/plain")},
    )
    assert empty.status_code == 400 and "No BibTeX entries" in empty.text


@pytest.fixture
def client(tmp_path, samples) -> TestClient:  # type: ignore[no-untyped-def]
    from papertide.config import Settings
    from papertide.ingest.hf_daily import HfDailySource
    from papertide.ingest.runner import run_import

    app = create_app(Settings(data_dir=tmp_path / "data", load_demo=False))
    run_import(app.state.db, HfDailySource([samples / "2026-08-20.json"]))
    return TestClient(app)


def test_a_member_downloads_everything_kept_about_them(client: TestClient) -> None:
    sign_up(client, "alice")
    list_id = _save(client, PAPER, new_list="Secret", note="for the reading group")
    token = page_token(client)
    client.post(f"/papers/{PAPER}/upvote", data={"csrf_token": token, "vote": "1"})
    client.post(f"/papers/{PAPER}/feedback", data={"csrf_token": token, "signal": "less"})
    client.post("/searches", data={"csrf_token": token, "q": "robot  grasping"})
    data = client.get("/settings/data.json")
    assert data.status_code == 200 and data.headers["cache-control"] == "private, no-store"
    assert 'filename="papertide-alice.json"' in data.headers["content-disposition"]
    mine = data.json()
    assert (
        mine["account"]["username"] == "alice" and mine["account"]["email"] == "alice@example.org"
    )
    assert [vote["paper"] for vote in mine["upvotes"]] == [PAPER]
    assert mine["readingLists"][0]["id"] == int(list_id)
    assert mine["readingLists"][0]["papers"][0]["note"] == "for the reading group"
    assert mine["apiTokens"] == [] and mine["personalFeed"] is False
    assert [(f["kind"], f["value"]) for f in mine["following"]] == [("search", "q=robot+grasping")]
    assert [(m["paper"], m["signal"]) for m in mine["marks"]] == [(PAPER, "less")]
    assert (
        TestClient(client.app).get("/settings/data.json", follow_redirects=False).status_code == 303
    )


def test_more_like_this_and_not_for_me_are_one_click_and_undoable(client: TestClient) -> None:
    from papertide.db import accounts as account_rows
    from papertide.db import feedback

    sign_up(client, "alice")
    mark = {"csrf_token": page_token(client)}
    more = client.post(
        f"/papers/{PAPER}/feedback",
        data={**mark, "signal": "more"},
        headers={"accept": "application/json"},
    )
    assert more.json() == {"paper": PAPER, "signal": "more"}
    less = client.post(f"/papers/{OTHER}/feedback", data={**mark, "signal": "less"})
    assert less.status_code == 404  # not in this instance's database (one sample day only)
    db = client.app.state.db  # type: ignore[attr-defined]
    with db.read() as conn:
        alice = account_rows.account_by_username(conn, "alice")
        assert alice is not None and feedback.signals(conn, alice.id) == {PAPER: 1}
    done = client.post(
        f"/papers/{PAPER}/feedback",
        data={**mark, "signal": "clear", "next": "/papers/for-you"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/papers/for-you#paper-{PAPER}"
    with db.read() as conn:
        assert feedback.signals(conn, alice.id) == {}
    bad = client.post(f"/papers/{PAPER}/feedback", data={**mark, "signal": "maybe"})
    assert bad.status_code == 400


def test_deleting_an_account_deletes_its_lists_follows_and_marks(client: TestClient) -> None:
    from tests.web.accounts_helpers import PASSWORD

    from papertide.db import accounts as account_rows
    from papertide.db.schema import follow, paper_feedback, reading_list, reading_list_item

    sign_up(client, "alice")
    list_id = _save(client, PAPER, new_list="Shared", note="mine")
    token = page_token(client)
    settings = {"csrf_token": token, "name": "Shared", "public": "true"}
    assert client.post(f"/lists/{list_id}/settings", data=settings).status_code == 200
    client.post(f"/papers/{PAPER}/feedback", data={"csrf_token": token, "signal": "more"})
    client.post("/searches", data={"csrf_token": token, "q": "robots"})
    assert TestClient(client.app).get(f"/lists/{list_id}").status_code == 200
    db = client.app.state.db  # type: ignore[attr-defined]
    with db.read() as conn:
        alice = account_rows.account_by_username(conn, "alice")
        assert alice is not None
        tables = (reading_list, follow, paper_feedback)
        assert all(conn.execute(t.select().where(t.c.user_id == alice.id)).all() for t in tables)

    deleted = client.post(
        "/settings/delete", data={"csrf_token": token, "password": PASSWORD, "confirm": "alice"}
    )
    assert deleted.status_code == 200
    anonymous = TestClient(client.app)
    assert anonymous.get(f"/lists/{list_id}").status_code == 404
    assert anonymous.get(f"/lists/{list_id}/export.bib").status_code == 404
    assert anonymous.get(f"/feeds/lists/{list_id}.atom").status_code == 404
    with db.read() as conn:
        for table in (reading_list, follow, paper_feedback):
            assert conn.execute(table.select().where(table.c.user_id == alice.id)).all() == []
        assert conn.execute(reading_list_item.select()).all() == []
