"""Building a digest edition (issue #6): freeze the papers and every subscriber's selection.

`build_edition` picks the period (daily: the latest complete weekday with featured papers,
weekend papers joining Monday's; weekly: the latest complete ISO week with featured papers),
ranks the period's papers by the trending score (the same code as the trending page), then
writes one delivery per confirmed subscriber of that frequency, a batch per transaction.
It is idempotent (one edition per kind and period; a finished one is returned unchanged) and
resumable (a stopped build continues with the subscribers that have no delivery yet).

Topics are matched once per edition, not per subscriber: each distinct category, keyword and
saved search is looked up among the candidates the first time a subscriber names it, so
100,000 subscribers cost a few thousand lookups and 100,000 set unions. "Papers like the ones I
upvote" is For you's ranking (ranking/personal.py), per member: the edition's papers close to
what they upvoted, saved or marked "more like this", as the For-you page would say.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from papertide.db import editions as rows
from papertide.db import follows as follow_rows
from papertide.db import queries
from papertide.db import trending as trending_rows
from papertide.db.engine import Database
from papertide.db.follows import Follow
from papertide.digest.compose import (
    DigestPaper,
    Kind,
    Topics,
    category_matches,
    one_line,
    select,
)
from papertide.following import SavedSearch
from papertide.ranking.personal import ForYouService
from papertide.ranking.trending import TrendingParams, events_from_rows, score_papers, site_clock
from papertide.search import keyword
from papertide.search.authors import name_key

if TYPE_CHECKING:
    import sqlalchemy as sa

    from papertide.config import Settings

log = logging.getLogger(__name__)
BATCH_SIZE = 1000  # subscribers per transaction
Progress = Callable[[int, int], None]  # (subscribers done, subscribers to do)
_DEFAULT: Any = object()


@dataclass(frozen=True, slots=True)
class Period:
    """The featured days an edition covers, and its label (`2026-11-27`, `2026-W48`)."""

    kind: Kind
    label: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class EditionSummary:
    """What a build did."""

    kind: Kind
    period: str | None  # None: no featured papers to build from
    edition_id: int | None = None
    papers: int = 0
    pending: int = 0
    skipped: int = 0
    created: int = 0  # deliveries written by this call
    changed: bool = False  # False: the edition was already built (or nothing to build)
    resumed: tuple[str, ...] = ()  # earlier editions whose stopped build this call finished
    built: bool = False  # this call built (or finished building) the edition of `period`

    def describe(self) -> str:
        before = ""
        if self.resumed:
            before = f"Finished the stalled {self.kind} edition {', '.join(self.resumed)}. "
        if self.period is None:
            return before + f"No featured papers yet: no {self.kind} edition to build."
        verb = "Built" if self.built else "Already built:"
        return before + (
            f"{verb} the {self.kind} edition {self.period} (#{self.edition_id}): "
            f"{self.papers} papers, {self.pending} {_deliveries(self.pending)} pending, "
            f"{self.skipped} skipped" + (f" ({self.created} new)." if self.built else ".")
        )


def _deliveries(count: int) -> str:
    return "delivery" if count == 1 else "deliveries"


def _previous_weekday(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def period_of(kind: Kind, featured: dt.date) -> Period:
    """The period a paper featured on `featured` belongs to (weekend days join Monday)."""
    if kind == "weekly":
        start = featured - dt.timedelta(days=featured.weekday())
        year, week, _ = featured.isocalendar()
        return Period(kind, f"{year}-W{week:02d}", start, start + dt.timedelta(days=6))
    end = featured + dt.timedelta(
        days=(7 - featured.weekday()) % 7 if featured.weekday() >= 5 else 0
    )
    return Period(kind, end.isoformat(), _previous_weekday(end) + dt.timedelta(days=1), end)


def latest_period(conn: sa.Connection, kind: Kind, now: dt.datetime) -> Period | None:
    """The latest complete period with featured papers (today and this week are not done)."""
    today = now.date()
    if kind == "weekly":
        last = today - dt.timedelta(days=today.weekday() + 1)  # last Sunday
    else:
        last = _previous_weekday(today)
    featured = queries.featured_date_on_or_before(conn, last)
    return None if featured is None else period_of(kind, featured)


def rank_period(
    conn: sa.Connection, period: Period, params: TrendingParams, now: dt.datetime
) -> list[str]:
    """The period's featured papers in trending order (scored from every event until now)."""
    clock = site_clock(conn, now) or now
    found = trending_rows.window_rows(conn, period.start, period.end, None, clock)
    return [score.paper_id for score in score_papers(events_from_rows(found), clock, params)]


