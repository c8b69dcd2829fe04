"""Conservative spelling correction of question words against the corpus vocabulary.

A question word is corrected only when all of these hold:

- it is alphabetic, five letters or more, not a stop word and not in the corpus vocabulary;
- it is not on the list of common English words (qa/data/common-english-words.txt), so an
  off-topic question ("world", "capital", "football") is never rewritten;
- a corpus word of four letters or more, with the same first letter, lies within the allowed
  edit distance: 1 for words of 5-7 letters, 2 for 8 letters or more (optimal string alignment:
  insertion, deletion, substitution and a swap of two adjacent letters each count 1);
- its stem is not already a corpus term: "treatments" is left alone when the corpus has
  "treatment", since the analyzer matches it anyway.

The closest corpus word wins; ties go to the more frequent word, then to the alphabetically first.

Speed: the vocabulary is bucketed by (first letter, length) when the Corrector is built; a bucket's
code-point matrix is made on first use, and the distance to every word of the few buckets within
reach is computed at once with numpy, row by row, dropping words as soon as they cannot come
within the limit.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer  # PyStemmer, as qa.analyze uses

from .analyze import _TOKEN, STOP_WORDS, analyze, normalize

MIN_LENGTH = 5  # shorter question words are never corrected
MIN_CANDIDATE = 4  # shortest corpus word offered as a correction
COMMON_WORDS_PATH = Path(__file__).resolve().parent / "data" / "common-english-words.txt"


def max_distance(length: int) -> int:
    """Edits allowed for a word of `length` letters: 0 below five letters, 1 up to seven, then 2."""
    return 0 if length < MIN_LENGTH else 1 if length <= 7 else 2


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The common English words (lower case), read once per process on first need."""
    with COMMON_WORDS_PATH.open(encoding="utf-8") as f:
        return frozenset(w for w in (line.strip() for line in f) if w)


def distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (Damerau-Levenshtein with adjacent swaps), pure Python."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d = min(d, prev2[j - 2] + 1)
            cur[j] = d
        prev2, prev = prev, cur
    return prev[-1]


