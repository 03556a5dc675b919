"""Sign-up, log-in, password change, deletion and the first admin, against a real database."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest
import sqlalchemy as sa
from tests.auth.conftest import PASSWORD, make_account

from papertide.auth import accounts, sessions
from papertide.auth.accounts import FormErrors
from papertide.db import Database, queries, votes
from papertide.db import accounts as account_rows
from papertide.db.schema import comment, daily_entry, upvote, user

DAY = dt.timedelta(days=1)


def _stored_hash(db: Database, username: str) -> str | None:
    with db.read() as conn:
        query = sa.select(user.c.password_hash).where(user.c.username_key == username.lower())
        value: str | None = conn.execute(query).scalar()
    return value


def test_sign_up_stores_an_argon2id_hash_and_keys(db: Database) -> None:
    account = accounts.sign_up(db, " Alice ", "Alice@Example.org", PASSWORD, min_password_length=10)
    assert (account.username, account.email, account.role, account.origin) == (
        "Alice",
        "Alice@Example.org",
        "member",
        "local",
    )
    stored = _stored_hash(db, "alice")
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [("ALICE", "other@example.org", "username"), ("bob", "ALICE@example.ORG", "email")],
)
def test_duplicates_are_refused_ignoring_case(
    db: Database, username: str, email: str, field: str
) -> None:
    make_account(db, "alice")
    with pytest.raises(FormErrors) as refused:
        accounts.sign_up(db, username, email, PASSWORD, min_password_length=10)
    assert field in refused.value.errors
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(user)).scalar_one() == 1


def test_an_imported_username_is_not_taken_over(db: Database, papers: list[str]) -> None:
    with pytest.raises(FormErrors) as refused:
        accounts.sign_up(db, "AKhaliq", "ak@example.org", PASSWORD, min_password_length=10)
    assert refused.value.errors["username"] == accounts.IMPORTED_USERNAME
    with db.read() as conn:
        imported = account_rows.account_by_username(conn, "akhaliq")
    assert imported is not None and imported.origin == "hf"
    assert _stored_hash(db, "akhaliq") is None
    # And nobody can log in as the imported user.
    assert accounts.authenticate(db, "akhaliq", "") is None


@pytest.mark.parametrize(
    ("username", "email", "password", "fields"),
    [
        ("a", "a@example.org", PASSWORD, {"username"}),
        ("bad name", "x@example.org", PASSWORD, {"username"}),
        ("admin", "x@example.org", PASSWORD, {"username"}),
        ("has@sign", "x@example.org", PASSWORD, {"username"}),
        ("carol", "not-an-email", PASSWORD, {"email"}),
        ("carol", "carol@example.org", "password123", {"password"}),
        ("x", "nope", "short", {"username", "email", "password"}),
    ],
)
def test_invalid_sign_ups_say_what_to_fix(
    db: Database, username: str, email: str, password: str, fields: set[str]
) -> None:
    with pytest.raises(FormErrors) as refused:
        accounts.sign_up(db, username, email, password, min_password_length=10)
    assert set(refused.value.errors) == fields


def test_log_in_by_username_or_email_in_any_case(db: Database) -> None:
    account = make_account(db, "alice")
    for login in ("alice", "ALICE", "alice@example.org", " Alice@Example.ORG "):
        found = accounts.authenticate(db, login, PASSWORD)
        assert found is not None and found.id == account.id
    assert accounts.authenticate(db, "alice", PASSWORD.upper()) is None
    assert accounts.authenticate(db, "nobody", PASSWORD) is None


def _median_seconds(action: object, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_unknown_user_takes_as_long_as_a_wrong_password(db: Database) -> None:
    make_account(db, "alice")
    accounts.authenticate(db, "nobody", "warm up the dummy hash")
    wrong = _median_seconds(lambda: accounts.authenticate(db, "alice", "wrong password!"))
    unknown = _median_seconds(lambda: accounts.authenticate(db, "nobody", "wrong password!"))
    assert wrong > 0.005  # a real argon2 verification happened
    assert 0.5 < unknown / wrong < 2.0


def test_suspended_accounts_authenticate_but_their_sessions_do_not_work(db: Database) -> None:
    account = make_account(db, "alice")
    token = sessions.start(db, account.id, DAY)
    assert sessions.account_for(db, token) is not None
    with db.write() as conn:
        account_rows.set_suspended(conn, account.id, dt.datetime(2026, 1, 1))
    found = accounts.authenticate(db, "alice", PASSWORD)
    assert found is not None and found.suspended  # the log-in page refuses it
    assert sessions.account_for(db, token) is None
    token = sessions.start(db, account.id, DAY)  # even a session made anyway is refused
    assert sessions.account_for(db, token) is None


def test_password_change_ends_every_session_and_starts_one(db: Database) -> None:
    account = make_account(db, "alice")
    old = [sessions.start(db, account.id, DAY) for _ in range(3)]
    with pytest.raises(FormErrors) as refused:
        accounts.change_password(
            db, account, "not it", "a new tide rising", min_password_length=10, lifetime=DAY
        )
    assert "current_password" in refused.value.errors
    with pytest.raises(FormErrors) as refused:
        accounts.change_password(
            db, account, PASSWORD, "12345678", min_password_length=10, lifetime=DAY
        )
    assert "new_password" in refused.value.errors
    new = accounts.change_password(
        db, account, PASSWORD, "a new tide rising", min_password_length=10, lifetime=DAY
    )
    assert all(sessions.account_for(db, token) is None for token in old)
    assert sessions.account_for(db, new) == account
    assert accounts.authenticate(db, "alice", PASSWORD) is None
    assert accounts.authenticate(db, "alice", "a new tide rising") is not None


def test_deleting_an_account_removes_votes_and_keeps_anonymised_content(
    db: Database, papers: list[str]
) -> None:
    account = make_account(db, "alice")
    other = make_account(db, "bob")
    now = dt.datetime(2026, 8, 21)
    with db.write() as conn:
        for voter in (account, other):
            votes.set_upvote(conn, voter.id, papers[0], True, now)
        conn.execute(daily_entry.update().values(submitted_by=account.id))
        conn.execute(
            comment.insert().values(
                paper_id=papers[0], user_id=account.id, body="Nice", created_at=now
            )
        )
        before = queries.content_version(conn)
    token = sessions.start(db, account.id, DAY)
    with pytest.raises(FormErrors) as refused:
        accounts.delete_account(db, account, "wrong password", "alice")
    assert "password" in refused.value.errors
    with pytest.raises(FormErrors) as refused:
        accounts.delete_account(db, account, PASSWORD, "bob")
    assert "confirm" in refused.value.errors

    accounts.delete_account(db, account, PASSWORD, "ALICE")
    with db.read() as conn:
        assert account_rows.account_by_username(conn, "alice") is None
        assert conn.execute(sa.select(upvote.c.user_id)).scalars().all() == [other.id]
        assert conn.execute(sa.select(comment.c.user_id, comment.c.body)).all() == [(None, "Nice")]
        assert conn.execute(sa.select(daily_entry.c.submitted_by)).scalars().all() == [None]
        detail = queries.get_paper(conn, papers[0])
        assert queries.content_version(conn) > before
    assert detail is not None and detail.upvotes == 92 + 1
    assert sessions.account_for(db, token) is None
    # The name is free again; nothing of the old account comes with it.
    again = make_account(db, "alice")
    with db.read() as conn:
        assert votes.upvoted_ids(conn, again.id) == set()


def test_the_last_admin_cannot_delete_itself(db: Database) -> None:
    admin = make_account(db, "root", role="admin")
    with pytest.raises(FormErrors) as refused:
        accounts.delete_account(db, admin, PASSWORD, "root")
    assert "form" in refused.value.errors
    make_account(db, "second", role="admin")
    accounts.delete_account(db, admin, PASSWORD, "root")
    with db.read() as conn:
        assert account_rows.count_admins(conn) == 1


def test_create_admin_needs_a_stronger_password(db: Database) -> None:
    with pytest.raises(FormErrors) as refused:
        accounts.create_admin(db, "admin", "admin@example.org", "eleven char", 10)
    assert "at least 12" in refused.value.errors["password"]
    admin = accounts.create_admin(db, "admin", "admin@example.org", "twelve chars!", 10)
    assert admin.is_admin and admin.is_curator and admin.username == "admin"
