"""The subscription rules that need no web page: addresses and preferences."""

from __future__ import annotations

import pytest

from papertide.digest.subscriptions import (
    SubscribeErrors,
    Topics,
    normalise_email,
    parse_preferences,
)


@pytest.mark.parametrize(
    ("raw", "email", "key"),
    [
        ("  Ann@Example.ORG ", "Ann@example.org", "ann@example.org"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk", None),
        ("ann@bücher.example", "ann@xn--bcher-kva.example", None),
    ],
)
def test_addresses_are_normalised(raw: str, email: str, key: str | None) -> None:
    assert normalise_email(raw) == (email, key or email.lower())


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ann",
        "ann@",
        "@example.org",
        "ann@localhost",
        "ann@example",
        "a b@example.org",
        "ann@example.org\nBcc: eve@example.org",
        "ann..x@example.org",
        ".ann@example.org",
        "ann@-example.org",
        "ann@1.2.3.4",
        "ann@" + "a" * 250 + ".org",
        '"quoted"@example.org',
    ],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="Enter an email address"):
        normalise_email(raw)


def test_preferences_are_cleaned() -> None:
    prefs = parse_preferences(
        "weekly",
        ["cs.LG", "stat.ML, cs.lg\nhep-th", ""],
        " diffusion ,Diffusion, state  space ",
        "  graph   neural nets ",
        False,
        signed_in=False,
    )
    assert prefs.frequency == "weekly"
    assert prefs.topics == Topics(
        ["cs.LG", "stat.ML", "hep-th"], ["diffusion", "state space"], "graph neural nets"
    )
    assert not prefs.topics.trending_only
    assert parse_preferences("daily", [], "", "", False, signed_in=False).topics.trending_only


def test_refused_preferences_name_their_fields() -> None:
    with pytest.raises(SubscribeErrors) as refused:
        parse_preferences(
            "hourly",
            ["cs.LG; DROP"],
            ",".join(["k"] * 5 + ["x" * 61]),
            "q" * 201,
            True,
            signed_in=False,
        )
    assert set(refused.value.errors) == {
        "frequency",
        "categories",
        "keywords",
        "search",
        "like_upvotes",
    }


def test_topics_round_trip_through_json() -> None:
    topics = Topics(["cs.LG"], ["diffusion"], "rag", True)
    assert Topics.from_json(topics.as_json()) == topics
    assert Topics.from_json(None) == Topics()
    assert Topics().as_json() == {
        "categories": [],
        "keywords": [],
        "search": "",
        "like_upvotes": False,
    }
