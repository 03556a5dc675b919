"""A member's digest selection, day by day, for their personal feed (issue #13).

The same choice the daily digest makes for them, through the same code (editions.py and
compose.py): each featured day's papers in trending order, those matching the topics of the
member's own subscription (categories, keywords, a saved search, "like my upvotes", which is
For you's ranking: ranking/personal.py) and their follows, or the day's trending papers when
they have no subscription or nothing matched. Nothing is sent and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertide.config import Settings
from papertide.db import follows as follow_rows
from papertide.db import queries, subscribers
from papertide.db.engine import Database
from papertide.digest.compose import Topics, select
from papertide.digest.editions import (
    Period,
    TopicMatcher,
    latest_period,
    paper_data,
    period_of,
    rank_period,
    with_follows,
)
from papertide.models import Account
from papertide.ranking.trending import TrendingParams

if TYPE_CHECKING:
    from papertide.ranking.personal import ForYouService


@dataclass(frozen=True, slots=True)
class DaySelection:
    period: Period
    paper_ids: list[str]
    fallback: bool  # the day's trending papers: nothing matched the topics


def member_topics(db: Database, account: Account) -> Topics:
    """The topics of the member's own subscription (none without one), with the authors they
    follow and the searches they saved."""
    with db.read() as conn:
        found = subscribers.for_user(conn, account.id)
        follows = follow_rows.of_user(conn, account.id)
    return with_follows(Topics.parse(found.topics) if found else Topics(), follows)


def selection(
    db: Database,
    settings: Settings,
    account: Account,
    now: dt.datetime,
    days: int,
    for_you: ForYouService | None = None,
) -> tuple[Topics, list[DaySelection]]:
    """The member's digest selection for the latest `days` complete featured days, newest
    first. `for_you` serves "like my upvotes" (without it that topic matches nothing), as in
    the digest."""
    topics = member_topics(db, account)
    params = TrendingParams.from_settings(settings)
    chosen: list[DaySelection] = []
    with db.read() as conn:
        period = latest_period(conn, "daily", now)
        while period is not None and len(chosen) < days:
            ranked = rank_period(conn, period, params, now)
            papers = paper_data(conn, ranked, settings.public_url)
            matcher = TopicMatcher(papers, queries.abstracts_by_ids(conn, ranked), for_you)
            try:
                matched = matcher.matching(topics, account.id) if not topics.empty else set()
            finally:
                matcher.close()
            ids, fallback = select(
                ranked, topics, matched, (), settings.digest_max_papers, "trending"
            )
            chosen.append(DaySelection(period, ids, fallback))
            before = queries.featured_date_on_or_before(conn, period.start - dt.timedelta(days=1))
            period = period_of("daily", before) if before else None
    return topics, chosen
