"""TF-IDF for reranking, computed as array algebra over term ids.

Features are the analyzer's terms plus the bigrams of consecutive terms. Each feature has a
stable id: a term's is term_feature[term id]; a bigram's is found by its key a·2^31 + b (a, b
the features of its two terms) in a sorted key array. Ids never change once given, so rows
stored for earlier passages stay valid when documents are added (new features get new ids).

Weights are scikit-learn's TfidfVectorizer(sublinear_tf=True) on the same terms and bigrams:
tf = 1 + ln(count), idf = ln((1 + N) / (1 + df)) + 1, rows L2-normalised. Rows are stored as
(feature, count) and weighed when read, from the idf of the moment: the reranker reads about a
hundred rows, and a stored row then never needs rewriting when N or a df changes. The tests
compare both fit and transform with scikit-learn itself.
"""
from __future__ import annotations

import numpy as np

from qa.index.parts import PartArray

BLOCK = 1 << 16  # passages per block: bounds the temporaries of a large fit
KEY = np.int64(1 << 31)  # bigram key = first feature · KEY + second feature
MAX_COUNT = 65535  # counts are uint16: a feature repeated more often in one passage is capped


def idf_of(df: np.ndarray, n_passages: int) -> np.ndarray:
    return np.log((1.0 + n_passages) / (1.0 + df)) + 1.0


def bigram_keys(features: np.ndarray, starts: np.ndarray):
    """Keys of consecutive feature pairs inside each passage, and the passage of each
    (passages numbered from 0 within this slice). features: int64 feature ids of the slice's
    terms, in order; starts: offsets of each passage into the whole array."""
    base = int(starts[0])
    if int(starts[-1]) - base < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    flat = features[base:int(starts[-1])].astype(np.int64)
    local = starts - base
    same = np.ones(len(flat) - 1, dtype=bool)
    inner = local[(local > 0) & (local < len(flat))]
    same[inner - 1] = False  # a pair may not straddle two passages
    keys = flat[:-1] * KEY + flat[1:]
    owner = np.repeat(np.arange(len(starts) - 1), np.diff(starts))[:-1]
    return keys[same], owner[same]


def _blocks(n: int):
    return [(lo, min(lo + BLOCK, n)) for lo in range(0, n, BLOCK)]


