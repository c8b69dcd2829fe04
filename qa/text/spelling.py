"""Conservative spelling correction of question words against the corpus vocabulary.

A question word is corrected only when all of these hold:

- it is alphabetic, five letters or more, not a stop word and not in the corpus vocabulary
  (hyphenated compounds, codes, and words inside a URL, e-mail address or DOI are left alone);
- it is not on the list of common English words (qa/text/data/common-english-words.txt, most frequent first), so an
  off-topic question ("world", "capital", "football") is never rewritten;
- a corpus word of four letters or more, with the same first letter, lies within the allowed
  edit distance: 1 for words of 5-7 letters, 2 for 8 letters or more (optimal string alignment:
  insertion, deletion, substitution and a swap of two adjacent letters each count 1);
- its stem is not already a corpus term: "treatments" is left alone when the corpus has
  "treatment", since the analyzer matches it anyway.

The closest corpus word wins; ties go to the more frequent word, then to the alphabetically first.

Speed: building a Corrector is one pass over the vocabulary, grouping the alphabetic words by
first letter; a letter's sorted word list and per-length code-point matrices are made on its first
use. A question word is compared with all same-letter words whose length is within reach at once,
with numpy: a banded dynamic programme, one query letter at a time, that drops a word as soon as it
can no longer come within the limit. Pure Python and numpy; no new dependency.
"""
from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.text.analyze import TOKEN, STOP_WORDS, analyze, normalize, stem as analyzer_stem

MIN_LENGTH = 5  # shorter question words are never corrected
MIN_CANDIDATE = 4  # shortest corpus word offered as a correction
COMMON_WORDS_PATH = Path(__file__).resolve().parent / "data" / "common-english-words.txt"


def max_distance(length: int) -> int:
    """Edits allowed for a word of `length` letters: 0 below five letters, 1 up to seven, then 2."""
    return 0 if length < MIN_LENGTH else 1 if length <= 7 else 2


@lru_cache(maxsize=1)
def word_ranks() -> Mapping[str, int]:
    """The common English words (lower case) -> their frequency rank (1: "the"); read once per
    process, as arrays kept in the cache (WordRanks)."""
    from qa.text import tables

    blob, width, ranks = tables.derived("common-words", _word_arrays, [COMMON_WORDS_PATH, __file__])
    return WordRanks(np.frombuffer(blob, dtype=f"S{width}"), np.frombuffer(ranks, dtype=np.int32))


def _read_word_ranks() -> dict[str, int]:
    with COMMON_WORDS_PATH.open(encoding="utf-8") as f:
        words = f.read().split("\n")  # one read and one split: twice as fast as line by line
    return {w: rank for rank, w in enumerate(map(str.strip, words), 1) if w}


def _word_arrays() -> tuple[bytes, int, bytes]:
    """The words sorted, as one block of fixed-width UTF-8 strings, and their ranks."""
    ranks = _read_word_ranks()
    keys = sorted(w.encode("utf-8") for w in ranks)
    width = max((len(k) for k in keys), default=1)
    words = np.asarray(keys, dtype=f"S{width}")
    return words.tobytes(), width, np.asarray([ranks[k.decode("utf-8")] for k in keys], dtype=np.int32).tobytes()


class WordRanks(Mapping):
    """word -> rank, by binary search of the sorted words (a few microseconds, remembered): loading
    is mapping two arrays, not making 40,000 Python strings at every start. Iterates in rank order."""

    def __init__(self, words: np.ndarray, ranks: np.ndarray):
        self._words, self._ranks = words, ranks
        self._found: dict[str, int | None] = {}

    def __getitem__(self, word: str) -> int:
        rank = self.get(word)
        if rank is None:
            raise KeyError(word)
        return rank

    def get(self, word: str, default=None):  # not Mapping.get, which goes through KeyError: 3x slower
        rank = self._found.get(word, 0)
        if rank == 0:
            if len(self._found) > 100_000:  # bound what an endless stream of new words keeps
                self._found.clear()
            rank = self._found[word] = self._look_up(word)
        return default if rank is None else rank

    def __contains__(self, word) -> bool:
        return self.get(word) is not None

    def _look_up(self, word: str) -> int | None:
        if not isinstance(word, str):
            return None
        key = word.encode("utf-8", "surrogatepass")
        if not key or len(key) > self._words.dtype.itemsize or key.endswith(b"\0"):
            return None  # (fixed-width strings drop trailing NULs: such a word is no list word)
        i = int(np.searchsorted(self._words, key))
        return int(self._ranks[i]) if i < len(self._words) and self._words[i] == key else None

    def __iter__(self):
        for i in np.argsort(self._ranks, kind="stable").tolist():
            yield self._words[i].decode("utf-8")

    def __len__(self) -> int:
        return len(self._words)


