"""The trending score: worked out by hand for a fixed clock, then compared with the code."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from tests.ranking import scenario
from tests.ranking.scenario import NOW, A, B, C, D, E, Z

from papertide.config import ConfigError, Settings, load_settings
from papertide.db import Database
from papertide.ranking.trending import (
    StarGain,
    StarSnapshot,
    TrendingEvents,
    TrendingParams,
    Upvote,
    explain,
    imported_upvote,
    is_new_account,
    rank_papers,
    rank_window,
    score_papers,
    star_gains,
    window_since,
)

PARAMS = TrendingParams(
    half_life_hours=48, star_weight=0.1, new_account_days=7, new_account_weight=0.25
)
HOUR = dt.timedelta(hours=1)

# The scenario's scores at NOW, by hand (2^(-age/48 h) for each event):
#   B = 3 votes 2 h old + 0.1 x (80 stars 48 h old + 50 stars 24 h old)
#     = 3 x 2^(-1/24) + 0.1 x (80 x 2^-1 + 50 x 2^-0.5)
#     = 3 x 0.9715319 + 0.1 x (40 + 35.355339)       = 2.9145958 + 7.5355339 = 10.4501297
#   D = 32 HF votes at 00:00 on Aug 17, 108 h old    = 32 x 2^-2.25 = 6.7271713
#   A =  8 HF votes at 00:00 on Aug 21,  12 h old    =  8 x 2^-0.25 = 6.7271713  (= D: by id)
#   C = 1 established vote + 8 from day-old accounts, all at NOW = 1 + 8 x 0.25 = 3.0
#   E = 1 vote on Aug 10 at 12:00, 264 h old         = 2^-5.5 = 0.0220971 (not in 7 days)
#   Z = nothing                                      = 0
EXPECTED = {B: 10.4501297, D: 6.7271713, A: 6.7271713, C: 3.0, E: 0.0220971}
SEVEN_DAYS = [B, D, A, C]


def scenario_events() -> TrendingEvents:
    """The scenario as events, written out without the database."""
    voters = scenario._voters()
    upvotes = [Upvote(paper, at, voter_since=voters[name]) for name, paper, at in scenario.votes()]
    upvotes += [
        Upvote(A, dt.datetime(2026, 8, 21), votes=8, imported=True),
        Upvote(D, dt.datetime(2026, 8, 17), votes=32, imported=True),
    ]
    repo = scenario.REPO.lower()
    return TrendingEvents(
        papers={paper: repo if paper == B else None for paper in scenario.FEATURED},
        upvotes=upvotes,
        snapshots=[StarSnapshot(repo, stars, at) for stars, at in scenario.STARS],
    )


def test_scores_and_order_worked_out_by_hand() -> None:
    scores = score_papers(scenario_events(), NOW, PARAMS)
    assert [s.paper_id for s in scores] == [B, D, A, C, E, Z]
    for score in scores[:-1]:
        assert score.score == pytest.approx(EXPECTED[score.paper_id], rel=1e-6)
    assert scores[-1].score == 0 and not scores[-1].positive
    b = scores[0]
    assert b.upvote_part == pytest.approx(2.9145958, rel=1e-6)
    assert b.star_part == pytest.approx(7.5355339, rel=1e-6)
    assert (b.upvotes, b.imported_upvotes, b.stars) == (3, 0, 130)


def test_equal_scores_are_ordered_by_id_whatever_the_input_order() -> None:
    events = scenario_events()
    shuffled = TrendingEvents(
        papers=dict(reversed(list(events.papers.items()))),
        upvotes=list(reversed(events.upvotes)),
        snapshots=list(reversed(events.snapshots)),
    )
    first = score_papers(events, NOW, PARAMS)
    again = score_papers(shuffled, NOW, PARAMS)
    assert [s.paper_id for s in again] == [s.paper_id for s in first]
    d, a = first[1], first[2]
    assert d.log2_score == a.log2_score and (d.paper_id, a.paper_id) == (D, A)


def test_the_window_counts_only_its_own_events() -> None:
    since = window_since(NOW, "7d")
    assert since == dt.datetime(2026, 8, 15)
    scores = {s.paper_id: s for s in score_papers(scenario_events(), NOW, PARAMS, since)}
    assert scores[B].score == pytest.approx(EXPECTED[B], rel=1e-6)  # the gain from Aug 10 on
    assert scores[E].score == 0 and scores[E].first_at is None
    assert window_since(NOW, "30d") == dt.datetime(2026, 7, 23)
    assert window_since(NOW, "all") is None


def test_new_accounts_and_star_weight_change_the_order() -> None:
    events = scenario_events()
    undiscounted = TrendingParams(new_account_weight=1.0)
    # C = 1 + 8 = 9 once the eight day-old accounts count fully: above D and A.
    assert [s.paper_id for s in score_papers(events, NOW, undiscounted)][:4] == [B, C, D, A]
    # Without stars, B is left with its three votes (2.91): below C's 3.
    no_stars = TrendingParams(star_weight=0)
    order = [s.paper_id for s in score_papers(events, NOW, no_stars)]
    assert order[:4] == [D, A, C, B]
    # No new-account rule at all (N = 0): the same as weight 1.
    no_rule = TrendingParams(new_account_days=0)
    assert score_papers(events, NOW, no_rule)[1].score == pytest.approx(9.0)


def test_half_life_halves_every_h_hours() -> None:
    events = TrendingEvents({"p": None}, [Upvote("p", NOW - 10 * HOUR, votes=4)])
    for hours, expected in ((10, 2.0), (5, 1.0), (20, 2.828427)):
        (score,) = score_papers(events, NOW, TrendingParams(half_life_hours=hours))
        assert score.score == pytest.approx(expected, rel=1e-6)


def test_events_after_the_clock_and_unknown_papers_are_ignored() -> None:
    events = TrendingEvents(
        {"p": None},
        [Upvote("p", NOW + HOUR), Upvote("elsewhere", NOW), Upvote("p", NOW, votes=0)],
    )
    (score,) = score_papers(events, NOW, PARAMS)
    assert score.score == 0 and score.upvotes == 0


def test_years_old_events_still_order_papers() -> None:
    # 2^(-age/H) is below the smallest float after ~6 years at H = 48 h; logs keep the order.
    ten_years = NOW - dt.timedelta(days=3650)
    events = TrendingEvents(
        {"older": None, "newer": None, "many": None},
        [
            Upvote("older", ten_years),
            Upvote("newer", ten_years + HOUR),
            Upvote("many", ten_years - dt.timedelta(days=10), votes=1000),  # 1000 / 2^5
        ],
    )
    scores = score_papers(events, NOW, PARAMS)
    assert [s.paper_id for s in scores] == ["many", "newer", "older"]
    assert all(s.score == 0.0 and math.isfinite(s.log2_score) for s in scores)
    assert scores[0].log2_score == pytest.approx(math.log2(1000) - 3660 * 24 / 48)


def test_star_gains_between_consecutive_snapshots() -> None:
    t0 = dt.datetime(2026, 8, 1)
    snapshots = [
        StarSnapshot("r", 10, t0 + 2 * HOUR),
        StarSnapshot("r", 5, t0),  # any order in, time order used
        StarSnapshot("r", 8, t0 + 3 * HOUR),  # a loss counts 0
        StarSnapshot("r", 20, t0 + 4 * HOUR),
        StarSnapshot("s", 7, t0),  # one snapshot: no gain
    ]
    assert star_gains(snapshots) == [
        StarGain("r", t0 + 2 * HOUR, 5),
        StarGain("r", t0 + 4 * HOUR, 12),
    ]


def test_a_repository_counts_for_every_paper_that_names_it() -> None:
    t0 = NOW - 48 * HOUR
    events = TrendingEvents(
        {"p": "r", "q": "r"},
        snapshots=[StarSnapshot("r", 0, t0 - HOUR), StarSnapshot("r", 100, t0)],
    )
    p, q = score_papers(events, NOW, PARAMS)
    assert p.score == q.score == pytest.approx(0.1 * 100 / 2)


def test_a_new_account_is_judged_by_its_age_when_it_voted() -> None:
    created = dt.datetime(2026, 8, 1)
    young = Upvote("p", created + dt.timedelta(days=6, hours=23), voter_since=created)
    grown = Upvote("p", created + dt.timedelta(days=7), voter_since=created)
    imported = Upvote("p", created, voter_since=None, votes=5, imported=True)
    assert is_new_account(young, PARAMS)
    assert not is_new_account(grown, PARAMS)
    assert not is_new_account(imported, PARAMS)


def test_imported_counts_are_cast_at_the_first_featured_day() -> None:
    vote = imported_upvote("p", 12, dt.date(2026, 8, 20))
    assert vote == Upvote("p", dt.datetime(2026, 8, 20), None, 12, imported=True)
    assert imported_upvote("p", 0, dt.date(2026, 8, 20)) is None
    assert imported_upvote("p", 12, None) is None  # never featured: no date to give it


def test_why_text() -> None:
    scores = {s.paper_id: s for s in score_papers(scenario_events(), NOW, PARAMS)}
    assert explain(scores[B], NOW) == "+3 upvotes and +130 GitHub stars in 2 days"
    assert explain(scores[D], NOW) == "+32 upvotes (all on Hugging Face) in 5 days"
    assert explain(scores[A], NOW) == "+8 upvotes (all on Hugging Face) in 1 day"
    assert explain(scores[C], NOW) == "+9 upvotes (8 from new accounts) in 1 day"
    assert explain(scores[Z], NOW) == "no upvotes or star gains in this window"
    mixed = TrendingEvents(
        {"p": None},
        [Upvote("p", NOW, votes=40, imported=True), Upvote("p", NOW - 30 * HOUR)],
    )
    (score,) = score_papers(mixed, NOW, PARAMS)
    assert explain(score, NOW) == "+41 upvotes (40 on HF) in 2 days"


def test_parameters_are_validated_and_printed() -> None:
    with pytest.raises(ValueError, match="half-life"):
        TrendingParams(half_life_hours=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        TrendingParams(new_account_weight=1.5)
    assert PARAMS.formula() == (
        "score = Σ upvotes × 2^(−age / 48 h) + 0.1 × Σ star gains × 2^(−age / 48 h); "
        "an upvote from an account younger than 7 days counts 0.25"
    )
    assert PARAMS.formula(plain=True).isascii()
    assert "younger" not in TrendingParams(new_account_weight=1).formula()


def test_the_database_gives_the_same_order(db: Database) -> None:
    scenario.build(db)
    later = NOW + dt.timedelta(days=100)  # the real clock: the site clock is the last event
    with db.read() as conn:
        seven = rank_window(conn, "7d", PARAMS, later)
        thirty = rank_window(conn, "30d", PARAMS, later)
        everything = rank_window(conn, "all", PARAMS, later)
        week = rank_papers(conn, [Z, A, B, C, D], PARAMS, later)
    assert seven.clock == NOW and seven.since == dt.datetime(2026, 8, 15)
    assert [s.paper_id for s in seven.trending] == SEVEN_DAYS
    assert [s.paper_id for s in seven.scores] == [*SEVEN_DAYS, Z]
    for score in seven.trending:
        assert score.score == pytest.approx(EXPECTED[score.paper_id], rel=1e-6)
    assert [s.paper_id for s in thirty.trending] == [*SEVEN_DAYS, E]
    assert [s.paper_id for s in everything.trending] == [*SEVEN_DAYS, E]
    assert thirty.trending[-1].score == pytest.approx(EXPECTED[E], rel=1e-6)
    assert [s.paper_id for s in week.scores] == [*SEVEN_DAYS, Z]
    assert seven.featured_on[D] == dt.date(2026, 8, 20)  # the latest featuring


def test_the_clock_never_runs_ahead_of_now(db: Database) -> None:
    scenario.build(db)
    earlier = NOW - 4 * HOUR  # as if C's votes (at NOW) were dated in the future
    with db.read() as conn:
        ranking = rank_window(conn, "7d", PARAMS, earlier)
    assert ranking.clock == earlier
    assert [s.paper_id for s in ranking.trending] == [B, D, A]


def test_nothing_featured_gives_an_empty_ranking(db: Database) -> None:
    with db.read() as conn:
        ranking = rank_window(conn, "7d", PARAMS, NOW)
    assert ranking.clock is None and ranking.scores == []


def test_parameters_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert TrendingParams.from_settings(Settings()) == TrendingParams()
    monkeypatch.setenv("PAPERTIDE_TRENDING_HALF_LIFE_HOURS", "24")
    monkeypatch.setenv("PAPERTIDE_TRENDING_STAR_WEIGHT", "0.5")
    params = TrendingParams.from_settings(load_settings())
    assert params == TrendingParams(half_life_hours=24, star_weight=0.5)
    bad = {"half_life_hours": "0", "star_weight": "-1", "new_account_weight": "1.5"}
    for name, value in bad.items():
        variable = f"PAPERTIDE_TRENDING_{name.upper()}"
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigError, match=f"trending_{name}"):
            load_settings()
        monkeypatch.delenv(variable)


def test_every_trending_setting_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    guide = (root / "docs" / "trending.md").read_text(encoding="utf-8")
    names = [name for name in Settings.model_fields if name.startswith("trending_")]
    assert len(names) == 5
    for name in names:
        variable = f"PAPERTIDE_{name.upper()}"
        default = f"{Settings.model_fields[name].default:g}"
        assert f"`{variable}` | `{default}`" in guide, variable
        assert variable in readme or f"_{name.upper().removeprefix('TRENDING_')}" in readme
