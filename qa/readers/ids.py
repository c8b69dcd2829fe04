"""Identifiers: the DOI, PMID and PMC id rules every reader uses, and the document id made of them.

A DOI is "10." + a registrant code of 4 to 9 digits + "/" + a suffix (DOI_START, DOI_PATTERN).
Each source writes it its own way, and each rule below reads one way of writing it:

    clean_doi(value)        a field that holds one DOI (RIS DO, BibTeX doi): "doi:" or a
                            doi.org prefix dropped, a trailing ".,;" too, the shape checked
    doi_from_urls(urls)     the DOI of the first doi.org link
    find_doi(text, bare)    the first DOI in running text (plain text, Markdown, PDF):
                            "doi:10...", "DOI 10...", "https://doi.org/10..."; with bare=True
                            a DOI without a prefix too (reference entries)
    labelled_doi(text)      the first "doi: 10..." as PubMed prints it on a page
    tagged_doi(value)       MEDLINE's "10.1/x [doi]" (LID, AID), taken as NLM gives it
    CITED_DOI_PATTERN       the DOI closing a MEDLINE citation string ("...:551-61. doi: 10...")

The rules differ where the sources differ (how much punctuation trails a DOI, whether a link
or a bare DOI counts); each is kept exactly as its reader has always read its files.

PMIDs and PMC ids: is_pmid, accession_pmid, labelled_pmid, pmid_from_notes, pmid_from_urls,
pmc_from, tagged_pmc.

Document ids: make_doc_id gives the PMID when known, else the DOI, else a readable slug.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from qa.readers.common import one_line

# --- DOIs ------------------------------------------------------------------------------

DOI_START = r"10\.\d{4,9}/"
# A DOI in running text: the suffix runs to the next space, double quote or angle bracket.
# qa.text.analyze builds its DOI token from this pattern.
DOI_PATTERN = DOI_START + r"[^\s\"<>]+"
# In a MEDLINE citation string NLM prints the DOI last and ends the string with a period: the
# DOI is what lies between "doi: " and that period, its shape not checked.
CITED_DOI_PATTERN = r"10\.\S+?"

_DOI_SHAPE = re.compile("^" + DOI_START + r"\S+$")
_DOI_FIELD_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.I)
_DOI_IN_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(" + DOI_START + r"\S+)$", re.I)
_DOI_PREFIXED = re.compile(
    r"(?:\bdoi\s*:?\s*|\bhttps?://(?:dx\.)?doi\.org/|\bdoi\.org/)(" + DOI_PATTERN + ")",
    re.IGNORECASE,
)
_DOI_BARE = re.compile(r"\b(" + DOI_PATTERN + ")")
_DOI_LABEL = re.compile(r"\bdoi:\s*(" + DOI_START + r"\S+)", re.IGNORECASE)
_DOI_TAGGED = re.compile(r"^(?P<id>\S.*?)\s*\[doi\]$", re.IGNORECASE)


def clean_doi(value: str | None) -> str | None:
    """'https://doi.org/10.1/x', 'doi: 10.1/x', '10.1/x.' -> '10.1/x'; None if not a DOI."""
    value = one_line(value)
    if not value:
        return None
    value = _DOI_FIELD_PREFIX.sub("", value).rstrip(".,;")
    return value if _DOI_SHAPE.match(value) else None


def doi_from_urls(urls) -> str | None:
    """The DOI of the first "https://doi.org/10..." (or dx.doi.org) link among urls."""
    for url in urls:
        m = _DOI_IN_URL.match(url.strip())
        if m:
            return clean_doi(m.group(1))
    return None


def _tidy_doi(doi: str) -> str | None:
    # Running text closes sentences and brackets right after a DOI: drop what is not its own.
    doi = doi.rstrip(".,;:")
    while doi and doi[-1] in ")]}" and doi.count(doi[-1]) > doi.count({")": "(", "]": "[", "}": "{"}[doi[-1]]):
        doi = doi[:-1].rstrip(".,;:")
    return doi if _DOI_SHAPE.match(doi) else None


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


def labelled_doi(text: str) -> str | None:
    """The DOI of the first "doi: 10..." in text, a trailing period, comma or semicolon dropped.

    The form PubMed pages print ("doi: 10.1007/s11926-996-0021-7."); a link or a bare DOI
    does not count, and nothing else (a closing bracket, a colon) is trimmed.
    """
    m = _DOI_LABEL.search(text)
    return m.group(1).rstrip(".,;") if m else None


def tagged_doi(value: str) -> str | None:
    """The id of a MEDLINE LID/AID value "10.1007/s11926-996-0021-7 [doi]"; None for other tags."""
    m = _DOI_TAGGED.match(value)
    return m.group("id") if m else None


# --- PMIDs and PMC ids -----------------------------------------------------------------

_PMID = re.compile(r"^\d{1,9}$")
_ACCESSION_PMID = re.compile(r"^(?:PMID:?\s*)?(\d{1,9})$", re.I)
# Notes written by people and reference managers: "PMID: 123", "PMID 123", "pmid:123".
_PMID_NOTE = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.I)
# The form PubMed pages print: "PMID: 123", the colon required and "PMID" in capitals.
_PMID_PRINTED = re.compile(r"\bPMID:\s*(\d{1,9})\b")
_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})\b")
_PMC_ID = re.compile(r"\b(PMC\d{3,9})\b")
_PMC_TAGGED = re.compile(r"^(?P<id>PMC\d+)\s*\[pmc\]$", re.IGNORECASE)


def is_pmid(value: str) -> bool:
    """True for a PMID as a field holds it: 1 to 9 digits."""
    return bool(_PMID.match(value))


def accession_pmid(value: str) -> str | None:
    """The PMID of an accession number "16901073" or "PMID: 16901073"; None for other shapes."""
    m = _ACCESSION_PMID.match(value)
    return m.group(1) if m else None


def labelled_pmid(text: str, printed: bool = False) -> str | None:
    """The digits of the first "PMID: 123" in text.

    printed=False also takes "PMID 123" and "pmid:123" (notes); printed=True only PubMed's
    own "PMID: 123".
    """
    m = (_PMID_PRINTED if printed else _PMID_NOTE).search(text)
    return m.group(1) if m else None


def pmid_from_notes(texts) -> str | None:
    """The first "PMID: 123" (or "PMID 123", "pmid:123") in any of the texts."""
    return _first_group(_PMID_NOTE, texts)


def pmid_from_urls(urls) -> str | None:
    """The PMID of the first PubMed link ("https://pubmed.ncbi.nlm.nih.gov/16901073/")."""
    return _first_group(_PUBMED_URL, urls)


def pmc_from(texts) -> str | None:
    """The first PMC id ("PMC1234567") in any of the texts, links included."""
    return _first_group(_PMC_ID, texts)


def _first_group(pattern: re.Pattern, texts) -> str | None:
    for text in texts:
        m = pattern.search(text)
        if m:
            return m.group(1)
    return None


def tagged_pmc(value: str) -> str | None:
    """The id of a MEDLINE AID/LID value "PMC1234567 [pmc]"; None for other tags."""
    m = _PMC_TAGGED.match(value)
    return m.group("id") if m else None


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
