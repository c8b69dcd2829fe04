"""How much to trust an answer: a number in [0, 1] from three signals of the ranking.

- coverage: the share of the question's content terms the corpus has at all;
- top cosine: the TF-IDF cosine of the best passage with the question;
- BM25 ratio: the best passage's BM25 score over the best score each query term reaches in
  any passage (summed): how much of the question one passage answers at once.

A logistic model turns the cosine and the ratio into a probability that the best document is
the right one; the coverage then scales it, so a question whose words mostly are not in the
corpus never gets a confident answer (PubMedQA's questions nearly all have full coverage, so
the data cannot calibrate that part: it is a rule). The model was fitted on the tune half of
PubMedQA dev, each question asked twice: against the full corpus (label: is the top document
the relevant one) and against the corpus without its own abstract (label 0), so that a question
whose answer is not in the corpus gets a low number (`python bench/calibrate.py` refits and
prints the coefficients).
"""
from __future__ import annotations

import math

# intercept, top cosine, BM25 ratio (bench/calibrate.py)
COEFFICIENTS = (-7.2288, 9.5767, 11.1568)
LOW = 0.5  # below this the answer is flagged as uncertain


def features(index, ranked, content_terms: list[str]) -> tuple[float, float, float]:
    """(coverage, top cosine, BM25 ratio) of a ranking with at least one passage."""
    find = index.term_id
    known = [t for t in content_terms if find(t) >= 0]
    coverage = len(known) / len(content_terms) if content_terms else 0.0
    import numpy as np  # here, not at import: the renderer reads LOW without loading numpy

    postings = index.postings
    top = ranked.passages[:1]
    cosine = float(index.cosine(top, ranked.q_ids, ranked.q_weights)[0])
    best_possible = 0.0
    for t in set(known):
        i = find(t)
        lo, hi = int(postings.indptr[i]), int(postings.indptr[i + 1])
        if hi > lo:
            best_possible += float(np.max(postings.impacts[lo:hi])) * content_terms.count(t)
    ratio = float(ranked.bm25[0]) / best_possible if best_possible > 0 else 0.0
    return coverage, cosine, min(ratio, 1.0)


def score(values: tuple[float, float, float], coefficients=COEFFICIENTS) -> float:
    coverage, cosine, ratio = values
    z = coefficients[0] + coefficients[1] * cosine + coefficients[2] * ratio
    return coverage / (1.0 + math.exp(-z))
