"""For you (issue #14): a day's papers ranked for one member from the papers they upvoted.

Pure: papers in, scores and reasons out; no database. docs/for-you.md says how it works and
bench/recommend.py measures it. In short, each paper is a tf-idf vector of its title, abstract
and comments line (words and word pairs, sublinear term counts, the corpus's IDF, unit length).
A candidate's topic is the mean of its cosines to the member's liked papers (the cosine to
their centroid), less the mean of its cosines to the papers they marked "not for me"
(Rocchio's negative feedback); its score adds, standardised over the candidates, whether its
code or project page lives where a liked paper's does and how many liked papers share its
categories. Author names are never read. (The MiniLM embeddings search uses added under 0.01
hit@10 on bench/recommend.py's readers, so they are not read either: docs/benchmarks.md.)

Anything corpus-wide is built once: `TermStatistics` (document frequencies, hashed) and the
per-paper vectors, which `PaperVectors` caches, so a request only sums a few thousand numbers.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from threading import Lock

import numpy as np
import numpy.typing as npt

# Hashed term ids: 2^23 buckets keep a corpus's ~4M words and word pairs mostly apart in
# 32 MiB of counts (a clash only merges two terms' document frequencies).
BUCKETS = 1 << 23
EXPLAINED = 50  # candidates, best first, whose reason names the nearest upvoted papers
LIKED = "one of the papers you liked (upvoted, saved or marked)"  # the reason of a liked candidate
CLOSE = 0.15  # a cosine at which two abstracts visibly share a topic (the reason counts them)
# A cosine at which two abstracts share a few telling phrases, not a topic: a random paper's
# highest cosine to 200 random papers of the listings is under it 9 times in 10.
LOOSE = 0.06
OUTSIDE = "outside the topics of the papers you liked"

# The three signals' weights, each standardised over the candidates: fitted by logistic
# regression on bench/recommend.py's readers (0-299 predicting 3000-3299 and the reverse gave
# the same weights to a few hundredths), rounded. docs/for-you.md.
TOPIC, HOME, FIELD = 1.0, 0.35, 0.45
# Where a paper's code or project page lives, by its owner: github.com/owner, owner.github.io,
# gitlab.com/owner, huggingface.co/owner (a lab's papers tend to share one).
_CODE_HOME = re.compile(
    r"\b((?:github\.com|gitlab\.com|huggingface\.co)/(?:datasets/|spaces/|collections/)?"
    r"[a-z0-9_.-]+)"
)
_CODE_HOSTS = ("github.com/", "gitlab.com/", "huggingface.co/")
# Addresses that name no owner: many unrelated papers share them.
_NO_OWNER = frozenset(
    ("github.com/anonymous", "huggingface.co/papers", "huggingface.co/docs", "huggingface.co/blog")
)
_PAGES_HOME = re.compile(r"\b([a-z0-9-]+\.github\.io)")
_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*[a-z0-9]|[a-z]")
# Words that say nothing of a topic; without them the word pairs are the topic's phrases.
STOPWORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "on",
        "for",
        "to",
        "with",
        "by",
        "from",
        "at",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "this",
        "that",
        "these",
        "those",
        "we",
        "our",
        "us",
        "it",
        "its",
        "their",
        "they",
        "them",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "how",
        "than",
        "then",
        "there",
        "here",
        "such",
        "can",
        "could",
        "may",
        "might",
        "will",
        "would",
        "shall",
        "should",
        "do",
        "does",
        "did",
        "done",
        "not",
        "no",
        "nor",
        "but",
        "if",
        "so",
        "also",
        "into",
        "over",
        "under",
        "between",
        "among",
        "via",
        "using",
        "use",
        "used",
        "based",
        "new",
        "show",
        "shows",
        "shown",
        "propose",
        "proposed",
        "paper",
        "present",
        "approach",
        "method",
        "methods",
        "results",
        "result",
        "both",
        "each",
        "more",
        "most",
        "other",
        "some",
        "any",
        "all",
        "only",
        "well",
        "while",
        "within",
        "without",
        "through",
        "across",
        "however",
        "further",
        "thus",
        "hence",
        "have",
        "has",
        "had",
    )
)

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]
Vector = tuple[IdArray, FloatArray]  # sorted term ids, weights


@dataclass(frozen=True, slots=True)
class Paper:
    """What the ranker may read of a paper: never its authors."""

    arxiv_id: str
    title: str
    abstract: str
    categories: tuple[str, ...] = ()
    comments: str = ""  # arXiv's comments line: venue, pages, the code's or project's address
    repository: str = ""  # its GitHub repository, "owner/name", where known
    project_page: str = ""


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate's score (higher first), why it is there, and how many of the papers the
    member likes are close to it (counted for the best `explained` candidates only)."""

    arxiv_id: str
    score: float
    reason: str
    close: int = 0


