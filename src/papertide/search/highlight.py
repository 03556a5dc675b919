"""Search snippets made in Python: the window of an abstract with the most query words,
those words marked. Costs microseconds for the 20 cards of a page, where asking FTS5 for
its snippet() means evaluating the whole query again (tens of ms at 1M papers)."""

from __future__ import annotations

import functools
import re

from papertide.db.fts import MARK_CLOSE, MARK_OPEN
from papertide.text import fold

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")
WINDOW = 28  # words, as FTS5's snippet() was asked for


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light English stem, enough to mark "models" for the query word "model"."""
    word = fold(word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            return base + "y" if suffix in ("ies", "ied") else base
    return word


def _stem_if(token: str, prefixes: set[str]) -> str:
    key = token.lower() if token.isascii() else fold(token)
    return stem(key) if key[:3] in prefixes else ""


def snippet(text: str, words: list[str], window: int = WINDOW) -> str:
    """The best `window` words of `text` for `words`, matches wrapped in the mark characters;
    '' when none of the words occurs."""
    wanted = {stem(word) for word in words}
    tokens = list(_TOKEN.finditer(text))
    # Most words share no prefix with any query word: skip stemming them.
    prefixes = {word[:3] for word in wanted}
    stems = [_stem_if(token.group(), prefixes) for token in tokens]
    hits = [i for i, token_stem in enumerate(stems) if token_stem in wanted]
    if not hits:
        return ""
    start = _best_start(len(tokens), hits, stems, window)
    end = min(len(tokens), start + window)
    begin_at = 0 if start == 0 else tokens[start].start()
    end_at = len(text) if end == len(tokens) else tokens[end - 1].end()
    marked, cursor = [], begin_at
    for i in hits:
        if start <= i < end:
            token = tokens[i]
            marked += [text[cursor : token.start()], MARK_OPEN, token.group(), MARK_CLOSE]
            cursor = token.end()
    marked.append(text[cursor:end_at])
    body = " ".join("".join(marked).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(tokens) else "")


def _best_start(size: int, hits: list[int], stems: list[str], window: int) -> int:
    # The window starting a little before some hit that covers the most distinct words
    # (then the most hits); ties go to the earliest.
    best, best_key = 0, (-1, -1)
    for first in hits:
        start = max(0, min(first - 3, size - window))
        inside = [i for i in hits if start <= i < start + window]
        distinct = len({stems[i] for i in inside})
        key = (distinct, len(inside))
        if key > best_key:
            best, best_key = start, key
    return best
