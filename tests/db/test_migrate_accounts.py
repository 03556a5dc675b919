"""Migration 0007 (accounts): existing users keep working, sessions get their table."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from papertide.db import Database
from papertide.db.migrate import upgrade


def test_upgrade_from_0006_keeps_users_and_adds_sessions(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/old.db")
    upgrade(db, "0006")
    with db.write() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO user (username, username_key, role, origin, created_at) "
                "VALUES ('akhaliq', 'akhaliq', 'member', 'hf', :now)"
            ),
            {"now": dt.datetime(2025, 1, 1)},
        )
    upgrade(db)
    inspector = sa.inspect(db.engine)
    assert "suspended_at" in {c["name"] for c in inspector.get_columns("user")}
    assert {c["name"] for c in inspector.get_columns("user_session")} == {
        "token_hash",
        "user_id",
        "created_at",
        "expires_at",
    }
    assert {i["name"] for i in inspector.get_indexes("user_session")} >= {
        "ix_user_session_user_id",
        "ix_user_session_expires_at",
    }
    with db.read() as conn:
        row = conn.execute(sa.text("SELECT username, suspended_at FROM user")).one()
    assert tuple(row) == ("akhaliq", None)
    db.dispose()