def terms(title: str, abstract: str, comments: str = "") -> list[str]:
    """The words of a paper (stopwords and bare numbers dropped) and its adjacent word pairs."""
    found: list[str] = []
    for part in (title, abstract, comments):  # no pair spans two of them
        words = [w for w in _WORD.findall(part.lower()) if w not in STOPWORDS and not w.isdigit()]
        found += words
        found += [f"{a} {b}" for a, b in pairwise(words)]
    return found


def term_id(term: str) -> int:
    """A term's bucket: CRC-32 is stable across processes, so figures repeat exactly."""
    return zlib.crc32(term.encode()) % BUCKETS


class TermStatistics:
    """Document frequencies of a corpus's terms, hashed: IDF without a vocabulary."""

    def __init__(self, documents: int, frequencies: npt.NDArray[np.int32]) -> None:
        self.documents = documents
        self.frequencies = frequencies
        # Smoothed IDF, as scikit-learn's: a term in no document weighs most, never infinity.
        self.idf = (np.log((documents + 1) / (frequencies + 1.0)) + 1.0).astype(np.float32)

    @classmethod
    def from_texts(cls, texts: Iterable[Sequence[str]]) -> TermStatistics:
        """Count each term once per paper: (title, abstract[, comments])."""
        counts = np.zeros(BUCKETS, dtype=np.int32)
        documents = 0
        chunk: list[int] = []
        for parts in texts:
            documents += 1
            chunk.extend({term_id(t) for t in terms(*parts)})
            if len(chunk) > 1_000_000:
                counts += np.bincount(chunk, minlength=BUCKETS).astype(np.int32)
                chunk.clear()
        if chunk:
            counts += np.bincount(chunk, minlength=BUCKETS).astype(np.int32)
        return cls(documents, counts)

    def vector(self, title: str, abstract: str, comments: str = "") -> Vector:
        """A paper's tf-idf vector, sparse: sorted term ids and unit-length weights."""
        counts = Counter(term_id(t) for t in terms(title, abstract, comments))
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        ids = np.fromiter(counts, np.int64, len(counts))
        order = np.argsort(ids)
        ids = ids[order]
        tf = np.fromiter(counts.values(), np.float32, len(counts))[order]
        weights = (1.0 + np.log(tf)) * self.idf[ids]  # sublinear counts
        return ids, (weights / np.linalg.norm(weights)).astype(np.float32)


class PaperVectors:
    """Papers' tf-idf vectors, kept for the `size` most recently used (key: id and text), and
    the last few candidate sets as matrices (a day's papers are the same for every member)."""

    def __init__(self, stats: TermStatistics, size: int = 50_000, sets: int = 8) -> None:
        self.stats = stats
        self.size = size
        self.sets = sets
        self._kept: OrderedDict[tuple[str, int], Vector] = OrderedDict()
        self._matrices: OrderedDict[tuple[tuple[str, int], ...], Matrix] = OrderedDict()
        self._lock = Lock()

    def of(self, paper: Paper) -> Vector:
        """The paper's vector, from the cache or computed now."""
        key = _key(paper)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        found = self.stats.vector(paper.title, paper.abstract, paper.comments)
        with self._lock:
            self._kept[key] = found
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return found

    def matrix(self, papers: Sequence[Paper]) -> Matrix:
        """The papers' vectors as one matrix, kept for the last `sets` sets asked."""
        key = tuple(_key(p) for p in papers)
        with self._lock:
            found = self._matrices.get(key)
            if found is not None:
                self._matrices.move_to_end(key)
                return found
        found = Matrix.of([self.of(p) for p in papers])
        with self._lock:
            self._matrices[key] = found
            while len(self._matrices) > self.sets:
                self._matrices.popitem(last=False)
        return found


