"""Citations of papers: BibTeX, RIS and CSL-JSON (issue #14).

Each paper is cited as arXiv cites it (`@misc` with `eprint`, `archivePrefix = {arXiv}` and
`primaryClass`, which biblatex and the arXiv-aware styles understand), with its DOI and journal
reference when arXiv has them. Keys are `<first author's family name><year><first title
word>`, made unique within one export. Pure functions: no I/O.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from papertide.models import PaperDetail

ARXIV_ABS = "https://arxiv.org/abs/"
_SPECIAL = re.compile(r"(?<!\\)([&%#_])")
_MATH = re.compile(r"(\$[^$]+\$)")
_KEY_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class Citable:
    """What a citation needs of a paper."""

    arxiv_id: str
    title: str
    authors: Sequence[str]
    year: int | None
    month: int | None
    primary_category: str | None
    doi: str | None
    journal_ref: str | None
    abstract: str

    @classmethod
    def of(cls, paper: PaperDetail) -> Citable:
        published = paper.published_at
        return cls(
            arxiv_id=paper.arxiv_id,
            title=" ".join(paper.title.split()),
            authors=list(paper.authors),
            year=published.year if published else None,
            month=published.month if published else None,
            primary_category=paper.categories[0] if paper.categories else None,
            doi=paper.doi or None,
            journal_ref=" ".join(paper.journal_ref.split()) if paper.journal_ref else None,
            abstract=" ".join(paper.abstract.split()),
        )

    @property
    def url(self) -> str:
        return ARXIV_ABS + self.arxiv_id


def _ascii_word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    found = _KEY_WORD.findall(plain)
    return found[0] if found else ""


def _family_name(author: str) -> str:
    parts = author.replace(",", " ").split()
    return parts[-1] if parts else ""


def citation_keys(papers: Sequence[Citable]) -> list[str]:
    """A key per paper, unique within `papers` (a, b, c appended to repeats)."""
    keys: list[str] = []
    seen: dict[str, int] = {}
    for paper in papers:
        family = _ascii_word(_family_name(paper.authors[0])) if paper.authors else ""
        first_word = next(
            (w for w in _KEY_WORD.findall(_ascii_fold(paper.title)) if len(w) > 3), ""
        )
        base = f"{family.lower()}{paper.year or ''}{first_word.lower()}"
        base = base or "arxiv" + re.sub(r"\W", "", paper.arxiv_id)
        count = seen.get(base, 0)
        seen[base] = count + 1
        keys.append(base if count == 0 else f"{base}-{count + 1}")
    return keys


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _balanced(text: str) -> str:
    """`text` with braces that would end a BibTeX field early removed."""
    depth, out = 0, []
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                continue
            depth -= 1
        out.append(char)
    result = "".join(out)
    return result + "}" * depth


def _bibtex_value(text: str, protect_case: bool = False) -> str:
    """A field's value: special characters escaped outside math, braces balanced."""
    # Math ($…$) stays as arXiv writes it; elsewhere & % # _ would break LaTeX: escape them
    # (unless already escaped). Other LaTeX (\emph{…}, accents) is kept.
    pieces = _MATH.split(text)
    escaped = "".join(
        piece if _MATH.fullmatch(piece) else _SPECIAL.sub(r"\\\1", piece) for piece in pieces
    )
    value = _balanced(escaped)
    return "{{" + value + "}}" if protect_case else "{" + value + "}"


def bibtex(papers: Sequence[Citable]) -> str:
    """A BibTeX file of `papers`, in order."""
    entries = []
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        fields: list[tuple[str, str]] = [
            ("title", _bibtex_value(paper.title, protect_case=True)),
            ("author", _bibtex_value(" and ".join(paper.authors))),
        ]
        if paper.year:
            fields.append(("year", f"{{{paper.year}}}"))
        fields += [
            ("eprint", f"{{{paper.arxiv_id}}}"),
            ("archivePrefix", "{arXiv}"),
        ]
        if paper.primary_category:
            fields.append(("primaryClass", f"{{{paper.primary_category}}}"))
        if paper.doi:
            fields.append(("doi", _bibtex_value(paper.doi)))
        if paper.journal_ref:
            fields.append(("journal", _bibtex_value(paper.journal_ref)))
        fields.append(("url", f"{{{paper.url}}}"))
        kind = "article" if paper.journal_ref else "misc"
        body = ",\n".join(f"  {name} = {value}" for name, value in fields)
        entries.append(f"@{kind}{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


def ris(papers: Iterable[Citable]) -> str:
    """An RIS file (Zotero, EndNote, Mendeley) of `papers`."""
    records = []
    for paper in papers:
        lines = [("TY", "JOUR" if paper.journal_ref else "UNPB"), ("TI", paper.title)]
        lines += [("AU", author) for author in paper.authors]
        if paper.year:
            month = f"{paper.month:02d}" if paper.month else ""
            lines.append(("PY", f"{paper.year}"))
            lines.append(("DA", f"{paper.year}/{month}" if month else f"{paper.year}"))
        if paper.journal_ref:
            lines.append(("JO", paper.journal_ref))
        else:
            lines.append(("PB", "arXiv"))
        if paper.doi:
            lines.append(("DO", paper.doi))
        lines += [("UR", paper.url), ("AB", paper.abstract), ("M1", f"arXiv:{paper.arxiv_id}")]
        lines.append(("ER", ""))
        records.append("\r\n".join(f"{tag}  - {value}".rstrip() for tag, value in lines))
    return "\r\n".join(records) + "\r\n"


def csl_json(papers: Sequence[Citable]) -> str:
    """CSL-JSON (citeproc, Pandoc, Zotero) of `papers`."""
    items = []
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        item: dict[str, object] = {
            "id": key,
            "type": "article-journal" if paper.journal_ref else "article",
            "title": paper.title,
            "author": [_csl_name(name) for name in paper.authors],
            "URL": paper.url,
            "abstract": paper.abstract,
            "number": f"arXiv:{paper.arxiv_id}",
            "publisher": "arXiv",
        }
        if paper.year:
            parts = [paper.year, paper.month] if paper.month else [paper.year]
            item["issued"] = {"date-parts": [parts]}
        if paper.doi:
            item["DOI"] = paper.doi
        if paper.journal_ref:
            item["container-title"] = paper.journal_ref
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def _csl_name(name: str) -> dict[str, str]:
    parts = name.split()
    if len(parts) < 2:
        return {"literal": name}
    return {"family": parts[-1], "given": " ".join(parts[:-1])}
