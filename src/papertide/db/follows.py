"""What members follow (issue #14): rows of `follow`, authors by name and saved searches."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from papertide.db.schema import follow, subscriber

Kind = Literal["author", "search"]
MAX_FOLLOWS = 200  # per member and kind


@dataclass(frozen=True, slots=True)
class Follow:
    id: int
    kind: str
    value: str
    created_at: dt.datetime


def add(
    conn: sa.Connection, user_id: int, kind: Kind, value: str, key: str, now: dt.datetime
) -> bool:
    """Follow (a repeat changes nothing); True when it is new."""
    exists = conn.execute(
        sa.select(follow.c.id).where(
            follow.c.user_id == user_id, follow.c.kind == kind, follow.c.value_key == key
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(
        follow.insert().values(
            user_id=user_id, kind=kind, value=value, value_key=key, created_at=now
        )
    )
    return True


def remove(conn: sa.Connection, user_id: int, follow_id: int) -> bool:
    result = conn.execute(
        follow.delete().where(follow.c.id == follow_id, follow.c.user_id == user_id)
    )
    return bool(result.rowcount)


def count(conn: sa.Connection, user_id: int, kind: Kind) -> int:
    query = sa.select(sa.func.count()).where(follow.c.user_id == user_id, follow.c.kind == kind)
    return int(conn.execute(query).scalar_one())


def of_user(conn: sa.Connection, user_id: int, kind: Kind | None = None) -> list[Follow]:
    query = sa.select(follow).where(follow.c.user_id == user_id)
    if kind is not None:
        query = query.where(follow.c.kind == kind)
    query = query.order_by(follow.c.created_at, follow.c.id)
    return [Follow(r.id, r.kind, r.value, r.created_at) for r in conn.execute(query)]


def following(conn: sa.Connection, user_id: int, kind: Kind, key: str) -> int | None:
    """The follow's id if the member follows it."""
    query = sa.select(follow.c.id).where(
        follow.c.user_id == user_id, follow.c.kind == kind, follow.c.value_key == key
    )
    found = conn.execute(query).scalar_one_or_none()
    return int(found) if found is not None else None


def of_users(conn: sa.Connection, user_ids: Sequence[int]) -> dict[int, list[Follow]]:
    """Each member's follows (the digest's batch of subscribers)."""
    found: dict[int, list[Follow]] = defaultdict(list)
    if not user_ids:
        return found
    query = (
        sa.select(follow)
        .where(follow.c.user_id.in_(sorted(set(user_ids))))
        .order_by(follow.c.created_at, follow.c.id)
    )
    for r in conn.execute(query):
        found[r.user_id].append(Follow(r.id, r.kind, r.value, r.created_at))
    return found


def of_subscribers(conn: sa.Connection) -> dict[int, list[Follow]]:
    """The follows of every subscriber linked to an account, by subscriber id (the sender's
    "why you get this": one query per edition, not one per message)."""
    query = (
        sa.select(subscriber.c.id.label("subscriber_id"), follow)
        .join(follow, follow.c.user_id == subscriber.c.user_id)
        .order_by(follow.c.created_at, follow.c.id)
    )
    found: dict[int, list[Follow]] = defaultdict(list)
    for r in conn.execute(query):
        found[r.subscriber_id].append(Follow(r.id, r.kind, r.value, r.created_at))
    return found
