"""Followed authors and saved searches (issue #14).

A member follows an author by name (as arXiv writes it: search/authors.py) and saves any
search (its words and its category, code and featured filters; dates are left out, since a
saved search is for what is new). Both feed the member's personal feed (the new papers of
each), their For-you page (that day's) and their daily digest (as topics, next to their
subscription's own). `news` is the one place that finds a member's followed papers between two
dates, for the page and the feed; the digest applies the same two rules (the whole name; the
saved search's words and category) to its edition's papers (digest/editions.TopicMatcher).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from papertide.clock import utcnow
from papertide.db import follows as rows
from papertide.db import queries
from papertide.db.engine import Database
from papertide.db.follows import Follow
from papertide.db.fts import Filters
from papertide.models import Account, PaperCard
from papertide.search.authors import name_key
from papertide.search.keyword import author_ids

if TYPE_CHECKING:
    from papertide.search.service import SearchService

MAX_NAME, MAX_QUERY = 300, 500
NEWS_PER_FOLLOW = 100  # at most this many papers of one followed author or saved search


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

    @property
    def feed_url(self) -> str:
        """Its matches as an Atom feed (the same search, web/routes/syndication.py)."""
        return "/feeds/search.atom?" + self.value


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


def news(
    db: Database,
    search: SearchService,
    account: Account,
    since: dt.date,
    until: dt.date | None = None,
    per_follow: int = NEWS_PER_FOLLOW,
) -> list[tuple[PaperCard, str]]:
    """The papers first listed from `since` to `until` (both included; no end without it) by
    the authors the member follows, then those their saved searches find, newest first within
    each, each with the reason it is there; no paper twice."""
    authors, searches = of_member(db, account)
    found: dict[str, tuple[PaperCard, str]] = {}
    window = Filters(date_from=since, date_to=until)
    for item in authors:
        wanted = name_key(item.value)
        with db.read() as conn:
            ids = author_ids(conn, item.value, filters=window, limit=per_follow)
            cards = queries.cards_by_ids(conn, ids)
        why = f"By {item.value}, whom you follow."
        for card in sorted(cards, key=lambda c: ids.index(c.arxiv_id)):
            if any(name_key(a) == wanted for a in card.authors):
                found.setdefault(card.arxiv_id, (card, why))
    for item in searches:
        saved = SavedSearch.parse(item.value)
        filters = replace(saved.filters(since), date_to=until)
        why = f"Matches your saved search {saved.describe()}."
        for card in search.run(saved.q, filters, per_page=per_follow).cards:
            found.setdefault(card.arxiv_id, (card, why))
    return list(found.values())
