"""BERT's uncased WordPiece tokenizer, exact to Hugging Face `tokenizers`, in plain Python.

A text becomes token ids in the steps of a BERT `tokenizer.json` (BertNormalizer,
BertPreTokenizer, WordPiece, the [CLS] … [SEP] template):

1. the special tokens ([CLS], [SEP], [PAD], [MASK], [UNK]) written in the raw text are
   tokens of their own, matched before any normalisation, as `tokenizers` matches them;
2. normalise: drop NUL, U+FFFD and control or format characters, make every white-space
   character a space, put spaces around CJK ideographs, decompose (NFD) and drop
   non-spacing marks (accents), lowercase each character;
3. split at white space and around every punctuation character (ASCII punctuation
   counts, so `$`, `+`, `<`, `=`, `^`, `|`, `~` split a word as in BERT);
4. each word is cut greedily into the longest pieces of the vocabulary, the pieces after
   the first spelt with `##`; a word of more than 100 characters, or one with a part no
   piece covers, is one [UNK];
5. keep the first `max_length - 2` ids and wrap them in [CLS] … [SEP].

Which characters are controls, non-spacing marks and punctuation is read from
`data/bert-chars.json`, a table `tools/make_bert_char_table.py` takes from `tokenizers`
itself: its Unicode tables are older than Python's, so `unicodedata` would split 105 newer
punctuation characters and drop about 400 newer marks that `tokenizers` keeps. NFD and
lowercasing are Python's; they differ from `tokenizers`' only on characters one of the two
Unicode versions does not know (for Python 3.11: 1 decomposition and 55 capitals of
Unicode 15–16).
"""
from __future__ import annotations

import bisect
import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_SPECIAL = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))

MAX_WORD_CHARS = 100
PIECE_PREFIX = "##"
CHAR_TABLE = Path(__file__).resolve().parent / "data" / "bert-chars.json"

# Unicode's White_Space property (Rust's char::is_whitespace); those that are also controls
# (U+000B, U+000C, U+0085) are dropped, not made spaces, since the control test comes first.
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# BERT's "Chinese characters": the CJK Unified Ideographs blocks and their compatibility forms.
# tokenizers starts extension E at U+2B920 where Google's BERT has U+2B820; ids follow tokenizers.
CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)


class CharClass:
    """Membership in sorted [first, last] code point runs, by binary search."""

    def __init__(self, runs: list[list[int]]):
        self.firsts = [first for first, _ in runs]
        self.lasts = [last for _, last in runs]

    def __contains__(self, c: str) -> bool:
        i = bisect.bisect_right(self.firsts, ord(c)) - 1
        return i >= 0 and ord(c) <= self.lasts[i]


def _load_classes() -> dict[str, CharClass]:
    table = json.loads(CHAR_TABLE.read_text(encoding="utf-8"))
    return {name: CharClass(table[name]) for name in ("control", "mark", "punctuation")}


_CLASSES = _load_classes()
CONTROL, MARK, PUNCTUATION = _CLASSES["control"], _CLASSES["mark"], _CLASSES["punctuation"]

# ASCII text is cleaned by one str.translate and split by one regular expression.
_ASCII = [chr(c) for c in range(128)]
_ASCII_CLEAN = {ord(c): None for c in _ASCII if c in CONTROL}
_ASCII_CLEAN.update({ord(c): " " for c in _ASCII if c in WHITE_SPACE and c not in CONTROL})
_ASCII_PUNCT = re.escape("".join(c for c in _ASCII if c in PUNCTUATION))
_ASCII_WORDS = re.compile(f"[^ {_ASCII_PUNCT}]+|[{_ASCII_PUNCT}]")


def _is_cjk(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in CJK_RANGES)


@functools.lru_cache(maxsize=65536)
def _clean_char(c: str) -> str:
    """One character after cleaning and CJK spacing: '', ' ', ' c ' or itself."""
    if c in CONTROL:
        return ""
    if c in WHITE_SPACE:
        return " "
    return f" {c} " if _is_cjk(ord(c)) else c


