"""Plain data shapes passed between the domain packages and the web layer.

These hold no database handles, so templates, the JSON API and the digest renderer can
all read them without touching SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PaperCard:
    """One paper as shown on a feed or search card."""

    arxiv_id: str
    title: str
    authors: list[str]
    categories: list[str]
    upvotes: int
    num_comments: int
    github_repo: str | None  # "owner/name"
    github_stars: int | None
    published_at: dt.datetime | None
    featured_on: dt.date | None = None
    submitted_by: str | None = None  # username
    submitter_fullname: str | None = None
    submitter_comment: str | None = None
    snippet_html: str | None = None  # search highlight, already escaped + <mark>ed
    ai_summary: str | None = None


@dataclass(frozen=True, slots=True)
class Featuring:
    """A day a paper was featured, and who featured it."""

    date: dt.date
    submitted_by: str | None
    submitter_fullname: str | None
    comment: str | None
    submitter_avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class PaperDetail:
    """Everything the paper page shows."""

    arxiv_id: str
    version: int | None
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published_at: dt.datetime | None
    updated_at: dt.datetime | None
    comments: str | None
    doi: str | None
    journal_ref: str | None
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    withdrawn: bool
    upvotes: int
    num_comments: int
    ai_summary: str | None
    ai_keywords: list[str] = field(default_factory=list)
    featured: list[Featuring] = field(default_factory=list)
    imported_comments: int = 0  # of num_comments, those on the Hugging Face discussion
    hf: HfExtras | None = None  # what Hugging Face says besides the text, when imported


@dataclass(frozen=True, slots=True)
class HfExtras:
    """What Hugging Face's daily papers say of a paper besides its text (issue #13)."""

    discussion_id: str | None = None
    organization: dict[str, str] | None = None  # {name, fullname, avatar}
    thumbnail: str | None = None
    media_urls: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Facets:
    """How the results of a search split by each filter (counted over `basis` results)."""

    basis: int  # how many of the results were counted (the first FACET_DEPTH)
    categories: list[tuple[str, int]]  # most common first
    years: list[tuple[int, int]]  # newest first
    has_code: int
    featured: int


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of search results."""

    query: str
    total: int
    page: int
    per_page: int
    cards: list[PaperCard]
    pinned: int = 0  # how many leading cards were pinned (exact id / title / author match)
    mode: str = "keyword"  # "hybrid" when the semantic retriever took part (issue #4)
    notice: str | None = None  # why the results are keyword-only, when they had to be
    # The first results in rank order (up to FACET_DEPTH), which the facets count over.
    facet_ids: tuple[str, ...] = ()
    facets: Facets | None = None


@dataclass(slots=True)
class PaperRecord:
    """A paper as one source describes it; None means "this source does not say"."""

    arxiv_id: str
    title: str | None = None
    abstract: str | None = None
    authors: list[str] | None = None
    categories: list[str] | None = None
    version: int | None = None
    published_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    comments: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    github_repo: str | None = None  # "owner/name"
    project_page: str | None = None
    withdrawn: bool | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    hf_discussion_id: str | None = None
    hf_organization: dict[str, str] | None = None
    hf_thumbnail: str | None = None
    hf_media_urls: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Submitter:
    """Who featured a paper (a Hugging Face account for imported history)."""

    username: str
    fullname: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """A paper featured on a day."""

    arxiv_id: str
    date: dt.date
    submitted_at: dt.datetime
    submitter: Submitter | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class StarsRecord:
    """A GitHub star count observed at a time."""

    repo: str  # "owner/name"
    stars: int
    observed_at: dt.datetime


@dataclass(slots=True)
class WriteCounts:
    """What a batch write changed."""

    papers_new: int = 0
    papers_updated: int = 0
    papers_unchanged: int = 0
    entries_new: int = 0
    stars_new: int = 0

    def add(self, other: WriteCounts) -> None:
        self.papers_new += other.papers_new
        self.papers_updated += other.papers_updated
        self.papers_unchanged += other.papers_unchanged
        self.entries_new += other.entries_new
        self.stars_new += other.stars_new

    @property
    def changed(self) -> bool:
        return bool(self.papers_new or self.papers_updated or self.entries_new or self.stars_new)


ROLES = ("member", "curator", "admin")


# What a personal API token may do (issue #13): read (identify itself), vote, comment, submit.
API_SCOPES = ("read", "vote", "comment", "submit")


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A personal API token as its owner sees it in settings (never its value)."""

    id: int
    name: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the accounts code and the templates see it (never the password hash)."""

    id: int
    username: str
    fullname: str | None
    email: str | None
    role: str  # member | curator | admin
    origin: str  # local | hf (imported submitters, who cannot log in)
    created_at: dt.datetime
    suspended_at: dt.datetime | None = None

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_curator(self) -> bool:
        """Curators and admins moderate (issue #5)."""
        return self.role in ("curator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class VoteResult:
    """A paper's upvote state for one user after a vote, and its total count."""

    paper_id: str
    upvoted: bool
    upvotes: int  # imported + local
    changed: bool  # False when the vote was already in that state
