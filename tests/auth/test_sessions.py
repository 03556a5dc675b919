"""Server-side sessions: random tokens, stored as digests, expiring, ended at log-out."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from tests.auth.conftest import make_account

from papertide.auth import sessions
from papertide.auth.tokens import derive, looks_like_token, same, token_digest
from papertide.db import Database
from papertide.db.schema import user_session

DAY = dt.timedelta(days=1)


def test_a_session_names_its_account_until_it_ends(db: Database) -> None:
    account = make_account(db)
    token = sessions.start(db, account.id, DAY)
    assert looks_like_token(token) and len(token) >= 43  # 256 random bits
    assert sessions.account_for(db, token) == account
    sessions.end(db, token)
    assert sessions.account_for(db, token) is None


def test_only_the_digest_is_stored(db: Database) -> None:
    account = make_account(db)
    token = sessions.start(db, account.id, DAY)
    with db.read() as conn:
        stored = conn.execute(sa.select(user_session.c.token_hash)).scalars().all()
    assert stored == [token_digest(token)] and token not in stored


def test_sessions_expire_and_expired_ones_are_purged(db: Database) -> None:
    account = make_account(db)
    then = dt.datetime(2026, 1, 1)
    old = sessions.start(db, account.id, DAY, now=then)
    assert sessions.account_for(db, old, now=then + DAY / 2) == account
    assert sessions.account_for(db, old, now=then + DAY) is None
    sessions.start(db, account.id, DAY)  # a log-in purges what has expired
    with db.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(user_session)).scalar_one()
    assert count == 1


def test_a_new_log_in_replaces_the_old_session(db: Database) -> None:
    account = make_account(db)
    first = sessions.start(db, account.id, DAY)
    second = sessions.start(db, account.id, DAY, replacing=first)
    assert first != second
    assert sessions.account_for(db, first) is None
    assert sessions.account_for(db, second) == account


def test_junk_tokens_are_refused_without_a_lookup(db: Database) -> None:
    for junk in ("", "short", "x" * 500, "a" * 40 + "'; DROP TABLE user; --"):
        assert sessions.account_for(db, junk) is None


def test_derived_tokens_depend_on_key_purpose_and_value() -> None:
    base = derive("k" * 16, "session-csrf", "token")
    assert same(base, derive("k" * 16, "session-csrf", "token"))
    assert not same(base, derive("j" * 16, "session-csrf", "token"))
    assert not same(base, derive("k" * 16, "anonymous-csrf", "token"))
    assert not same(base, derive("k" * 16, "session-csrf", "tokem"))
