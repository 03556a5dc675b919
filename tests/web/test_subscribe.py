"""Subscribing with double opt-in, the preferences page and RFC 8058 unsubscribe (issue #6).

The app sends its confirmation mail through its real SMTP mailer to the in-process aiosmtpd
server of the digest tests; the tests read what that server accepted (issue #10)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.digest.smtp_server import SmtpServer
from tests.web.accounts_helpers import csrf_token, page_token, sign_up

from papertide.config import Settings
from papertide.db import subscribers as rows
from papertide.db.schema import subscriber
from papertide.db.subscribers import Subscriber
from papertide.digest.links import subscriber_token
from papertide.web.app import create_app

PUBLIC = "http://papers.test"


class Mailbox:
    """What the in-process SMTP server (tests/digest/smtp_server.py) accepted, as messages;
    the app sends to it through its real SMTP mailer."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    @property
    def sent(self) -> list[tuple[EmailMessage, str, str]]:
        """(message, envelope sender, envelope recipient) of each accepted message."""
        with self.server.handler.lock:
            received = list(self.server.handler.received)
        return [(parsed(r.data), r.sender, r.recipient_as_sent) for r in received]

    def fail(self) -> None:
        """Answer every message from now on with a temporary failure (421 or 451)."""
        self.server.handler.faults.temporary_rate = 1.0

    def text(self, index: int = -1) -> str:
        body = self.sent[index][0].get_body(("plain",))
        assert isinstance(body, EmailMessage)
        return str(body.get_content())

    def link(self, index: int = -1) -> str:
        """The path of the link in a message."""
        found = re.search(re.escape(PUBLIC) + r"(/\S+)", self.text(index))
        assert found is not None
        return found.group(1)


def parsed(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def make(tmp_path: Path, smtp: SmtpServer, **overrides: Any) -> tuple[FastAPI, Mailbox]:
    settings = Settings(
        data_dir=tmp_path / "data", load_demo=False, public_url=PUBLIC,
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_timeout_s=10, **overrides,
    )  # fmt: skip
    return create_app(settings), Mailbox(smtp)


@pytest.fixture
def app_mailer(tmp_path: Path, smtp: SmtpServer) -> tuple[FastAPI, Mailbox]:
    return make(tmp_path, smtp)


@pytest.fixture
def client(app_mailer: tuple[FastAPI, Mailbox]) -> Iterator[TestClient]:
    with TestClient(app_mailer[0]) as test_client:
        yield test_client


@pytest.fixture
def mailer(app_mailer: tuple[FastAPI, Mailbox]) -> Mailbox:
    return app_mailer[1]


def subscribe(client: TestClient, email: str = "Ann@Example.ORG", **fields: Any) -> Any:
    token = csrf_token(client.get("/subscribe").text)
    data = {"csrf_token": token, "email": email, "frequency": "daily", **fields}
    return client.post("/subscribe", data=data)


def row(client: TestClient, email_key: str = "ann@example.org") -> Subscriber:
    with client.app.state.db.read() as conn:  # type: ignore[attr-defined]
        found = rows.by_email_key(conn, email_key)
    assert found is not None
    return found


def confirm(client: TestClient, path: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client.get(path).text)})


def subscribed(client: TestClient, mailer: Mailbox, email: str = "Ann@Example.ORG") -> str:
    """Subscribe and confirm `email`; its preferences path."""
    subscribe(client, email)
    confirmed = confirm(client, mailer.link())
    found = re.search(r'href="(/subscribe/manage/[^"]+)"', confirmed.text)
    assert found is not None
    return found.group(1)


def test_subscribe_page_is_a_real_form_not_cached(client: TestClient) -> None:
    page = client.get("/subscribe?email=ann%40example.org")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert 'value="ann@example.org"' in page.text
    assert 'name="csrf_token"' in page.text
    assert "not available" not in page.text
    assert "Papers like the ones I upvote" not in page.text  # only when signed in


def test_the_cta_is_a_get_form_to_the_subscribe_page(client: TestClient) -> None:
    html = client.get("/").text
    assert '<form class="cta-form" action="/subscribe" method="get">' in html
    assert 'name="csrf_token"' not in html.split('class="cta-form"')[1].split("</form>")[0]


