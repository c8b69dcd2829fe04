"""TF-IDF for reranking, computed as array algebra over term ids.

Features are the analyzer's terms (ids 0..V-1) plus the bigrams of consecutive terms
(ids V.., one per distinct pair, keyed a·V + b and kept sorted so a look-up is a binary search).
Weights are scikit-learn's TfidfVectorizer(sublinear_tf=True) on the same terms and bigrams:
tf = 1 + ln(count), idf = ln((1 + N) / (1 + df)) + 1, rows L2-normalised. The tests compare
both fit and transform with scikit-learn itself; building with arrays instead of its Python
vocabulary loop keeps a million-passage build in seconds and the features compact.
"""
from __future__ import annotations

import numpy as np


BLOCK = 1 << 16  # passages per block: bounds the temporaries of a large fit


def _bigram_keys(flat: np.ndarray, starts: np.ndarray, n_terms: int):
    """Keys a·V + b of consecutive term pairs inside each passage, and the passage of each
    (passages numbered from 0 within this slice)."""
    base = int(starts[0])
    if int(starts[-1]) - base < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    flat = flat[base:int(starts[-1])].astype(np.int64)
    local = starts - base
    same = np.ones(len(flat) - 1, dtype=bool)
    inner = local[(local > 0) & (local < len(flat))]
    same[inner - 1] = False  # a pair may not straddle two passages
    keys = flat[:-1] * n_terms + flat[1:]
    owner = np.repeat(np.arange(len(starts) - 1), np.diff(starts))[:-1]
    return keys[same], owner[same]


def _blocks(n: int):
    return [(lo, min(lo + BLOCK, n)) for lo in range(0, n, BLOCK)]


def fit(flat: np.ndarray, starts: np.ndarray, n_terms: int):
    """flat: term ids of all passages in order; starts: offsets of each passage (len N + 1).

    Returns (idf, bigram keys (sorted), CSR rows (indptr, indices, data)) over N passages.
    Two passes over blocks of passages: count features, then weigh them once df is known.
    """
    n = len(starts) - 1
    blocks = _blocks(n)
    bigrams = np.unique(np.concatenate(
        [np.unique(_bigram_keys(flat, starts[lo:hi + 1], n_terms)[0]) for lo, hi in blocks]
        or [np.empty(0, np.int64)]))
    n_features = n_terms + len(bigrams)
    columns, counts, row_sizes = [], [], []
    for lo, hi in blocks:
        a, b = int(starts[lo]), int(starts[hi])
        owner = np.repeat(np.arange(hi - lo, dtype=np.int64), np.diff(starts[lo:hi + 1]))
        keys, key_owner = _bigram_keys(flat, starts[lo:hi + 1], n_terms)
        features = np.concatenate([flat[a:b].astype(np.int64), n_terms + np.searchsorted(bigrams, keys)])
        rows = np.concatenate([owner, key_owner])
        cell, count = np.unique(rows * n_features + features, return_counts=True)
        columns.append((cell % n_features).astype(np.int32))
        counts.append(np.minimum(count, 65535).astype(np.uint16))  # tf beyond 65535 in a passage: capped
        row_sizes.append(np.bincount(cell // n_features, minlength=hi - lo))
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(row_sizes or [np.empty(0, np.int64)]))]).astype(np.int64)
    indices = np.concatenate(columns) if columns else np.empty(0, np.int32)
    del columns
    count = np.concatenate(counts) if counts else np.empty(0, np.uint16)
    del counts
    df = np.bincount(indices, minlength=n_features)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    values = np.empty(len(indices), dtype=np.float32)
    for lo, hi in blocks:  # weigh and normalise, a block of rows at a time
        a, b = int(indptr[lo]), int(indptr[hi])
        row = np.repeat(np.arange(hi - lo), np.diff(indptr[lo:hi + 1]))
        v = (1.0 + np.log(count[a:b])) * idf[indices[a:b]]
        norms = np.sqrt(np.bincount(row, weights=v * v, minlength=hi - lo))
        values[a:b] = v / np.where(norms > 0, norms, 1.0)[row]
    return idf, bigrams, (indptr, indices, values)


def transform(term_ids: list[int], n_terms: int, bigrams: np.ndarray, idf: np.ndarray):
    """Sparse L2-normalised vector of one analysed text: (sorted feature ids, weights).

    term_ids: ids of its terms in order, -1 for a term the index does not know (it is dropped,
    and so is every bigram it is part of, as scikit-learn drops unknown features).
    """
    features = [t for t in term_ids if t >= 0]
    if len(bigrams):
        keys = np.asarray([a * n_terms + b for a, b in zip(term_ids, term_ids[1:]) if a >= 0 and b >= 0],
                          dtype=np.int64)
        if len(keys):
            pos = np.searchsorted(bigrams, keys)
            pos[pos == len(bigrams)] = 0
            found = bigrams[pos] == keys
            features += (n_terms + pos[found]).tolist()
    if not features:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    ids, counts = np.unique(np.asarray(features, dtype=np.int64), return_counts=True)
    weights = (1.0 + np.log(counts)) * idf[ids]
    weights /= np.linalg.norm(weights)
    return ids, weights


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


def feature_name(feature: int, n_terms: int, bigrams: np.ndarray, term) -> str:
    """'term' or 'term term' (scikit-learn's spelling of the feature); term(i) names term i."""
    if feature < n_terms:
        return term(feature)
    a, b = divmod(int(bigrams[feature - n_terms]), n_terms)
    return f"{term(a)} {term(b)}"
