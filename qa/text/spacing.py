"""Hyphenation and spacing variants: "anti Jo1" meets "anti-Jo-1", "methyl prednisolone" meets
"methylprednisolone", "IL6" meets "IL-6". Query side only: the analyzer and the terms of every
passage stay as they are; a spelling the corpus prefers is searched as an expansion.

A compound written in any of these ways has one *joined spelling*: its letters and digits
written together, hyphens and spaces dropped ("anti-Jo-1", "anti Jo1", "antiJo-1" -> "antijo1").

Index time (`table_of`): each hyphenated term of the vocabulary (letters and digits joined by
inner hyphens, with a letter: not "2005-2010") under its joined spelling, rows
"<joined>\\t<term>" sorted by UTF-8 bytes: the index's table "spacing". A hyphenated word's term
is the word as written (lower case, British stems made American; see qa.analyze), so the table
is a function of the vocabulary alone: an index update adds the rows of the new terms.

Query time (`variants`): each question word, and each run of up to MAX_RUN words separated by
spaces only, is written together. A run holding a stop word of two letters or more ("is
there", "of the") is prose, not a compound, and is skipped. The corpus's other spellings of it:
- the hyphenated terms under its joined spelling (the table), and
- the joined word, when its analysed term is in the vocabulary (for a run or a hyphenated word;
  stemmed, as the analyzer stems any plain word: "methyl prednisolones" meets it too).
One is added when the corpus writes it in more passages than the question's own spelling
(qa.search.rank.passages_with: a term's passages; for several terms, the fewest holding one of their
consecutive pairs, from the TF-IDF bigrams; 0 when a word of the spelling has no term, "T" of
"T cells"). So "pre-operative" adds "preoperative" but not the other way round, and "long
term" never adds "long-term", whose passages all hold the terms "long term" already. At most
MAX_FORMS a spelling, most frequent first; searched with the question at
qa.search.rank.EXPANSION_WEIGHT, allowed to match when the question's own words match nothing (they
spell the same words), and listed in `expansions` as {"term": the question's words,
"expansion": the corpus spelling}.

Chosen on PubMedQA dev (bench/pubmedqa.py): adding every other spelling the corpus has lost a
question at R@1 and two answers on the held-out half, and still two answers when those the
analyzer already splits into the question's terms were left out. Keying hyphenated terms by
their stem conflated inflections ("off-hours" / "off-hour"), which changed answers too; the
table is keyed by the spelling as written. With the frequency rule the feature fires on 13 of
the 500 dev questions and every figure of the benchmark is unchanged.
"""
from __future__ import annotations

import bisect
import re

from qa.text.analyze import STOP_WORDS, TOKEN, analyze, normalize, word_terms
from qa.text.variants import american

MAX_RUN = 3  # words written together at most ("anti Jo 1")
MAX_JOINED = 2  # of which, looked up as one plain word ("methyl prednisolone")
MAX_FORMS = 2  # corpus spellings added for one question spelling, most frequent first

_COMPOUND = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # letters and digits, inner hyphens only


def _has_letter(word: str) -> bool:
    return any(c.isalpha() for c in word)


def table_of(terms) -> list[str]:
    """The "spacing" table of a vocabulary (see the module docstring)."""
    rows = {f"{t.replace('-', '')}\t{t}" for t in terms
            if "-" in t and _COMPOUND.fullmatch(t) and _has_letter(t)}
    return sorted(rows, key=lambda s: s.encode("utf-8"))


def merged(table, new_terms) -> list[str]:
    """The table of a vocabulary grown by `new_terms`: its rows and those of the new terms."""
    rows = {table[i] for i in range(len(table))} | set(table_of(new_terms))
    return sorted(rows, key=lambda s: s.encode("utf-8"))


def _words(text: str):
    """(start, end, normalised word or None) of each word of `text`: None for a word that cannot
    be part of a compound (not letters and digits with inner hyphens, or a stop word of two
    letters or more)."""
    out = []
    for m in TOKEN.finditer(text):
        w = normalize(m.group())
        ok = _COMPOUND.fullmatch(w) and not (len(w) > 1 and w in STOP_WORDS)
        out.append((m.start(), m.end(), w if ok else None))
    return out


