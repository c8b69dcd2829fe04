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
        index._document_avgdl = float(cached.mean()) if index.n_documents else 1.0
    return cached


def average_length(index) -> float:
    lengths(index)
    return index._document_avgdl


def document_frequencies(index, ids: np.ndarray) -> np.ndarray:
    """How many documents hold each term in their own text: from all the term's postings, the first
    time a process asks (remembered per index: a batch asks for the same terms again and again)."""
    known: dict[int, int] = index.__dict__.setdefault("_document_df", {})
    ids = [int(i) for i in ids]
    todo = [i for i in ids if i not in known]
    if todo:
        postings = index.postings
        todo_ids = np.asarray(todo, dtype=np.int64)
        starts, ends = postings.indptr[todo_ids], postings.indptr[todo_ids + 1]
        sizes = ends - starts
        offsets = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        passages = raw(postings.indices, starts, ends)[offsets]
        term = np.repeat(np.arange(len(todo)), sizes)
        own = np.asarray(index.passages.kind)[passages] != REFERENCE
        term, doc = term[own], np.asarray(index.passages.doc)[passages[own]]
        # a term's postings are sorted by passage, so its documents come in runs: one a document
        first = np.concatenate([[True], (term[1:] != term[:-1]) | (doc[1:] != doc[:-1])]) if len(term) else term
        df = np.bincount(term[first], minlength=len(todo)).tolist()
        known.update(zip(todo, df))
    return np.asarray([known[i] for i in ids], dtype=np.int64)


def scores(index, ids: np.ndarray, weights: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """BM25 scores of the documents `docs` (sorted, distinct) for query terms `ids` weighing `weights`.

    Passages are numbered in document order and a term's postings are sorted by passage, so the
    postings of a term in the given documents are found by binary search: the cost follows the
    candidates' postings, plus each term's document frequency the first time it is asked."""
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
    ids = np.asarray(ids, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    if (ids < 0).any():  # terms this shard does not hold: in none of its documents
        known = ids >= 0
        ids, weights, df = ids[known], weights[known], None if df is None else np.asarray(df)[known]
        if len(ids) == 0:
            return out
    postings = index.postings
    column = np.asarray(index.passages.doc)
    first_passage = np.searchsorted(column, docs, side="left")
    end_passage = np.searchsorted(column, docs, side="right")
    starts, ends = postings.indptr[ids], postings.indptr[ids + 1]
    indices = raw(postings.indices, starts, ends)
    lo = np.empty((len(ids), len(docs)), dtype=np.int64)
    hi = np.empty_like(lo)
    for j, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        held = indices[a:b]
        lo[j] = a + np.searchsorted(held, first_passage)
        hi[j] = a + np.searchsorted(held, end_passage)
    sizes = (hi - lo).ravel()
    total = int(sizes.sum())
    if total == 0:
        return out
    # every posting of a query term in a candidate document, by term and then by document (cells)
    offsets = np.repeat(lo.ravel() - np.cumsum(sizes) + sizes, sizes) + np.arange(total)
    cell = np.repeat(np.arange(len(sizes)), sizes)
    own = np.asarray(index.passages.kind)[indices_at(postings, offsets)] != REFERENCE
    if not own.any():
        return out
    tf = np.asarray(postings.tf[offsets[own]]).astype(np.float64)
    cell_tf = np.bincount(cell[own], weights=tf, minlength=len(sizes))  # whole counts: exact in any order
    held = np.flatnonzero(cell_tf > 0)
    cell_term, at = np.divmod(held, len(docs))
    cell_tf = cell_tf[held]
    if n_docs is None:
        n_docs, df, avgdl = index.n_documents, document_frequencies(index, ids), average_length(index)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    length = lengths(index)
    norm = bm25.K1 * (1.0 - bm25.B + bm25.B * length[docs[at]] / (avgdl or 1.0))
    contribution = weights[cell_term] * idf[cell_term] * cell_tf / (cell_tf + norm)
    return np.bincount(at, weights=contribution, minlength=len(docs))


def indices_at(postings, offsets: np.ndarray) -> np.ndarray:
    """The passages of postings at these positions (their blocks checked when the array is checked)."""
    return np.asarray(postings.indices[offsets])
