"""Text folding shared by storage and search: one definition of "the same words"."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Case- and diacritic-folded text (as the search indexes' tokenizers fold it)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded words of `text`, punctuation dropped."""
    return _WORD.findall(fold(text))


def title_key(title: str | None) -> str | None:
    """A title reduced to its folded words, so "Attention Is All You Need." and
    "attention is all you need" share one key; None for a title without words."""
    found = words(title or "")
    return " ".join(found)[:500] if found else None
