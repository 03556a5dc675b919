"""Composing a digest (issue #6): an edition's papers and one subscriber in, a Digest out.

Pure: no I/O. papertide.digest.editions reads the candidates and works out which of them
match each distinct topic once per edition; `select` then picks one subscriber's papers from
those sets in microseconds, which is what lets an edition reach 100,000 subscribers quickly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["daily", "weekly"]
EmptySelection = Literal["skip", "trending"]
MAX_TOPIC_ITEMS = 50  # categories or keywords kept of one subscriber (the form allows 30, 20)
MAX_TOPIC_TEXT = 200  # characters kept of one keyword or saved search


@dataclass(frozen=True, slots=True)
class DigestPaper:
    """One paper as a digest shows it."""

    id: str
    title: str
    authors: tuple[str, ...]
    summary: str  # the one-line AI summary, or the abstract's start
    upvotes: int
    stars: int | None
    url: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Topics:
    """What a subscriber asked for; empty means trending papers only."""

    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    search: str = ""
    like_upvotes: bool = False
    # A member's follows (issue #14), not part of `subscriber.topics`: authors by name, and
    # saved searches as their query strings (papertide.following.SavedSearch).
    authors: tuple[str, ...] = ()
    saved_searches: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: Mapping[str, Any] | None) -> Topics:
        """Topics from `subscriber.topics`; anything malformed is left out, never an error."""
        if not isinstance(value, Mapping):
            return cls()
        search = value.get("search")
        return cls(
            categories=_strings(value.get("categories")),
            keywords=_strings(value.get("keywords")),
            search=" ".join(search.split())[:MAX_TOPIC_TEXT] if isinstance(search, str) else "",
            like_upvotes=value.get("like_upvotes") is True,
        )

    @property
    def empty(self) -> bool:
        return not (
            self.categories
            or self.keywords
            or self.search
            or self.like_upvotes
            or self.authors
            or self.saved_searches
        )

    def describe(self) -> str:
        """The topics in one line, for "why you got this"."""
        parts = []
        if self.categories:
            parts.append("categories " + ", ".join(self.categories))
        if self.keywords:
            parts.append("keywords " + ", ".join(f"“{k}”" for k in self.keywords))
        if self.search:
            parts.append(f"the search “{self.search}”")
        if self.like_upvotes:
            parts.append("papers like the ones you upvoted")
        if self.authors:
            parts.append("authors you follow (" + ", ".join(self.authors) + ")")
        if self.saved_searches:
            count = len(self.saved_searches)
            parts.append(f"your saved search{'es' if count > 1 else ''}")
        return "; ".join(parts) if parts else "trending papers"


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    kept = (" ".join(item.split())[:MAX_TOPIC_TEXT] for item in value if isinstance(item, str))
    return tuple(dict.fromkeys(item for item in kept if item))[:MAX_TOPIC_ITEMS]


def category_matches(papers: Iterable[DigestPaper], category: str) -> frozenset[str]:
    """Papers in `category`; an archive name without a dot ("cs") matches all of its own."""
    prefix = category + "." if "." not in category else None
    return frozenset(
        paper.id
        for paper in papers
        if category in paper.categories
        or (prefix is not None and any(c.startswith(prefix) for c in paper.categories))
    )


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a digest is for."""

    id: int
    email: str
    topics: Topics = Topics()


@dataclass(frozen=True, slots=True)
class Digest:
    """One subscriber's digest of one edition: what the renderer and the sender use."""

    subscriber_id: int
    email: str
    kind: Kind
    period: str
    papers: list[DigestPaper]
    topics: Topics = Topics()
    # Nothing matched the topics, so these are the trending papers. Known when composing;
    # a frozen delivery keeps only its paper ids, so a digest rebuilt to send says False.
    fallback: bool = False


def select(
    ranked: Sequence[str],
    topics: Topics,
    matched: Collection[str],
    sent: Collection[str],
    limit: int,
    empty: EmptySelection,
) -> tuple[list[str], bool]:
    """The ids to send (best first) and whether they are the trending fallback.

    `ranked` is the edition in trending order. Subscribers with topics get the papers that
    match them; without topics, or when nothing matched and `empty` is "trending", the
    trending papers. Nothing in `sent` is ever picked again.
    """
    if not topics.empty:
        chosen = [pid for pid in ranked if pid in matched and pid not in sent][:limit]
        if chosen or empty == "skip":
            return chosen, False
        return [pid for pid in ranked if pid not in sent][:limit], True
    return [pid for pid in ranked if pid not in sent][:limit], False


def compose(
    recipient: Recipient,
    kind: Kind,
    period: str,
    ranked: Sequence[str],
    papers: Mapping[str, DigestPaper],
    matched: Collection[str],
    sent: Collection[str],
    limit: int,
    empty: EmptySelection,
) -> Digest:
    """One recipient's digest; its `papers` is empty when there is nothing to send."""
    chosen, fallback = select(ranked, recipient.topics, matched, sent, limit, empty)
    return digest_of(recipient, kind, period, chosen, papers, fallback)


def digest_of(
    recipient: Recipient,
    kind: Kind,
    period: str,
    paper_ids: Sequence[str],
    papers: Mapping[str, DigestPaper],
    fallback: bool = False,
) -> Digest:
    """A digest of papers already chosen (a frozen delivery); unknown ids are left out."""
    return Digest(
        subscriber_id=recipient.id,
        email=recipient.email,
        kind=kind,
        period=period,
        papers=[papers[pid] for pid in paper_ids if pid in papers],
        topics=recipient.topics,
        fallback=fallback,
    )


def one_line(text: str | None, limit: int = 220) -> str:
    """`text` on one line, cut at a word boundary with an ellipsis when longer than `limit`."""
    flat = " ".join((text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def short_authors(authors: Sequence[str], shown: int = 3) -> str:
    """`A, B, C et al.` for a byline."""
    if len(authors) <= shown:
        return ", ".join(authors)
    return ", ".join(authors[:shown]) + " et al."