def _key(paper: Paper) -> tuple[str, int]:
    return paper.arxiv_id, hash((paper.title, paper.abstract, paper.comments))


@dataclass(frozen=True, slots=True)
class Matrix:
    """Sparse rows over their own sorted term ids: entry i is row `rows[i]`, column
    `columns[i]` (an index into `terms`), weight `weights[i]`."""

    terms: IdArray
    rows: IdArray
    columns: IdArray
    weights: FloatArray
    count: int

    @classmethod
    def of(cls, vectors: Sequence[Vector]) -> Matrix:
        ids = np.concatenate([v[0] for v in vectors]) if vectors else np.zeros(0, np.int64)
        weights = np.concatenate([v[1] for v in vectors]) if vectors else np.zeros(0, np.float32)
        lengths = [len(v[0]) for v in vectors]
        rows = np.repeat(np.arange(len(vectors), dtype=np.int64), lengths)
        terms, columns = np.unique(ids, return_inverse=True)
        return cls(terms, rows, columns.astype(np.int64), weights, len(vectors))

    def mean(self) -> Vector:
        """The rows' mean (the centroid): its dot product is the mean of the rows' cosines."""
        sums = np.bincount(self.columns, weights=self.weights, minlength=len(self.terms))
        return self.terms, (sums / max(self.count, 1)).astype(np.float32)

    def cosines(self, other: Matrix) -> FloatArray:
        """Every row's dot product with every row of `other` (rows x other rows).

        Without BLAS: a matrix product would, and its threads fight over a busy host's cores
        (a 50 x 200 product took 200-700 ms next to other work instead of 4 ms).
        """
        dense = np.zeros((self.count, len(self.terms)), np.float32)
        dense[self.rows, self.columns] = self.weights
        result = np.zeros((self.count, other.count), np.float32)
        hit = other._positions(self.terms)[other.columns]
        keep = hit >= 0
        if not keep.any():
            return result
        rows = other.rows[keep]  # non-decreasing: Matrix.of lays rows out in order
        products = dense[:, hit[keep]] * other.weights[keep]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        result[:, rows[starts]] = np.add.reduceat(products, starts, axis=1)
        return result

    def dot(self, vector: Vector) -> npt.NDArray[np.float64]:
        """Each row's dot product with a sparse vector (sorted ids)."""
        ids, weights = vector
        if not len(ids) or not len(self.terms):
            return np.zeros(self.count)
        where = np.minimum(np.searchsorted(ids, self.terms), len(ids) - 1)
        dense = np.where(ids[where] == self.terms, weights[where], 0.0)  # over self.terms
        products = (dense[self.columns] * self.weights).astype(np.float64)
        return np.bincount(self.rows, weights=products, minlength=self.count).astype(np.float64)

    def _positions(self, terms: IdArray) -> IdArray:
        """For each of this matrix's terms, its index in `terms`, or -1."""
        if not len(terms):
            return np.full(len(self.terms), -1, np.int64)
        where = np.minimum(np.searchsorted(terms, self.terms), len(terms) - 1)
        positions: IdArray = np.where(terms[where] == self.terms, where, -1)
        return positions

    def pick(self, rows: Sequence[int]) -> Matrix:
        """The given rows, in that order, as a matrix of their own."""
        order = np.argsort(self.rows, kind="stable")
        starts = np.searchsorted(self.rows[order], np.arange(self.count + 1))
        parts = [order[starts[r] : starts[r + 1]] for r in rows]
        return Matrix.of([(self.terms[self.columns[p]], self.weights[p]) for p in parts])


