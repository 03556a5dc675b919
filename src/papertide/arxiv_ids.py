"""arXiv identifiers and GitHub repository names: parsing and validation (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A version has at most three digits (issue #10): real papers stay far below v100, and a
# 4,301-digit "version" must not reach int(), which refuses over 4,300 digits.
_VERSION = r"(?:v(?P<version>\d{1,3}))?"
# New style (2007-04 on): YYMM.NNNN (4 digits to 2014-12) or YYMM.NNNNN, optional version.
_NEW = re.compile(r"(?P<base>\d{4}\.\d{4,5})" + _VERSION)
# Old style: archive(.SUBJ)/YYMMNNN, optional version, e.g. hep-th/9901001v2, math.GT/0309136.
_OLD = re.compile(r"(?P<base>[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})" + _VERSION)
# An id as the API takes it in a path (optional version, no URL or prefix): its published
# pattern, so a client can tell a malformed id before asking (issue #13).
ID_PATTERN = (
    r"^(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v\d{1,3})?$"
)
_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/", re.I)
_GITHUB = re.compile(
    r"^(?:https?://)?(?:www\.)?github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/"
    r"(?P<name>[A-Za-z0-9._-]{1,100})(?:[/?#].*)?$"
)


class InvalidArxivId(ValueError):
    """The text is not an arXiv identifier."""


@dataclass(frozen=True, slots=True)
class ArxivId:
    """An arXiv id split into its versionless base and optional version."""

    base: str
    version: int | None


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse `2401.01234v2`, `hep-th/9901001`, or an arxiv.org abs/pdf URL."""
    candidate = _URL_PREFIX.sub("", text.strip())
    candidate = candidate.removesuffix(".pdf").removeprefix("arXiv:").removeprefix("arxiv:")
    for pattern in (_NEW, _OLD):
        match = pattern.fullmatch(candidate)
        if match:
            version = match.group("version")
            return ArxivId(match.group("base"), int(version) if version else None)
    raise InvalidArxivId(
        f"{text!r} is not an arXiv id (expected e.g. 2401.01234, 2401.01234v2 or hep-th/9901001)"
    )


def is_arxiv_id(text: str) -> bool:
    """True when `text` is a versionless or versioned arXiv id."""
    try:
        parse_arxiv_id(text)
    except InvalidArxivId:
        return False
    return True


def parse_github_repo(text: str | None) -> str | None:
    """`https://github.com/Owner/Repo/tree/main` -> `Owner/Repo`; None for anything else."""
    if not text:
        return None
    match = _GITHUB.match(text.strip())
    if not match:
        return None
    name = match.group("name").removesuffix(".git")
    if not name or name in {".", ".."}:
        return None
    return f"{match.group('owner')}/{name}"
