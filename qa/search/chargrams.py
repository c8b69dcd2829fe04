"""Character n-gram similarity of a question with its reranking candidates, at query time.

The n-grams are scikit-learn's TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)): the
lower-cased text is split on white space, each word is padded with one space on both sides and
cut into its 3- to 5-character n-grams (a padded word shorter than n counts once, whole). They
match partial overlaps whole-word terms miss: "gammaglobulin" and "immunoglobulin" share
"globulin".

Nothing is stored in the index: the n-grams of the ~100 candidates are counted at query time.
Weights are tf · idf with the idf smoothed as scikit-learn's, ln((1 + n) / (1 + df)) + 1, its
document frequencies counted among the n candidates only; vectors are L2-normalised and the
similarity is their cosine (0 for a passage sharing no n-gram with the question), the question
taken in the candidates' vocabulary: what TfidfVectorizer fitted on the candidates gives.

Pure Python + numpy. Each distinct word's n-grams are cut once and kept as integer ids; a
passage is the concatenation of its words' ids. Sums run in an order fixed by the values, not
by the ids, so the result does not depend on the queries seen before.
"""
from __future__ import annotations

import numpy as np

NGRAMS = (3, 5)
_LIMIT = 2_000_000  # n-grams (or words) remembered before the caches are cleared

_ids: dict[str, int] = {}  # n-gram -> id, in order of first sight
_words: dict[str, int] = {}  # word -> where its n-gram ids lie in _bank: start << 32 | count
_bank = np.empty(1 << 16, np.int64)  # the n-gram ids of the words of _words, one after another
_used = 0  # entries of _bank in use


def ngrams(text: str, ngram_range: tuple[int, int] = NGRAMS) -> list[str]:
    """The char_wb n-grams of a text, in scikit-learn's order (its _char_wb_ngrams)."""
    lo, hi = ngram_range
    out = []
    for w in text.lower().split():
        w = f" {w} "
        size = len(w)
        for n in range(lo, hi + 1):
            if size <= n:  # a short word counts once, whole
                out.append(w)
                break
            out.extend(w[i:i + n] for i in range(size - n + 1))
    return out


def _clear() -> None:
    global _used
    _ids.clear()
    _words.clear()
    _used = 0


def _add(word: str) -> int:
    """Cut a new word into n-grams, append their ids to the bank; its code there."""
    global _bank, _used
    vocabulary = _ids
    grams = ngrams(word)
    if _used + len(grams) > len(_bank):
        _bank = np.concatenate([_bank[:_used], np.empty(max(len(_bank), len(grams)), np.int64)])
    _bank[_used:_used + len(grams)] = [vocabulary.setdefault(g, len(vocabulary)) for g in grams]
    code = _words[word] = _used << 32 | len(grams)
    _used += len(grams)
    return code


def _gram_ids(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(n-gram ids of all texts, repeats kept; the text of each)."""
    if len(_ids) > _LIMIT or _used > 8 * _LIMIT:  # bound memory (never within a call: codes stay valid)
        _clear()
    split = [t.lower().split() for t in texts]
    get = _words.get
    codes = [get(w) or _add(w) for ws in split for w in ws]
    if not codes:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    start, count = codes >> 32, codes & 0xFFFFFFFF
    ends = np.cumsum(count)
    # position in the bank of each n-gram occurrence: its word's start + its rank within the word
    where = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(start - (ends - count), count)
    words_per_text = np.fromiter((len(ws) for ws in split), np.int64, len(split))
    owner_of_word = np.repeat(np.arange(len(texts), dtype=np.int64), words_per_text)
    return _bank[where], np.repeat(owner_of_word, count)


def similarity(question: str, passages: list[str]) -> np.ndarray:
    """Cosine of the char_wb 3-5 tf-idf vectors of the question and each passage (idf over the
    passages), in the passages' order."""
    n = len(passages)
    out = np.zeros(n)
    q, _ = _gram_ids([question])
    if n == 0 or len(q) == 0:
        return out
    flat, owner = _gram_ids(passages)
    if len(flat) == 0:
        return out
    # (n-gram, passage) pairs sorted by n-gram: term frequencies, and document frequencies as
    # the lengths of the n-gram runs
    keys = flat * n + owner
    if len(keys) and int(keys.max()) < 2 ** 31:  # the common case: a 32-bit sort is faster
        keys = keys.astype(np.int32)
    keys, tf = np.unique(keys, return_counts=True)
    gram, owner = keys // n, (keys % n).astype(np.int64)
    first = np.flatnonzero(np.concatenate(([True], gram[1:] != gram[:-1])))
    runs = np.diff(np.append(first, len(gram)))
    grams = gram[first]
    # idf depends on df alone (1..n): sums of integer products grouped by df are exact, then
    # weighted by idf² — no floating sum whose order could depend on the n-gram ids
    idf2 = (np.log((1.0 + n) / (1.0 + np.arange(n + 1))) + 1.0) ** 2
    norms = np.sqrt((np.bincount(owner * (n + 1) + np.repeat(runs, runs), tf.astype(np.float64) ** 2,
                                 minlength=n * (n + 1)).reshape(n, n + 1) * idf2).sum(axis=1))
    # the question, in the candidates' vocabulary (as a vectorizer fitted on them transforms it):
    # its n-grams found in no candidate are left out
    q_grams, q_tf = np.unique(q, return_counts=True)
    at = np.minimum(np.searchsorted(grams, q_grams), len(grams) - 1)
    found = grams[at] == q_grams
    at, q_tf = at[found], q_tf[found]  # the runs of the question's n-grams
    if len(at) == 0:
        return out
    q_df = runs[at]
    q_norm = np.sqrt(np.sum(np.bincount(q_df, q_tf.astype(np.float64) ** 2, minlength=n + 1) * idf2))
    # dot products over the entries of those runs
    where = np.arange(int(q_df.sum())) + np.repeat(first[at] - (np.cumsum(q_df) - q_df), q_df)
    products = (tf[where] * np.repeat(q_tf, q_df)).astype(np.float64)
    dots = (np.bincount(owner[where] * (n + 1) + np.repeat(q_df, q_df), products, minlength=n * (n + 1))
            .reshape(n, n + 1) * idf2).sum(axis=1)
    ok = norms > 0
    out[ok] = dots[ok] / (norms[ok] * q_norm)
    return out
