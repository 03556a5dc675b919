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
import threading
from collections import OrderedDict
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
    return Paper(
        text.arxiv_id,
        text.title,
        text.abstract,
        text.categories,
        text.comments,
        text.repository,
        text.project_page,
    )


class ForYouService:
    """For you over one database; holds its corpus statistics and paper vectors."""

    def __init__(self, db: Database, cached_papers: int = 50_000, cached_sets: int = 64) -> None:
        self.db = db
        self.cached_papers = cached_papers
        self.cached_sets = cached_sets
        self._vectors: PaperVectors | None = None
        self._lock = Lock()
        # Papers as the ranker reads them, by day and by id, valid while no paper changes
        # (`paper.revision`): a request then reads ids only, not 700 titles and abstracts.
        self._revision = -1
        self._local = threading.local()  # the revision the calling thread's transaction read
        self._days: OrderedDict[dt.date, list[Paper]] = OrderedDict()
        self._papers: OrderedDict[str, Paper] = OrderedDict()

    def warm(self) -> PaperVectors:
        """Count the corpus's term statistics now (the first request does it otherwise)."""
        with self._lock:
            if self._vectors is None:
                with self.db.read() as conn:
                    stats = TermStatistics.from_texts(stored.all_texts(conn))
                self._vectors = PaperVectors(stats, self.cached_papers, self.cached_sets)
            return self._vectors

    def for_you(self, account: Account, day: dt.date, not_for_me: Sequence[str] = ()) -> ForYouDay:
        """`day`'s papers ranked for `account` from what they upvoted, saved to a list or marked
        "more like this", less what they marked "not for me" (and `not_for_me` ids)."""
        with self.db.read() as conn:
            self._check_revision(conn)
            taste = self._taste(conn, account.id, not_for_me)
            candidates = self._day(conn, day)
        vectors = self._vectors or self.warm()
        ranked = rank(taste.positives, candidates, vectors, taste.negatives, keep_liked=True)
        return ForYouDay(day, ranked, len(taste.positives), taste.marked)

    def liked_among(self, user_id: int, candidates: Sequence[str]) -> list[Scored]:
        """Of `candidates` (an edition's papers), those For you finds close to a paper the
        member likes (`Scored.close` > 0), best first: the digest's "like my upvotes"."""
        with self.db.read() as conn:
            self._check_revision(conn)
            taste = self._taste(conn, user_id)
            if not taste.positives:
                return []
            papers = self._by_ids(conn, sorted(set(candidates)))
        vectors = self._vectors or self.warm()
        ranked = rank(taste.positives, papers, vectors, taste.negatives, explained=len(papers))
        return [s for s in ranked if s.close]

    def _check_revision(self, conn: Connection) -> None:
        """Forget the cached papers if any paper changed. The caches are written only while
        this transaction's revision is still the current one, so a request that read older
        rows never stores them under a newer revision."""
        revision = stored.papers_revision(conn)
        with self._lock:
            if revision != self._revision:
                self._days.clear()
                self._papers.clear()
                self._revision = revision
        self._local.revision = revision

    def _current(self) -> bool:
        return getattr(self._local, "revision", None) == self._revision

    def _day(self, conn: Connection, day: dt.date) -> list[Paper]:
        with self._lock:
            found = self._days.get(day)
            if found is not None:
                self._days.move_to_end(day)
                return found
        found = [_paper(p) for p in stored.day_papers(conn, day)]
        with self._lock:
            if not self._current():
                return found
            self._days[day] = found
            while len(self._days) > 8:
                self._days.popitem(last=False)
        return found

    def _by_ids(self, conn: Connection, ids: Sequence[str]) -> list[Paper]:
        """The papers of `ids` that exist, by id; from the cache where it has them."""
        with self._lock:
            known = {pid: self._papers[pid] for pid in ids if pid in self._papers}
        missing = [pid for pid in ids if pid not in known]
        read = {p.arxiv_id: _paper(p) for p in stored.papers_by_ids(conn, missing)}
        with self._lock:
            if self._current():
                for pid in known:
                    self._papers.move_to_end(pid)
                self._papers.update(read)
                while len(self._papers) > self.cached_papers:
                    self._papers.popitem(last=False)
        return [found for pid in ids if (found := known.get(pid) or read.get(pid)) is not None]

    def _taste(self, conn: Connection, user_id: int, not_for_me: Sequence[str] = ()) -> _Taste:
        """What a member likes (upvoted, saved to a list, "more like this") and does not ("not
        for me", and `not_for_me`), as the ranker reads papers."""
        marked = feedback.signals(conn, user_id)
        liked = votes.upvoted_ids(conn, user_id) | list_rows.saved_ids(conn, user_id)
        liked |= {pid for pid, signal in marked.items() if signal > 0}
        disliked = {pid for pid, signal in marked.items() if signal < 0} | set(not_for_me)
        positives = self._by_ids(conn, sorted(liked - disliked))
        return _Taste(positives, self._by_ids(conn, sorted(disliked)), marked)


@dataclass(frozen=True, slots=True)
class _Taste:
    positives: list[Paper]
    negatives: list[Paper]
    marked: dict[str, int]
