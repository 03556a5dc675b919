"""arXiv id and GitHub repository parsing."""

from __future__ import annotations

import pytest

from papertide.arxiv_ids import (
    ArxivId,
    InvalidArxivId,
    is_arxiv_id,
    parse_arxiv_id,
    parse_github_repo,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.01234", ArxivId("2401.01234", None)),
        ("2401.01234v2", ArxivId("2401.01234", 2)),
        ("0704.0001", ArxivId("0704.0001", None)),
        ("1412.1234v12", ArxivId("1412.1234", 12)),
        ("  2608.16590 ", ArxivId("2608.16590", None)),
        ("arXiv:2401.01234", ArxivId("2401.01234", None)),
        ("hep-th/9901001", ArxivId("hep-th/9901001", None)),
        ("hep-th/9901001v3", ArxivId("hep-th/9901001", 3)),
        ("acc-phys/9411001", ArxivId("acc-phys/9411001", None)),
        ("math.GT/0309136", ArxivId("math.GT/0309136", None)),
        ("https://arxiv.org/abs/2401.01234v2", ArxivId("2401.01234", 2)),
        ("http://export.arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001", None)),
        ("arxiv.org/pdf/2401.01234.pdf", ArxivId("2401.01234", None)),
        ("https://www.arxiv.org/html/2401.01234v1", ArxivId("2401.01234", 1)),
    ],
)
def test_parse_arxiv_id(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected
    assert is_arxiv_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2401.123",
        "2401.123456",
        "24011.01234",
        "2401-01234",
        "hep-th/990100",
        "HEP-TH/9901001",
        "2401.01234v",
        "2401.01234 extra",
        "https://example.org/abs/2401.01234",
        "not-an-id",
    ],
)
def test_invalid_arxiv_ids(text: str) -> None:
    assert not is_arxiv_id(text)
    with pytest.raises(InvalidArxivId, match="is not an arXiv id"):
        parse_arxiv_id(text)


@pytest.mark.parametrize(
    ("text", "repo"),
    [
        (
            "https://github.com/air-embodied-brain/Zetta-Embodiment",
            "air-embodied-brain/Zetta-Embodiment",
        ),
        ("https://github.com/Owner/Repo/tree/main/src", "Owner/Repo"),
        ("github.com/owner/repo.git", "owner/repo"),
        ("http://www.github.com/o/r?tab=readme", "o/r"),
        ("https://github.com/o/r#install", "o/r"),
        ("https://github.com/o/my.repo_v2", "o/my.repo_v2"),
        ("https://github.com/owner", None),
        ("https://gitlab.com/owner/repo", None),
        ("https://github.com/-bad/repo", None),
        ("https://github.com/o/..", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_github_repo(text: str | None, repo: str | None) -> None:
    assert parse_github_repo(text) == repo
