"""Highlights and the extractive answer: sentences chosen for answering, each cited by hit rank.

A sentence's answer score adds (1) its TF-IDF cosine with the question, (2) the strength of
the hit it comes from, and (3) a prior for where answers stand: the conclusions of a
structured abstract answer "does X …?" questions, and a metadata line answers "who wrote …",
"when …", "what is the DOI". Weights were chosen on the tuning half of PubMedQA dev.
"""
from __future__ import annotations

import math
import re

import numpy as np

from qa.text.analyze import analyze, words

MAX_SENTENCES = 3
MAX_CHARS = 700
HIT_WEIGHT = 0.5
# Added to a sentence's score by its section label (substring match, lower case). Conclusions
# answer; background and objectives restate the question. Chosen on the PubMedQA tune half
# (answer-from-conclusion 0.55 without priors, 0.79 with these).
SECTION_PRIOR = {"conclusion": 0.8, "background": -0.3, "objective": -0.3, "purpose": -0.3,
                 "introduction": -0.3, "aim": -0.3, "method": -0.15}
FIELD_PRIOR = 0.6
# Added to the sentence that closes its section (or its unlabelled abstract): where a conclusion
# stands when no label says so.
POSITION_PRIOR = 0.1
SECOND_SENTENCE_RATIO = 0.75
DUPLICATE_JACCARD = 0.6
MMR_LAMBDA = 0.6  # relevance vs novelty in picking the 2nd and 3rd sentence (1: relevance alone)

# Question words that ask for a metadata field, by the field's label.
FIELD_CUES = {
    "Authors": {"who", "author", "authors", "wrote", "written", "writer"},
    "Published": {"when", "year", "date", "published", "publication"},
    "Journal": {"journal", "where"},
    "DOI": {"doi"},
    "Title": {"title", "called", "named"},
    "Article type": {"type", "kind"},
    "Pages": {"pages", "page"},
    "Volume": {"volume"},
    "Issue": {"issue"},
    "PMID": {"pmid"},
}
_LABEL = re.compile(r"^([A-Za-z][A-Za-z ]*):\s")


def section_prior(section: str | None) -> float:
    if not section:
        return 0.0
    label = section.lower()
    return next((bonus for key, bonus in SECTION_PRIOR.items() if key in label), 0.0)


def field_prior(sentence: str, question_words: set[str]) -> float:
    m = _LABEL.match(sentence)
    if not m:
        return 0.0
    cues = FIELD_CUES.get(m.group(1))
    return FIELD_PRIOR if cues and cues & question_words else 0.0


class SentenceScorer:
    """TF-IDF cosine of sentences with one question, with term look-ups cached per question."""

    def __init__(self, index, q_ids: np.ndarray, q_weights: np.ndarray):
        self._index = index
        self._find = index.term_id
        self._ids: dict[str, int] = {}
        self._q = dict(zip(q_ids.tolist(), q_weights.tolist()))

    def _term_id(self, term: str) -> int:
        i = self._ids.get(term)
        if i is None:
            i = self._ids[term] = self._find(term)
        return i

    def cosine(self, sentence: str) -> float:
        ids, weights = self._index.tfidf_vector_of_ids([self._term_id(t) for t in analyze(sentence)])
        # fsum: exact, so the same whatever the order of the feature ids (an update gives new ids)
        return math.fsum(self._q.get(i, 0.0) * w for i, w in zip(ids.tolist(), weights.tolist()))


def highlight(sentences: list[str], scorer: SentenceScorer, question_words: set[str]) -> str:
    if not sentences:
        return ""
    scores = [scorer.cosine(s) + field_prior(s, question_words) for s in sentences]
    return sentences[int(np.argmax(scores))]  # argmax: first of equals


def _token_set(sentence: str) -> set[str]:
    return set(analyze(sentence))


def extract(candidates: list[tuple[str, int, float]], mmr_lambda: float | None = None) -> dict | None:
    """candidates: (sentence, hit rank, answer score). Up to 3 sentences / 700 chars, picked by
    maximal marginal relevance: the best sentence first, then each time the one maximising
    λ · score / best − (1 − λ) · its largest token Jaccard with a sentence already picked. A
    sentence scoring below SECOND_SENTENCE_RATIO of the best, or a near-duplicate (Jaccard ≥
    DUPLICATE_JACCARD) of one picked, is never added."""
    if not candidates:
        return None
    lam = MMR_LAMBDA if mmr_lambda is None else mmr_lambda
    ordered = sorted(candidates, key=lambda c: (-c[2], c[1]))
    best = ordered[0][2]
    scale = best if best > 0 else 1.0
    pool = [(sentence, rank, score, _token_set(sentence)) for sentence, rank, score in ordered
            if score >= SECOND_SENTENCE_RATIO * best or score == best]
    first = pool.pop(0)
    chosen: list[tuple[str, int]] = [first[:2]]
    seen: list[set[str]] = [first[3]]
    length = len(first[0]) + 5
    while pool and len(chosen) < MAX_SENTENCES:
        pick, pick_value = None, None
        for i, (sentence, rank, score, tokens) in enumerate(pool):
            similarity = max(len(tokens & s) / max(1, len(tokens | s)) for s in seen)
            if similarity >= DUPLICATE_JACCARD or length + len(sentence) > MAX_CHARS:
                continue
            value = lam * score / scale - (1.0 - lam) * similarity
            if pick_value is None or value > pick_value:  # ties: the earlier in score order
                pick, pick_value = i, value
        if pick is None:
            break
        sentence, rank, _, tokens = pool.pop(pick)
        chosen.append((sentence, rank))
        seen.append(tokens)
        length += len(sentence) + 5
    text = " ".join(f"{s} [{r}]" for s, r in chosen)
    citations = sorted({r for _, r in chosen})
    return {"text": text, "citations": citations}


def question_words(question: str) -> set[str]:
    return set(words(question))
