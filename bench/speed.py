"""Speed figures the tests leave out (a test only guards against a hang): spelling correction over
a large vocabulary, and reading a megabyte written on one line.

    python bench/speed.py            # about 20 s on 2 cores

Specified: the corrector of a 300,000-word vocabulary is built in under 0.3 s and corrects a
question in under 20 ms; no reader takes more than a few seconds over a one-megabyte line.
Each figure is the best of --repeat runs (default 3), in seconds.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.readers.corpus import read_file  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.text import spelling  # noqa: E402
from qa.text.sentences import split_sentences  # noqa: E402

MB = 1024 * 1024
QUESTION = "Is dermatomyosits treated with rituximba?"

# one-megabyte single lines that were slow once (the slowest reader inputs of tests/test_fuzz.py)
LONG_LINES = {
    "BibTeX entry openings, format detected": (b"@article{" * (MB // 9), ".txt"),
    "unclosed PubMed XML elements": (b"<PubmedArticleSet>" + b"<x>" * (MB // 3), ".xml"),
    "RIS title of sentences": (b"TY  - JOUR\nTI  - " + b"a. B: " * (MB // 6) + b"\nER  - ", ".ris"),
    "plain text of words": (b"word " * (MB // 5), ".txt"),
}


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def vocabulary(size: int, seed: int = 5) -> list[str]:
    """Distinct made-up words of 4 to 16 letters, most of them starting with the letters the
    question's misspelt words start with (a correction compares words of the same first letter)."""
    rng = random.Random(seed)
    letters = "eeeeaaaiiioonnrrsstllcdump"
    words: set[str] = {"dermatomyositis", "rituximab"}
    while len(words) < size:
        words.add(rng.choice("abcdefghilmnoprstu") + "".join(rng.choices(letters, k=rng.randint(3, 15))))
    return sorted(words)


def read_quietly(path: Path) -> None:
    try:
        read_file(path)
    except QAError:
        pass  # refused with one line: what a reader may do with such input


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--words", type=int, default=300_000)
    args = p.parse_args()

    words = vocabulary(args.words)
    counts = np.ones(len(words), dtype=np.int64)
    spelling.common_words()  # read once, as a process does before its first correction
    corrector = spelling.Corrector(words, counts)
    fixed, _ = corrector.correct(QUESTION)
    rows = [(f"spelling: build the corrector of {len(words):,} words",
             best(args.repeat, lambda: spelling.Corrector(words, counts))),
            (f"spelling: correct {QUESTION!r} -> {fixed!r}", best(args.repeat, lambda: corrector.correct(QUESTION)))]
    with tempfile.TemporaryDirectory() as tmp:
        for name, (data, suffix) in LONG_LINES.items():
            path = Path(tmp) / f"long{suffix}"
            path.write_bytes(data)
            rows.append((f"read 1 MB on one line: {name}", best(args.repeat, lambda path=path: read_quietly(path))))
    line = "a. A" * (MB // 4)
    rows.append(("split_sentences of 1 MB on one line ('a. A' repeated)", best(args.repeat, lambda: split_sentences(line))))
    print("| what | seconds (best of %d) |" % args.repeat)
    print("| --- | --- |")
    for what, seconds in rows:
        print(f"| {what} | {seconds:.4f} |")


if __name__ == "__main__":
    main()