def common_words():
    """The common English words (lower case): a set-like view, read once per process on first need."""
    return word_ranks().keys()


def _within(query: list[int], codes: np.ndarray, lengths: np.ndarray, limit: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Rows within optimal-string-alignment distance `limit` of `query`, and their distances.

    codes: one word a row as code points, shifted right by limit + 1 columns and padded with
    zeros to len(query) + 2 * limit + 1 columns; lengths: the words' lengths, each within `limit`
    of len(query). The dynamic programme runs one query letter at a time over all rows at once,
    on the diagonal band |i - j| <= limit only (a cell off it costs more than the limit). A row is
    dropped once no cell of its last two DP rows, plus the length still to make up, is within the
    limit (a swap reaches back two rows).
    """
    k = limit
    width = 2 * k + 1
    big = np.int16(1000)
    offsets = np.arange(-k, k + 1, dtype=np.int16)  # band cell d is DP column j = i + d
    steps = np.arange(width, dtype=np.int16)
    rows = np.arange(len(codes))
    c = codes
    gap = np.abs(offsets - (lengths.astype(np.int16) - len(query))[:, None])  # length still to make up
    prev = np.broadcast_to(np.where(offsets >= 0, offsets, big), (len(rows), width))
    prev2 = prev
    prev_bound = (prev + gap).min(axis=1)
    for i in range(1, len(query) + 1):
        qi = query[i - 1]
        here = c[:, i:i + width]  # the word's letter j - 1 for each band cell
        x = prev + (here != qi)  # match or substitution
        np.minimum(x[:, :-1], prev[:, 1:] + 1, out=x[:, :-1])  # deletion
        if i > 1:  # swap of two adjacent letters
            swap = (c[:, i - 1:i - 1 + width] == qi) & (here == query[i - 2])
            np.minimum(x, prev2 + 1, out=x, where=swap)
        if i <= k:  # column 0 of the DP is i; columns left of it do not exist
            x[:, :k - i] = big
            x[:, k - i] = i
        cur = np.minimum.accumulate(x - steps, axis=1) + steps  # insertion
        bound = (cur + gap).min(axis=1)
        alive = np.minimum(bound, prev_bound) <= k
        if not alive.all():
            rows, c, gap, prev, cur, bound = rows[alive], c[alive], gap[alive], prev[alive], cur[alive], bound[alive]
            if not len(rows):
                break
        prev2, prev, prev_bound = prev, cur, bound
    if not len(rows):
        return rows, rows
    final = prev[np.arange(len(rows)), lengths[rows] - len(query) + k]
    keep = final <= k
    return rows[keep], final[keep]


def _letter_sets(codes: np.ndarray) -> np.ndarray:
    """Each row's set of letters as a 64-bit mask: a-z have a bit each, other letters share 38."""
    bits = np.where((codes >= 97) & (codes <= 122), codes - 97, 26 + codes % 38).astype(np.uint64)
    return np.bitwise_or.reduce(np.left_shift(np.uint64(1), bits), axis=1)


if hasattr(np, "bitwise_count"):  # numpy >= 2.0
    def _popcount(masks: np.ndarray) -> np.ndarray:
        return np.bitwise_count(masks)
else:
    _BYTE_BITS = np.array([bin(b).count("1") for b in range(256)], dtype=np.uint8)

    def _popcount(masks: np.ndarray) -> np.ndarray:
        return _BYTE_BITS[masks.view(np.uint8).reshape(len(masks), 8)].sum(axis=1)


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


class _Letter:
    """The alphabetic vocabulary words of one first letter, sorted, with their counts."""

    __slots__ = ("words", "counts", "lengths", "matrices", "stems")

    def __init__(self, words: list[str], counts: list[int]):
        if not all(map(operator.le, words, words[1:])):
            order = sorted(range(len(words)), key=words.__getitem__)
            words, counts = [words[i] for i in order], [counts[i] for i in order]
        self.words, self.counts = words, counts
        self.lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        self.matrices: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # see of_length
        self.stems: dict[str, bool] = {}

    def of_length(self, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The words of `length` letters: code points (one word a row), letter sets, positions."""
        got = self.matrices.get(length)
        if got is None:
            positions = np.flatnonzero(self.lengths == length)
            words = [self.words[i] for i in positions.tolist()]
            codes = np.array(words, dtype=f"<U{length}").view(np.uint32).reshape(len(words), length)
            got = self.matrices[length] = (codes, _letter_sets(codes), positions)
        return got

    def has_stem(self, stem: str) -> bool:
        """Whether a word of this letter stems to `stem`. The analyzer's stem keeps a word's first letter and,
        for stems of four letters or more, all but the stem's last letter (checked on 480,000
        English and biomedical words), so only the words starting with that prefix are stemmed."""
        known = self.stems.get(stem)
        if known is None:
            prefix = stem[:-1] if len(stem) >= 4 else stem[:1]
            lo = bisect.bisect_left(self.words, prefix)
            hi = bisect.bisect_left(self.words, prefix + "\U0010ffff", lo)
            plain = [w for w in self.words[lo:hi] if w not in STOP_WORDS]
            known = self.stems[stem] = any(analyzer_stem(w) == stem for w in plain)
        return known


class Corrector:
    """Corrects misspelt question words to corpus words.

    vocabulary: the corpus's surface words as qa.text.analyze.words() yields them (NFKC, case-folded),
        unique; every word counts for "already in the vocabulary", only alphabetic words of four
        letters or more are offered as corrections.
    counts: how often each word occurs in the corpus; breaks ties between equally close words.
    known_terms: tells whether an analyzer term (a stem) is a corpus term. The engine passes the
        index's term look-up (e.g. `lambda t: index.term_id(t) >= 0`). Without it, the
        Corrector answers from `vocabulary` itself (as analyze() would over it), looking only at
        the words that could stem to the term, when a word is about to be corrected.
    common: the words never corrected; defaults to qa/text/data/common-english-words.txt (loaded on
        first need).

    Building costs one pass over the vocabulary; per-letter tables are made on first use.
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
        self._positions: dict[str, list[int]] = {}  # first letter -> positions of alphabetic words
        self._compounds: list[int] = []  # positions of hyphenated and possessive words
        self._letters: dict[str, _Letter | None] = {}
        self._compound_terms: frozenset[str] | None = None
        positions, compounds = self._positions, self._compounds
        for i, w in enumerate(self._words):
            if w.isalpha():
                bucket = positions.get(w[0])
                if bucket is None:
                    positions[w[0]] = [i]
                else:
                    bucket.append(i)
            elif "-" in w or "'" in w or "\u2019" in w:
                compounds.append(i)

    # -- public ---------------------------------------------------------------------------

    def correct(self, question: str, keep: Callable[[str], bool] | None = None) -> tuple[str, list[Correction]]:
        """The question with misspelt words replaced in place (all other text kept as is), and
        the corrections made, in order. keep(word): words to leave as written besides the
        everyday ones (a drug's brand name is no misspelling of a corpus word)."""
        corrections: list[Correction] = []
        memo: dict[str, str | None] = {}
        for match in TOKEN.finditer(question):
            original = match.group()
            start, end = match.span()
            if not original.isalpha() or len(original) < MIN_LENGTH:
                continue
            if question[start - 1:start] in ("/", "@") or question[end:end + 1] in ("/", "@"):
                continue  # part of a path, URL or e-mail address
            if keep is not None and keep(original):
                continue
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

    def _letter(self, letter: str) -> _Letter | None:
        if letter not in self._letters:
            positions = self._positions.get(letter)
            self._letters[letter] = None if not positions else _Letter(
                [self._words[i] for i in positions], self._counts[positions].tolist())
        return self._letters[letter]

    def _is_known(self, word: str) -> bool:
        """Whether the analyzer's term for `word` is already a corpus term."""
        terms = analyze(word)
        if not terms:
            return False
        term = terms[0]
        if self._known_terms is not None:
            return bool(self._known_terms(term))
        letter = self._letter(term[0])
        if letter is not None and letter.has_stem(term):
            return True
        if self._compound_terms is None:  # parts of hyphenated words, possessives
            self._compound_terms = frozenset(t for i in self._compounds for t in analyze(self._words[i]))
        return term in self._compound_terms

    def _closest(self, word: str) -> str | None:
        letter = self._letter(word[0])
        if letter is None:
            return None
        limit = max_distance(len(word))
        query = np.array([ord(ch) for ch in word], dtype=np.uint32)
        mine = _letter_sets(query[None, :])[0]
        pieces, lengths = [], range(max(MIN_CANDIDATE, len(word) - limit), len(word) + limit + 1)
        for codes, sets, positions in map(letter.of_length, lengths):
            # each edit brings in or removes at most one distinct letter on either side
            near = (_popcount(mine & ~sets) <= limit) & (_popcount(sets & ~mine) <= limit)
            if near.any():
                pieces.append((codes[near], positions[near]))
        if not pieces:
            return None
        shift = limit + 1
        codes = np.zeros((sum(len(p) for _, p in pieces), len(word) + 2 * limit + 1), dtype=np.uint32)
        row = 0
        for block, _ in pieces:
            codes[row:row + len(block), shift:shift + block.shape[1]] = block
            row += len(block)
        positions = np.concatenate([p for _, p in pieces])
        rows, dists = _within(query.tolist(), codes, letter.lengths[positions], limit)
        best = None
        for r, d in zip(positions[rows].tolist(), dists.tolist()):
            key = (d, -letter.counts[r], letter.words[r])
            if best is None or key < best:
                best = key
        return None if best is None else best[2]
