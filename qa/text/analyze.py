"""The one analyzer both ranking stages share: text -> normalised, stemmed content terms.

Steps: Unicode NFKC + case folding, a tokenizer that keeps biomedical tokens whole (il-6, cd20,
anti-jo-1, 10.1007/s11926-996-0021-7, 25.9), English stop words, Snowball stemming of
alphabetic words. A hyphenated compound also yields its alphabetic parts of three letters or
more, so "methotrexate-treated" matches "methotrexate".
"""
from __future__ import annotations

import re
import unicodedata

import Stemmer  # PyStemmer: Snowball stemmers in C

from qa.readers.ids import DOI_PATTERN
from qa.text.variants import GREEK_TABLE, american

# A DOI is one token; otherwise word characters joined by inner hyphens, periods or
# apostrophes (il-6, 25.9, e.g, crohn's). A period or hyphen at the edge is punctuation.
TOKEN = re.compile(
    DOI_PATTERN + r"[^\s\"<>.,;:)\]]"  # a DOI, without the punctuation that may follow it
    r"|\w+(?:[-.'’]\w+)*"
)

# NLTK's English stop words, plus question words and auxiliaries that questions add.
STOP_WORDS = frozenset(
    """
    a about above after again against ain all am an and any are aren aren't as at be because been
    before being below between both but by can couldn couldn't d did didn didn't do does doesn
    doesn't doing don don't down during each few for from further had hadn hadn't has hasn hasn't
    have haven haven't having he her here hers herself him himself his how i if in into is isn
    isn't it it's its itself just ll m ma me mightn mightn't more most mustn mustn't my myself
    needn needn't no nor not now o of off on once only or other our ours ourselves out over own re
    s same shan shan't she she's should should've shouldn shouldn't so some such t than that
    that'll the their theirs them themselves then there these they this those through to too under
    until up ve very was wasn wasn't we were weren weren't what when where which while who whom
    why will with won won't wouldn wouldn't y you you'd you'll you're you've your yours yourself
    yourselves could would may might must shall also whether
    """.split()
)

_stemmer = Stemmer.Stemmer("english")


# Adjectives Snowball would fold into a noun of another meaning keep a family of their own:
# "effective" is not "effects" (a side effect), "useful" is not "used". Their base is stemmed
# and the suffix's mark kept, so effective/effectively/effectiveness still meet each other.
KEPT_SUFFIXES = (("fulness", "ful"), ("fully", "ful"), ("ful", "ful"))
PROTECTED = {"effective": "effectiv", "effectively": "effectiv", "effectiveness": "effectiv"}
MIN_BASE = 3


def stem(word: str) -> str:
    """The stem of a normalised word. Only plain alphabetic words are stemmed; numbers, codes and
    DOIs stay as written."""
    if not word.isalpha():
        return word
    if word in PROTECTED:
        return PROTECTED[word]
    for suffix, mark in KEPT_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_BASE:
            return _stemmer.stemWord(word[:-len(suffix)]) + mark
    return _stemmer.stemWord(word)


def word_terms(word: str) -> tuple[str, ...]:
    """Terms of one normalised surface token: () for a stop word; a compound adds its parts."""
    word = word.strip("'")
    if word.endswith("'s"):  # before the stop-word test: "what's" is "what"
        word = word[:-2]
    if not word or word in STOP_WORDS:
        return ()
    word = american(word)
    terms = [stem(word)]
    if "-" in word and not word.startswith("10."):
        terms += [stem(p) for p in word.split("-") if len(p) >= 3 and p.isalpha() and p not in STOP_WORDS]
    return tuple(terms)


class _TermCache(dict):
    """word -> its terms, computed once: analysing is then one dict look-up a token."""

    def __missing__(self, word: str) -> tuple[str, ...]:
        if len(self) > 2_000_000:  # bound memory on endless streams of new words
            self.clear()
        terms = self[word] = word_terms(word)
        return terms


_TERMS = _TermCache()


def terms_of_word(word: str) -> tuple[str, ...]:
    """word_terms of a normalised token, remembered: analysing is one dict look-up a token."""
    return _TERMS[word]


def first_terms(words: list[str]) -> list[str | None]:
    """analyze(word)[0] of each word (None where it has no term), the plain lower-case words
    stemmed in one call of the stemmer: a table of thousands of words is ready in milliseconds."""
    plain = [w.isascii() and w.isalpha() and w.islower() and w not in STOP_WORDS for w in words]
    spelt = [american(w) for w, p in zip(words, plain) if p]  # what word_terms stems
    stems = iter(zip(spelt, _stemmer.stemWords(spelt)))
    out: list[str | None] = []
    for w, p in zip(words, plain):
        if p:
            a, s = next(stems)
            special = a in PROTECTED or any(a.endswith(x) and len(a) - len(x) >= MIN_BASE for x, _ in KEPT_SUFFIXES)
            out.append(stem(a) if special else s)
        else:
            terms = analyze(w)
            out.append(terms[0] if terms else None)
    return out


def fold(text: str) -> str:
    """Case- and accent-insensitive form, for matching names and journals."""
    if text.isascii():  # what the decomposition comes to on ASCII, without it
        return text.lower().strip()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def normalize(text: str) -> str:
    if text.isascii():  # NFKC and case folding reduce to lower() on ASCII: the common case, fast
        return text.lower()
    # casefold turns İ into i + U+0307, which the tokenizer would split off: fold it to i.
    # Greek letters are spelt out (variants.GREEK): "TNF-α" meets "TNF-alpha".
    text = unicodedata.normalize("NFKC", text).casefold().replace("i\u0307", "i").replace("’", "'")
    return text.translate(GREEK_TABLE)


def words(text: str) -> list[str]:
    """Normalised surface tokens, before stop words and stemming (used for highlighting)."""
    return TOKEN.findall(normalize(text))


def analyze(text: str) -> list[str]:
    """Terms of a text in order; duplicates kept (BM25 counts them)."""
    cache = _TERMS
    return [t for w in TOKEN.findall(normalize(text)) for t in cache[w]]


def with_bigrams(terms: list[str]) -> list[str]:
    """Unigrams then bigrams, joined by a space: the TF-IDF features, as scikit-learn builds them."""
    return terms + [f"{a} {b}" for a, b in zip(terms, terms[1:])]
