"""What a question asks about, and whether the library says it: key terms, their coverage, what is missing.

A question's *key terms* are its words that name its topic: every word that is not a stop word nor
one of the FRAMING_RANK most frequent English words ("option", "help", "next" frame a question;
"pregnancy", "malignancy", "juvenile", and words no English word list holds, such as drug names
and abbreviations, name its topic). A sentence *covers* a key term when it holds one of its
analyzer terms, or a term of what the question's expansions added for it (an abbreviation's long
form, another spelling); a word the corpus does not know at all (a brand name, an abbreviation the
corpus never defines) counts as covered by a passage close to the question in meaning (the
semantic stage), since it may well be another name for what the passage says.

Two kinds of question ask for a kind of statement rather than a word (FACETS): a dose wants a
dose (a number with its unit), side effects want adverse effects. The facet is a key term that a
sentence covers by saying such a thing.

A key term is *missing* when no passage found for the question covers it and it is an everyday
word (on the English word list): the library would have used that word to say it. Then `qa` says
the library does not say it rather than answer with the nearest sentence.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from functools import lru_cache
from itertools import takewhile

from qa.text.analyze import STOP_WORDS, TOKEN, analyze, first_terms, fold
from qa.text.spelling import word_ranks

FRAMING_RANK = 5000  # the most frequent English words: they frame questions more than they name topics
MISSING_SHARE = 0.4  # the weight of unsaid key terms at which the library does not say it (tune halves)

# kind of statement -> (what in a question asks for it, what in a sentence says it)
FACETS = {
    # asked for: a question word before "dose" ("what starting dose"), not "on high-dose pred"
    "dose": (re.compile(r"\b(?:what|which|how)\W+(?:\w+\W+){0,4}?(?:dose|doses|dosage|dosing)\b|"
                        r"\b(?:how much|per kg|mg/kg)\b", re.I),
             re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:-\s*\d+(?:[.,]\d+)?\s*)?(?:mg|g|mcg|µg|ug|ng|ml|mL|iu|IU|units?)"
                        r"(?:\s*(?:/|per)\s*(?:kg|m2|m²|day|d|week|dose))?\b", re.I)),
    "side effects": (re.compile(r"\b(?:side[- ]effects?|adverse|toxicit\w*|harms?)\b", re.I),
                     re.compile(r"\b(?:side[- ]effects?|adverse|toxicit\w*|tolerat\w*|complications?|reactions?|"
                                r"withdr[ae]w\w*|discontinu\w*)\b", re.I)),
    "duration": (re.compile(r"\bhow long\b|\bfor how many (?:days|weeks|months|years)\b|\bduration\b", re.I),
                 re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:-\s*\d+\s*)?(?:days?|weeks?|months?|years?|yrs?|hours?)\b|"
                            r"\bduration\b|\blong[- ]term\b|\bindefinite\w*|\blifelong\b", re.I)),
    "survival": (re.compile(r"\bsurvival\b|\bprognosis\b|\bmortality\b|\blife expectancy\b|\bdeath rates?\b", re.I),
                 re.compile(r"\bsurviv\w*|\bmortality\b|\bdeaths?\b|\bdied\b|\bprognos\w*|\bfatal\w*|"
                            r"\blife expectancy\b", re.I)),
    "a comparison": (re.compile(r"\b(?:better|worse|safer|superior|inferior|more effective|less effective)\s+than\b|"
                              r"\bversus\b|\bvs\.?\s|\bcompared (?:to|with)\b", re.I),
                   re.compile(r"\bthan\b|\bcompar\w*|\bversus\b|\bvs\b|\bsuperior\w*|\binferior\w*|\bsimilar\w*|"
                              r"\bno (?:significant )?differen\w*|\bdiffer\w*|\bequivalen\w*|\bas effective as\b", re.I)),
    "frequency": (re.compile(r"\bhow (?:common|often|frequent(?:ly)?|many|rare)\b|\bprevalence\b|\bincidence\b|"
                             r"\bwhat (?:proportion|percentage|fraction)\b", re.I),
                  re.compile(r"\d+(?:[.,]\d+)?\s*%|\bpercent\w*|\bprevalen\w*|\bincidence\b|\b\d+\s+(?:of|out of)\s+\d+\b|"
                             r"\bone in\b|\bper \d+|\bfrequen\w*|\brare(?:ly)?\b|\bcommon(?:ly)?\b|\bmajority\b", re.I)),
}
# facets said only by a sentence that names what the question is about itself: a comparison of the
# drugs asked about, not one of outcome measures in the same paper
SENTENCE_FACETS = frozenset({"a comparison"})
# the facets a question may ask for besides its words; each can be left out to measure it (tune halves)
ASKED_FACETS = tuple(FACETS)


@dataclass
class KeyTerm:
    word: str  # as the question writes it (for a facet: its name)
    terms: frozenset[str]  # analyzer terms that cover it, its expansions' included
    known: bool  # whether the corpus has one of its terms (a facet: False)
    everyday: bool  # on the English word list (a facet: True)
    weight: float  # how much it counts: rarer in the corpus, more
    facet: re.Pattern | None = None

    def covered_by(self, text: str, terms: set[str]) -> bool:
        """A word: the text holds one of its terms. A facet: the text says such a thing."""
        if self.facet is not None:
            return bool(self.facet.search(text))
        return bool(self.terms & terms)


@dataclass
class Question:
    """The key terms of one question."""

    keys: list[KeyTerm] = field(default_factory=list)

    def covered(self, text: str, terms: set[str], close: bool = False, context: set[str] = frozenset()) -> frozenset[str]:
        """The key terms a text covers; close: its passage is near the question in meaning, which
        covers the words the corpus does not know. A facet counts only where the text, or its
        context (the terms of what the same document says around it), holds one of the question's
        words: the dose of *that* drug."""
        words = frozenset(k.word for k in self.keys if k.facet is None and (k.covered_by(text, terms) or
                                                                           (close and not k.known)))
        said = [k for k in self.keys if k.facet is None and k.known]
        facets = frozenset(k.word for k in self.keys if k.facet is not None and k.covered_by(text, terms)
                           and (not said or any(s.word in words or (k.word not in SENTENCE_FACETS and s.terms & context)
                                                for s in said)))
        return words | facets

    @property
    def facets(self) -> frozenset[str]:
        return frozenset(k.word for k in self.keys if k.facet is not None)

    def share(self, words: frozenset[str]) -> float:
        """The weighted share of the key terms these are."""
        total = sum(k.weight for k in self.keys)
        return sum(k.weight for k in self.keys if k.word in words) / total if total else 1.0

    def known_share(self, semantic: bool) -> float:
        """The weighted share of key terms the corpus has at all: a question whose words mostly are
        not in the corpus is never answered with confidence. With the semantic stage, a word on no
        English word list (a drug's brand name, an abbreviation) may mean what the corpus says
        otherwise, so only the everyday words count against it."""
        total = sum(k.weight for k in self.keys if k.facet is None)
        if total == 0:
            return 1.0
        had = sum(k.weight for k in self.keys if k.facet is None and (k.known or (semantic and not k.everyday)))
        return had / total

    def unsaid(self, texts: list[str]) -> list[KeyTerm]:
        """The everyday key terms (and facets) that none of these texts covers, in question order."""
        covered = frozenset().union(*(self.covered(t, set(analyze(t))) for t in texts)) - SENTENCE_FACETS
        if SENTENCE_FACETS & {k.word for k in self.keys}:
            from qa.text.sentences import split_sentences

            covered |= SENTENCE_FACETS & frozenset().union(*(self.covered(s, set(analyze(s)))
                                                             for t in texts for s in split_sentences(t)))
        return [k for k in self.keys if k.everyday and k.word not in covered]

    def missing(self, texts: list[str]) -> list[str]:
        """What the library does not say of the question: the everyday key terms none of these texts
        covers, when they weigh MISSING_SHARE of the key terms or more, or a facet is among them
        (a question whose every topic word but one is found is answered: one word of a title,
        "reliable", "worthwhile", is seldom the question's point)."""
        unsaid = self.unsaid(texts)
        if not unsaid:
            return []
        facet = any(k.facet is not None for k in unsaid)
        if not facet and self.share(frozenset(k.word for k in unsaid)) < MISSING_SHARE:
            return []
        return list(dict.fromkeys(k.word for k in unsaid))

    def covered_words(self, texts: list[str]) -> list[str]:
        held = [(t, set(analyze(t))) for t in texts]
        return [k.word for k in self.keys if k.facet is None and any(k.covered_by(t, s) for t, s in held)]


@lru_cache(maxsize=1)
def stem_ranks() -> dict[str, int]:
    """stem_ranks_made(), kept between processes (qa/text/tables.py)."""
    from qa.text import analyze as analyzer, spelling, tables, variants

    return tables.derived("framing-stems", stem_ranks_made, [spelling.COMMON_WORDS_PATH, analyzer.__file__,
                                                              variants.__file__, __file__])


def stem_ranks_made() -> dict[str, int]:
    """An analyzer term -> the rank of its most frequent English word: "fails" frames a question
    as much as "fail" does, though the plural is the rarer word. Only the FRAMING_RANK most frequent
    words: a rank beyond never frames (and analysing all 40,000 cost every start 0.1 s)."""
    framing = list(takewhile(lambda item: item[1] <= FRAMING_RANK, word_ranks().items()))  # ranks come in order
    out: dict[str, int] = {}
    for (word, rank), term in zip(framing, first_terms([word for word, _ in framing])):  # = analyze(word)[:1]
        if term is not None:
            out[term] = min(rank, out.get(term, rank))
    return out


def frames(word: str) -> bool:
    """Whether a word frames a question rather than naming its topic: its stem is one of the
    FRAMING_RANK most frequent English words ("patients", "dose", "wrote"), or it is a stop word."""
    terms = analyze(word)
    by_stem = stem_ranks()
    return not terms or min((by_stem.get(t, FRAMING_RANK + 1) for t in terms)) <= FRAMING_RANK


def key_terms(text: str, index, expansions: list[dict] = ()) -> Question:
    """The key terms of a question (its text after spelling correction, filters taken out)."""
    ranks, by_stem = word_ranks(), stem_ranks()
    added: dict[str, set[str]] = {}
    for e in expansions:
        for m in TOKEN.finditer(str(e.get("term", ""))):
            added.setdefault(fold(m.group()), set()).update(analyze(str(e.get("expansion", ""))))
    n = max(index.n_passages, 1)
    keys, seen = [], set()
    for m in TOKEN.finditer(text):
        word = m.group()
        folded = fold(word)
        terms = set(analyze(word))
        if not terms or folded in STOP_WORDS or folded in seen:
            continue
        rank = ranks.get(folded)
        framing = min((by_stem[t] for t in terms if t in by_stem), default=None)
        if framing is not None and framing <= FRAMING_RANK and folded not in added:
            continue  # an everyday word frames the question, unless an expansion says what it names
        seen.add(folded)
        ids = [index.term_id(t) for t in terms]
        # what an expansion says for it counts: "CellCept" is known where "mycophenolate" is
        known = any(i >= 0 for i in ids) or any(index.term_id(t) >= 0 for t in added.get(folded, ()))
        df = min((int(index.postings.indptr[i + 1] - index.postings.indptr[i]) for i in ids if i >= 0), default=0)
        keys.append(KeyTerm(word, frozenset(terms | added.get(folded, set())), known, rank is not None,
                            math.log(1 + n / (1 + df))))
    for name, (asks, says) in FACETS.items():
        if name in ASKED_FACETS and asks.search(text):
            keys = [k for k in keys if not asks.search(k.word)]  # the facet stands for its own words
            keys.append(KeyTerm(name, frozenset(), False, True, math.log(1 + n), facet=says))
    return Question(keys)
