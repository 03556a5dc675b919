"""Followed authors and saved searches (issue #14).

A member follows an author by name (as arXiv writes it: search/authors.py) and saves any
search (its words and its category, code and featured filters; dates are left out, since a
saved search is for what is new). Both feed the member's personal feed (the new papers of
each) and their daily digest (as topics, next to their subscription's own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from papertide.clock import utcnow
from papertide.db import follows as rows
from papertide.db.engine import Database
from papertide.db.follows import Follow
from papertide.db.fts import Filters
from papertide.models import Account
from papertide.search.authors import name_key

MAX_NAME, MAX_QUERY = 300, 500


class FollowProblem(ValueError):
    """A follow that cannot be made; the message says why."""


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A saved search: its words and filters (no dates)."""

    q: str = ""
    category: str = ""
    code: bool = False
    featured: bool = False

    @classmethod
    def parse(cls, value: str) -> SavedSearch:
        fields = {k: v[0] for k, v in parse_qs(value, keep_blank_values=False).items()}
        return cls(
            q=" ".join(fields.get("q", "").split())[:MAX_QUERY],
            category=fields.get("category", "")[:40],
            code=fields.get("code") == "1",
            featured=fields.get("featured") == "1",
        )

    @property
    def value(self) -> str:
        params = {"q": self.q, "category": self.category, "code": "1" if self.code else ""}
        params["featured"] = "1" if self.featured else ""
        return urlencode({k: v for k, v in params.items() if v})

    def filters(self, since: dt.date | None = None) -> Filters:
        return Filters(
            date_from=since,
            category=self.category or None,
            has_code=self.code,
            featured=self.featured,
        )

    def describe(self) -> str:
        parts = [f"“{self.q}”"] if self.q else ["every paper"]
        if self.category:
            parts.append(f"in {self.category}")
        if self.code:
            parts.append("with code")
        if self.featured:
            parts.append("featured")
        return " ".join(parts)

    @property
    def url(self) -> str:
        return "/papers?" + self.value


def follow_author(db: Database, account: Account, name: str) -> bool:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise FollowProblem("That is not an author's name.")
    with db.write() as conn:
        if rows.count(conn, account.id, "author") >= rows.MAX_FOLLOWS:
            raise FollowProblem(f"You follow {rows.MAX_FOLLOWS} authors: unfollow one first.")
        return rows.add(conn, account.id, "author", name, name_key(name), utcnow())


def save_search(db: Database, account: Account, search: SavedSearch) -> bool:
    if not (search.q or search.category):
        raise FollowProblem("Save a search with words or a category: this one has neither.")
    with db.write() as conn:
        if rows.count(conn, account.id, "search") >= rows.MAX_FOLLOWS:
            raise FollowProblem(f"You have {rows.MAX_FOLLOWS} saved searches: remove one first.")
        return rows.add(conn, account.id, "search", search.value, search.value.lower(), utcnow())


def unfollow(db: Database, account: Account, follow_id: int) -> bool:
    with db.write() as conn:
        return rows.remove(conn, account.id, follow_id)


def following_author(db: Database, account: Account, name: str) -> int | None:
    with db.read() as conn:
        return rows.following(conn, account.id, "author", name_key(name))


def of_member(db: Database, account: Account) -> tuple[list[Follow], list[Follow]]:
    """(followed authors, saved searches), oldest first."""
    with db.read() as conn:
        found = rows.of_user(conn, account.id)
    return [f for f in found if f.kind == "author"], [f for f in found if f.kind == "search"]
