"""Question -> ranked passages: BM25 over the postings of the query terms, then TF-IDF reranking.

Fusion (weights chosen on the tuning halves of PubMedQA dev, see README):
    lexical  = (1 − w) · bm25 / max(bm25 of candidates) + w · cosine(tfidf(question), tfidf(passage))
    passage  = (1 − s_p) · lexical + s_p · dense                 (dense: qa/search/dense.py; none when off)
    document = (1 − s_d) · doc_bm25 / max(doc_bm25 of the candidates' documents) + s_d · best dense of its passages
    final    = (1 − d) · passage + d · document
where doc_bm25 is the BM25 of the passage's whole document (qa/search/documents.py): every passage
of a document gets its document's evidence, so documents rank by their best window plus what the
whole document says, and the best passage of each is still the one to show.

Expansions (abbreviations, qa/text/abbreviations.py; hyphenation and spacing variants, qa/text/spacing.py)
are searched with the question at a lower weight: each of their terms counts EXPANSION_WEIGHT in
BM25 (a question term counts 1), and their TF-IDF vector is added to the question's at that
weight before normalising.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa.index import bm25
from qa.index import tfidf
from qa.index.checksums import raw
from qa.text.analyze import analyze
from qa.text.chunk import METADATA_LABELS
from qa.index.layout import KINDS
from qa.index.reader import Index
from qa.search import documents

CANDIDATES = 100
FUSION_WEIGHT = 0.5
# Chosen on the tune halves of PubMedQA dev, as written and paraphrased (bench/clinician.py), each
# on what it decides: d and s_d on document R@1 and MRR@10 (with and without the semantic stage),
# s_p on answer-from-conclusion (the passages an answer is built from)
DOCUMENT_WEIGHT = 0.9  # d
SEMANTIC_WEIGHT = 0.8  # s_d: the dense cosine's share of a document's score
PASSAGE_SEMANTIC_WEIGHT = 0.6  # s_p: its share of a passage's
EXPANSION_WEIGHT = 0.25  # chosen on the tune half of PubMedQA dev (README, "Abbreviations")
# Analysed label words of metadata passages ("title", "publish"): they name fields, not content.
LABEL_TERMS = frozenset(analyze(" ".join(METADATA_LABELS)))


@dataclass
class Ranked:
    """Ranked passages of one question (indices into the index), best first."""

    query: str
    terms: list[str]  # the question's terms
    extra: list[str] = field(default_factory=list)  # expansion terms, each counting extra_weight
    extra_weight: float = EXPANSION_WEIGHT
    passages: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    final: np.ndarray = field(default_factory=lambda: np.empty(0))
    bm25: np.ndarray = field(default_factory=lambda: np.empty(0))
    tfidf: np.ndarray = field(default_factory=lambda: np.empty(0))
    document: np.ndarray = field(default_factory=lambda: np.empty(0))  # the document's evidence, 0..1
    dense: np.ndarray = field(default_factory=lambda: np.empty(0))  # cosine of the embeddings (NaN: off)
    q_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    q_weights: np.ndarray = field(default_factory=lambda: np.empty(0))


def query_terms(index: Index, terms: list[str], extra: list[str] = (),
                extra_weight: float = EXPANSION_WEIGHT, alone=frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """Term ids and weights (repeats in the question count, as in rank-bm25) of the known terms.

    Empty when the question shares no content term with the corpus. Label words of metadata
    passages ("title", "published") are no content: they count only when the question is made
    of nothing else ("when was it published?"), never to drag in an off-topic question.
    `extra` (expansion terms) count `extra_weight` each; they never make a question match alone,
    except those in `alone` (other spellings of the question's own words, qa/text/spacing.py).
    """
    found: dict[int, float] = {}
    content = False
    for t in terms:
        i = index.term_id(t)
        if i >= 0:
            found[i] = found.get(i, 0) + 1
            content = content or _content(index, t)
    only_labels = all(t in LABEL_TERMS for t in terms)
    if not found or not (content or only_labels):
        if not any(_content(index, t) for t in alone if t in extra):
            return np.empty(0, np.int64), np.empty(0)
    for t in extra:
        i = index.term_id(t)
        if i >= 0 and extra_weight > 0:
            found[i] = found.get(i, 0) + extra_weight
    ids = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
    weights = np.fromiter(found.values(), dtype=np.float64, count=len(found))
    return ids, weights


def _content(index: Index, term: str) -> bool:
    return term not in LABEL_TERMS and index.is_content(term)


def passages_with(index: Index, terms: list[str]) -> int:
    """Passages holding analysed `terms` in this order: a term's document frequency; for
    several, the fewest passages holding one of their consecutive pairs (TF-IDF bigrams)."""
    ids = index.term_ids(terms)
    if not ids or min(ids) < 0:
        return 0
    if len(ids) == 1:
        return int(index.postings.indptr[ids[0] + 1] - index.postings.indptr[ids[0]])
    features = index.term_features(ids)
    keys = np.asarray([x * int(tfidf.KEY) + y for x, y in zip(features, features[1:])], dtype=np.int64)
    t = index.tfidf
    pos, found = tfidf.find_keys(t.bigrams, keys)
    if not found.all():
        return 0
    return int(t.df[t.bigram_feature[pos]].min())


def reference_holds(index: Index, terms: list[str]) -> bool:
    """Whether a reference-list passage holds every one of these analysed terms."""
    if index.sharded:
        return index.reference_holds(terms)
    postings = index.postings
    common = None
    for i in index.term_ids(terms):
        if i < 0:
            return False
        lo, hi = int(postings.indptr[i]), int(postings.indptr[i + 1])
        held = np.asarray(postings.indices[lo:hi])
        common = held if common is None else np.intersect1d(common, held, assume_unique=True)
    kinds = np.asarray(index.passages.kind)[common] if common is not None else np.empty(0)
    return bool(np.any(kinds == KINDS.index("reference")))


def bm25_scores(index: Index, ids: np.ndarray, weights: np.ndarray):
    postings = index.postings
    indptr = postings.indptr
    starts, ends = indptr[ids], indptr[np.asarray(ids) + 1]  # the postings read: checked first
    return bm25.accumulate(indptr, raw(postings.indices, starts, ends), raw(postings.impacts, starts, ends),
                           ids, weights, index.n_passages, index.score_buffers)


def bm25_candidates(index: Index, ids: np.ndarray, weights: np.ndarray, n: int,
                    mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The n best passages by BM25 among those the mask allows, best first (ties by passage), and
    their scores. A sharded index takes each shard's n best and merges them."""
    if index.sharded:
        return index.bm25_candidates(ids, weights, n, mask)
    touched, scores = bm25_scores(index, ids, weights)
    if mask is not None:
        allowed = mask[touched]
        touched, scores = touched[allowed], scores[allowed]
    keep = top_by_score(touched, scores, n)
    return touched[keep], scores[keep]


def top_by_score(items: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the n best scores, best first, ties by item (= by passage id)."""
    if len(scores) > n:
        keep = np.argpartition(-scores, n - 1)[:n]
        # bring in every item tied with the n-th score so the tie-break by id is exact
        cut = scores[keep].min()
        keep = np.flatnonzero(scores >= cut)
    else:
        keep = np.arange(len(scores))
    order = np.lexsort((items[keep], -scores[keep]))
    return keep[order][:n]


def query_vector(index: Index, terms: list[str], extra: list[str] = (),
                 extra_weight: float = EXPANSION_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """The TF-IDF vector of the question, plus extra_weight times that of the expansion terms
    (each L2-normalised before they are added; the sum normalised again)."""
    q_ids, q_weights = index.tfidf_vector(terms)
    if not extra or extra_weight <= 0:
        return q_ids, q_weights
    e_ids, e_weights = index.tfidf_vector(list(extra))
    if not len(e_ids):
        return q_ids, q_weights
    ids, inverse = np.unique(np.concatenate([q_ids, e_ids]), return_inverse=True)
    weights = np.bincount(inverse, weights=np.concatenate([q_weights, extra_weight * e_weights]),
                          minlength=len(ids))
    norm = np.sqrt(tfidf.row_sums(np.zeros(len(ids), np.int64), weights * weights, 1)[0])
    return ids, (weights / norm if norm > 0 else weights)


def rank(index: Index, question: str, candidates: int = CANDIDATES,
         weight: float = FUSION_WEIGHT, mask: np.ndarray | None = None, expansion: str = "",
         expansion_weight: float = EXPANSION_WEIGHT, spellings: str = "",
         document_weight: float = DOCUMENT_WEIGHT, dense=None, semantic_weight: float = SEMANTIC_WEIGHT,
         passage_semantic_weight: float = PASSAGE_SEMANTIC_WEIGHT, joining: np.ndarray | None = None,
         documents_wanted: int | None = None) -> Ranked:
    """mask: passages allowed (filters), applied before the top candidates are chosen.
    expansion: text searched with the question at expansion_weight (abbreviations, spelling
    variants); the Ranked query is the question followed by it. spellings: the part of the
    expansion that spells the question's own words (qa/text/spacing.py), which may match alone.
    dense: the question's DenseQuery (qa/search/dense.py) when the semantic stage is on.
    joining: passages that join the candidates whatever they share with the question.
    documents_wanted: only the best passage of each of the first documents_wanted documents is
    needed (a TREC run): candidates that cannot reach them whatever their TF-IDF cosine are left
    out of the result without computing it; those kept score exactly as in the full ranking."""
    terms = analyze(question)
    extra = analyze(expansion) if expansion else []
    alone = frozenset(analyze(spellings)) if spellings else frozenset()
    result = Ranked(query=f"{question.rstrip()} {expansion}" if expansion else question, terms=terms,
                    extra=extra, extra_weight=expansion_weight)
    ids, weights = query_terms(index, terms, extra, expansion_weight, alone)
    passages, b = np.empty(0, np.int64), np.empty(0)
    if len(ids):
        passages, b = bm25_candidates(index, ids, weights, candidates, mask)
    joiners = [dense.candidates(mask)] if dense is not None else []  # passages close in meaning join
    if joining is not None:
        joiners.append(np.asarray(joining, dtype=np.int64) if mask is None else joining[mask[joining]])
    if joiners:
        new = np.setdiff1d(np.concatenate(joiners), passages)
        passages, b = np.concatenate([passages, new]), np.concatenate([b, np.zeros(len(new))])
    if len(passages) == 0:
        return result
    q_ids, q_weights = query_vector(index, terms, extra, expansion_weight)
    similar = dense.scores(passages) if dense is not None else np.full(len(passages), np.nan)
    whole = np.zeros(len(passages))
    if document_weight > 0:
        docs, owner = np.unique(index.passage_docs(passages), return_inverse=True)
        whole = _scaled(documents.scores(index, ids, weights, docs))
        if dense is not None:
            whole = (1.0 - semantic_weight) * whole + semantic_weight * dense.best_of_documents(
                index, docs, passages, similar)
        whole = whole[owner]
    bm25_part = _scaled(b)

    def fused(cos: np.ndarray, at=slice(None)) -> np.ndarray:
        final = (1.0 - weight) * bm25_part[at] + weight * cos
        if dense is not None:
            final = (1.0 - passage_semantic_weight) * final + passage_semantic_weight * similar[at]
        if document_weight > 0:
            final = (1.0 - document_weight) * final + document_weight * whole[at]
        return final

    keep = np.arange(len(passages))
    if documents_wanted is not None and weight > 0:
        keep = _within_reach(index, passages, fused(np.zeros(len(passages))), fused(np.ones(len(passages))),
                             documents_wanted)
    if weight > 0:
        cos = index.cosine(passages[keep], q_ids, q_weights)
    else:  # BM25 order only: the cosine is not needed to rank
        cos = np.zeros(len(keep))
    final = fused(cos, keep)
    passages, b, similar, whole = passages[keep], b[keep], similar[keep], whole[keep]
    order = np.lexsort((passages, -final))
    result.passages, result.final, result.bm25, result.tfidf = passages[order], final[order], b[order], cos[order]
    result.document, result.dense = whole[order], similar[order]
    result.q_ids, result.q_weights = q_ids, q_weights
    return result


REACH_MARGIN = 1e-9  # far above the rounding of a fused score, far below any difference that ranks


def _within_reach(index: Index, passages: np.ndarray, lowest: np.ndarray, highest: np.ndarray, wanted: int):
    """Positions of the candidates that may be the best passage of one of the first `wanted`
    documents: a score rises with the cosine, which lies in [0, 1], so a candidate scores between
    `lowest` and `highest`. The wanted-th best document scores at least the wanted-th largest of
    its documents' best `lowest`; a candidate whose `highest` stays below that can be neither the
    best passage of one of those documents nor in front of one."""
    docs = index.passage_docs(passages)
    best_low: dict[int, float] = {}
    for d, value in zip(docs.tolist(), lowest.tolist()):
        if value > best_low.get(d, -np.inf):
            best_low[d] = value
    if len(best_low) <= wanted:
        return np.arange(len(passages))
    line = sorted(best_low.values(), reverse=True)[wanted - 1]
    return np.flatnonzero(highest >= line - REACH_MARGIN)


def _scaled(values: np.ndarray) -> np.ndarray:
    """values / their maximum (as they are when the maximum is not positive)."""
    top = values.max() if len(values) else 0.0
    return values / top if top > 0 else values


def best_per_document(index: Index, ranked: Ranked, k: int) -> list[int]:
    """Positions in `ranked` of the best passage of each of the first k documents."""
    seen, out = set(), []
    docs = index.passages.doc
    for pos, p in enumerate(ranked.passages.tolist()):
        d = int(docs[p])
        if d not in seen:
            seen.add(d)
            out.append(pos)
            if len(out) == k:
                break
    return out


def term_contributions(index: Index, terms: list[str], passage: int, extra: list[str] = (),
                       extra_weight: float = EXPANSION_WEIGHT) -> list[tuple[str, float]]:
    """BM25 contribution of each distinct query term to one passage (0 where it does not occur);
    expansion terms (`extra`) count extra_weight each, as in rank."""
    if index.sharded:
        return index.term_contributions(terms, passage, extra, extra_weight)
    postings = index.postings
    out, counts = [], {}
    for t in terms:
        counts[t] = counts.get(t, 0) + 1
    for t in extra:
        counts[t] = counts.get(t, 0) + extra_weight
    for t, count in counts.items():
        i = index.term_id(t)
        value = 0.0
        if i >= 0:
            lo, hi = int(postings.indptr[i]), int(postings.indptr[i + 1])
            pos = lo + int(np.searchsorted(postings.indices[lo:hi], passage))
            if pos < hi and int(postings.indices[pos]) == passage:
                value = float(postings.impacts[pos]) * count
        out.append((t, value))
    return out
