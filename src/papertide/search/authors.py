"""Author pages (issue #14): a name's papers, its co-authors and its categories.

Names are matched as arXiv writes them, letter case and spacing aside: there is no author
identity behind a name here. Two people who share a name share a page, and one person who
signs two ways has two. The page says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from papertide.db import queries
from papertide.models import PaperCard
from papertide.search.keyword import author_ids

MAX_PAPERS = 500  # the newest this many of a name's papers make its page
SHOWN_COAUTHORS, SHOWN_CATEGORIES = 20, 12


def name_key(name: str) -> str:
    """What two spellings of a name must share to be the same name here."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class AuthorPage:
    name: str  # as the newest paper writes it
    papers: list[PaperCard]  # newest first
    coauthors: list[tuple[str, int]]  # most frequent first
    categories: list[tuple[str, int]]


def author_page(conn: sa.Connection, name: str) -> AuthorPage | None:
    """The papers of exactly `name` (case and spacing aside), or None when there are none."""
    wanted = name_key(name)
    if not wanted:
        return None
    ids = author_ids(conn, name, limit=MAX_PAPERS)
    cards = [
        card
        for card in queries.cards_by_ids(conn, ids)
        if any(name_key(author) == wanted for author in card.authors)
    ]
    if not cards:
        return None
    written = next(a for a in cards[0].authors if name_key(a) == wanted)
    coauthors: Counter[str] = Counter()
    spelled: dict[str, str] = {}
    categories: Counter[str] = Counter()
    for card in cards:
        for author in card.authors:
            key = name_key(author)
            if key != wanted:
                coauthors[key] += 1
                spelled.setdefault(key, " ".join(author.split()))
        categories.update(card.categories)
    return AuthorPage(
        name=" ".join(written.split()),
        papers=cards,
        coauthors=[(spelled[k], n) for k, n in coauthors.most_common(SHOWN_COAUTHORS)],
        categories=categories.most_common(SHOWN_CATEGORIES),
    )
