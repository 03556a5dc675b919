"""Composing one digest: topics parsed leniently, matches first, never a paper twice."""

from __future__ import annotations

from papertide.digest.compose import (
    DigestPaper,
    Recipient,
    Topics,
    category_matches,
    compose,
    one_line,
    select,
    short_authors,
)

RANKED = ["a", "b", "c", "d", "e"]


def _paper(pid: str, categories: tuple[str, ...] = ("cs.LG",)) -> DigestPaper:
    return DigestPaper(pid, f"Title {pid}", ("Ada",), "sum", 1, None, f"u/{pid}", categories)


PAPERS = {pid: _paper(pid) for pid in RANKED}


def test_topics_parse_what_is_there_and_drop_the_rest() -> None:
    topics = Topics.parse(
        {
            "categories": ["cs.LG", "cs.LG", "", 3, "  cs.CV "],
            "keywords": "not a list",
            "search": "  graph   neural ",
            "like_upvotes": "yes",
        }
    )
    assert topics == Topics(categories=("cs.LG", "cs.CV"), search="graph neural")
    assert Topics.parse(None).empty and Topics.parse({}).empty
    assert Topics.parse({"like_upvotes": True}) == Topics(like_upvotes=True)
    assert Topics.parse({"keywords": [f"k{i}" for i in range(80)]}).keywords[-1] == "k49"


def test_topics_describe_themselves() -> None:
    assert Topics().describe() == "trending papers"
    text = Topics(("cs.CL",), ("agents",), "rlhf", True).describe()
    assert text == (
        "categories cs.CL; keywords “agents”; the search “rlhf”; papers like the ones you upvoted"
    )


def test_trending_only_takes_the_best_unsent() -> None:
    assert select(RANKED, Topics(), set(), {"a", "c"}, 2, "skip") == (["b", "d"], False)


def test_topic_matches_in_trending_order_and_never_sent_twice() -> None:
    topics = Topics(categories=("cs.CV",))
    chosen = select(RANKED, topics, {"e", "b", "d"}, {"d"}, 10, "trending")
    assert chosen == (["b", "e"], False)


def test_no_match_skips_or_falls_back_to_trending() -> None:
    topics = Topics(keywords=("quantum",))
    assert select(RANKED, topics, set(), set(), 3, "skip") == ([], False)
    assert select(RANKED, topics, {"a"}, {"a"}, 3, "skip") == ([], False)  # all sent already
    assert select(RANKED, topics, set(), {"a"}, 3, "trending") == (["b", "c", "d"], True)


def test_compose_builds_the_digest() -> None:
    who = Recipient(7, "x@example.org", Topics(categories=("cs.LG",)))
    digest = compose(who, "weekly", "2026-W34", RANKED, PAPERS, {"c", "a"}, set(), 10, "skip")
    assert (digest.subscriber_id, digest.email, digest.kind, digest.period) == (
        7,
        "x@example.org",
        "weekly",
        "2026-W34",
    )
    assert [p.id for p in digest.papers] == ["a", "c"] and not digest.fallback
    empty = compose(who, "daily", "2026-08-20", RANKED, PAPERS, set(), set(), 10, "trending")
    assert empty.fallback and len(empty.papers) == 5


def test_categories_match_exactly_or_by_archive() -> None:
    papers = [_paper("x", ("cs.LG", "stat.ML")), _paper("y", ("cs.CV",)), _paper("z", ("csx.A",))]
    assert category_matches(papers, "stat.ML") == {"x"}
    assert category_matches(papers, "cs") == {"x", "y"}
    assert category_matches(papers, "cs.L") == frozenset()


def test_one_line_and_authors() -> None:
    assert one_line("  a\n b  ") == "a b"
    cut = one_line("word " * 100, limit=30)
    assert cut.endswith("…") and len(cut) <= 30 and "  " not in cut
    assert one_line(None) == ""
    assert short_authors(["A", "B", "C"]) == "A, B, C"
    assert short_authors(["A", "B", "C", "D"]) == "A, B, C et al."
