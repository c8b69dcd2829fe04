"""Whole-document evidence: BM25 of each document over all its own text, from the passage postings.

A document is ranked by its best passage window plus this score, so a question whose words are
spread over the title and several sentences finds the document that has them all, not one that
repeats a single word densely. Windows stay the unit of highlighting and answering.

A document's text here is its metadata and body passages (not its reference list, which speaks
of other works). Windows overlap (three sentences, advancing by two), so a term's count in a
document is the sum of its counts in these passages, and the document's length the sum of their
lengths: both count most sentences about one and a half times, alike for every document. The
score is computed at query time from the postings of the question's terms (their stored counts),
so it follows the index exactly through updates and costs what the postings cost.

    score(q, d) = Σ_t w_t · idf_d(t) · tf(t,d) / (tf(t,d) + k1 · (1 − b + b · |d| / avgdl_d))

with Lucene's idf over documents, idf_d(t) = ln(1 + (D − df_d(t) + 0.5) / (df_d(t) + 0.5)).
"""
from __future__ import annotations

import numpy as np

from qa.index import bm25
from qa.index.checksums import raw
from qa.index.layout import KINDS

REFERENCE = KINDS.index("reference")


def lengths(index) -> np.ndarray:
    """Each document's length: the summed lengths of its own (not reference) passages."""
    cached = getattr(index, "_document_lengths", None)
    if cached is None:
        own = np.asarray(index.passages.kind) != REFERENCE
        cached = np.bincount(np.asarray(index.passages.doc)[own], weights=np.asarray(index.passages.length)[own],
                             minlength=index.n_documents)
        index._document_lengths = cached
    return cached


def scores(index, ids: np.ndarray, weights: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """BM25 scores of the documents `docs` (sorted, distinct) for query terms `ids` weighing `weights`.

    A term's postings are sorted by passage, and passages are numbered in document order, so each
    term's (document, count) cells are runs of its postings: one pass, no sort."""
    if index.sharded:  # each shard scores its documents with the corpus's statistics
        return index.document_scores(ids, weights, docs)
    return scores_with(index, ids, weights, docs)


def scores_with(index, ids: np.ndarray, weights: np.ndarray, docs: np.ndarray, n_docs: int | None = None,
                df: np.ndarray | None = None, avgdl: float | None = None) -> np.ndarray:
    """`scores`, with the number of documents, each term's document frequency and the average
    document length given (a shard of a sharded index scores with the whole corpus's) or, when
    None, counted in this index. A term id of -1 (a term this shard does not hold) scores nothing."""
    docs = np.asarray(docs, dtype=np.int64)
    out = np.zeros(len(docs))
    if len(ids) == 0 or len(docs) == 0:
        return out
    postings = index.postings
    ids = np.asarray(ids)
    known = ids >= 0
    starts = np.where(known, postings.indptr[np.where(known, ids, 0)], 0)
    ends = np.where(known, postings.indptr[np.where(known, ids, 0) + 1], 0)
    sizes = ends - starts
    total = int(sizes.sum())
    if total == 0:
        return out
    offsets = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(total)
    passages = raw(postings.indices, starts, ends)[offsets]
    tf = raw(postings.tf, starts, ends)[offsets].astype(np.float64)
    term = np.repeat(np.arange(len(ids)), sizes)
    own = np.asarray(index.passages.kind)[passages] != REFERENCE
    if not own.any():
        return out
    passages, tf, term = passages[own], tf[own], term[own]
    doc = np.asarray(index.passages.doc)[passages].astype(np.int64)
    first = np.flatnonzero(np.concatenate([[True], (term[1:] != term[:-1]) | (doc[1:] != doc[:-1])]))
    cell_tf, cell_term, cell_doc = np.add.reduceat(tf, first), term[first], doc[first]
    length = lengths(index)
    if n_docs is None:
        n_docs = index.n_documents
        df = np.bincount(cell_term, minlength=len(ids))
        avgdl = float(length.mean()) if n_docs else 1.0
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    norm = bm25.K1 * (1.0 - bm25.B + bm25.B * length[cell_doc] / (avgdl or 1.0))
    contribution = np.asarray(weights, dtype=np.float64)[cell_term] * idf[cell_term] * cell_tf / (cell_tf + norm)
    at = np.minimum(np.searchsorted(docs, cell_doc), len(docs) - 1)
    wanted = docs[at] == cell_doc
    return np.bincount(at[wanted], weights=contribution[wanted], minlength=len(docs))
