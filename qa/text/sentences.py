"""Sentence splitting tuned for biomedical abstracts and citations.

A regular-expression splitter rather than syntok or pysbd: both split "Ytterberg SR. Curr
Rheumatol Rep. 2006" into three sentences, and syntok costs ~80 µs a sentence (80 s per million),
pysbd five times that; this splitter is right on the cases in tests/test_sentences.py and
costs a few µs a sentence.

A boundary is [.?!] (with closing quotes/brackets) + whitespace + an opening that can start a
sentence (capital, digit, quote, bracket), unless the word before the period is an abbreviation
(e.g., i.v., et al., vs., Fig.), an author's two or three initials after a surname ("Ytterberg SR."), or
the period ends a journal abbreviation followed by a citation year ("Rep. 2006 Jun").
Line breaks that separate paragraphs or list lines are always boundaries.
"""
from __future__ import annotations

import re

# Lower-cased words (without the final period) that do not end a sentence.
ABBREVIATIONS = frozenset(
    """
    al approx ca cf co dr e.g eg eq eqs etc fig figs i.e ie inc jr ltd mr mrs ms no nos nr pp
    prof ref refs resp sr st suppl tab vol vols vs viz
    """.split()
)

_CANDIDATE = re.compile(r"[.?!][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_DOTTED = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")  # i.v, e.g, U.S (final period stripped)
# two or three initials: "Ytterberg SR." (one capital is too often "Group B." or "Vitamin D.")
_SURNAME_INITIALS = re.compile(r"\b[A-Z][a-z'’-]+,? [A-Z]{2,3}$")
_CITATION_YEAR = re.compile(r"(?:19|20)\d\d(?:[ ;:(]|$)")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.)\s)")


def _before(text: str, end: int) -> str:
    """The end of text[:end] that the checks below read: at least its last two whole words.

    Not text[:end] itself: slicing and searching it at every candidate made a long paragraph
    quadratic (a 100 kB line of "a. A" took 40 s). With three or more whitespace-separated
    chunks in the tail, the last two are whole and the whitespace before them is kept, so
    _SURNAME_INITIALS (one space, a word boundary, the end) sees what it would in text[:end].
    """
    size = 64
    while True:
        lo = max(0, end - size)
        tail = text[lo:end]
        if lo == 0 or len(tail.split(maxsplit=2)) >= 3:
            return tail
        size *= 4


def _last_word(before: str) -> str | None:
    """The last whitespace-separated word when `before` ends in one, else None: what the regex
    (\\S+)$ found, without retrying it from every offset of a long word ("x" * 60000 + " y. A"
    took 9 s). Like `$`, a single final newline is skipped: "e.g" is the last word of "e.g\\n"."""
    if before.endswith("\n"):
        before = before[:-1]
    if not before or before[-1].isspace():
        return None
    return before.rsplit(None, 1)[-1]


def _is_boundary(text: str, end: int, next_start: int) -> bool:
    """end: index of the sentence-final mark; next_start: where the next sentence would begin."""
    if text[end] != ".":
        return True
    before = _before(text, end)
    word = _last_word(before)
    if word is None:
        return True
    word = word.lstrip("([\"'“")
    if word.lower() in ABBREVIATIONS or _DOTTED.match(word):
        return False
    if _SURNAME_INITIALS.search(before) and not text[next_start].isdigit():
        return False  # "Ytterberg SR. Curr Rheumatol Rep."
    if _CITATION_YEAR.match(text, next_start) and word[:1].isupper() and word.isalpha():
        return False  # journal abbreviation then a year: "Curr Rheumatol Rep. 2006 Jun"
    return True


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, whitespace-trimmed, in order; empty text gives []."""
    out: list[str] = []
    for para in _PARAGRAPH.split(text):
        para = para.strip()
        if not para:
            continue
        start = 0
        for m in _CANDIDATE.finditer(para):
            mark = m.start()
            if _is_boundary(para, mark, m.end()):
                sentence = para[start : m.end()].strip()
                if sentence:
                    out.append(sentence)
                start = m.end()
        tail = para[start:].strip()
        if tail:
            out.append(tail)
    return out