def test_subscribe_sends_one_confirmation_and_stores_a_pending_subscriber(
    client: TestClient, mailer: Mailbox
) -> None:
    answer = subscribe(
        client,
        "  Ann@Example.ORG ",
        frequency="weekly",
        categories=["cs.LG"],
        more_categories="stat.ML, cs.LG",
        keywords="diffusion, state space models",
        search="graph neural networks",
    )
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert answer.headers["cache-control"] == "private, no-store"
    ((message, sender, recipient),) = mailer.sent
    assert (sender, recipient) == ("papertide@localhost", "Ann@example.org")
    assert message["To"] == "Ann@example.org"
    assert message["Subject"] == "Confirm your subscription to Papertide"
    assert message.get_body(("html",)) is not None
    path = mailer.link()
    assert path.startswith("/subscribe/confirm/")
    found = row(client)
    assert (found.email, found.status, found.frequency) == ("Ann@example.org", "pending", "weekly")
    assert found.topics == {
        "categories": ["cs.LG", "stat.ML"],
        "keywords": ["diffusion", "state space models"],
        "search": "graph neural networks",
        "like_upvotes": False,
    }


def test_the_confirmation_token_is_long_random_and_stored_hashed(
    client: TestClient, mailer: Mailbox
) -> None:
    subscribe(client)
    token = mailer.link().rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, base64url
    with client.app.state.db.read() as conn:  # type: ignore[attr-defined]
        stored = conn.execute(sa.select(subscriber.c.confirm_token_hash)).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter an email address"),
        ({"email": "a@b@example.org"}, "email", "Enter an email address"),
        ({"email": "ann@example.org\r\nBcc: x@y.org"}, "email", "Enter an email address"),
        ({"frequency": "hourly"}, "frequency", "Choose daily or weekly"),
        ({"more_categories": "<script>"}, "categories", "arXiv categories"),
        ({"like_upvotes": "1"}, "like_upvotes", "Log in"),
    ],
)
def test_refused_values_say_why_and_send_nothing(
    client: TestClient, mailer: Mailbox, fields: dict[str, str], field: str, message: str
) -> None:
    answer = subscribe(client, **fields)
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text
    assert message in answer.text
    assert mailer.sent == []
    with client.app.state.db.read() as conn:  # type: ignore[attr-defined]
        assert conn.execute(sa.select(sa.func.count()).select_from(subscriber)).scalar() == 0


def test_confirm_get_changes_nothing_post_confirms_once(
    client: TestClient, mailer: Mailbox
) -> None:
    subscribe(client)
    path = mailer.link()
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm my subscription" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert row(client).status == "pending"
    done = confirm(client, path)
    assert done.status_code == 200
    assert "You are subscribed" in done.text
    found = row(client)
    assert (found.status, found.confirmed_at is not None) == ("confirmed", True)
    replay = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert replay.status_code == 404
    assert "does not work" in replay.text
    assert client.get(path).status_code == 404


def test_a_tampered_confirmation_token_changes_nothing(client: TestClient, mailer: Mailbox) -> None:
    subscribe(client)
    path = mailer.link()
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    assert client.get(tampered).status_code == 404
    token = csrf_token(client.get("/subscribe").text)
    assert client.post(tampered, data={"csrf_token": token}).status_code == 404
    assert client.get("/subscribe/confirm/short").status_code == 404
    assert row(client).status == "pending"


def test_an_expired_confirmation_changes_nothing(client: TestClient, mailer: Mailbox) -> None:
    subscribe(client)
    path = mailer.link()
    past = dt.datetime(2020, 1, 1)
    with client.app.state.db.write() as conn:  # type: ignore[attr-defined]
        conn.execute(subscriber.update().values(confirm_expires_at=past))
    page = client.get(path)
    assert page.status_code == 410
    assert "expired" in page.text
    token = csrf_token(client.get("/subscribe").text)
    assert client.post(path, data={"csrf_token": token}).status_code == 410
    assert row(client).status == "pending"


def test_confirmation_needs_its_csrf_token(client: TestClient, mailer: Mailbox) -> None:
    subscribe(client)
    assert client.post(mailer.link()).status_code == 403
    assert row(client).status == "pending"


def _answer(html: str) -> str:
    return re.sub(r'value="[^"]+"', "", html.split("<main", 1)[-1])


def test_known_and_unknown_addresses_get_the_same_answer(
    client: TestClient, mailer: Mailbox
) -> None:
    subscribed(client, mailer, "known@example.org")
    known = subscribe(client, "known@example.org")
    unknown = subscribe(client, "unknown@example.org")
    assert known.status_code == unknown.status_code == 200
    assert _answer(known.text) == _answer(unknown.text)


