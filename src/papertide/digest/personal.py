"""A member's digest selection, day by day, for their personal feed (issue #13).

The same choice the daily digest makes for them, through the same code (editions.py and
compose.py): each featured day's papers in trending order, those matching the topics of the
member's own subscription (categories, keywords, a saved search, "like my upvotes"), or the
day's trending papers when they have no subscription or nothing matched. Nothing is sent
and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertide.config import Settings
from papertide.db import queries, subscribers, votes
from papertide.db.engine import Database
from papertide.digest.compose import Topics, select
from papertide.digest.editions import (
    Period,
    TopicMatcher,
    latest_period,
    paper_data,
    period_of,
    rank_period,
)
from papertide.models import Account
from papertide.ranking.trending import TrendingParams

if TYPE_CHECKING:
    from papertide.search.service import PaperVectors


@dataclass(frozen=True, slots=True)
class DaySelection:
    period: Period
    paper_ids: list[str]
    fallback: bool  # the day's trending papers: nothing matched the topics


def member_topics(db: Database, account: Account) -> Topics:
    """The topics of the member's own subscription; none (trending only) without one."""
    with db.read() as conn:
        found = subscribers.for_user(conn, account.id)
    return Topics.parse(found.topics) if found else Topics()


def selection(
    db: Database,
    settings: Settings,
    account: Account,
    now: dt.datetime,
    days: int,
    vectors: PaperVectors | None = None,
) -> tuple[Topics, list[DaySelection]]:
    """The member's digest selection for the latest `days` complete featured days, newest
    first. `vectors` serve "like my upvotes" (without them that topic matches nothing)."""
    topics = member_topics(db, account)
    params = TrendingParams.from_settings(settings)
    chosen: list[DaySelection] = []
    with db.read() as conn:
        upvoted = sorted(votes.upvoted_ids(conn, account.id)) if topics.like_upvotes else []
        period = latest_period(conn, "daily", now)
        while period is not None and len(chosen) < days:
            ranked = rank_period(conn, period, params, now)
            papers = paper_data(conn, ranked, settings.public_url)
            matcher = TopicMatcher(papers, queries.abstracts_by_ids(conn, ranked), vectors)
            try:
                matched = matcher.matching(topics, upvoted) if not topics.empty else set()
            finally:
                matcher.close()
            ids, fallback = select(
                ranked, topics, matched, (), settings.digest_max_papers, "trending"
            )
            chosen.append(DaySelection(period, ids, fallback))
            before = queries.featured_date_on_or_before(conn, period.start - dt.timedelta(days=1))
            period = period_of("daily", before) if before else None
    return topics, chosen