def paper_data(conn: sa.Connection, ids: Sequence[str], public_url: str) -> dict[str, DigestPaper]:
    """The digest view of the given papers: card data, and the summary or abstract start."""
    abstracts = queries.abstracts_by_ids(conn, ids)
    base = public_url.rstrip("/")
    return {
        card.arxiv_id: DigestPaper(
            id=card.arxiv_id,
            title=" ".join(card.title.split()),
            authors=tuple(card.authors),
            summary=one_line(card.ai_summary or abstracts.get(card.arxiv_id)),
            upvotes=card.upvotes,
            stars=card.github_stars,
            url=f"{base}/papers/{card.arxiv_id}",
            categories=tuple(card.categories),
        )
        for card in queries.cards_by_ids(conn, ids)
    }


class TopicMatcher:
    """Which candidates match a topic, each distinct topic looked up once."""

    def __init__(
        self,
        papers: Mapping[str, DigestPaper],
        abstracts: Mapping[str, str],
        for_you: ForYouService | None = None,
    ) -> None:
        self.papers = papers
        self._text = rows.CandidateText(
            (pid, p.title, " ".join(p.authors), abstracts.get(pid, "")) for pid, p in papers.items()
        )
        self._categories: dict[str, frozenset[str]] = {}
        self._keywords: dict[str, frozenset[str]] = {}
        self._searches: dict[str, frozenset[str]] = {}
        self._for_you = for_you

    def category(self, name: str) -> frozenset[str]:
        if name not in self._categories:
            self._categories[name] = category_matches(self.papers.values(), name)
        return self._categories[name]

    def keyword(self, text: str) -> frozenset[str]:
        """Candidates with the keyword's words as a phrase (stemmed, as search does)."""
        if text not in self._keywords:
            words = keyword.terms(text)
            phrase = '"' + " ".join(words) + '"' if words else ""
            self._keywords[text] = self._text.matching(phrase) if phrase else frozenset()
        return self._keywords[text]

    def search(self, query: str) -> frozenset[str]:
        """Candidates the saved search finds: every word, and the `author:` if it names one."""
        if query not in self._searches:
            self._searches[query] = self._text.matching(_search_expression(query))
        return self._searches[query]

    def liked(self, user_id: int | None) -> frozenset[str]:
        """Candidates For you finds close to what the member likes (none without an account)."""
        if self._for_you is None or user_id is None or not self.papers:
            return frozenset()
        return frozenset(s.arxiv_id for s in self._for_you.liked_among(user_id, list(self.papers)))

    def matching(self, topics: Topics, user_id: int | None = None) -> set[str]:
        """Candidates matching any of the topics; `user_id` is the member's, for "like my
        upvotes"."""
        found: set[str] = set(self.liked(user_id)) if topics.like_upvotes else set()
        for name in topics.categories:
            found |= self.category(name)
        for text in topics.keywords:
            found |= self.keyword(text)
        if topics.search:
            found |= self.search(topics.search)
        for author in topics.authors:
            found |= self.author(author)
        for value in topics.saved_searches:
            found |= self.saved_search(value)
        return found

    def author(self, name: str) -> frozenset[str]:
        """Candidates with an author of exactly this name (case and spacing aside)."""
        wanted = name_key(name)
        return frozenset(
            pid
            for pid in self.search(f'author:"{name}"')
            if any(name_key(a) == wanted for a in self.papers[pid].authors)
        )

    def saved_search(self, value: str) -> frozenset[str]:
        """Candidates a saved search finds: its words (all of them) and its category. Its
        code filter is not applied here (the digest's papers carry no repository flag)."""
        saved = SavedSearch.parse(value)
        found = self.search(saved.q) if saved.q else frozenset(self.papers)
        return found & self.category(saved.category) if saved.category else found

    def close(self) -> None:
        self._text.close()


def _search_expression(query: str) -> str:
    parsed = keyword.parse_query(query)
    parts = []
    if parsed.author:
        name = keyword.terms(parsed.author)
        if name:
            parts.append('authors : "' + " ".join(name) + '"')
    words = keyword.terms(parsed.text)
    if words:
        parts.append(keyword.and_expression(words))
    return " AND ".join(parts)