def test_a_confirmed_subscriber_is_sent_its_preferences_link_and_keeps_its_preferences(
    client: TestClient, mailer: Mailbox
) -> None:
    manage = subscribed(client, mailer)
    subscribe(client, "ann@example.org", frequency="weekly", keywords="spam")
    assert mailer.link() == manage
    assert "already subscribed" in mailer.text()
    found = row(client)
    assert (found.status, found.frequency, found.topics["keywords"]) == ("confirmed", "daily", [])


def test_confirmations_are_capped_per_address_and_day(tmp_path: Path, smtp: SmtpServer) -> None:
    app, mailer = make(tmp_path, smtp, subscribe_confirmations_per_day=2)
    with TestClient(app) as client:
        for _ in range(4):
            assert subscribe(client).status_code == 200
        assert len(mailer.sent) == 2
        assert row(client).confirmations_sent == 2
        # A new day: the count starts again.
        with app.state.db.write() as conn:
            conn.execute(subscriber.update().values(last_confirmation_at=dt.datetime(2020, 1, 1)))
        subscribe(client)
        assert len(mailer.sent) == 3


def test_only_the_latest_confirmation_link_works(client: TestClient, mailer: Mailbox) -> None:
    subscribe(client)
    subscribe(client)
    first, latest = mailer.link(0), mailer.link(1)
    assert first != latest
    assert client.get(first).status_code == 404
    assert confirm(client, latest).status_code == 200


def test_the_subscribe_post_is_rate_limited_per_client(tmp_path: Path, smtp: SmtpServer) -> None:
    app, mailer = make(tmp_path, smtp, rate_limit_subscribe="2/hour")
    with TestClient(app) as client:
        assert subscribe(client, "a@example.org").status_code == 200
        assert subscribe(client, "b@example.org").status_code == 200
        refused = subscribe(client, "c@example.org")
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
        assert len(mailer.sent) == 2


