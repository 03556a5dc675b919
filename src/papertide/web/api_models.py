"""The JSON API's shapes, for `/openapi.json` and `/docs` (issue #13).

The routes build their JSON directly (web/hf_items.py, orjson: several times faster than
validating through these models), so these classes describe it and the tests hold them to it:
Schemathesis checks every response against the published schema.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Shape):
    """Every error under `/api/`: 400 for bad parameters, 404 for what is not here."""

    error: str = Field(examples=["Paper 2608.99999 is not known here."])


class HfUser(_Shape):
    """Who featured a paper, as Hugging Face's API names a user (`huggingface_hub.User`)."""

    user: str
    name: str
    fullname: str
    type: Literal["user"]
    avatarUrl: str | None = Field(default=None, description="when the import brought one")


class HfOrganization(_Shape):
    """The organization that claims a paper on Hugging Face (imported; absent otherwise)."""

    name: str
    fullname: str | None = None
    avatar: str | None = None


class HfAuthor(_Shape):
    name: str
    hidden: bool


class HfPaper(_Shape):
    """A paper, flat: `GET /api/papers/{id}` and each list item's `paper`."""

    id: str = Field(examples=["2608.16590"])
    authors: list[HfAuthor]
    publishedAt: str | None = Field(description="arXiv's first publication, ISO 8601, `Z`")
    submittedOnDailyAt: str | None = Field(description="the first day it was featured")
    submittedOnDailyBy: HfUser | None
    title: str
    summary: str = Field(description="the abstract, LaTeX as arXiv writes it")
    upvotes: int
    numComments: int
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    ai_summary: str | None
    ai_keywords: list[str] | None
    categories: list[str]
    withdrawn: bool
    withdrawnAt: str | None = Field(
        default=None,
        description="only on withdrawn papers: the date of arXiv's withdrawing version "
        "(null when unknown)",
    )
    discussionId: str | None = Field(
        default=None, description="Hugging Face's discussion of the paper, when imported"
    )
    organization: HfOrganization | None = Field(default=None, description="when imported")
    mediaUrls: list[str] | None = Field(default=None, description="when imported")


class Trending(_Shape):
    """Why a paper trends: its score and the sentence the trending page shows."""

    score: float
    why: str


class HfListItem(_Shape):
    """One element of `/api/daily_papers` and `/api/papers/search` (a bare JSON array)."""

    paper: HfPaper
    publishedAt: str | None = Field(description="the day it was featured (in this list)")
    title: str
    summary: str
    upvotes: int
    numComments: int
    submittedBy: HfUser | None
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    ai_summary: str | None
    ai_keywords: list[str] | None
    isAuthorParticipating: bool
    trending: Trending | None = Field(
        default=None, description="only with `sort=trending`: the score and why"
    )
    thumbnail: str | None = Field(default=None, description="when imported")
    organization: HfOrganization | None = Field(default=None, description="when imported")
    mediaUrls: list[str] | None = Field(default=None, description="when imported")
    highlightedTitle: str | None = Field(
        default=None,
        description="search only: the title, HTML-escaped, its matching words in `<mark>`",
    )
    highlightedSummary: str | None = Field(
        default=None,
        description="search only: the abstract, HTML-escaped, its matching words in `<mark>`",
    )


class HfPaperRepos(_Shape):
    """`GET /api/arxiv/{id}/repos`: Hugging Face's shape, with the paper's code added."""

    models: list[dict[str, object]] = Field(
        description="always empty: Papertide is not the Hugging Face Hub"
    )
    datasets: list[dict[str, object]] = Field(description="always empty, as `models`")
    spaces: list[dict[str, object]] = Field(description="always empty, as `models`")
    githubRepo: str | None = Field(description="the paper's code, when known")
    githubStars: int | None = Field(description="its latest known star count")


class ApiComment(_Shape):
    """A comment, with its replies (deleted ones keep their place, empty and authorless)."""

    id: int
    author: str | None = Field(description="username; null when deleted")
    body: str = Field(description="Markdown, with LaTeX between `$`")
    createdAt: str
    editedAt: str | None
    replies: list[ApiComment]


class TrendingPaper(_Shape):
    """A paper of a trending window, ranked, with the parts of its score."""

    rank: int
    score: float
    upvotePart: float
    starPart: float
    why: str
    paper: HfPaper


class TrendingWindow(_Shape):
    """`GET /api/trending`: a window's ranking and the formula behind it."""

    window: Literal["7d", "30d", "all"]
    formula: str
    computedAt: str | None
    stale: bool = Field(description="true while another process recomputes it")
    total: int
    papers: list[TrendingPaper]


class SubmissionRules(_Shape):
    """What a member may submit to the daily feed, and how often."""

    maxAgeDays: int = Field(description="a paper may be featured up to this many days after arXiv")
    dailyCapPerMember: int
    rateLimit: str = Field(examples=["20/hour"])
    arxivDeadlineSeconds: float
    rules: list[str]


# Responses every API route may give besides its 200.
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "A parameter is malformed: the error says which."},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {
    **ERRORS,
    404: {"model": ErrorBody, "description": "Nothing is known here by that id."},
}