class Corpus:
    """The look-ups `variants` makes in an index. term_id(term): its id in the vocabulary or -1
    (Index.term_id, which remembers them); table: the "spacing" table (None: joined words
    only), its look-ups remembered here, as question words recur; count(terms) -> passages
    holding them, in order."""

    LIMIT = 200_000  # remembered spacing look-ups: cleared beyond

    def __init__(self, term_id, table, count):
        self.term_id, self.count = term_id, count
        self.table = table if table is not None and len(table) else None
        self._forms: dict[str, tuple[list[str], bool]] = {}

    def known(self, term: str) -> bool:
        """Whether `term` is in the vocabulary."""
        return self.term_id(term) >= 0

    DICT_ROWS = 500_000  # a table up to this many rows is read once into a dict

    def _read(self) -> None:
        """The table as a dict (joined -> terms, in table order) and its sorted keys, read once."""
        forms: dict[str, list[str]] = {}
        for i in range(len(self.table)):
            joined, term = self.table[i].split("\t", 1)
            forms.setdefault(joined, []).append(term)
        self._dict = forms
        self._keys = sorted(forms, key=lambda k: k.encode("utf-8"))
        self._encoded = [k.encode("utf-8") for k in self._keys]

    def hyphenated(self, joined: str) -> tuple[list[str], bool]:
        """The hyphenated terms stored under `joined`, and whether a longer joined spelling
        starts with it (else no longer run need be looked up)."""
        if self.table is None:
            return [], False
        if len(self.table) <= self.DICT_ROWS:
            if getattr(self, "_dict", None) is None:
                self._read()
            key = joined.encode("utf-8")
            k = bisect.bisect_right(self._encoded, key)  # the first key after `joined`
            return list(self._dict.get(joined, ())), k < len(self._encoded) and self._encoded[k].startswith(key)
        if joined not in self._forms:
            if len(self._forms) > self.LIMIT:
                self._forms.clear()
            table, key = self.table, joined.encode("utf-8")
            k = table.lower_bound(key)
            forms = []
            while k < len(table) and table.raw(k).startswith(key + b"\t"):
                forms.append(table[k].split("\t", 1)[1])
                k += 1
            self._forms[joined] = forms, k < len(table) and table.raw(k).startswith(key)
        return self._forms[joined]


def variants(text: str, corpus: Corpus, present: set[str] | None = None) -> list[dict]:
    """[{"term": words of `text`, "expansion": the corpus's spelling of them}] (see the module
    docstring); present: terms already searched (default: those of `text`)."""
    present = set(analyze(text)) if present is None else set(present)
    words = _words(text)
    out = []
    for i in range(len(words)):
        joined, plain, open_ = "", "", corpus.table is not None
        for n in range(1, MAX_RUN + 1):
            if i + n > len(words) or words[i + n - 1][2] is None:
                break
            if n > 1 and not text[words[i + n - 2][1]:words[i + n - 1][0]].isspace():
                break
            word = words[i + n - 1][2]
            joined += american(word).replace("-", "")
            plain += word.replace("-", "")
            forms = []  # (corpus spelling, its term)
            if n <= MAX_JOINED and (n > 1 or "-" in word):
                key = word_terms(plain)
                if key and _has_letter(key[0]) and key[0] not in present and corpus.known(key[0]):
                    forms.append((plain, key[0]))
            if open_:
                hyphenated, open_ = corpus.hyphenated(joined)
                forms += [(f, f) for f in hyphenated]
            forms = [(f, t) for f, t in forms if t not in present]
            if forms:
                _add(out, present, text, words[i:i + n], forms, corpus.count)
            if not open_ and n >= MAX_JOINED:
                break  # neither a joined word nor a hyphenated term can follow
    return out


def _add(out, present, text, run, forms, count) -> None:
    """Add the spellings the corpus writes more often than the question's own (the words of
    `run`), most frequent first."""
    written = text[run[0][0]:run[-1][1]]
    own = 0 if any(not word_terms(w) for _, _, w in run) else count(analyze(written))
    ranked = sorted(((count([t]), f) for f, t in forms), key=lambda x: (-x[0], x[1]))
    for n, form in ranked[:MAX_FORMS]:
        if n > own:
            out.append({"term": written, "expansion": form})
            present.update(analyze(form))
