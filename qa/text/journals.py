"""Journal names as citations print them: "Journal of Rheumatology" is "J Rheumatol".

Reference lists and PubMed records give journals in their ISO 4 abbreviation, built from the ISSN
List of Title Word Abbreviations (LTWA, qa/text/data/ltwa.tsv): each word of a title is replaced
by its listed abbreviation ("rheumatolog-" is a prefix: rheumatology, rheumatologic →
"rheumatol."), articles, prepositions and conjunctions are dropped, a word not listed stays as it
is. The analyzer stems "rheumatology" to "rheumatolog" and keeps "Rheumatol" as "rheumatol", so
a question naming a journal in full meets the abbreviation only through this table.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from qa.text.analyze import STOP_WORDS, TOKEN, analyze, fold

LTWA_PATH = Path(__file__).resolve().parent / "data" / "ltwa.tsv"
MIN_PREFIX = 3
MAX_WORDS = 8  # words of a journal title the query side looks at, at most


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, str]]:
    """(whole words, prefixes) -> abbreviation, folded, without the period; read on first need and
    kept between processes (qa/text/tables.py)."""
    from qa.text import analyze, tables

    words, prefixes = tables.derived("ltwa", _read_table, [LTWA_PATH, __file__, analyze.__file__])
    return words, prefixes


def _read_table() -> tuple[dict[str, str], dict[str, str]]:
    words, prefixes = {}, {}
    with LTWA_PATH.open(encoding="utf-8") as f:
        lines = f.read().split("\n")  # read at the first question of a process: one read, one split
    for line in lines:
        if line.startswith("#") or "\t" not in line:
            continue
        word, abbreviation = line.split("\t", 1)
        key = word.lower().strip() if word.isascii() else fold(word)  # fold, without the call on ASCII
        if abbreviation == "n.a.":
            value = key.rstrip("-")
        else:
            value = (abbreviation.lower().strip() if abbreviation.isascii() else fold(abbreviation)).replace(".", "")
        (prefixes if key.endswith("-") else words).setdefault(key.rstrip("-"), value)
    return words, prefixes


@lru_cache(maxsize=65536)
def abbreviate(word: str) -> str:
    """The LTWA abbreviation of one word (folded, no period); the word itself when not listed.
    The list gives singulars ("report"): a plural takes its singular's abbreviation."""
    key = fold(word)
    for form in (key, *_singulars(key)):
        found = _listed(form)
        if found is not None:
            return found
    return key


def _listed(key: str) -> str | None:
    words, prefixes = _table()
    if key in words:
        return words[key]
    for end in range(len(key), MIN_PREFIX - 1, -1):
        found = prefixes.get(key[:end])
        if found is not None:
            return found
    return None


def _singulars(key: str) -> list[str]:
    if key.endswith("ies"):
        return [key[:-3] + "y"]
    if key.endswith("es"):
        return [key[:-2], key[:-1]]
    if key.endswith("s") and not key.endswith("ss"):
        return [key[:-1]]
    return []


def abbreviate_title(title: str) -> str:
    """A journal title in its abbreviated form, folded: "The Journal of Rheumatology" -> "j rheumatol".
    A title of one word is not abbreviated ("Cryobiology")."""
    words = [w for w in TOKEN.findall(title) if fold(w) not in STOP_WORDS]
    if len(words) == 1:
        return fold(words[0])
    return " ".join(abbreviate(w) for w in words)


def variants(text: str, is_journal) -> list[dict]:
    """Journal names the question writes in full, as the corpus abbreviates them.

    is_journal(abbreviation, terms): whether the corpus names a journal so (a document's journal,
    or a reference entry holding these analysed terms). A run of two or more question words is
    offered in its abbreviated form only then, and only where that is not the question's own
    wording: title-word abbreviations are often stems of ordinary words ("predictor of outcome" ->
    "predict outcome"), so only a journal's place in the corpus tells a journal name.
    Longest runs first, left to right; [{"term": words, "expansion": abbreviation}]."""
    tokens = list(TOKEN.finditer(text))
    folded = [fold(m.group()) for m in tokens]
    stop = [f in STOP_WORDS for f in folded]
    shortened = [not s and abbreviate(m.group()) != f for m, f, s in zip(tokens, folded, stop)]
    found, i = [], 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + MAX_WORDS), i + 1, -1):
            if stop[i] or stop[j - 1] or not any(shortened[i:j]):
                continue
            span = tokens[i:j]
            kept = [m.group() for m, s in zip(span, stop[i:j]) if not s]
            short = [abbreviate(w) for w in kept]
            if len(kept) < 2:
                continue
            terms = analyze(" ".join(short))
            if terms and terms != analyze(" ".join(kept)) and is_journal(" ".join(short), terms):
                found.append({"term": text[span[0].start():span[-1].end()],
                              "expansion": " ".join(s[:1].upper() + s[1:] for s in short)})
                i = j
                break
        else:
            i += 1
    return found
