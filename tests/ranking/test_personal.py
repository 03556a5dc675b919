"""For you through the database (issue #14): a member's upvotes and a day's papers, ranked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
import sqlalchemy as sa
from tests.ranking.foryou_papers import DAY, GRAPH_PAPER, GRAPHS, ROBOT_PAPER, ROBOTS

from papertide.db import Database, votes, writes
from papertide.db import accounts as stored_accounts
from papertide.db.schema import paper
from papertide.models import Account, PaperRecord
from papertide.ranking.foryou import LIKED, Paper
from papertide.ranking.personal import ForYouService

EARLIER, TODAY = dt.date(2026, 1, 5), dt.date(2026, 2, 2)
NOW = dt.datetime(2026, 2, 2, 12)
# The graph papers' author also wrote the day's robot paper: a ranker reading names would say so.
AUTHOR = "Ada Graphwright"


def _record(item: Paper, day: dt.date, authors: list[str]) -> PaperRecord:
    return PaperRecord(
        item.arxiv_id,
        title=item.title,
        abstract=item.abstract,
        authors=authors,
        categories=list(item.categories),
        published_at=dt.datetime.combine(day, dt.time(20)),
    )


@pytest.fixture
def member(db: Database) -> Account:
    records = [_record(p, EARLIER, [AUTHOR]) for p in [*GRAPHS, ROBOTS]]
    records += [
        _record(p, TODAY, [AUTHOR] if p.arxiv_id == ROBOT_PAPER else [f"Other {i}"])
        for i, p in enumerate(DAY)
    ]
    with db.write() as conn:
        writes.upsert_papers(conn, records)
        account = stored_accounts.create_user(conn, "reader", "r@example.org", "!", "member", NOW)
        for item in GRAPHS:
            votes.set_upvote(conn, account.id, item.arxiv_id, True, NOW)
    return account


def test_the_days_papers_ranked_from_the_members_upvotes(db: Database, member: Account) -> None:
    found = ForYouService(db).for_you(member, TODAY)
    assert found.day == TODAY and found.upvotes == 3
    assert found.ranked[0].arxiv_id == GRAPH_PAPER
    assert found.ranked[0].reason.startswith("close to 3 papers you liked: ")
    assert {s.arxiv_id for s in found.ranked} == {p.arxiv_id for p in DAY}  # that day's only
    # The upvoted papers' own day: they stay on the page, saying so, then the robot paper.
    earlier = ForYouService(db).for_you(member, EARLIER).ranked
    assert {s.arxiv_id for s in earlier[:3]} == {p.arxiv_id for p in GRAPHS}
    assert {s.reason for s in earlier[:3]} == {LIKED}
    assert earlier[3].arxiv_id == ROBOTS.arxiv_id


def test_not_for_me_and_a_new_upvote_move_the_robot_paper(db: Database, member: Account) -> None:
    service = ForYouService(db)
    with db.write() as conn:
        votes.set_upvote(conn, member.id, ROBOTS.arxiv_id, True, NOW)
    liked = [s.arxiv_id for s in service.for_you(member, TODAY).ranked]
    assert liked.index(ROBOT_PAPER) == 1
    dropped = [s.arxiv_id for s in service.for_you(member, TODAY, [ROBOTS.arxiv_id]).ranked]
    assert dropped.index(ROBOT_PAPER) > 1


def test_author_names_change_nothing(db: Database, member: Account) -> None:
    service = ForYouService(db)
    before = service.for_you(member, TODAY).ranked
    names = [AUTHOR, "Other 1", "Other 2", "Zed Unrelated"]
    with db.write() as conn:
        for arxiv_id in [p.arxiv_id for p in [*GRAPHS, ROBOTS, *DAY]]:
            shuffled = random.Random(arxiv_id).sample(names, 2)
            conn.execute(paper.update().where(paper.c.id == arxiv_id).values(authors=shuffled))
    assert ForYouService(db).for_you(member, TODAY).ranked == before
    assert service.for_you(member, TODAY).ranked == before


def test_a_member_without_upvotes_gets_the_day_by_id(db: Database, member: Account) -> None:
    with db.write() as conn:
        other = stored_accounts.create_user(conn, "new", "n@example.org", "!", "member", NOW)
        empty = conn.execute(sa.select(sa.func.count()).select_from(paper)).scalar_one()
    found = ForYouService(db).for_you(other, TODAY)
    assert found.upvotes == 0 and empty == 9
    assert [s.arxiv_id for s in found.ranked] == sorted(p.arxiv_id for p in DAY)


def test_a_new_paper_of_the_day_and_a_changed_abstract_show_at_once(
    db: Database, member: Account
) -> None:
    """The service keeps the day's papers and the upvoted papers' texts between requests,
    until any paper changes (`paper.revision`)."""
    service = ForYouService(db)
    before = [s.arxiv_id for s in service.for_you(member, TODAY).ranked]
    late = Paper(
        "2602.00099", "Graph neural networks, message passing", "Graph neural networks.", ("cs.LG",)
    )
    with db.write() as conn:
        writes.upsert_papers(conn, [_record(late, TODAY, ["Late Comer"])])
    after = [s.arxiv_id for s in service.for_you(member, TODAY).ranked]
    assert late.arxiv_id not in before and after[:2] == [late.arxiv_id, GRAPH_PAPER]
    # A new version of each upvoted paper is about robots: the robot paper comes first.
    robotic = [
        dataclasses.replace(
            _record(Paper(p.arxiv_id, ROBOTS.title, ROBOTS.abstract), EARLIER, [AUTHOR]),
            version=2,
        )
        for p in GRAPHS
    ]
    with db.write() as conn:
        writes.upsert_papers(conn, robotic)
    assert service.for_you(member, TODAY).ranked[0].arxiv_id == ROBOT_PAPER