def test_a_mail_failure_is_logged_and_the_answer_is_unchanged(
    client: TestClient, mailer: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    mailer.fail()
    answer = subscribe(client)
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert "confirmation mail to Ann@example.org not sent" in caplog.text


def test_preferences_page_changes_frequency_and_topics(client: TestClient, mailer: Mailbox) -> None:
    manage = subscribed(client, mailer)
    page = client.get(manage)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Ann@example.org" in page.text
    data = {
        "csrf_token": csrf_token(page.text),
        "frequency": "weekly",
        "categories": ["cs.CV"],
        "keywords": "segmentation",
    }
    saved = client.post(f"{manage}/preferences", data=data, follow_redirects=False)
    assert saved.status_code == 303
    assert "Your preferences are saved" in client.get(saved.headers["location"]).text
    found = row(client)
    assert (found.frequency, found.topics["categories"], found.topics["keywords"]) == (
        "weekly",
        ["cs.CV"],
        ["segmentation"],
    )
    bad = client.post(f"{manage}/preferences", data={**data, "frequency": "hourly"})
    assert bad.status_code == 400
    assert row(client).frequency == "weekly"


def test_preferences_need_a_csrf_token(client: TestClient, mailer: Mailbox) -> None:
    manage = subscribed(client, mailer)
    refused = client.post(f"{manage}/preferences", data={"frequency": "weekly"})
    assert refused.status_code == 403
    assert client.post(f"{manage}/unsubscribe").status_code == 403
    assert row(client).status == "confirmed"


def test_pause_resume_and_unsubscribe_from_the_preferences_page(
    client: TestClient, mailer: Mailbox
) -> None:
    manage = subscribed(client, mailer)
    token = csrf_token(client.get(manage).text)
    client.post(f"{manage}/pause", data={"csrf_token": token})
    assert row(client).status == "paused"
    assert "Resume my digest" in client.get(manage).text
    client.post(f"{manage}/resume", data={"csrf_token": token})
    assert row(client).status == "confirmed"
    gone = client.post(f"{manage}/unsubscribe", data={"csrf_token": token})
    assert gone.status_code == 200
    assert "You are unsubscribed" in gone.text
    assert row(client).status == "unsubscribed"


def test_a_tampered_preferences_link_is_a_404_and_changes_nothing(
    client: TestClient, mailer: Mailbox
) -> None:
    manage = subscribed(client, mailer)
    token = csrf_token(client.get(manage).text)
    tampered = manage[:-1] + ("A" if not manage.endswith("A") else "B")
    assert client.get(tampered).status_code == 404
    for action in ("preferences", "pause", "unsubscribe"):
        answer = client.post(
            f"{tampered}/{action}", data={"csrf_token": token, "frequency": "weekly"}
        )
        assert answer.status_code == 404
    assert client.get("/subscribe/manage/nonsense").status_code == 404
    found = row(client)
    assert (found.status, found.frequency) == ("confirmed", "daily")


def test_rfc8058_one_click_post_needs_no_cookie_and_answers_200(
    app_mailer: tuple[FastAPI, Mailbox], mailer: Mailbox
) -> None:
    app = app_mailer[0]
    with TestClient(app) as browser:
        manage = subscribed(browser, mailer)
        found = row(browser)
    token = manage.rsplit("/", 1)[1]
    assert token == subscriber_token(app.state.settings.secret_key, found.id, found.token_salt)
    with TestClient(app) as mail_client:  # no cookies at all, like a mail provider
        answer = mail_client.post(
            f"/unsubscribe/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "private, no-store"
        assert "location" not in answer.headers
        after = row(mail_client)
        assert after.status == "unsubscribed"
        assert after.status_changed_at is not None
        again = mail_client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert again.status_code == 200  # idempotent


def test_rfc8058_also_accepts_multipart(client: TestClient, mailer: Mailbox) -> None:
    token = subscribed(client, mailer).rsplit("/", 1)[1]
    client.cookies.clear()
    answer = client.post(f"/unsubscribe/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    assert answer.status_code == 200
    assert row(client).status == "unsubscribed"


def test_rfc8058_refuses_tampered_tokens_and_missing_bodies(
    client: TestClient, mailer: Mailbox
) -> None:
    token = subscribed(client, mailer).rsplit("/", 1)[1]
    client.cookies.clear()
    one_click = {"List-Unsubscribe": "One-Click"}
    tampered = token[:-1] + ("A" if not token.endswith("A") else "B")
    for bad in (tampered, "nonsense", f"{int(token.split('.')[0]) + 1}.{token.split('.')[1]}"):
        assert client.post(f"/unsubscribe/{bad}", data=one_click).status_code == 404
    assert client.post(f"/unsubscribe/{token}", data={}).status_code == 400
    assert client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "yes"}).status_code == 400
    assert row(client).status == "confirmed"


def test_rfc8058_get_shows_a_page_and_does_not_unsubscribe(
    client: TestClient, mailer: Mailbox
) -> None:
    token = subscribed(client, mailer).rsplit("/", 1)[1]
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert f'action="/unsubscribe/{token}/confirm"' in page.text
    assert row(client).status == "confirmed"
    assert client.post(f"/unsubscribe/{token}/confirm").status_code == 403  # CSRF-protected
    assert row(client).status == "confirmed"
    done = client.post(f"/unsubscribe/{token}/confirm", data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200
    assert row(client).status == "unsubscribed"
    assert client.get(f"/unsubscribe/{token[:-1]}x").status_code == 404


def test_rotating_the_salt_revokes_links(client: TestClient, mailer: Mailbox) -> None:
    token = subscribed(client, mailer).rsplit("/", 1)[1]
    with client.app.state.db.write() as conn:  # type: ignore[attr-defined]
        conn.execute(subscriber.update().values(token_salt="rotated"))
    assert (
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 404
    )
    assert row(client).status == "confirmed"


def test_resubscribing_after_unsubscribing_needs_a_new_confirmation(
    client: TestClient, mailer: Mailbox
) -> None:
    token = subscribed(client, mailer).rsplit("/", 1)[1]
    client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    subscribe(client, "ann@example.org", frequency="weekly")
    assert mailer.link().startswith("/subscribe/confirm/")
    assert (row(client).status, row(client).frequency) == ("pending", "weekly")
    assert confirm(client, mailer.link()).status_code == 200
    assert row(client).status == "confirmed"


def test_a_signed_in_member_subscribes_from_settings_with_their_upvotes(
    client: TestClient, mailer: Mailbox
) -> None:
    sign_up(client, "alice")
    settings = client.get("/settings").text
    assert 'id="digest-email"' in settings
    assert 'value="alice@example.org"' in settings
    data = {
        "csrf_token": page_token(client),
        "email": "alice@example.org",
        "frequency": "daily",
        "like_upvotes": "1",
    }
    assert client.post("/subscribe", data=data).status_code == 200
    found = row(client, "alice@example.org")
    assert found.user_id is not None
    assert found.topics["like_upvotes"] is True
    other = client.post("/subscribe", data={**data, "email": "bob@example.org"})
    assert other.status_code == 400
    assert "Only your account" in other.text
    assert len(mailer.sent) == 1
