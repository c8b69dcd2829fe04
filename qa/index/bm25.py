"""BM25 as sparse-matrix algebra: per-(term, passage) impacts stored by term, summed per query.

    score(q, p) = Σ_{t ∈ q} idf(t) · tf(t,p) · (k1 + 1)^okapi / (tf(t,p) + k1 · (1 − b + b · |p| / avgdl))

lucene (default): idf = ln(1 + (N − n + 0.5) / (n + 0.5)), never negative, no (k1 + 1) factor.
okapi: rank-bm25's BM25Okapi: idf = ln(N − n + 0.5) − ln(n + 0.5); idfs below zero are replaced
by ε · (mean idf over the vocabulary), ε = 0.25; numerator tf · (k1 + 1).
Both: k1 = 1.5, b = 0.75, as in rank-bm25 and bm25s.
"""
from __future__ import annotations

import numpy as np

VARIANTS = ("lucene", "okapi")
K1 = 1.5
B = 0.75
EPSILON = 0.25


def idf(df: np.ndarray, n_passages: int, variant: str) -> np.ndarray:
    df = df.astype(np.float64)
    if variant == "lucene":
        return np.log1p((n_passages - df + 0.5) / (df + 0.5))
    if variant == "okapi":
        raw = np.log(n_passages - df + 0.5) - np.log(df + 0.5)
        floor = EPSILON * raw.mean() if raw.size else 0.0
        return np.where(raw < 0, floor, raw)
    raise ValueError(f"unknown BM25 variant {variant!r}; choose one of {', '.join(VARIANTS)}")


def impacts(tf: np.ndarray, length: np.ndarray, term_idf: np.ndarray, avgdl: float,
            variant: str, k1: float = K1, b: float = B) -> np.ndarray:
    """Score contribution of each stored (term, passage) posting; arrays aligned by posting."""
    tf = tf.astype(np.float64)
    norm = k1 * (1.0 - b + b * length / avgdl)
    numerator = tf * (k1 + 1.0) if variant == "okapi" else tf
    return term_idf * numerator / (tf + norm)


IMPACT_BLOCK = 1 << 22  # postings weighed per step: bounds the float64 temporaries of a large index


def posting_impacts(tf: np.ndarray, passages: np.ndarray, lengths: np.ndarray, df: np.ndarray,
                    n_passages: int, avgdl: float, variant: str, k1: float = K1, b: float = B) -> np.ndarray:
    """float32 impacts of all postings, stored by term (term t owns the next df[t] postings).

    Weighed a block of postings at a time; the formula is elementwise, so a full build and an
    update (qa/index/update.py) get the same numbers whatever the blocks."""
    term_idf = idf(df, n_passages, variant)
    term_of = np.repeat(np.arange(len(df), dtype=np.int32), df)
    out = np.empty(len(tf), dtype=np.float32)
    for lo in range(0, len(tf), IMPACT_BLOCK):
        hi = min(lo + IMPACT_BLOCK, len(tf))
        out[lo:hi] = impacts(tf[lo:hi], lengths[passages[lo:hi]], term_idf[term_of[lo:hi]], avgdl, variant, k1, b)
    return out


class Buffers:
    """Score arrays of one index, reused by every question: a fresh array of all passages per
    question is memory the allocator returns to the kernel and maps again (page faults). Each
    question leaves them zeroed where it wrote."""

    def __init__(self, n_passages: int):
        self.scores = np.zeros(n_passages)
        self.seen = np.zeros(n_passages, dtype=bool)


def accumulate(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
               term_ids: np.ndarray, weights: np.ndarray, n_passages: int, buffers: Buffers | None = None):
    """Sum weighted posting lists of the query terms: cost follows their postings.

    Returns (passages touched, their scores); untouched passages score 0. buffers: the index's
    reusable score arrays (made for this call when not given); the sums are the same either way
    (each passage's contributions added in posting order, from 0).
    """
    if len(term_ids) == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    starts, ends = indptr[term_ids], indptr[term_ids + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    # positions of every posting of every query term, without a Python loop over postings
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    passages = indices[offsets]
    contrib = data[offsets].astype(np.float64) * np.repeat(weights, lengths)
    if total > n_passages // 8:
        # many postings: one dense pass over all passages beats sorting the postings
        buffers = buffers or Buffers(n_passages)
        scores, seen = buffers.scores, buffers.seen
        np.add.at(scores, passages, contrib)  # in posting order, as bincount adds them
        seen[passages] = True
        touched = np.flatnonzero(seen)
        out = scores[touched]
        scores[touched] = 0.0
        seen[touched] = False
        return touched, out
    touched, inverse = np.unique(passages, return_inverse=True)
    scores = np.bincount(inverse, weights=contrib, minlength=len(touched))
    return touched.astype(np.int64), scores
