"""Identifiers for all readers: DOIs, PMIDs and PMC ids in fields, notes, links and text; document ids.

Document ids: the PMID when known, else the DOI, else a readable slug.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from qa.readers.common import one_line

# --- DOIs, PMIDs and PMC ids in fields, notes and links -----------------------------------

_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.I)
_DOI_IN_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.I)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")


def clean_doi(value: str | None) -> str | None:
    """'https://doi.org/10.1/x', 'doi: 10.1/x', '10.1/x.' -> '10.1/x'; None if not a DOI."""
    value = one_line(value)
    if not value:
        return None
    value = _DOI_PREFIX.sub("", value).rstrip(".,;")
    return value if _DOI_SHAPE.match(value) else None


_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})\b")
_PMC_ID = re.compile(r"\b(PMC\d{3,9})\b")
_PMID_NOTE = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.I)


def pmid_from_urls(urls) -> str | None:
    for url in urls:
        m = _PUBMED_URL.search(url)
        if m:
            return m.group(1)
    return None


def doi_from_urls(urls) -> str | None:
    for url in urls:
        m = _DOI_IN_URL.match(url.strip())
        if m:
            return clean_doi(m.group(1))
    return None


def pmc_from(texts) -> str | None:
    for text in texts:
        m = _PMC_ID.search(text)
        if m:
            return m.group(1)
    return None


def pmid_from_notes(texts) -> str | None:
    for text in texts:
        m = _PMID_NOTE.search(text)
        if m:
            return m.group(1)
    return None


# --- DOIs in running text (plain text, Markdown, PDF) ---------------------------------

_DOI_PREFIXED = re.compile(
    r"(?:\bdoi\s*:?\s*|\bhttps?://(?:dx\.)?doi\.org/|\bdoi\.org/)(10\.\d{4,9}/[^\s\"<>]+)",
    re.IGNORECASE,
)
_DOI_BARE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")


def _tidy_doi(doi: str) -> str | None:
    # Running text closes sentences and brackets right after a DOI: drop what is not its own.
    doi = doi.rstrip(".,;:")
    while doi and doi[-1] in ")]}" and doi.count(doi[-1]) > doi.count({")": "(", "]": "[", "}": "{"}[doi[-1]]):
        doi = doi[:-1].rstrip(".,;:")
    return doi if re.match(r"^10\.\d{4,9}/\S+$", doi) else None


def find_doi(text: str, bare: bool = False) -> str | None:
    """The first DOI written "doi:10..." / "DOI 10..." / "https://doi.org/10..." in text.

    With bare=True a DOI printed without any prefix counts too (reference entries).
    """
    for pattern in ((_DOI_PREFIXED, _DOI_BARE) if bare else (_DOI_PREFIXED,)):
        for m in pattern.finditer(text):
            doi = _tidy_doi(m.group(1))
            if doi:
                return doi
    return None


# --- document ids ----------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Trailing initials of a MEDLINE-style name ("Ytterberg SR"): the surname is what precedes them.
_TRAILING_INITIALS = re.compile(r"\s+[A-Z]{1,3}$")


_UNDECOMPOSED = str.maketrans({"Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "ß": "ss", "Ł": "L", "ł": "l",
                               "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "Œ": "OE", "œ": "oe"})


def _ascii_lower(text: str) -> str:
    """Lower-case ASCII letters and digits only: ids stay stable across accents and punctuation."""
    # letters NFKD does not decompose (Ø, Æ, ß, Ł, Đ, Þ) are spelled out first
    text = text.translate(_UNDECOMPOSED)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("", folded.lower())


def surname(name: str) -> str:
    """The family name of an author as printed in any of the usual PubMed shapes.

    "Ytterberg, Steven R" (MEDLINE FAU) -> "Ytterberg"; "Ytterberg SR" (MEDLINE AU) ->
    "Ytterberg"; "Steven R Ytterberg" (web page) -> "Ytterberg".
    """
    name = name.strip()
    if "," in name:
        return name.split(",", 1)[0].strip()
    if _TRAILING_INITIALS.search(name) and " " in name:
        return _TRAILING_INITIALS.sub("", name)
    return name.rsplit(" ", 1)[-1]


def make_doc_id(
    pmid: str | int | None,
    doi: str | None,
    authors: Sequence[str],
    year: str | int | None,
    title: str | None,
) -> str:
    """A stable id: PMID, else DOI, else "surname-year-three-title-words".

    Missing slug parts are left out rather than invented; a record with none of them gets
    "untitled" (callers should reject such records before they need an id).
    """
    if pmid is not None and str(pmid).strip():
        return str(pmid).strip()
    if doi and doi.strip():
        return doi.strip()
    parts: list[str] = []
    if authors:
        parts.append(_ascii_lower(surname(authors[0])))
    if year is not None and str(year).strip():
        parts.append(_ascii_lower(str(year)))
    if title:
        words = (_ascii_lower(word) for word in title.split())
        parts.extend([word for word in words if word][:3])
    parts = [part for part in parts if part]
    return "-".join(parts) if parts else "untitled"