def build_edition(
    db: Database,
    kind: Kind,
    now: dt.datetime,
    settings: Settings,
    progress: Progress | None = None,
    for_you: ForYouService | None = _DEFAULT,
    batch_size: int = BATCH_SIZE,
) -> EditionSummary:
    """Build (or finish building) the `kind` edition of the latest complete period.

    An earlier edition of this kind whose build stopped halfway is finished first, so the
    next scheduled build completes it even though the period has moved on.
    """
    with db.read() as conn:
        stalled = rows.building(conn, kind)
        period = latest_period(conn, kind, now)
        found = rows.find(conn, kind, period.label) if period is not None else None
        if period is not None and found is None:
            ranked = rank_period(conn, period, TrendingParams.from_settings(settings), now)
    if for_you is _DEFAULT:  # its corpus statistics are counted only if a member needs them
        for_you = ForYouService(db)
    finish = functools.partial(
        _finish, db, settings=settings, progress=progress, for_you=for_you, batch_size=batch_size
    )
    resumed = tuple(e.period for e in stalled if found is None or e.id != found.id)
    for earlier in stalled:
        if earlier.period in resumed:
            finish(earlier)
    if period is None:
        return EditionSummary(kind, None, resumed=resumed, changed=bool(resumed))
    if found is not None and not _building(found):
        return _summary(db, found, created=0, built=False, resumed=resumed)
    if found is None:
        with db.write() as conn:
            found = rows.create(conn, kind, period.label, ranked, now)
    created = finish(found)
    return _summary(db, found, created=created, built=True, resumed=resumed)


def _building(found: rows.EditionRow) -> bool:
    return found.status == rows.BUILDING


def _finish(
    db: Database,
    found: rows.EditionRow,
    *,
    settings: Settings,
    progress: Progress | None,
    for_you: ForYouService | None,
    batch_size: int,
) -> int:
    """Write the edition's missing deliveries, then mark it built; returns how many."""
    created = _freeze_deliveries(db, found, settings, progress, for_you, batch_size)
    with db.write() as conn:
        rows.set_status(conn, found.id, rows.BUILT)
    return created


def _summary(
    db: Database, found: rows.EditionRow, created: int, built: bool, resumed: tuple[str, ...]
) -> EditionSummary:
    with db.read() as conn:
        counts = rows.delivery_counts(conn, found.id)
    return EditionSummary(
        kind=cast(Kind, found.kind),
        period=found.period,
        edition_id=found.id,
        papers=len(found.papers),
        pending=counts.get("pending", 0),
        skipped=counts.get("skipped", 0),
        created=created,
        changed=built or bool(resumed),
        resumed=resumed,
        built=built,
    )


def _freeze_deliveries(
    db: Database,
    found: rows.EditionRow,
    settings: Settings,
    progress: Progress | None,
    for_you: ForYouService | None,
    batch_size: int,
) -> int:
    """Write the missing deliveries, one transaction per batch of subscribers."""
    with db.read() as conn:
        papers = paper_data(conn, found.papers, settings.public_url)
        abstracts = queries.abstracts_by_ids(conn, found.papers)
        earlier = rows.overlapping(conn, found.papers, exclude=found.id)
        total = rows.due_count(conn, found.id, found.kind)
    ranked = [pid for pid in found.papers if pid in papers]
    matcher = TopicMatcher(papers, abstracts, for_you)
    done = created = after = 0
    try:
        while True:
            with db.write() as conn:
                batch = rows.due(conn, found.id, found.kind, after, batch_size)
                if not batch:
                    break
                chosen = _select_batch(conn, batch, ranked, matcher, earlier, settings)
                created += rows.add_deliveries(conn, found.id, chosen)
            after = batch[-1].id
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))
    finally:
        matcher.close()
    return created


def with_follows(topics: Topics, follows: Sequence[Follow]) -> Topics:
    """A member's subscription topics with what they follow added (issue #14)."""
    if not follows:
        return topics
    return replace(
        topics,
        authors=tuple(f.value for f in follows if f.kind == "author"),
        saved_searches=tuple(f.value for f in follows if f.kind == "search"),
    )


def _select_batch(
    conn: sa.Connection,
    batch: Sequence[rows.RecipientRow],
    ranked: Sequence[str],
    matcher: TopicMatcher,
    earlier: Sequence[int],
    settings: Settings,
) -> list[rows.NewDelivery]:
    sent = rows.sent_before(conn, earlier, [r.id for r in batch])
    follows = follow_rows.of_users(conn, [r.user_id for r in batch if r.user_id is not None])
    topics = {
        r.id: with_follows(Topics.parse(r.topics), follows.get(r.user_id, []) if r.user_id else [])
        for r in batch
    }
    chosen = []
    for r in batch:
        wanted = topics[r.id]
        matched = matcher.matching(wanted, r.user_id) if not wanted.empty else set()
        ids, _fallback = select(
            ranked,
            wanted,
            matched,
            sent.get(r.id, ()),
            settings.digest_max_papers,
            settings.digest_empty_selection,
        )
        chosen.append(rows.NewDelivery(r.id, ids, "pending" if ids else "skipped"))
    return chosen
