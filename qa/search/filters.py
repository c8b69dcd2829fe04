"""Filters on what a question searches: year, journal, author, section, source.

From options (`--year 2000-2010 --journal lancet --author ytterberg --section conclusions
--source ID`) or inline in the question (`year:2005..2010 author:ytterberg journal:lancet
section:conclusions source:ID`, removed from the searched text). Different keys combine with
AND, a repeated key with OR. A filter becomes a boolean mask over passages, computed with array
operations on per-document columns, so ranking applies it before choosing the top hits and a
filter never returns fewer hits than exist.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields

import numpy as np

from qa.errors import QAError
from qa.text.analyze import fold
from qa.text.journals import abbreviate_title

KEYS = ("year", "journal", "author", "section", "source")
_INLINE = re.compile(r"(?<!\S)(year|journal|author|section|source):(\"[^\"]*\"|\S+)", re.IGNORECASE)
_YEAR = re.compile(r"^\s*(\d{4})?\s*(?:(-|\.\.)\s*(\d{4})?)?\s*$")


@dataclass(frozen=True)
class Filters:
    years: tuple[tuple[int | None, int | None], ...] = ()
    journals: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # documents left out (no option: evaluation and tests use it)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def merged(self, other: "Filters") -> "Filters":
        return Filters(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def parse_years(text: str) -> tuple[int | None, int | None]:
    """'2000-2010', '2005-', '-2010', '2005', '2005..2010' -> (low, high), inclusive."""
    m = _YEAR.match(text)
    if not m or not (m.group(1) or m.group(3)):
        raise QAError(f"bad year range {text!r} (use 2000-2010, 2005-, -2010 or 2005)")
    low = int(m.group(1)) if m.group(1) else None
    high = int(m.group(3)) if m.group(3) else None
    if not m.group(2):  # a single year
        high = low
    if low is not None and high is not None and low > high:
        raise QAError(f"bad year range {text!r}: {low} is after {high}")
    return low, high


def build(years=(), journals=(), authors=(), sections=(), sources=()) -> Filters:
    filters = Filters(tuple(parse_years(y) for y in years), tuple(fold(j) for j in journals),
                      tuple(fold(a) for a in authors), tuple(fold(s) for s in sections), tuple(sources))
    for key, values in zip(KEYS[1:], (filters.journals, filters.authors, filters.sections, filters.sources)):
        if any(not v.strip() for v in values):  # `author:""` would silently exclude every document
            raise QAError(f"empty {key} filter (use {key}:NAME, or quotes around a name with spaces)")
    return filters


def extract_inline(question: str) -> tuple[str, Filters]:
    """Take `key:value` filters out of a question; returns (text to search, filters)."""
    found: dict[str, list[str]] = {k: [] for k in KEYS}

    def take(m: re.Match) -> str:
        found[m.group(1).lower()].append(m.group(2).strip('"'))
        return " "

    text = _INLINE.sub(take, question)
    text = re.sub(r"\s{2,}", " ", text).strip()
    return text, build(found["year"], found["journal"], found["author"], found["section"], found["source"])


def journal_matches(wanted: str, name: str) -> bool:
    """Whether a journal filter (folded) matches a journal's folded "abbreviation | full title": as
    part of it, or in its ISO 4 abbreviation ("journal of rheumatology" -> "j rheumatol")."""
    return wanted in name or abbreviate_title(wanted) in name.replace(".", "")


def passage_mask(index, filters: Filters) -> np.ndarray | None:
    """Boolean mask over passages, or None when there is no filter."""
    if not filters:
        return None
    if index.sharded:  # each shard's mask, laid end to end
        return index.passage_mask(filters)
    documents, authors, passages = index.documents, index.authors, index.passages
    n_docs = index.n_documents
    doc_ok = np.ones(n_docs, dtype=bool)
    if filters.years:
        year = np.asarray(documents.year)
        hit = np.zeros(n_docs, dtype=bool)
        for low, high in filters.years:
            ok = year > 0
            if low is not None:
                ok &= year >= low
            if high is not None:
                ok &= year <= high
            hit |= ok
        doc_ok &= hit
    if filters.journals:
        names = [documents.journal_names[i] for i in range(len(documents.journal_names))]  # unique journals: few
        wanted = [i for i, name in enumerate(names) if any(journal_matches(j, name) for j in filters.journals)]
        doc_ok &= np.isin(documents.journal, wanted)
    if filters.authors:
        hit = np.zeros(n_docs, dtype=bool)
        for name in filters.authors:
            i = authors.surnames.find(name)
            if i >= 0:
                hit[authors.docs[int(authors.indptr[i]) : int(authors.indptr[i + 1])]] = True
        doc_ok &= hit
    if filters.sources:
        hit = np.zeros(n_docs, dtype=bool)
        for source in filters.sources:
            i = index.document_index(source)
            if i >= 0:
                hit[i] = True
        doc_ok &= hit
    for source in filters.excluded:
        i = index.document_index(source)
        if i >= 0:
            doc_ok[i] = False
    mask = doc_ok[np.asarray(passages.doc)]
    if filters.sections:
        labels = [fold(passages.section_names[i]) for i in range(len(passages.section_names))]
        wanted = [i for i, label in enumerate(labels) if any(s in label for s in filters.sections)]
        mask &= np.isin(passages.section, wanted)
    return mask
