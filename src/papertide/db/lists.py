"""Reading lists (issue #14): rows of `reading_list` and `reading_list_item`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from papertide.db.schema import paper, reading_list, reading_list_item, user

MAX_LISTS = 100  # per member
MAX_ITEMS = 5_000  # per list


@dataclass(frozen=True, slots=True)
class ReadingList:
    id: int
    user_id: int
    owner: str  # the owner's username
    name: str
    public: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    size: int


@dataclass(frozen=True, slots=True)
class Item:
    paper_id: str
    note: str
    added_at: dt.datetime


_SIZE = (
    sa.select(sa.func.count())
    .where(reading_list_item.c.list_id == reading_list.c.id)
    .scalar_subquery()
    .label("size")
)
_SELECT = sa.select(reading_list, user.c.username.label("owner"), _SIZE).select_from(
    reading_list.join(user, user.c.id == reading_list.c.user_id)
)


def _list(row: Any) -> ReadingList:
    return ReadingList(
        id=row.id,
        user_id=row.user_id,
        owner=row.owner,
        name=row.name,
        public=bool(row.public),
        created_at=row.created_at,
        updated_at=row.updated_at,
        size=int(row.size),
    )


def create(conn: sa.Connection, user_id: int, name: str, public: bool, now: dt.datetime) -> int:
    result = conn.execute(
        reading_list.insert().values(
            user_id=user_id, name=name, public=public, created_at=now, updated_at=now
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get(conn: sa.Connection, list_id: int) -> ReadingList | None:
    row = conn.execute(_SELECT.where(reading_list.c.id == list_id)).first()
    return _list(row) if row else None


def of_user(conn: sa.Connection, user_id: int, public_only: bool = False) -> list[ReadingList]:
    """A member's lists, most recently changed first."""
    query = _SELECT.where(reading_list.c.user_id == user_id)
    if public_only:
        query = query.where(reading_list.c.public == sa.true())
    query = query.order_by(reading_list.c.updated_at.desc(), reading_list.c.id.desc())
    return [_list(row) for row in conn.execute(query)]


def count_of_user(conn: sa.Connection, user_id: int) -> int:
    query = sa.select(sa.func.count()).where(reading_list.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def update(conn: sa.Connection, list_id: int, name: str, public: bool, now: dt.datetime) -> None:
    conn.execute(
        reading_list.update()
        .where(reading_list.c.id == list_id)
        .values(name=name, public=public, updated_at=now)
    )


def delete(conn: sa.Connection, list_id: int) -> None:
    conn.execute(reading_list_item.delete().where(reading_list_item.c.list_id == list_id))
    conn.execute(reading_list.delete().where(reading_list.c.id == list_id))


def items(conn: sa.Connection, list_id: int) -> list[Item]:
    """A list's papers, most recently added first."""
    item = reading_list_item.c
    query = (
        sa.select(item.paper_id, item.note, item.added_at)
        .where(item.list_id == list_id)
        .order_by(item.added_at.desc(), item.paper_id)
    )
    return [Item(row.paper_id, row.note, row.added_at) for row in conn.execute(query)]


def save(conn: sa.Connection, list_id: int, paper_id: str, note: str, now: dt.datetime) -> bool:
    """Put a paper on a list (or change its note); True when it was not there before."""
    known = conn.execute(
        sa.select(reading_list_item.c.paper_id).where(
            reading_list_item.c.list_id == list_id, reading_list_item.c.paper_id == paper_id
        )
    ).first()
    if known is not None:
        conn.execute(
            reading_list_item.update()
            .where(reading_list_item.c.list_id == list_id, reading_list_item.c.paper_id == paper_id)
            .values(note=note)
        )
    else:
        conn.execute(
            reading_list_item.insert().values(
                list_id=list_id, paper_id=paper_id, note=note, added_at=now
            )
        )
    conn.execute(reading_list.update().where(reading_list.c.id == list_id).values(updated_at=now))
    return known is None


def size(conn: sa.Connection, list_id: int) -> int:
    query = sa.select(sa.func.count()).where(reading_list_item.c.list_id == list_id)
    return int(conn.execute(query).scalar_one())


def remove(conn: sa.Connection, list_id: int, paper_id: str, now: dt.datetime) -> bool:
    result = conn.execute(
        reading_list_item.delete().where(
            reading_list_item.c.list_id == list_id, reading_list_item.c.paper_id == paper_id
        )
    )
    conn.execute(reading_list.update().where(reading_list.c.id == list_id).values(updated_at=now))
    return bool(result.rowcount)


def lists_holding(conn: sa.Connection, user_id: int, paper_id: str) -> set[int]:
    """Which of a member's lists hold a paper."""
    query = (
        sa.select(reading_list_item.c.list_id)
        .join(reading_list, reading_list.c.id == reading_list_item.c.list_id)
        .where(reading_list.c.user_id == user_id, reading_list_item.c.paper_id == paper_id)
    )
    return set(conn.execute(query).scalars())


def ids_by_doi(conn: sa.Connection, dois: Sequence[str]) -> dict[str, str]:
    """Paper ids by lowercased DOI, for the given DOIs (an import matching its entries)."""
    wanted = sorted({doi.lower() for doi in dois if doi})
    if not wanted:
        return {}
    query = sa.select(paper.c.id, paper.c.doi).where(sa.func.lower(paper.c.doi).in_(wanted))
    return {row.doi.lower(): row.id for row in conn.execute(query)}


def ids_by_title_key(conn: sa.Connection, keys: Sequence[str]) -> dict[str, str]:
    """Paper ids by folded title (papertide.text.title_key), for exact-title matching."""
    wanted = sorted({key for key in keys if key})
    if not wanted:
        return {}
    query = sa.select(paper.c.id, paper.c.title_key).where(paper.c.title_key.in_(wanted))
    found: dict[str, str] = {}
    for row in conn.execute(query.order_by(paper.c.id)):
        found.setdefault(row.title_key, row.id)
    return found


def known_ids(conn: sa.Connection, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    return set(conn.execute(sa.select(paper.c.id).where(paper.c.id.in_(list(set(ids))))).scalars())


def saved_ids(conn: sa.Connection, user_id: int) -> set[str]:
    """Every paper on any of the member's lists (what For you learns from, with upvotes)."""
    query = (
        sa.select(reading_list_item.c.paper_id)
        .join(reading_list, reading_list.c.id == reading_list_item.c.list_id)
        .where(reading_list.c.user_id == user_id)
    )
    return set(conn.execute(query).scalars())
