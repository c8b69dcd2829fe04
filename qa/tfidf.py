"""TF-IDF for reranking: scikit-learn fits it at index time; questions are transformed with numpy.

Features are the analyzer's terms plus their bigrams; tf is sublinear (1 + ln tf); idf is
scikit-learn's smoothed ln((1 + N) / (1 + df)) + 1; rows are L2-normalised. `transform`
reproduces TfidfVectorizer.transform exactly (tests compare them), so answering a question
never imports scikit-learn.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from .analyze import with_bigrams


def fit(term_lists: list[list[str]]):
    """Fit on analysed passages. Returns (sorted features, idf, CSR rows as (indptr, indices, data))."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # build time only

    if not any(term_lists):  # nothing but stop words: scikit-learn refuses an empty vocabulary
        return [], np.empty(0), (np.zeros(len(term_lists) + 1, np.int64), np.empty(0, np.int32),
                                 np.empty(0, np.float32))
    vectorizer = TfidfVectorizer(analyzer=with_bigrams, sublinear_tf=True)
    matrix = vectorizer.fit_transform(term_lists).tocsr()
    matrix.sort_indices()
    # scikit-learn's vocabulary is in code-point order, which is also UTF-8 byte order: the
    # order the on-disk table's binary search needs.
    names = vectorizer.get_feature_names_out().tolist()
    idf = vectorizer.idf_.astype(np.float64)
    return names, idf, (matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32),
                        matrix.data.astype(np.float32))


def transform(terms: list[str], lookup, idf: np.ndarray):
    """Sparse L2-normalised TF-IDF vector of analysed terms: (sorted feature ids, weights).

    lookup(feature) -> id or -1 (features unknown to the index are dropped, as scikit-learn does).
    """
    counts = Counter(with_bigrams(terms))
    ids, tf = [], []
    for feature, count in counts.items():
        i = lookup(feature)
        if i >= 0:
            ids.append(i)
            tf.append(count)
    if not ids:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    weights = (1.0 + np.log(np.asarray(tf, dtype=np.float64))) * idf[ids]
    weights /= np.linalg.norm(weights)
    order = np.argsort(ids)
    return ids[order], weights[order]


def cosine_rows(indptr, indices, data, rows: np.ndarray, q_ids: np.ndarray, q_weights: np.ndarray):
    """Dot products of the stored (normalised) rows with a query vector: one vectorised pass."""
    out = np.zeros(len(rows), dtype=np.float64)
    if len(rows) == 0 or len(q_ids) == 0:
        return out
    starts, ends = indptr[rows], indptr[rows + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return out
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    features = indices[offsets]
    pos = np.searchsorted(q_ids, features)
    pos[pos == len(q_ids)] = 0
    match = q_ids[pos] == features
    contrib = np.where(match, data[offsets] * q_weights[pos], 0.0)
    owner = np.repeat(np.arange(len(rows)), lengths)
    return np.bincount(owner, weights=contrib, minlength=len(rows))


def cosine_dense(vectors: list[tuple[np.ndarray, np.ndarray]], q_ids, q_weights) -> np.ndarray:
    """Cosine of several small sparse vectors (e.g. sentences) with the query vector."""
    q = dict(zip(q_ids.tolist(), q_weights.tolist()))
    return np.array([sum(q.get(i, 0.0) * w for i, w in zip(ids.tolist(), ws.tolist()))
                     for ids, ws in vectors], dtype=np.float64)