def rows_of(features: np.ndarray, starts: np.ndarray, bigrams: np.ndarray, bigram_feature: np.ndarray,
            n_features: int, lo: int, hi: int):
    """(row sizes, feature ids, counts) of passages lo..hi: their terms' and bigrams' features,
    sorted within each row. Every bigram must be in `bigrams`."""
    a, b = int(starts[lo]), int(starts[hi])
    owner = np.repeat(np.arange(hi - lo, dtype=np.int64), np.diff(starts[lo:hi + 1]))
    keys, key_owner = bigram_keys(features, starts[lo:hi + 1])
    ids = np.concatenate([features[a:b].astype(np.int64), bigram_feature[np.searchsorted(bigrams, keys)]])
    rows = np.concatenate([owner, key_owner])
    cell, count = np.unique(rows * n_features + ids, return_counts=True)
    return (np.bincount(cell // n_features, minlength=hi - lo), (cell % n_features).astype(np.int32),
            np.minimum(count, MAX_COUNT).astype(np.uint16))


def fit(flat: np.ndarray, starts: np.ndarray, n_terms: int):
    """flat: term ids of all passages in order; starts: offsets of each passage (len N + 1).

    Term t gets feature t; bigrams get n_terms.. in key order. Returns a dict of arrays:
    tfidf.term_feature, tfidf.bigrams (sorted keys), tfidf.bigram_feature, tfidf.df,
    tfidf.idf, tfidf.rows (N × 2 spans into tfidf.features / tfidf.counts)."""
    n = len(starts) - 1
    blocks = _blocks(n)
    bigrams = np.empty(0, np.int64)
    for lo, hi in blocks:  # a running union: never all blocks' keys at once
        bigrams = np.union1d(bigrams, bigram_keys(flat, starts[lo:hi + 1])[0])
    n_features = n_terms + len(bigrams)
    bigram_feature = np.arange(n_terms, n_features, dtype=np.int32)
    # at most one entry per term and one per bigram position: the outputs are allocated at that
    # bound (pages never written cost nothing) and filled block by block, so no concatenation
    # holds the rows twice
    bound = 2 * int(starts[-1] - starts[0])
    features, count = np.empty(bound, np.int32), np.empty(bound, np.uint16)
    indptr = np.zeros(n + 1, dtype=np.int64)
    filled = 0
    for lo, hi in blocks:
        size, column, block_count = rows_of(flat, starts, bigrams, bigram_feature, n_features, lo, hi)
        features[filled:filled + len(column)] = column
        count[filled:filled + len(column)] = block_count
        indptr[lo + 1:hi + 1] = filled + np.cumsum(size)
        filled += len(column)
    features, count = features[:filled], count[:filled]
    df = np.bincount(features, minlength=n_features).astype(np.int64)
    return {"tfidf.term_feature": np.arange(n_terms, dtype=np.int32), "tfidf.bigrams": bigrams,
            "tfidf.bigram_feature": bigram_feature, "tfidf.df": df, "tfidf.idf": idf_of(df, n),
            "tfidf.rows": np.stack([indptr[:-1], indptr[1:]], axis=1),
            "tfidf.features": features, "tfidf.counts": count}


def find_keys(bigrams: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each key stands in the sorted bigram keys, and whether it is there at all."""
    pos = np.searchsorted(bigrams, keys)
    if len(bigrams) == 0:
        return pos, np.zeros(len(keys), dtype=bool)
    found = bigrams[np.minimum(pos, len(bigrams) - 1)] == keys
    return pos, found


def transform(term_features: list[int], bigrams: np.ndarray, bigram_feature: np.ndarray, idf: np.ndarray):
    """Sparse L2-normalised vector of one analysed text: (sorted feature ids, weights).

    term_features: the feature of each of its terms in order, -1 for a term the index does not
    know (it is dropped, and so is every bigram it is part of, as scikit-learn drops unknown
    features)."""
    features = [f for f in term_features if f >= 0]
    if len(bigrams):
        keys = np.asarray([a * int(KEY) + b for a, b in zip(term_features, term_features[1:]) if a >= 0 and b >= 0],
                          dtype=np.int64)
        if len(keys):
            pos, found = find_keys(bigrams, keys)
            features += bigram_feature[pos[found]].tolist()
    if not features:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    ids, counts = np.unique(np.asarray(features, dtype=np.int64), return_counts=True)
    weights = (1.0 + np.log(counts)) * idf[ids]
    weights /= np.sqrt(row_sums(np.zeros(len(ids), np.int64), weights * weights, 1)[0])
    return ids, weights


def transform_many(texts: list[list[int]], bigrams: np.ndarray, bigram_feature: np.ndarray, idf: np.ndarray):
    """`transform` of several texts in one vectorised pass: (the text of each entry, feature ids,
    weights), entries by text and then by feature. Each text's entries are exactly those
    `transform` gives it alone (row_sums adds each row's squares in the same order)."""
    owners, features, keys, key_owners = [], [], [], []
    for j, term_features in enumerate(texts):
        for f in term_features:
            if f >= 0:
                owners.append(j)
                features.append(f)
        if len(bigrams):
            for a, b in zip(term_features, term_features[1:]):
                if a >= 0 and b >= 0:
                    keys.append(a * int(KEY) + b)
                    key_owners.append(j)
    if keys:
        pos, found = find_keys(bigrams, np.asarray(keys, dtype=np.int64))
        features += bigram_feature[pos[found]].tolist()
        owners += np.asarray(key_owners, dtype=np.int64)[found].tolist()
    if not features:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    width = len(idf)
    combined, counts = np.unique(np.asarray(owners, dtype=np.int64) * width + np.asarray(features, dtype=np.int64),
                                 return_counts=True)
    owner, ids = np.divmod(combined, width)
    weights = (1.0 + np.log(counts)) * idf[ids]
    weights /= np.sqrt(row_sums(owner, weights * weights, len(texts)))[owner]
    return owner, ids, weights


def gather_rows(spans: np.ndarray, features, counts, rows: np.ndarray):
    """Entries of the given rows: (row position 0..len(rows)-1 of each, feature ids, counts).
    features/counts: arrays or parts.PartArray, addressed by the spans."""
    span = np.asarray(spans[rows])
    starts, ends = span[:, 0], span[:, 1]
    lengths = ends - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    owner = np.repeat(np.arange(len(rows)), lengths)
    if isinstance(features, PartArray):  # reads checked range by range (qa/index/checksums.py)
        return owner, features.take(starts, ends, offsets).astype(np.int64), counts.take(starts, ends, offsets)
    return owner, np.asarray(features[offsets], dtype=np.int64), np.asarray(counts[offsets])


def row_sums(owner: np.ndarray, values: np.ndarray, n_rows: int) -> np.ndarray:
    """The sum of each row's values, added in ascending order of value: the same bits whatever the
    order of the entries. Feature ids, and so the order of a row's entries, differ between an
    updated index and a rebuilt one; the sums must not."""
    sums = np.zeros(n_rows)
    if len(values) == 0:
        return sums
    grouped = _sorted_within_rows(owner, values)
    if grouped is not None:
        owner, values = grouped
    else:
        order = np.lexsort((values, owner))
        owner, values = owner[order], values[order]
    starts = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]]))
    sums[owner[starts]] = np.add.reduceat(values, starts)
    return sums


