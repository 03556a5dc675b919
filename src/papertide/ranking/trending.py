"""The trending score (issue #5): time-decayed upvotes plus GitHub star gains, explained.

    score = Σ over upvotes of w · 2^(−age/H)  +  b · Σ over star gains of gain · 2^(−age/H)

H is the half-life, b what one star is worth against one upvote, and w is 1 except for a vote
cast by an account younger than N days, which counts w < 1. Ages run back from a clock.

The scoring is pure (events, a clock and parameters in; scores out), so a test or a reader of
docs/trending.md can compute a page's order by hand. `rank_window` and `rank_papers` read the
events through papertide.db.trending and score them; the page, the API and any digest call
those, so they all rank alike.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

import sqlalchemy as sa

from papertide.db import trending as rows

if TYPE_CHECKING:
    from papertide.config import Settings

Window = Literal["7d", "30d", "all"]
WINDOW_DAYS: dict[Window, int | None] = {"7d": 7, "30d": 30, "all": None}
WINDOW_LABELS: dict[Window, str] = {"7d": "7 days", "30d": "30 days", "all": "All time"}
DEFAULT_WINDOW: Window = "7d"
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TrendingParams:
    """The formula's parameters (settings `trending_*`)."""

    half_life_hours: float = 48.0
    star_weight: float = 0.1
    new_account_days: float = 7.0
    new_account_weight: float = 0.25

    def __post_init__(self) -> None:
        if not self.half_life_hours > 0:
            raise ValueError("the half-life must be positive")
        if self.star_weight < 0 or self.new_account_days < 0:
            raise ValueError("the star weight and the new-account age cannot be negative")
        if not 0 <= self.new_account_weight <= 1:
            raise ValueError("the new-account weight must be between 0 and 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> TrendingParams:
        return cls(
            half_life_hours=settings.trending_half_life_hours,
            star_weight=settings.trending_star_weight,
            new_account_days=settings.trending_new_account_days,
            new_account_weight=settings.trending_new_account_weight,
        )

    def formula(self, plain: bool = False) -> str:
        """The formula with these parameters, in one line (`plain`: ASCII, for a header)."""
        sigma, times, minus = ("sum", "*", "-") if plain else ("Σ", "×", "−")
        decay = f"2^({minus}age / {_number(self.half_life_hours)} h)"
        weight = _number(self.star_weight)
        text = f"score = {sigma} upvotes {times} {decay} + {weight} {times} {sigma} star gains"
        text += f" {times} {decay}"
        if self.new_account_days and self.new_account_weight < 1:
            days = _number(self.new_account_days)
            text += (
                f"; an upvote from an account younger than {days} day"
                f"{'' if days == '1' else 's'} counts {_number(self.new_account_weight)}"
            )
        return text


class Upvote(NamedTuple):
    """`votes` upvotes of a paper cast at `at` (naive UTC)."""

    paper_id: str
    at: dt.datetime
    # When the voter's account was created; None for an established account whose age is
    # not in question (Hugging Face's imported votes, imported HF users).
    voter_since: dt.datetime | None = None
    votes: int = 1
    imported: bool = False


# A repository's star count observed at a time (repo, stars, at): the row as read, as is.
StarSnapshot = rows.SnapshotRow


class StarGain(NamedTuple):
    """Stars gained between two consecutive snapshots, dated at the later one."""

    repo: str
    at: dt.datetime
    stars: int


@dataclass(frozen=True, slots=True)
class TrendingEvents:
    """The papers to score (each with its repository key, or None) and the events that count."""

    papers: Mapping[str, str | None]
    upvotes: Sequence[Upvote] = ()
    snapshots: Sequence[StarSnapshot] = ()


class TrendingScore(NamedTuple):
    """A paper's score and what it is made of.

    Papers are ordered by the score's base-2 logarithm, summed in the log domain, so that
    even years-old events, whose weight 2^(−age/H) is below the smallest float (the score
    then shows as 0), still order papers correctly.
    """

    paper_id: str
    score: float
    upvote_part: float  # the sum over upvotes
    star_part: float  # b × the sum over star gains
    log2_score: float  # log2 of the score; −inf when it is 0
    upvotes: int  # local upvotes counted
    imported_upvotes: int  # Hugging Face's upvotes counted
    new_account_upvotes: int  # of the local ones, how many were cast by new accounts
    stars: int  # stars gained
    first_at: dt.datetime | None  # the earliest event counted

    @property
    def positive(self) -> bool:
        """Whether the score is above 0 (a paper with nothing counted is not trending)."""
        return self.log2_score > -math.inf


def star_gains(snapshots: Iterable[StarSnapshot]) -> list[StarGain]:
    """Positive differences between consecutive snapshots of each repository; losses count 0."""
    by_repo: dict[str, list[StarSnapshot]] = defaultdict(list)
    for snapshot in snapshots:
        by_repo[snapshot.repo].append(snapshot)
    gains = []
    for repo in sorted(by_repo):
        series = sorted(by_repo[repo], key=lambda snapshot: snapshot.at)
        for before, after in itertools.pairwise(series):
            if after.stars > before.stars:
                gains.append(StarGain(repo, after.at, after.stars - before.stars))
    return gains


def is_new_account(vote: Upvote, params: TrendingParams) -> bool:
    """Whether the voter's account was younger than `new_account_days` when the vote was cast."""
    if vote.voter_since is None or params.new_account_days <= 0:
        return False
    return vote.at - vote.voter_since < dt.timedelta(days=params.new_account_days)


@dataclass(slots=True)
class _Tally:
    # (weight, exponent) of each term weight × 2^exponent: votes, then star gains
    vote_terms: list[tuple[float, float]] = field(default_factory=list)
    star_terms: list[tuple[float, float]] = field(default_factory=list)
    upvotes: int = 0
    imported: int = 0
    new_account: int = 0
    stars: int = 0
    first_at: dt.datetime | None = None

    def seen(self, at: dt.datetime) -> None:
        if self.first_at is None or at < self.first_at:
            self.first_at = at


def score_papers(
    events: TrendingEvents,
    now: dt.datetime,
    params: TrendingParams,
    since: dt.datetime | None = None,
) -> list[TrendingScore]:
    """Every paper of `events` scored at `now` from the events dated in [since, now].

    Best first; equal scores in arXiv id order. Events after `now` are ignored.
    """
    window = _Window(now, since or dt.datetime.min, params.half_life_hours * 3600)
    tallies = {paper_id: _Tally() for paper_id in events.papers}
    _tally_upvotes(tallies, events.upvotes, window, params)
    _tally_stars(tallies, events, window, params)
    scores = [_score(paper_id, tally) for paper_id, tally in tallies.items()]
    scores.sort(key=lambda score: (-score.log2_score, score.paper_id))
    return scores


@dataclass(frozen=True, slots=True)
class _Window:
    now: dt.datetime
    since: dt.datetime
    half_life_s: float

    def exponent(self, at: dt.datetime) -> float | None:
        """-age/H of an event at `at`, or None when it falls outside [since, now]."""
        if at > self.now or at < self.since:
            return None
        return -(self.now - at).total_seconds() / self.half_life_s


def _tally_upvotes(
    tallies: dict[str, _Tally], upvotes: Iterable[Upvote], window: _Window, params: TrendingParams
) -> None:
    for vote in upvotes:
        tally = tallies.get(vote.paper_id)
        exponent = window.exponent(vote.at) if tally is not None and vote.votes > 0 else None
        if tally is None or exponent is None:
            continue
        weight = float(vote.votes)
        if vote.imported:
            tally.imported += vote.votes
        else:
            tally.upvotes += vote.votes
            if is_new_account(vote, params):
                tally.new_account += vote.votes
                weight *= params.new_account_weight
        tally.seen(vote.at)
        if weight > 0:
            tally.vote_terms.append((weight, exponent))


def _tally_stars(
    tallies: dict[str, _Tally], events: TrendingEvents, window: _Window, params: TrendingParams
) -> None:
    papers_of_repo: dict[str, list[str]] = defaultdict(list)
    for paper_id, repo in events.papers.items():
        if repo:
            papers_of_repo[repo].append(paper_id)
    for gain in star_gains(events.snapshots):
        exponent = window.exponent(gain.at)
        if exponent is None:
            continue
        for paper_id in papers_of_repo.get(gain.repo, ()):
            tally = tallies[paper_id]
            tally.stars += gain.stars
            tally.seen(gain.at)
            if params.star_weight > 0:
                tally.star_terms.append((params.star_weight * gain.stars, exponent))


def _score(paper_id: str, tally: _Tally) -> TrendingScore:
    upvote_part, star_part = _sum(tally.vote_terms), _sum(tally.star_terms)
    logs = [math.log2(weight) + exponent for weight, exponent in tally.vote_terms]
    logs += [math.log2(weight) + exponent for weight, exponent in tally.star_terms]
    return TrendingScore(
        paper_id=paper_id,
        score=upvote_part + star_part,
        upvote_part=upvote_part,
        star_part=star_part,
        log2_score=_log2_sum(logs),
        upvotes=tally.upvotes,
        imported_upvotes=tally.imported,
        new_account_upvotes=tally.new_account,
        stars=tally.stars,
        first_at=tally.first_at,
    )


def explain(score: TrendingScore, now: dt.datetime) -> str:
    """Why a paper is where it is: `+42 upvotes (30 on Hugging Face) and +310 stars in 3 days`."""
    parts = []
    total = score.upvotes + score.imported_upvotes
    if total:
        notes = []
        if score.imported_upvotes:
            imported = score.imported_upvotes
            notes.append("all on Hugging Face" if imported == total else f"{imported:,} on HF")
        if score.new_account_upvotes:
            notes.append(f"{score.new_account_upvotes:,} from new accounts")
        note = f" ({', '.join(notes)})" if notes else ""
        parts.append(f"+{total:,} upvote{_plural(total)}{note}")
    if score.stars:
        parts.append(f"+{score.stars:,} GitHub star{_plural(score.stars)}")
    if not parts or score.first_at is None:
        return "no upvotes or star gains in this window"
    days = max(1, math.ceil((now - score.first_at) / _DAY))
    return f"{' and '.join(parts)} in {days} day{_plural(days)}"


def imported_upvote(paper_id: str, count: int, first_featured: dt.date | None) -> Upvote | None:
    """Hugging Face's count as one event: cast at 00:00 UTC of the first featured day.

    HF gives a total without timestamps. Dating it at the day the paper was first featured
    (the day HF's own feed showed it) keeps a day's imported papers in HF's upvote order, and
    imported votes come from established HF accounts, so they are never discounted as new.
    """
    if count <= 0 or first_featured is None:
        return None
    at = dt.datetime.combine(first_featured, dt.time())
    return Upvote(paper_id, at, voter_since=None, votes=count, imported=True)


def events_from_rows(found: rows.TrendingRows) -> TrendingEvents:
    """The events of what papertide.db.trending read: imported counts become one event each."""
    upvotes: list[Upvote] = []
    for candidate in found.candidates:
        imported = imported_upvote(
            candidate.paper_id, candidate.imported_upvotes, candidate.first_featured
        )
        if imported is not None:
            upvotes.append(imported)
    for vote in found.votes:
        # Imported HF users were created when their history was imported, so their
        # account age says nothing: they count as established.
        since = vote.voter_created_at if vote.voter_origin == "local" else None
        upvotes.append(Upvote(vote.paper_id, vote.at, voter_since=since))
    return TrendingEvents(
        papers={c.paper_id: c.repo for c in found.candidates},
        upvotes=upvotes,
        snapshots=found.snapshots,
    )


@dataclass(frozen=True, slots=True)
class TrendingRanking:
    """Papers ranked at `clock` from the events since `since` (None: all of them)."""

    clock: dt.datetime | None
    since: dt.datetime | None
    params: TrendingParams
    scores: list[TrendingScore]  # best first, those scoring 0 last
    featured_on: Mapping[str, dt.date]  # the day each paper was (last) featured
    window: Window | None = None
    # True when a newer content version exists and another process is computing it
    # (papertide.ranking.stored): the page says so and is not cached.
    stale: bool = False
    trending: list[TrendingScore] = field(init=False)  # the papers scoring above 0

    def __post_init__(self) -> None:
        count = next((i for i, s in enumerate(self.scores) if not s.positive), len(self.scores))
        object.__setattr__(self, "trending", self.scores[:count])


def site_clock(conn: sa.Connection, now: dt.datetime) -> dt.datetime | None:
    """The time trending is computed at: the latest activity, never later than `now`.

    On a live site that is a moment ago; on an archive (say, imported HF history that ends
    months back) it is the archive's end, so its windows still hold papers. The order does
    not depend on the clock (every score scales by the same factor when it moves), only the
    windows and the figures shown do, and the page depends on the data alone.
    """
    latest = rows.latest_activity(conn)
    return None if latest is None else min(latest, now)


def window_since(clock: dt.datetime, window: Window) -> dt.datetime | None:
    """00:00 UTC of the window's first day; its last day is the clock's. None for "all"."""
    days = WINDOW_DAYS[window]
    if days is None:
        return None
    return dt.datetime.combine(clock.date() - dt.timedelta(days=days - 1), dt.time())


def rank_window(
    conn: sa.Connection, window: Window, params: TrendingParams, now: dt.datetime
) -> TrendingRanking:
    """The papers featured in `window`, scored from the events inside it."""
    clock = site_clock(conn, now)
    if clock is None:
        return TrendingRanking(None, None, params, [], {}, window)
    since = window_since(clock, window)
    found = rows.window_rows(conn, since.date() if since else None, clock.date(), since, clock)
    return _ranking(found, clock, since, params, window)


def rank_papers(
    conn: sa.Connection, paper_ids: Sequence[str], params: TrendingParams, now: dt.datetime
) -> TrendingRanking:
    """The given papers scored at the site clock from all their events (the API's sort)."""
    clock = site_clock(conn, now)
    if clock is None or not paper_ids:
        return TrendingRanking(clock, None, params, [], {})
    return _ranking(rows.paper_rows(conn, paper_ids, None, clock), clock, None, params, None)


def paper_events(conn: sa.Connection, paper_id: str) -> TrendingEvents:
    """Every event of one paper, whenever it happened (for its history chart)."""
    return events_from_rows(rows.paper_rows(conn, [paper_id]))


def _ranking(
    found: rows.TrendingRows,
    clock: dt.datetime,
    since: dt.datetime | None,
    params: TrendingParams,
    window: Window | None,
) -> TrendingRanking:
    scores = score_papers(events_from_rows(found), clock, params, since)
    featured_on = {c.paper_id: c.last_featured for c in found.candidates if c.last_featured}
    return TrendingRanking(clock, since, params, scores, featured_on, window)


def _log2_sum(terms: Sequence[float]) -> float:
    """log2(Σ 2^t), exactly summed (math.fsum), so equal inputs give equal results."""
    if len(terms) <= 1:
        return terms[0] if terms else -math.inf
    top = max(terms)
    return top + math.log2(math.fsum(2.0 ** (term - top) for term in terms))


def _sum(terms: Sequence[tuple[float, float]]) -> float:
    """Σ weight × 2^exponent, exactly summed (math.fsum): equal inputs, equal results."""
    if len(terms) <= 1:
        return terms[0][0] * 2.0 ** terms[0][1] if terms else 0.0
    return math.fsum([weight * 2.0**exponent for weight, exponent in terms])


def _number(value: float) -> str:
    return f"{value:g}"


def _plural(count: int) -> str:
    return "" if count == 1 else "s"