def normalize(text: str) -> str:
    """BertNormalizer(clean_text, handle_chinese_chars, strip_accents, lowercase) of a text."""
    if text.isascii():
        return text.translate(_ASCII_CLEAN).lower()
    cleaned = "".join(map(_clean_char, text))
    stripped = "".join(c for c in unicodedata.normalize("NFD", cleaned) if c not in MARK)
    # Character by character: str.lower() of a whole string gives a final sigma (ς) that
    # tokenizers, lowercasing each character alone, does not.
    return "".join(map(str.lower, stripped))


def _split_punctuation(chunk: str) -> list[str]:
    """A space-free chunk of normalised text cut around each punctuation character."""
    if chunk.isascii():
        return _ASCII_WORDS.findall(chunk)
    words: list[str] = []
    start = 0
    for i, c in enumerate(chunk):
        if c in PUNCTUATION:
            if start < i:
                words.append(chunk[start:i])
            words.append(c)
            start = i + 1
    if start < len(chunk):
        words.append(chunk[start:])
    return words


def pre_tokenize(normalized: str) -> list[str]:
    """BertPreTokenizer: words of a normalised text, split at white space and punctuation."""
    words: list[str] = []
    for chunk in normalized.split(" "):
        words += _split_punctuation(chunk)
    return words


def read_vocab(model_dir: Path) -> dict[str, int]:
    """token -> id from `vocab.txt` (one token a line, the line number its id), else `tokenizer.json`."""
    vocab_txt = model_dir / "vocab.txt"
    if vocab_txt.is_file():
        # split("\n"), not splitlines(): a token may be a character splitlines treats as a break.
        lines = vocab_txt.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return {token.rstrip("\r"): i for i, token in enumerate(lines)}
    model = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]
    return dict(model["vocab"])


@dataclass
class WordPiece:
    """An uncased BERT tokenizer over a vocabulary: text -> ids with [CLS] and [SEP]."""

    vocab: dict[str, int]
    max_length: int = 256
    _pieces: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dir(cls, model_dir: Path, max_length: int = 256) -> WordPiece:
        return cls(read_vocab(Path(model_dir)), max_length)

    def __post_init__(self) -> None:
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]

    def word_ids(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match pieces of one word, remembered (words repeat across a corpus)."""
        ids = self._pieces.get(word)
        if ids is None:
            if len(self._pieces) > 500_000:  # bound memory on endless streams of new words
                self._pieces.clear()
            ids = self._pieces[word] = self._split_word(word)
        return ids

    def _split_word(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_WORD_CHARS:
            return (self.unk_id,)
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else PIECE_PREFIX + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    ids.append(found)
                    break
                end -= 1
            else:
                return (self.unk_id,)
            start = end
        return tuple(ids)

    def text_ids(self, text: str) -> list[int]:
        """Ids of a text without [CLS], [SEP] or truncation."""
        ids: list[int] = []
        start = 0
        for match in _SPECIAL.finditer(text):
            ids += self._segment_ids(text[start:match.start()])
            ids.append(self.vocab[match.group()])
            start = match.end()
        ids += self._segment_ids(text[start:])
        return ids

    def _segment_ids(self, segment: str) -> list[int]:
        ids: list[int] = []
        for word in pre_tokenize(normalize(segment)):
            ids += self.word_ids(word)
        return ids

    def encode(self, text: str) -> list[int]:
        """[CLS] + the text's first max_length − 2 ids + [SEP], as sentence-transformers feeds BERT."""
        return [self.cls_id, *self.text_ids(text)[: self.max_length - 2], self.sep_id]

    def tokens(self, text: str) -> list[str]:
        """The pieces of encode(text) as strings (for reading and tests)."""
        inverse = {i: t for t, i in self.vocab.items()}
        return [inverse[i] for i in self.encode(text)]