def rank(
    positives: Sequence[Paper],
    candidates: Sequence[Paper],
    vectors: PaperVectors,
    negatives: Sequence[Paper] = (),
    explained: int = EXPLAINED,
    keep_liked: bool = False,
) -> list[Scored]:
    """`candidates` scored for a member who upvoted `positives` and set aside `negatives`,
    best first (ties by id), each with its reason. A positive among the candidates is left out,
    unless `keep_liked` (the page: a card just marked "more like this" stays, to be undone)."""
    known = {p.arxiv_id for p in positives}
    if not keep_liked:
        candidates = [c for c in candidates if c.arxiv_id not in known]
    if not candidates:
        return []
    matrix = vectors.matrix(candidates)
    liked = vectors.matrix(positives)
    topic = matrix.dot(liked.mean())
    if negatives:
        topic = topic - matrix.dot(Matrix.of([vectors.of(n) for n in negatives]).mean())
    categories = Counter(c for p in positives for c in set(p.categories))
    liked_homes = Counter(h for p in positives for h in homes(p))
    shared = [[h for h in sorted(homes(c)) if liked_homes[h]] for c in candidates]
    field = [
        sum(categories[x] for x in c.categories) / max(len(c.categories), 1) for c in candidates
    ]
    score = (
        TOPIC * _standard(topic)
        + HOME * _standard(np.array([bool(h) for h in shared], np.float64))
        + FIELD * _standard(np.array(field, np.float64))
    )
    order = sorted(range(len(candidates)), key=lambda i: (-score[i], candidates[i].arxiv_id))
    nearest = _nearest(positives, liked, matrix, order[:explained])

    def reason(i: int) -> str:
        if candidates[i].arxiv_id in known:
            return LIKED
        if i in nearest and nearest[i][1]:
            return nearest[i][0]
        if shared[i]:
            home, count = shared[i][0], liked_homes[shared[i][0]]
            papers = "a paper" if count == 1 else f"{count} papers"
            return f"code or project page at {home}, like {papers} you liked"
        found = _category_reason(candidates[i], categories)
        return nearest[i][0] if found == OUTSIDE and i in nearest else found

    return [
        Scored(candidates[i].arxiv_id, float(score[i]), reason(i), nearest.get(i, ("", 0))[1])
        for i in order
    ]


@lru_cache(maxsize=1 << 14)  # a day's papers are every member's candidates; a miss costs 10 µs
def homes(paper: Paper) -> frozenset[str]:
    """Where the paper's code or project page lives (its owner, lower-cased), from its
    repository, its project page and the links in its abstract and comments:
    {"github.com/owner", "owner.github.io", ...}."""
    repository = f"github.com/{paper.repository}" if paper.repository else ""
    text = f"{paper.abstract} {paper.comments} {repository} {paper.project_page}".lower()
    # Each regex runs only where its link can be: alone it would try every word of the text.
    found = _CODE_HOME.findall(text) if any(h in text for h in _CODE_HOSTS) else []
    if ".github.io" in text:
        found += _PAGES_HOME.findall(text)
    return frozenset(h.rstrip(".-") for h in found) - _NO_OWNER


def _standard(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Values less their mean, over their standard deviation (all zero when they are equal):
    signals of different scales, made comparable within one set of candidates."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros(len(values))


def _nearest(
    positives: Sequence[Paper], liked: Matrix, matrix: Matrix, shown: Sequence[int]
) -> dict[int, tuple[str, int]]:
    """For the best candidates with a close upvoted paper: the reason (how many are close, and
    the closest's title) and how many; with a loosely related one only: that reason and 0."""
    if not positives or not shown:
        return {}
    picked = matrix.pick(shown)
    cosines = picked.cosines(liked)
    reasons: dict[int, tuple[str, int]] = {}
    for row, index in enumerate(shown):
        close = int((cosines[row] >= CLOSE).sum())
        nearest = positives[int(np.argmax(cosines[row]))].title
        if close:
            papers = "a paper" if close == 1 else f"{close} papers"
            reasons[index] = (f"close to {papers} you liked: {_short(nearest)}", close)
        elif cosines[row].max() >= LOOSE:
            reasons[index] = (f"loosely like a paper you liked: {_short(nearest)}", 0)
    return reasons


def _category_reason(candidate: Paper, categories: Counter[str]) -> str:
    """'in cs.LG, like 4 of yours': the candidate's category most common among the upvotes."""
    best = max(candidate.categories, key=lambda c: categories[c], default=None)
    if best is None or not categories[best]:
        return OUTSIDE
    return f"in {best}, like {categories[best]} of yours"


def _short(title: str, limit: int = 80) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"