def _sorted_within_rows(owner: np.ndarray, values: np.ndarray):
    """(owner, values) with each row's values ascending, for entries already grouped by row (as
    gathered rows are): the rows laid out as a padded matrix and sorted along it, ten times
    faster than a lexsort of the entries. None when they are not grouped, or too ragged to pad."""
    if len(owner) < 2 or not (owner[1:] >= owner[:-1]).all():
        return None
    starts = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]]))
    lengths = np.diff(np.append(starts, len(owner)))
    width = int(lengths.max())
    if width * len(starts) > 4 * len(owner) + 1024:
        return None
    matrix = np.full((len(starts), width), np.inf)
    inside = np.arange(width) < lengths[:, None]
    matrix[inside] = values
    matrix.sort(axis=1)
    return owner, matrix[inside]


def row_weights(owner: np.ndarray, ids: np.ndarray, counts: np.ndarray, idf: np.ndarray, n_rows: int):
    """L2-normalised weights of gathered row entries."""
    v = (1.0 + np.log(counts.astype(np.float64))) * idf[ids]
    norms = np.sqrt(row_sums(owner, v * v, n_rows))
    return v / np.where(norms > 0, norms, 1.0)[owner]


def cosine_rows(spans, features, counts, idf, rows: np.ndarray, q_ids: np.ndarray, q_weights: np.ndarray):
    """Cosines of the stored rows with a (normalised) query vector: one vectorised pass."""
    out = np.zeros(len(rows), dtype=np.float64)
    if len(rows) == 0 or len(q_ids) == 0:
        return out
    owner, ids, count = gather_rows(spans, features, counts, np.asarray(rows, dtype=np.int64))
    if len(ids) == 0:
        return out
    weights = row_weights(owner, ids, count, idf, len(rows))
    pos = np.searchsorted(q_ids, ids)
    pos[pos == len(q_ids)] = 0
    match = q_ids[pos] == ids
    contrib = np.where(match, weights * q_weights[pos], 0.0)
    return row_sums(owner, contrib, len(rows))


def feature_names(n_features: int, term_feature: np.ndarray, bigrams: np.ndarray, bigram_feature: np.ndarray,
                  term) -> list[str]:
    """Name of every feature: 'term' or 'term term' (scikit-learn's spelling); term(i) names term i."""
    names = [""] * n_features
    for t, f in enumerate(np.asarray(term_feature).tolist()):
        names[f] = term(t)
    for key, f in zip(np.asarray(bigrams).tolist(), np.asarray(bigram_feature).tolist()):
        a, b = divmod(key, int(KEY))
        names[f] = f"{names[a]} {names[b]}"
    return names
