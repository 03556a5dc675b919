"""/admin/digests counts each edition's deliveries; the bounce webhook suppresses addresses."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.digest.test_send import add_edition, address

from papertide.config import Settings
from papertide.db.schema import delivery, subscriber
from papertide.web.app import create_app

TOKEN = "a-long-admin-token-for-tests"
BOUNCE_TOKEN = "a-long-bounce-token-for-tests"


def make_client(tmp_path: Path, **changes: object) -> TestClient:
    values: dict[str, object] = {"data_dir": tmp_path / "data", "load_demo": False}
    return TestClient(create_app(Settings(**(values | changes))))  # type: ignore[arg-type]


def test_editions_are_listed_with_counts_for_admins_only(tmp_path: Path) -> None:
    client = make_client(tmp_path, admin_token=TOKEN)
    db = client.app.state.db  # type: ignore[attr-defined]
    edition_id = add_edition(db, ["confirmed"] * 7)
    with db.write() as conn:
        for number, status in enumerate(
            ["sent", "sent", "sent", "failed", "suppressed", "skipped"]
        ):
            conn.execute(
                delivery.update()
                .where(delivery.c.subscriber_id == number + 1)
                .values(status=status)
            )
    assert client.get("/admin/digests").status_code == 401
    page = client.get("/admin/digests", auth=("admin", TOKEN))
    assert page.status_code == 200
    row = page.text.split(f'data-edition="{edition_id}"')[1].split("</tr>")[0]
    cells = {
        status: row.split(f'class="count-{status}">')[1].split("<")[0]
        for status in ("sent", "pending", "failed", "suppressed", "skipped")
    }
    assert cells == {"sent": "3", "pending": "1", "failed": "1", "suppressed": "1", "skipped": "1"}
    assert "2026-11-27" in row


def test_the_bounce_webhook_needs_its_token_and_suppresses(tmp_path: Path) -> None:
    off = make_client(tmp_path / "off")
    assert off.post("/api/digest/bounce", json={"email": "a@example.org"}).status_code == 404

    client = make_client(tmp_path, digest_bounce_token=BOUNCE_TOKEN)
    db = client.app.state.db  # type: ignore[attr-defined]
    add_edition(db, ["confirmed"] * 2)
    event = {"email": address(1).upper(), "type": "complaint", "reason": "abuse report"}
    wrong = client.post("/api/digest/bounce", json=event, headers={"Authorization": "Bearer no"})
    assert wrong.status_code == 401
    headers = {"Authorization": f"Bearer {BOUNCE_TOKEN}"}
    answer = client.post("/api/digest/bounce", json=event, headers=headers)
    assert answer.status_code == 200 and answer.json()["suppressed"] is True
    unknown = client.post("/api/digest/bounce", json={"email": "x@example.org"}, headers=headers)
    assert unknown.json()["suppressed"] is False
    with db.read() as conn:
        rows = dict(conn.execute(sa.select(subscriber.c.email, subscriber.c.status)).all())
        reason = conn.execute(
            sa.select(subscriber.c.suppressed_reason).where(subscriber.c.email == address(1))
        ).scalar_one()
    assert rows == {address(0): "confirmed", address(1): "suppressed"}
    assert reason == "complaint: abuse report"
