"""Regenerate qa/text/data/common-english-words.txt, the spelling corrector's list of common English words.

Source: the English word-frequency dictionary that ships inside pyspellchecker
(`spellchecker/resources/en.json.gz`, MIT licence, counts built from OpenSubtitles 2018). The list
is the N most frequent purely alphabetic words (ties broken alphabetically), most frequent first,
one a line: a word's line is its rank (qa.text.spelling.word_rank). The script refuses to write a list that holds one of the corpus's key medical words: a word
on the list is never corrected, so such a word must fall below the cut.

    pip install pyspellchecker==0.9.1
    python tools/make_common_words.py [--top 40000] [--out qa/text/data/common-english-words.txt]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import unicodedata
from importlib import metadata, resources
from pathlib import Path

TOP = 40_000
OUT = Path(__file__).resolve().parent.parent / "qa" / "text" / "data" / "common-english-words.txt"

# Drug and disease names of the seed record: none may be "common English".
KEEP_OUT = frozenset("""
    dermatomyositis polymyositis myositis methotrexate azathioprine tacrolimus rituximab
    methylprednisolone prednisone gammaglobulin immunoglobulin cyclosporine ciclosporin
    mycophenolate cyclophosphamide infliximab etanercept
""".split())


def frequencies() -> dict[str, int]:
    path = resources.files("spellchecker") / "resources" / "en.json.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return json.load(f)


def common_words(counts: dict[str, int], top: int) -> list[str]:
    words = {}
    for word, count in counts.items():
        word = unicodedata.normalize("NFKC", word).casefold()
        if word.isalpha():  # drops "don't", "o'clock", numbers
            words[word] = max(count, words.get(word, 0))
    ranked = sorted(words, key=lambda w: (-words[w], w))
    return ranked[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=TOP)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    words = common_words(frequencies(), args.top)
    medical = sorted(KEEP_OUT.intersection(words))
    if medical:
        print(f"refusing: the top {args.top} holds key medical words {medical}; lower --top", file=sys.stderr)
        return 1
    args.out.write_text("".join(w + "\n" for w in words), encoding="utf-8")
    print(f"{len(words)} words from pyspellchecker {metadata.version('pyspellchecker')} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
