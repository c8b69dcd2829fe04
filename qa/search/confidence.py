"""How much to trust an answer: a number in [0, 1], the probability that it answers the question.

Signals of the ranking and of the answer:
- key coverage: the weighted share of the question's key terms the answer covers (the passages
  found, when there is no answer; qa/search/coverage.py): an answer that leaves part of the
  question unsaid is not trusted;
- top cosine: the TF-IDF cosine of the best passage with the question;
- BM25 ratio: the best passage's BM25 score over the best score each query term reaches in any
  passage (summed): how much of the question one passage answers at once;
- dense: the best passage's embedding cosine with the question above the corpus's admit line (the
  semantic stage, qa/search/dense.py; 0 when off). The line is where everyday off-topic questions
  reach on this corpus: the best of many passages is nearer any question than the best of a few,
  so a cosine counts by how far it stands above that noise (0.59 on the 6,788 PubMedQA passages,
  0.25 on the 9 of the bundled record).

A logistic model of them (one set of coefficients for each mode, with and without the semantic
stage) gives the probability. It was fitted on the tune half of PubMedQA dev and on the
clinician-worded paraphrases of the tune half, each question asked twice: against the full
corpus (label: is the top document the right one) and against the corpus without its own
abstract (label 0), so a question whose answer is not in the corpus gets a low number
(`python bench/calibrate.py` refits and prints the coefficients and the held-out check).
"""
from __future__ import annotations

import math

# intercept, key coverage, top cosine, BM25 ratio, dense (bench/calibrate.py)
LEXICAL = (-6.9399, 2.0255, 8.8424, 9.2502, 0.0)
SEMANTIC = (-4.2941, 1.3538, 5.7813, 5.3412, 10.3366)
LOW = 0.5  # below this the answer is flagged as uncertain
# A question about a metadata field ("who wrote it") answered by that field's line ("Authors: …")
# is answered by the record itself, whatever the ranking signals say.
FIELD_ANSWER = 0.9


NOISE = 0.6  # the admit line assumed where a corpus has none (too large to scan, qa/search/dense.py)


def features(index, ranked, content_terms: list[str], key_coverage: float,
             admit: float | None = None) -> tuple[float, ...]:
    """(key coverage, top cosine, BM25 ratio, dense) of a ranking with at least one passage. The
    BM25 ratio's best possible score counts the expansion terms at their weight, as BM25 did."""
    import numpy as np  # here, not at import: the renderer reads LOW without loading numpy

    find = index.term_id
    known = [t for t in content_terms if find(t) >= 0]
    postings = index.postings
    top = ranked.passages[:1]
    cosine = float(index.cosine(top, ranked.q_ids, ranked.q_weights)[0])
    best_possible = 0.0
    counts: dict[str, float] = {}
    for t in known:
        counts[t] = counts.get(t, 0.0) + 1.0
    for t in ranked.extra:
        if find(t) >= 0:
            counts[t] = counts.get(t, 0.0) + ranked.extra_weight
    for t, weight in counts.items():
        i = find(t)
        if index.sharded:  # the best over every shard, kept with the corpus's statistics
            best_possible += index.best_impact(i) * weight
            continue
        lo, hi = int(postings.indptr[i]), int(postings.indptr[i + 1])
        if hi > lo:
            best_possible += float(np.max(postings.impacts[lo:hi])) * weight
    ratio = float(ranked.bm25[0]) / best_possible if best_possible > 0 else 0.0
    dense = 0.0
    if len(ranked.dense) and ranked.dense[0] == ranked.dense[0]:
        dense = float(ranked.dense[0]) - (admit if admit is not None and admit < 1.0 else NOISE)
    return key_coverage, cosine, min(ratio, 1.0), dense


def score(values: tuple[float, ...], coefficients) -> float:
    z = coefficients[0] + sum(c * v for c, v in zip(coefficients[1:], values))
    return 1.0 / (1.0 + math.exp(-z))
