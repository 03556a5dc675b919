"""Headless Chromium through "your own Papertide" (issue #14): sign up, pick interests on For
you, mark a paper, save one to a list, export the list as BibTeX, import that file into a second
account's list, follow an author, subscribe to the daily digest, and receive that author's next
paper in it (built and sent as the worker does, read from the mail pickup directory)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from tests.live_server import serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_browser_accounts import _shots, _watch
from tests.web.test_for_you import DAY, for_you_app

from papertide.config import Settings
from papertide.db.writes import write_batch
from papertide.digest.editions import build_edition
from papertide.digest.mailer import make_mailer
from papertide.digest.send import send_edition
from papertide.models import DailyRecord, PaperRecord
from papertide.web.app import create_app

pytestmark = pytest.mark.browser

PASSWORD = "tide pools at dawn"


PUBLIC = "https://papers.example"
NEXT_DAY = dt.date(2026, 3, 11)  # a Wednesday: the day after DAY, featured on HF
NEXT_PAPER = "2603.00300"  # by the author bob follows
OTHER_PAPER = "2603.00301"  # the same day's most upvoted paper, by someone else


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = Settings(
        data_dir=tmp_path / "data",
        load_demo=False,
        public_url=PUBLIC,
        mail_pickup_dir=tmp_path / "mail",
    )
    return for_you_app(create_app(settings))


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    with serve(app) as url:
        yield url


def _mails(folder: Path) -> list[EmailMessage]:
    parser = BytesParser(policy=policy.default)
    found = [parser.parsebytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]
    return [m for m in found if isinstance(m, EmailMessage)]


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _next_papers(app: FastAPI) -> None:
    """The followed author's next paper, featured on NEXT_DAY beside a more upvoted one."""
    at = dt.datetime.combine(NEXT_DAY, dt.time(8))
    papers = [  # id, title, author, category, abstract, upvotes
        (NEXT_PAPER, "Robot grasping with tactile sensors, part two", "Author 00", "cs.LG",
         "A robot arm learns grasping policies from touch alone.", 3),
        (OTHER_PAPER, "Speech recognition at scale", "Someone Else", "cs.CL",
         "Self-supervised audio for many languages.", 90),
    ]  # fmt: skip
    records = [
        PaperRecord(pid, title=title, authors=[author], categories=[category], abstract=abstract,
                    upvotes=upvotes, published_at=at - dt.timedelta(days=1))
        for pid, title, author, category, abstract, upvotes in papers
    ]  # fmt: skip
    with app.state.db.write() as conn:
        write_batch(conn, records, [DailyRecord(r.arxiv_id, NEXT_DAY, at) for r in records])


def _sign_up(page: object, base_url: str, name: str) -> None:
    page.goto(base_url + "/signup")  # type: ignore[attr-defined]
    page.fill("#username", name)  # type: ignore[attr-defined]
    page.fill("#email", f"{name}@example.org")  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("form.stack-form button[type=submit]")  # type: ignore[attr-defined]


def test_the_whole_for_you_loop(base_url: str, app: FastAPI, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _watch(page, problems)
            _sign_up(page, base_url, "alice")
            page.goto(base_url + f"/papers/for-you?date={DAY}")
            page.fill("#for-you-keywords", "protein folding")
            page.click("text=Start my For you")
            expect(page.locator(".card").first).to_contain_text("proteins")
            expect(page.locator(".why").first).to_contain_text("saved search")
            page.locator(".feedback-row button", has_text="More like this").first.click()
            expect(page.locator(".feedback-row").first).to_contain_text("More like this: noted.")
            # After the three saved-search matches the rest of the day is ranked: robots come
            # before speech while nothing says otherwise (ties by id). "More like this" on a
            # speech paper brings the speech papers up, the marked one too (to be undone).
            cards = page.locator(".card")
            expect(cards.nth(3)).to_contain_text("New robot paper")
            page.get_by_role("button", name="More like New speech paper 1").click()
            for n in (3, 4, 5):
                expect(cards.nth(n)).to_contain_text("New speech paper")
            marked = page.locator('[id="paper-2603.00221"]')  # New speech paper 1
            expect(marked.locator(".why")).to_contain_text("one of the papers you liked")
            near = page.locator('[id="paper-2603.00222"]')  # New speech paper 2
            expect(near.locator(".why")).to_contain_text("close to a paper you liked")
            expect(page.locator(".feedback-row", has_text="More like this: noted.")).to_have_count(
                2
            )
            page.screenshot(path=str(shots / "for-you.png"), full_page=True)

            page.goto(base_url + "/papers/2603.00200")
            page.fill("#save-new", "Folding")
            page.fill("#save-note", "start here")
            page.click("text=Save to list")
            expect(page.locator(".save-panel")).to_contain_text("Saved to")
            page.click(".save-panel a >> text=Folding")
            href = page.locator("a", has_text="BibTeX").get_attribute("href")
            exported = page.request.get(base_url + str(href))  # with the browser's session
            assert exported.ok
            bib = tmp_path / "list.bib"
            bib.write_bytes(exported.body())
            assert "eprint = {2603.00200}" in bib.read_text()

            page.click("text=Log out")
            _sign_up(page, base_url, "bob")
            page.goto(base_url + "/lists")
            page.fill("#list-name", "From Alice")
            page.click("text=Create list")
            page.set_input_files("input[type=file]", str(bib))
            page.click("button >> text=Import")
            expect(page.locator(".import-report")).to_contain_text("1 of 1 entries matched")
            expect(page.locator(".card")).to_have_count(1)

            page.goto(base_url + "/papers/2603.00200")
            page.click(".authors a")
            page.click("button >> text=Follow")
            expect(page.locator("button", has_text="Following")).to_be_visible()

            # bob subscribes to the daily digest with his account's address, and confirms.
            page.goto(base_url + "/subscribe")
            page.fill("#email", "bob@example.org")
            page.check('input[name=frequency][value="daily"]')
            page.click("form.stack-form button[type=submit]")
            expect(page.locator("h1")).to_have_text("Check your inbox")
            pickup = app.state.settings.mail_pickup_dir
            (confirm,) = [m for m in _mails(pickup) if m["To"] == "bob@example.org"]
            link = next(w for w in _text(confirm).split() if w.startswith(PUBLIC + "/subscribe/"))
            page.goto(base_url + link.removeprefix(PUBLIC))
            page.click("text=Confirm my subscription")
            expect(page.locator("h1")).to_have_text("You are subscribed")

            # The author's next paper is featured; the worker builds and sends the edition.
            _next_papers(app)
            settings = app.state.settings
            now = dt.datetime.combine(NEXT_DAY + dt.timedelta(days=1), dt.time(9))
            built = build_edition(app.state.db, "daily", now, settings)
            assert built.edition_id is not None and built.pending == 1
            mailer = make_mailer(settings)
            assert send_edition(app.state.db, built.edition_id, mailer, settings, signer=False)
            (digest,) = [m for m in _mails(pickup) if m["Message-ID"].startswith("<digest.")]
            assert digest["To"] == "bob@example.org"
            text = _text(digest)
            assert "Robot grasping with tactile sensors, part two" in text
            assert "Speech recognition at scale" not in text  # trending, but not followed
            assert "authors you follow (Author 00)" in text

            paper_link = next(w for w in text.split() if w.endswith(f"/papers/{NEXT_PAPER}"))
            page.goto(base_url + paper_link.removeprefix(PUBLIC))
            expect(page.locator("h1")).to_contain_text("part two")
            page.screenshot(path=str(shots / "digest-paper.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], problems
