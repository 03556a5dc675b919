"""Papers in the JSON shape of Hugging Face's API, as the `huggingface_hub` client reads it.

Traps (DESIGN.md, checked against the client): datetimes end in `Z`; a user's name key is
`user`; `title`, `ai_summary`, `ai_keywords`, `githubRepo`, `githubStars`, `projectPage` and
`numComments` are read from the top level of a list item, so they are repeated there;
`paper.publishedAt` is the arXiv date, the item's `publishedAt` the featured date.

What Hugging Face says besides the text (`discussionId`, `organization`, `thumbnail`,
`mediaUrls`) is repeated when an import brought it and left out otherwise, as Hugging Face
leaves out what a paper lacks; `withdrawnAt` appears on withdrawn papers only (issue #13).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from papertide.models import Featuring, PaperDetail


def iso_z(value: dt.datetime | dt.date | None) -> str | None:
    """`2025-10-06T03:06:08.194Z` (milliseconds, UTC, `Z`), as HF writes datetimes."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _user(featuring: Featuring | None) -> dict[str, Any] | None:
    """Who featured it, with the keys `huggingface_hub.User` reads (`user`, `fullname`,
    `avatarUrl`, `type`) and `name`, as HF's items say it."""
    if featuring is None or not featuring.submitted_by:
        return None
    username = featuring.submitted_by
    found = {
        "user": username,
        "name": username,
        "fullname": featuring.submitter_fullname or username,
        "type": "user",
    }
    if featuring.submitter_avatar_url:
        found["avatarUrl"] = featuring.submitter_avatar_url
    return found


def _hf_extras(paper: PaperDetail, *, item: bool) -> dict[str, Any]:
    """HF's own fields that an import brought, where HF puts them: `discussionId` in the
    paper, `thumbnail` in a list item, `organization` and `mediaUrls` in both."""
    if paper.hf is None:
        return {}
    found = {
        "thumbnail" if item else "discussionId": (
            paper.hf.thumbnail if item else paper.hf.discussion_id
        ),
        "organization": paper.hf.organization,
        "mediaUrls": paper.hf.media_urls,
    }
    return {key: value for key, value in found.items() if value}


def paper_object(paper: PaperDetail) -> dict[str, Any]:
    """`GET /api/papers/{id}`: the paper itself (flat)."""
    first = paper.featured[0] if paper.featured else None
    submitter = _user(first)
    found = {
        "id": paper.arxiv_id,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": iso_z(paper.published_at),
        "submittedOnDailyAt": iso_z(first.date) if first else None,
        "submittedOnDailyBy": submitter,
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": paper.upvotes,
        "numComments": paper.num_comments,
        "githubRepo": f"https://github.com/{paper.github_repo}" if paper.github_repo else None,
        "githubStars": paper.github_stars,
        "projectPage": paper.project_page,
        "ai_summary": paper.ai_summary,
        "ai_keywords": paper.ai_keywords or None,
        "categories": paper.categories,
        "withdrawn": paper.withdrawn,
        **_hf_extras(paper, item=False),
    }
    if paper.withdrawn:
        # arXiv withdraws a paper with a new version: the latest version's date, when known.
        found["withdrawnAt"] = iso_z(paper.updated_at)
    return found


def list_item(paper: PaperDetail, featured_on: dt.date | None = None) -> dict[str, Any]:
    """One element of `/api/daily_papers` and `/api/papers/search` (a bare JSON array)."""
    inner = paper_object(paper)
    featuring = next((f for f in paper.featured if f.date == featured_on), None)
    if featuring is None and paper.featured:
        featuring = paper.featured[-1]
    submitter = _user(featuring)
    return {
        "paper": inner,
        "publishedAt": iso_z(featuring.date) if featuring else inner["publishedAt"],
        "title": paper.title,
        "summary": paper.abstract,
        # The client reads `paper.upvotes or upvotes`: repeated so 0 stays 0, not None.
        "upvotes": paper.upvotes,
        "numComments": paper.num_comments,
        "submittedBy": submitter,
        "githubRepo": inner["githubRepo"],
        "githubStars": paper.github_stars,
        "projectPage": paper.project_page,
        "ai_summary": paper.ai_summary,
        "ai_keywords": paper.ai_keywords or None,
        "isAuthorParticipating": False,
        **_hf_extras(paper, item=True),
    }