def _within(query: list[int], codes: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `codes` (N words x M code points) within OSA distance `limit` of `query`.

    The dynamic programme runs one query letter at a time over all rows at once; a row whose
    whole DP row exceeds the limit is dropped (no later cell can come back under it: a swap
    reaches back two rows, but only from a cell that a match would have carried forward).
    """
    n, m = codes.shape
    rows = np.arange(n)
    steps = np.arange(m + 1, dtype=np.int16)
    prev2 = prev = np.broadcast_to(steps, (n, m + 1))
    c = codes
    for i in range(1, len(query) + 1):
        qi = query[i - 1]
        cur = np.empty((len(rows), m + 1), dtype=np.int16)
        cur[:, 0] = i
        x = cur[:, 1:]
        np.add(prev[:, :-1], c != qi, out=x)  # match or substitution
        np.minimum(x, prev[:, 1:] + 1, out=x)  # deletion
        if i > 1 and m > 1:  # swap of two adjacent letters
            swap = (c[:, :-1] == qi) & (c[:, 1:] == query[i - 2])
            np.minimum(x[:, 1:], prev2[:, :-2] + 1, out=x[:, 1:], where=swap)
        cur = np.minimum.accumulate(cur - steps, axis=1) + steps  # insertion
        alive = cur.min(axis=1) <= limit
        if not alive.all():
            rows, c, prev, cur = rows[alive], c[alive], prev[alive], cur[alive]
            if not len(rows):
                break
        prev2, prev = prev, cur
    final = prev[:, m] if len(rows) else np.empty(0, dtype=np.int16)
    keep = final <= limit
    return rows[keep], final[keep]


def _match_case(original: str, word: str) -> str:
    if len(original) > 1 and original.isupper():
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


@dataclass(frozen=True)
class Correction:
    original: str  # the word as written in the question (original case)
    corrected: str  # the corpus word (in the case pattern of the original)
    start: int  # span of the original in the question string
    end: int


class Corrector:
    """Corrects misspelt question words to corpus words.

    vocabulary: the corpus's surface words as qa.analyze.words() yields them (NFKC, case-folded),
        unique; non-alphabetic words count for "already in the vocabulary" but are never offered.
    counts: how often each word occurs in the corpus; breaks ties between equally close words.
    known_terms: tells whether an analyzer term (a stem) is a corpus term. The engine passes the
        index's term table (e.g. `frozenset(index.t["terms"]).__contains__`), which also holds the
        parts of hyphenated compounds; without it the stems of `vocabulary` are computed on the
        first word that would otherwise be corrected.
    common: the words never corrected; defaults to qa/data/common-english-words.txt (loaded on
        first need).
    """

    def __init__(self, vocabulary: Sequence[str], counts: Sequence[int] | None = None, *,
                 known_terms: Callable[[str], bool] | None = None,
                 common: Collection[str] | None = None):
        self._words = list(vocabulary)
        if counts is not None and len(counts) != len(self._words):
            raise ValueError(f"{len(counts)} counts for {len(self._words)} words")
        self._counts = (np.zeros(len(self._words), dtype=np.int64) if counts is None
                        else np.asarray(counts, dtype=np.int64))
        self._vocabulary = frozenset(self._words)
        self._known_terms = known_terms
        self._common = common
        self._terms: frozenset[str] | None = None
        # (first letter, length) -> positions in vocabulary; matrices are made on first use
        self._positions: dict[tuple[str, int], list[int]] = {}
        self._buckets: dict[tuple[str, int], tuple[np.ndarray, list[str], list[int]]] = {}
        positions = self._positions
        for i, w in enumerate(self._words):
            if len(w) >= MIN_CANDIDATE and w.isalpha():
                key = (w[0], len(w))
                bucket = positions.get(key)
                if bucket is None:
                    positions[key] = [i]
                else:
                    bucket.append(i)

    # -- public ---------------------------------------------------------------------------

    def correct(self, question: str) -> tuple[str, list[Correction]]:
        """The question with misspelt words replaced in place (all other text kept as is), and
        the corrections made, in order."""
        corrections: list[Correction] = []
        memo: dict[str, str | None] = {}
        for match in _TOKEN.finditer(question):
            original = match.group()
            start, end = match.span()
            if not original.isalpha() or len(original) < MIN_LENGTH:
                continue
            if question[start - 1:start] in ("/", "@") or question[end:end + 1] in ("/", "@"):
                continue  # part of a path, URL or e-mail address
            word = normalize(original)
            if word not in memo:
                memo[word] = self.suggest(word)
            fix = memo[word]
            if fix is not None:
                corrections.append(Correction(original, _match_case(original, fix), start, end))
        if not corrections:
            return question, []
        parts, last = [], 0
        for c in corrections:
            parts += [question[last:c.start], c.corrected]
            last = c.end
        parts.append(question[last:])
        return "".join(parts), corrections

    def suggest(self, word: str) -> str | None:
        """The corpus word to use for one normalised question word, or None to keep it."""
        if (len(word) < MIN_LENGTH or not word.isalpha() or word in self._vocabulary
                or word in STOP_WORDS or word in self._common_words()):
            return None
        best = self._closest(word)
        if best is None or self._is_known(word):
            return None
        return best

    # -- internals ------------------------------------------------------------------------

    def _common_words(self) -> Collection[str]:
        return common_words() if self._common is None else self._common

    def _is_known(self, word: str) -> bool:
        terms = analyze(word)
        if not terms:
            return False
        if self._known_terms is not None:
            return bool(self._known_terms(terms[0]))
        if self._terms is None:
            self._terms = self._vocabulary_terms()
        return terms[0] in self._terms

    def _vocabulary_terms(self) -> frozenset[str]:
        """analyze() over the vocabulary: alphabetic words stemmed in one batch, the rest one by one."""
        plain = [w for w in self._words if w.isalpha() and w not in STOP_WORDS]
        terms = set(Stemmer.Stemmer("english").stemWords(plain))
        for w in self._words:
            if not w.isalpha():
                terms.update(analyze(w))
        return frozenset(terms)

    def _bucket(self, first: str, length: int):
        key = (first, length)
        bucket = self._buckets.get(key)
        if bucket is None:
            positions = self._positions.get(key)
            if not positions:
                return None
            words = [self._words[i] for i in positions]
            codes = np.array(words, dtype=f"<U{length}").view(np.uint32).reshape(len(words), length)
            bucket = self._buckets[key] = (codes, words, self._counts[positions].tolist())
        return bucket

    def _closest(self, word: str) -> str | None:
        limit = max_distance(len(word))
        query = [ord(ch) for ch in word]
        best = None
        for length in range(max(MIN_CANDIDATE, len(word) - limit), len(word) + limit + 1):
            bucket = self._bucket(word[0], length)
            if bucket is None:
                continue
            codes, words, counts = bucket
            rows, dists = _within(query, codes, limit)
            for r, d in zip(rows.tolist(), dists.tolist()):
                key = (d, -counts[r], words[r])
                if best is None or key < best:
                    best = key
        return None if best is None else best[2]
