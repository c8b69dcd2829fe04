"""Highlights and the extractive answer: sentences chosen for answering, each cited by hit rank.

A sentence's answer score adds (1) its TF-IDF cosine with the question, (2) the strength of
the hit it comes from, and (3) a prior for where answers stand: the conclusions of a
structured abstract answer "does X …?" questions, and a metadata line answers "who wrote …",
"when …", "what is the DOI". Weights were chosen on the tuning half of PubMedQA dev.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

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
CONCLUSION_WHOLE = 1  # the sentences after a lead in a conclusions section complete it
SETTING_ASIDE = 1  # a sentence that sets a study up (background, methods) never follows: it answers nothing
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
    """TF-IDF cosine of sentences with one question, each sentence scored once (the highlight and
    the answer share the scores; overlapping windows share sentences), with term look-ups cached."""

    def __init__(self, index, q_ids: np.ndarray, q_weights: np.ndarray):
        self._index = index
        self._find = index.term_id
        self._ids: dict[str, int] = {}
        self._q = dict(zip(q_ids.tolist(), q_weights.tolist()))
        self._cosines: dict[str, float] = {}

    def _term_id(self, term: str) -> int:
        i = self._ids.get(term)
        if i is None:
            i = self._ids[term] = self._find(term)
        return i

    def score(self, sentences) -> None:
        """Score sentences not scored yet, all in one vectorised pass."""
        todo = [s for s in dict.fromkeys(sentences) if s not in self._cosines]
        if not todo:
            return
        owner, ids, weights = self._index.tfidf_vectors_of_ids([[self._term_id(t) for t in analyze(s)] for s in todo])
        bounds = np.searchsorted(owner, np.arange(len(todo) + 1)).tolist()
        ids, weights, q = ids.tolist(), weights.tolist(), self._q
        for j, s in enumerate(todo):
            lo, hi = bounds[j], bounds[j + 1]
            # fsum: exact, so the same whatever the order of the feature ids (an update gives new ids)
            self._cosines[s] = math.fsum(q.get(i, 0.0) * w for i, w in zip(ids[lo:hi], weights[lo:hi]))

    def cosine(self, sentence: str) -> float:
        if sentence not in self._cosines:
            self.score([sentence])
        return self._cosines[sentence]


def highlight(sentences: list[str], scorer: SentenceScorer, question_words: set[str]) -> str:
    if not sentences:
        return ""
    scores = [scorer.cosine(s) + field_prior(s, question_words) for s in sentences]
    return sentences[int(np.argmax(scores))]  # argmax: first of equals


def _token_set(sentence: str) -> set[str]:
    return set(analyze(sentence))


# A sentence that ends without resolving what it opens ("it is not clear what represents the
# next best choice"): the sentence after it in the document is its resolution.
UNRESOLVED = re.compile(r"\b(?:not (?:yet )?(?:clear|known|established)|unclear|unknown|remains? to be|uncertain|"
                        r"is debated|controvers\w*)\b", re.I)
# Questions that want several things named, or things compared: an answer may then join documents.
LISTING = re.compile(r"\b(?:compare[ds]?|comparison|versus|vs\.?|differ\w*|between|list|options|alternatives|"
                     r"which (?:drugs|treatments|agents|therapies|options|studies|papers))\b", re.I)
REFERENCE_CUES = frozenset({"reference", "references", "cite", "cites", "cited", "citing", "bibliography",
                            "journal"})
# A question that asks for things of a kind ("which drugs", "what treatments are options") is
# answered by a sentence that names several: one with ENUMERATION items or more, comma-separated.
ASKS_FOR_SEVERAL = re.compile(r"\b(?:drugs|medications|medicines|treatments|therapies|agents|options|alternatives|"
                              r"choices)\b", re.I)
ENUMERATION = 3
ENUMERATION_BONUS = 0.5
# A sentence's share of the question's key terms, next to its score. Chosen on the tune halves of
# PubMedQA dev and its paraphrases (answer-from-conclusion 0.931 at 0.3, 0.897 at 1.0); letting only
# sentences that cover a key term lead cost 4 points there: conclusions often name none.
COVERAGE_WEIGHT = 0.3


@dataclass
class Candidate:
    """A sentence an answer may use."""

    text: str
    rank: int  # of the hit it comes from (its citation)
    score: float  # relevance: TF-IDF cosine, the hit's strength, where it stands
    coverage: float  # the weighted share of the question's key terms it covers (qa/search/coverage.py)
    doc: int  # its document
    covers: frozenset[str] = frozenset()  # the key terms it covers
    follower: "Candidate | None" = None  # the next sentence of its document, where the hit holds it
    names_several: bool = False  # a question asking for several things, answered by a list
    asked_field: bool = False  # a metadata line of the field the question asks for ("Authors: …")
    concludes: bool = False  # in a section labelled as the paper's conclusion
    sets_up: bool = False  # in a section that sets the study up (background, objective, methods)

    @property
    def value(self) -> float:
        return self.score + COVERAGE_WEIGHT * self.coverage + (ENUMERATION_BONUS if self.names_several else 0.0)


def enumerates(sentence: str) -> bool:
    return sentence.count(",") >= ENUMERATION


def compose(candidates: list[Candidate], listing: bool = False, mmr_lambda: float | None = None,
            facets: frozenset[str] = frozenset()) -> tuple[dict | None, frozenset[str]]:
    """The answer: up to 3 sentences / 700 characters, each cited by its hit's rank.

    It leads with the sentence of the best value: relevance plus COVERAGE_WEIGHT times its share
    of the question's key terms (and, for a question asking for several things, a list leads). A lead that ends unresolved is followed by the sentence
    after it when that one covers the question. Every further sentence must cover a key term the
    answer does not cover yet (no filler), comes from the lead's document unless the question asks for a list
    or a comparison, and is picked by maximal marginal relevance (λ · value / best − (1 − λ) ·
    its largest token Jaccard with a sentence already picked); a near-duplicate is never added.
    Returns the answer ({"text", "citations"}) and the key terms it covers."""
    if not candidates:
        return None, frozenset()
    lam = MMR_LAMBDA if mmr_lambda is None else mmr_lambda
    # a question for a kind of statement (a dose) is answered by a sentence that says one; a
    # question for several things by a list
    stating = [c for c in candidates if facets and facets <= c.covers]
    listing_lead = [c for c in candidates if c.names_several]
    pool = sorted(stating or listing_lead or candidates, key=lambda c: (-c.value, c.rank))
    lead = pool[0]
    chosen = [lead]
    if lead.follower is not None and UNRESOLVED.search(lead.text):
        chosen.append(lead.follower)  # its resolution: the next sentence of its document
    if CONCLUSION_WHOLE and lead.concludes:  # a conclusion is given whole, as far as it fits
        length = len(lead.text)
        nxt = chosen[-1].follower
        while nxt is not None and nxt.concludes and len(chosen) < MAX_SENTENCES and length + len(nxt.text) <= MAX_CHARS:
            if nxt not in chosen:
                chosen.append(nxt)
                length += len(nxt.text) + 5
            nxt = nxt.follower
    scale = lead.value if lead.value > 0 else 1.0
    seen = [_token_set(c.text) for c in chosen]
    length = sum(len(c.text) + 5 for c in chosen)
    others = [c for c in sorted(candidates, key=lambda c: (-c.value, c.rank))
              if c not in chosen and (listing or c.doc == lead.doc) and not (SETTING_ASIDE and c.sets_up)]
    while others and len(chosen) < MAX_SENTENCES:
        covered = frozenset().union(*(c.covers for c in chosen))
        pick, pick_value = None, None
        for i, c in enumerate(others):
            tokens = _token_set(c.text)
            similarity = max(len(tokens & s) / max(1, len(tokens | s)) for s in seen)
            if (similarity >= DUPLICATE_JACCARD or length + len(c.text) > MAX_CHARS
                    or not c.covers - covered):
                continue
            value = lam * c.value / scale - (1.0 - lam) * similarity
            if pick_value is None or value > pick_value:  # ties: the earlier in value order
                pick, pick_value = i, value
        if pick is None:
            break
        c = others.pop(pick)
        chosen.append(c)
        seen.append(_token_set(c.text))
        length += len(c.text) + 5
    text = " ".join(f"{c.text} [{c.rank}]" for c in chosen)
    return ({"text": text, "citations": sorted({c.rank for c in chosen}), "field": lead.asked_field},
            frozenset().union(*(c.covers for c in chosen)))


# Field words that name a record's field in any question; the others ("year", "type", "kind",
# "volume") also name things papers study ("type 2 diabetes", "year of surgery"), so they ask for a
# field only beside a word for the record itself ("what kind of article is this").
STRONG_FIELD_CUES = frozenset({"author", "authors", "wrote", "written", "writer", "published", "publication",
                               "journal", "doi", "pmid", "title"})
RECORD_WORDS = frozenset({"it", "this", "paper", "article", "study", "review", "report", "record", "abstract",
                          "publication", "reference", "source"})


def asks_for_field(question_words_: list[str]) -> bool:
    """Whether a question asks for a metadata field ("who wrote it", "when was it published"): a
    strong field word anywhere, another field word beside a word for the record, or who/when/where
    opening the question (elsewhere they join clauses)."""
    openers = {"who", "when", "where"}
    said = set(question_words_)
    weak = set().union(*FIELD_CUES.values()) - openers - STRONG_FIELD_CUES
    return (bool(STRONG_FIELD_CUES & said) or bool(weak & said and RECORD_WORDS & said)
            or bool(question_words_ and question_words_[0] in openers))


def asks_for_reference(question_words_: list[str]) -> bool:
    return bool(REFERENCE_CUES & set(question_words_))


def question_words(question: str) -> set[str]:
    return set(words(question))
