"""Clinicians' words: the drug names, shorthand and lay words users type for what papers write.

Two tables (qa/text/data/README.md says where they come from):

    drug-names.tsv      other names of drugs (brands, other countries' spellings) -> the generic name
    clinical-terms.tsv  clinical shorthand and lay words -> the words of papers ("MTX" ->
                        "methotrexate", "kids" -> "children", "heart attack" -> "myocardial
                        infarction"; "a | b" where papers write either: "pred" -> "prednisone |
                        prednisolone")

At query time (`variants`), each word of the question, and each run of two or three words, that a
table holds adds what papers write for it (of alternatives, those the corpus has), when the
corpus has all of it (its analyzer terms) and the searched text does not have it yet: "CellCept"
adds "mycophenolate". A term with a capital
letter matches only as written ("MTX", "IVIg": "mm" is never multiple myeloma); a lower-case term
matches in any case. A drug name that is an everyday English word is never matched. Longer runs
win over the words in them. The additions are searched like the corpus's other spellings of the
question's words (qa/search/rank.py: EXPANSION_WEIGHT, and they may match where the question's
own words do not) and are listed in the JSON `expansions`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from qa.text.analyze import analyze

DATA = Path(__file__).resolve().parent / "data"
MAX_RUN = 3  # words in the longest table term
_EDGE = re.compile(r"^[^\w&]+|[^\w&.']+$|(?<=\w)'s$")  # punctuation around a word; a possessive


def _rows(name: str):
    text = (DATA / name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            term, _, meaning = line.partition("\t")
            if meaning:
                yield term.strip(), meaning.strip()


@lru_cache(maxsize=1)
def tables() -> tuple[dict[str, str], dict[str, str]]:
    """(terms matched as written, terms matched in any case, by their lower-case spelling); kept in
    the cache between processes (reading 20,000 rows costs every `qa ask` about 15 ms)."""
    from qa.text import spelling, tables as derived_tables

    sources = [DATA / "drug-names.tsv", DATA / "clinical-terms.tsv", spelling.COMMON_WORDS_PATH, __file__]
    exact, folded = derived_tables.derived("vocabulary", _read_tables, sources)
    return exact, folded


def _read_tables() -> tuple[dict[str, str], dict[str, str]]:
    from qa.text.spelling import common_words

    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    everyday = common_words()
    for name, generic in _rows("drug-names.tsv"):
        if name not in everyday:
            folded[name] = generic
    for term, meaning in _rows("clinical-terms.tsv"):  # written by hand: it wins over the drug names
        if term != term.lower():
            exact[term] = meaning
        else:
            folded[term] = meaning
    return exact, folded


def meaning(term: str) -> str | None:
    """What papers write for a term of a question, as the user wrote it; None when the tables
    do not hold it."""
    exact, folded = tables()
    return exact.get(term) or folded.get(term.lower())


def knows(word: str) -> bool:
    """Whether a question word is a term of the tables (spelling correction leaves it alone)."""
    return meaning(word) is not None


def _words(text: str) -> list[str]:
    out = []
    for raw in text.split():
        word = _EDGE.sub("", raw)
        if word:
            out.append(word)
    return out


def variants(question: str, corpus_has: Callable[[list[str]], bool], present: set[str]) -> list[dict]:
    """[{"term", "expansion"}] for the question's words and runs of words the tables hold, in the
    question's order; corpus_has(terms) tells whether the corpus has all these analyzer terms,
    present holds the terms the searched text has already."""
    words = _words(question)
    out, seen = [], set(present)
    i = 0
    while i < len(words):
        for n in range(min(MAX_RUN, len(words) - i), 0, -1):
            term = " ".join(words[i:i + n])
            said = meaning(term)
            if said is None:
                continue
            # "a | b": either is what papers write; those the corpus has are added
            kept = [alt.strip() for alt in said.split("|") if analyze(alt) and corpus_has(analyze(alt))]
            terms = analyze(" ".join(kept))
            if terms and not set(terms) <= seen:
                out.append({"term": term, "expansion": " ".join(kept)})
                seen.update(terms)
            i += n - 1
            break
        i += 1
    return out
