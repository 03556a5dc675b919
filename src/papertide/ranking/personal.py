"""For you as a service (issue #14): a member's upvotes and a day's papers, ranked.

One ranker serves the page (`ForYouService.for_you`: a day's papers), the digest's and the
personal feed's "papers like the ones I upvote" (`ForYouService.liked_among`: an edition's
papers); it reads through db/ and ranks with the pure papertide.ranking.foryou. The corpus's
term statistics (IDF) are counted once per process, on first use or by `warm()` (about 10 s
at 80k papers, docs/for-you.md), and each paper's vector is kept, so a request reads two short
lists and sums a few thousand numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from threading import Lock

from sqlalchemy import Connection

from papertide.db import feedback, votes
from papertide.db import foryou as stored
from papertide.db import lists as list_rows
from papertide.db.engine import Database
from papertide.models import Account
from papertide.ranking.foryou import Paper, PaperVectors, Scored, TermStatistics, rank


@dataclass(frozen=True, slots=True)
class ForYouDay:
    """A day's papers ranked for one member, best first, and how many papers it learned from
    (`upvotes`: upvoted, saved to a list, or marked "more like this")."""

    day: dt.date
    ranked: list[Scored]
    upvotes: int
    marked: dict[str, int] = field(default_factory=dict)  # "more like this" +1 / "not for me" -1


def _paper(text: stored.PaperText) -> Paper:
    return Paper(text.arxiv_id, text.title, text.abstract, text.categories)


class ForYouService:
    """For you over one database; holds its corpus statistics and paper vectors."""

    def __init__(self, db: Database, cached_papers: int = 50_000) -> None:
        self.db = db
        self.cached_papers = cached_papers
        self._vectors: PaperVectors | None = None
        self._lock = Lock()

    def warm(self) -> PaperVectors:
        """Count the corpus's term statistics now (the first request does it otherwise)."""
        with self._lock:
            if self._vectors is None:
                with self.db.read() as conn:
                    stats = TermStatistics.from_texts(stored.all_texts(conn))
                self._vectors = PaperVectors(stats, self.cached_papers)
            return self._vectors

    def for_you(self, account: Account, day: dt.date, not_for_me: Sequence[str] = ()) -> ForYouDay:
        """`day`'s papers ranked for `account` from what they upvoted, saved to a list or marked
        "more like this", less what they marked "not for me" (and `not_for_me` ids)."""
        with self.db.read() as conn:
            taste = _taste(conn, account.id, not_for_me)
            candidates = [_paper(p) for p in stored.day_papers(conn, day)]
        ranked = rank(taste.positives, candidates, self._vectors or self.warm(), taste.negatives)
        return ForYouDay(day, ranked, len(taste.positives), taste.marked)

    def liked_among(self, user_id: int, candidates: Sequence[str]) -> list[Scored]:
        """Of `candidates` (an edition's papers), those For you finds close to a paper the
        member likes (`Scored.close` > 0), best first: the digest's "like my upvotes"."""
        with self.db.read() as conn:
            taste = _taste(conn, user_id)
            if not taste.positives:
                return []
            papers = [_paper(p) for p in stored.papers_by_ids(conn, sorted(set(candidates)))]
        vectors = self._vectors or self.warm()
        ranked = rank(taste.positives, papers, vectors, taste.negatives, explained=len(papers))
        return [s for s in ranked if s.close]


@dataclass(frozen=True, slots=True)
class _Taste:
    positives: list[Paper]
    negatives: list[Paper]
    marked: dict[str, int]


def _taste(conn: Connection, user_id: int, not_for_me: Sequence[str] = ()) -> _Taste:
    """What a member likes (upvoted, saved to a list, "more like this") and does not ("not for
    me", and `not_for_me`), as the ranker reads papers."""
    marked = feedback.signals(conn, user_id)
    liked = votes.upvoted_ids(conn, user_id) | list_rows.saved_ids(conn, user_id)
    liked |= {pid for pid, signal in marked.items() if signal > 0}
    disliked = {pid for pid, signal in marked.items() if signal < 0} | set(not_for_me)
    positives = [_paper(p) for p in stored.papers_by_ids(conn, sorted(liked - disliked))]
    negatives = [_paper(p) for p in stored.papers_by_ids(conn, sorted(disliked))]
    return _Taste(positives, negatives, marked)
