"""Regenerate qa/text/data/bert-chars.json, the character classes of `tokenizers`' BERT normaliser and pre-tokenizer.

`tokenizers` decides which characters are control characters (dropped), non-spacing marks
(dropped after NFD) and punctuation (split off) with Unicode tables older than Python's
`unicodedata`: 105 punctuation characters and about 400 marks added to Unicode since are plain
letters to it, and it keeps unassigned code points that Python calls Cn. qa.text.wordpiece reads
these three classes from the table so that its ids equal `tokenizers`' on every code point,
whatever Python's Unicode version. The script asks `tokenizers` itself, one code point at a time:

- control: BertNormalizer(clean_text only) turns "a<c>b" into "ab";
- mark: the code point is its own NFD and BertNormalizer(strip_accents only) turns "a<c>b" into "ab"
  (a code point with a decomposition never reaches the mark test: NFD replaces it first);
- punctuation: BertPreTokenizer cuts "a<c>b" into three words.

It also checks that white space and the CJK ranges are those wordpiece.py spells out, and
prints the code points whose NFD or lowercase differ between `tokenizers` and this Python.

    pip install tokenizers
    python tools/make_bert_char_table.py [--out qa/text/data/bert-chars.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from importlib import metadata
from pathlib import Path

from tokenizers.normalizers import NFD, BertNormalizer, Lowercase
from tokenizers.pre_tokenizers import BertPreTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qa.text.wordpiece import CJK_RANGES, WHITE_SPACE  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "qa" / "text" / "data" / "bert-chars.json"
SURROGATES = (0xD800, 0xDFFF)  # not text: tokenizers cannot take them; dropped like controls


def code_points() -> range:
    return range(0x110000)


def ranges(codes: list[int]) -> list[list[int]]:
    """Sorted code points -> [first, last] runs."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return runs


def probe() -> dict[str, list[int]]:
    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    cjk = BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    nfd, lower, split = NFD(), Lowercase(), BertPreTokenizer()
    found: dict[str, list[int]] = {"control": [], "mark": [], "punctuation": [], "white_space": [], "cjk": []}
    differ: dict[str, list[int]] = {"nfd": [], "lowercase": []}
    for code in code_points():
        if SURROGATES[0] <= code <= SURROGATES[1]:
            found["control"].append(code)
            continue
        c = chr(code)
        cleaned = clean.normalize_str(f"a{c}b")
        if cleaned == "ab":
            found["control"].append(code)
        elif cleaned == "a b":
            found["white_space"].append(code)
        if nfd.normalize_str(c) == c and strip.normalize_str(f"a{c}b") == "ab":
            found["mark"].append(code)
        if len(split.pre_tokenize_str(f"a{c}b")) == 3:
            found["punctuation"].append(code)
        if cjk.normalize_str(c) == f" {c} ":
            found["cjk"].append(code)
        if nfd.normalize_str(c) != unicodedata.normalize("NFD", c):
            differ["nfd"].append(code)
        if lower.normalize_str(c) != c.lower():
            differ["lowercase"].append(code)
    for name, codes in differ.items():
        print(f"{name}: {len(codes)} code points differ between tokenizers and Python "
              f"{sys.version.split()[0]} (Unicode {unicodedata.unidata_version}): "
              + " ".join(f"U+{c:04X}" for c in codes[:40]), file=sys.stderr)
    return found


def check_spelt_out(found: dict[str, list[int]]) -> None:
    """White space and CJK are constants in wordpiece.py: they must be what tokenizers does."""
    # Tab, newline and carriage return are the white space that is not a control to it.
    white = sorted(ord(c) for c in WHITE_SPACE)
    tokenizers_white = sorted(set(found["white_space"]))
    if tokenizers_white != sorted(set(white) - {0x0B, 0x0C, 0x85}):
        raise SystemExit(f"white space differs: {tokenizers_white} against {white}")
    cjk = [code for lo, hi in CJK_RANGES for code in range(lo, hi + 1)]
    if sorted(cjk) != found["cjk"]:
        raise SystemExit("CJK ranges differ from tokenizers'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    found = probe()
    check_spelt_out(found)
    table = {
        "about": "Character classes of Hugging Face tokenizers' BertNormalizer and BertPreTokenizer, "
                 "as [first, last] code point runs; made by tools/make_bert_char_table.py",
        "tokenizers": metadata.version("tokenizers"),
        **{name: ranges(found[name]) for name in ("control", "mark", "punctuation")},
    }
    args.out.write_text(json.dumps(table, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: " + ", ".join(f"{n} {len(found[n])} in {len(table[n])} runs"
                                            for n in ("control", "mark", "punctuation")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
