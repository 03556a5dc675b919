"""arxiv-sanity-lite's recommender, reimplemented with numpy for bench/recommend.py (issue #14).

arxiv-sanity-lite (compute.py, serve.py) fits `TfidfVectorizer(ngram_range=(1, 2),
stop_words="english", max_df=0.1, min_df=5, max_features=20000, sublinear_tf=True,
norm="l2")` over its papers and, for a user's tagged papers, trains
`LinearSVC(class_weight="balanced", C=0.01)` with the tagged papers as positives and every
other paper as negatives, then ranks by the decision function. scikit-learn is not a
Papertide dependency, so this is the same model written out:

- terms as its token pattern finds them (`\\b[a-zA-Z_][a-zA-Z0-9_]+\\b`), stopwords dropped,
  words and word pairs; the vocabulary is the 20,000 most frequent terms in at most 10% and
  at least 5 papers, counted over every listing (hashed into 2^23 buckets, ranking.foryou's
  hashing; a clash merges two terms);
- title and abstract only (the issue's baselines saw no author names);
- the SVM is liblinear's dual coordinate descent for the squared hinge loss with the bias as
  a constant feature, as LinearSVC solves it. "Every other paper" is the day's papers here:
  they are what the reader is shown, and training on all 75k per reader would take hours.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from papertide.ranking.foryou import BUCKETS, STOPWORDS, term_id

_TOKEN = re.compile(r"\b[a-zA-Z_][a-zA-Z0-9_]+\b")
FEATURES = 20_000
MIN_DF, MAX_DF = 5, 0.1
C = 0.01


def sanity_terms(text: str) -> list[str]:
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]
    return words + [f"{a} {b}" for a, b in pairwise(words)]


class Sanity:
    """The tf-idf over every listed paper, and a linear SVM per reader and day."""

    def __init__(self, papers: dict[str, dict[str, Any]], days: set[dt.date]) -> None:
        """Fit over every paper; keep the term counts of the papers of `days` (and seeds)."""
        self.days: dict[dt.date, list[str]] = defaultdict(list)
        df = np.zeros(BUCKETS, np.int64)
        tf = np.zeros(BUCKETS, np.int64)
        self.counts: dict[str, Counter[int]] = {}
        for arxiv_id in sorted(papers):
            row = papers[arxiv_id]
            day = dt.date.fromisoformat(row["listing_dates"][0])
            text = f"{row.get('title') or ''} {row.get('abstract') or ''}"
            counts = Counter(term_id(t) for t in sanity_terms(text))
            ids = np.fromiter(counts, np.int64, len(counts))
            df[ids] += 1
            tf[ids] += np.fromiter(counts.values(), np.int64, len(counts))
            self.counts[arxiv_id] = counts if day in days else Counter()
            self.days[day].append(arxiv_id)
        self.papers = papers
        n = len(self.counts)
        allowed = (df >= MIN_DF) & (df <= MAX_DF * n)
        chosen = np.argsort(-np.where(allowed, tf, -1), kind="stable")[:FEATURES]
        chosen = np.sort(chosen[allowed[chosen]])
        self.column = dict(zip(chosen.tolist(), range(len(chosen)), strict=True))
        self.idf = np.log((1 + n) / (1 + df[chosen])) + 1

    def vectors(self, ids: list[str]) -> npt.NDArray[np.float64]:
        """Dense l2-normalised tf-idf rows over the vocabulary's columns these papers use."""
        for i in ids:  # a seed outside the kept days
            if not self.counts[i]:
                row = self.papers[i]
                text = f"{row.get('title') or ''} {row.get('abstract') or ''}"
                self.counts[i] = Counter(term_id(t) for t in sanity_terms(text))
        entries = [
            [(self.column[t], c) for t, c in self.counts[i].items() if t in self.column]
            for i in ids
        ]
        used = sorted({col for row in entries for col, _ in row})
        local = {col: k for k, col in enumerate(used)}
        matrix = np.zeros((len(ids), len(used)))
        for r, row in enumerate(entries):
            for col, count in row:
                matrix[r, local[col]] = (1 + np.log(count)) * self.idf[col]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms > 0, norms, 1)

    def rank(self, seed: list[str], day: dt.date) -> list[str]:
        """The day's papers (seeds left out) by the SVM's decision, best first, ties by id."""
        seeds = set(seed)
        candidates = [i for i in self.days[day] if i not in seeds]
        x = self.vectors([*seed, *candidates])
        y = np.r_[np.ones(len(seed)), -np.ones(len(candidates))]
        decision = svm_decision(x, y)[len(seed) :]
        order = sorted(range(len(candidates)), key=lambda i: (-decision[i], candidates[i]))
        return [candidates[i] for i in order]


def svm_decision(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], iterations: int = 1000
) -> npt.NDArray[np.float64]:
    """LinearSVC(C=0.01, class_weight="balanced") trained on x, y, its decision on x.

    liblinear's dual coordinate descent for the L2-loss SVM; the bias is a feature of value 1
    (intercept_scaling=1), so the kernel is x.x' + 1. It stops when the projected gradient's
    spread falls under 1e-4 (liblinear's own test; its default eps is 0.1).
    """
    n = len(y)
    weight = {label: n / (2 * (y == label).sum()) for label in (1.0, -1.0)}
    diag = 1 / (2 * C * np.array([weight[label] for label in y]))
    q = (x @ x.T + 1) * np.outer(y, y)
    alpha = np.zeros(n)
    gradient = -np.ones(n)  # (Q alpha)_i - 1, without the diagonal term
    rng = np.random.default_rng(0)
    for _ in range(iterations):
        high, low = -np.inf, np.inf
        for i in rng.permutation(n):
            g = gradient[i] + diag[i] * alpha[i]
            projected = min(g, 0.0) if alpha[i] == 0 else g
            high, low = max(high, projected), min(low, projected)
            if projected != 0:
                new = max(alpha[i] - g / (q[i, i] + diag[i]), 0.0)
                gradient += (new - alpha[i]) * q[:, i]
                alpha[i] = new
        if high - low < 1e-4:
            break
    decision: npt.NDArray[np.float64] = (x @ x.T + 1) @ (alpha * y)
    return decision
