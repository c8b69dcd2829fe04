"""Finding a document from an id as people write it: every form qa prints, and the usual others.

Accepted, for the document with id D, DOI X and PMID P:
    D                       the id `qa sources` prints
    D#3                     a passage id: the document it belongs to
    X, in any case          also "doi:X" and "https://doi.org/X" (dx.doi.org, http too)
    P                       also "PMID: P", "pmid:P" and "https://pubmed.ncbi.nlm.nih.gov/P/"
An id that matches nothing gets the closest ids as suggestions.
"""
from __future__ import annotations

import bisect
import difflib
import os
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from qa.errors import QAError
from qa.models import Document
from qa.readers.ids import accession_pmid, clean_doi, pmid_from_urls

_PASSAGE_ID = re.compile(r"^(?P<doc>.+)#\d+$")
ALL_SUGGESTED = 5000  # up to this many ids, suggestions come from all; above, from the sorted neighbours
NEIGHBOURS = 100
CUTOFF = 0.6  # difflib's ratio below which an id is not suggested


@dataclass
class Catalogue:
    """The documents an id is looked up among (an index's, or a library's)."""

    count: int
    id_at: Callable[[int], str]
    find: Callable[[str], int]  # exact id -> position, -1 when absent
    document: Callable[[int], Document]
    record: Callable[[int], str]  # a text holding the document's fields: a cheap test before parsing it
    near: Callable[[str], list[str]]  # the ids that sort next to a text (suggestions in a large corpus)


def _neighbours(sorted_ids: Sequence[str], at: int) -> list[str]:
    return [sorted_ids[i] for i in range(max(at - NEIGHBOURS, 0), min(at + NEIGHBOURS, len(sorted_ids)))]


def index_catalogue(index) -> Catalogue:
    ids, records = index.documents.ids, index.documents.records  # ids sorted by their UTF-8 bytes
    return Catalogue(index.n_documents, lambda i: ids[i], index.document_index, index.document,
                     lambda i: records[i], lambda text: _neighbours(ids, ids.lower_bound(text.encode("utf-8"))))


def documents_catalogue(docs: Sequence[Document]) -> Catalogue:
    position: dict[str, int] = {}
    for i, doc in enumerate(docs):
        position.setdefault(doc.doc_id, i)
    in_order = sorted(position)
    return Catalogue(len(docs), lambda i: docs[i].doc_id, lambda d: position.get(d, -1), lambda i: docs[i],
                     lambda i: f"{docs[i].doi or ''} {docs[i].pmid or ''}",
                     lambda text: _neighbours(in_order, bisect.bisect_left(in_order, text)))


def locate(catalogue: Catalogue, text: str) -> int:
    """Position of the document `text` names, or -1."""
    text = text.strip()
    if not text:
        return -1
    found = catalogue.find(text)
    if found >= 0:
        return found
    passage = _PASSAGE_ID.match(text)
    if passage:
        found = catalogue.find(passage["doc"])
        if found >= 0:
            return found
        text = passage["doc"]
    pmid = accession_pmid(text) or pmid_from_urls([text])
    if pmid:
        found = catalogue.find(pmid)
        return found if found >= 0 else _scan(catalogue, pmid, lambda doc: doc.pmid == pmid)
    doi = clean_doi(text)
    if doi:
        folded = doi.casefold()
        found = catalogue.find(doi)
        if found >= 0:
            return found
        for i in range(catalogue.count):  # ids are short: the DOI may be an id in another case
            if catalogue.id_at(i).casefold() == folded:
                return i
        return _scan(catalogue, folded, lambda doc: (doc.doi or "").casefold() == folded)
    return -1


def _scan(catalogue: Catalogue, needle: str, wanted: Callable[[Document], bool]) -> int:
    """The first document whose fields satisfy `wanted`; parsed only when its record holds `needle`."""
    for i in range(catalogue.count):
        if needle in catalogue.record(i).casefold() and wanted(catalogue.document(i)):
            return i
    return -1


def suggestions(catalogue: Catalogue, text: str, n: int = 3) -> list[str]:
    """The ids closest to `text` (difflib's ratio), best first."""
    text = text.strip()
    passage = _PASSAGE_ID.match(text)
    if passage:
        text = passage["doc"]
    if catalogue.count <= ALL_SUGGESTED:
        ids = [catalogue.id_at(i) for i in range(catalogue.count)]
    else:  # a large corpus: the ids that sort next to it (a mistyped end, the usual slip)
        ids = catalogue.near(text)
    scored = []
    for candidate in ids:
        m = difflib.SequenceMatcher(None, text, candidate)
        if m.real_quick_ratio() >= CUTOFF and m.quick_ratio() >= CUTOFF and m.ratio() >= CUTOFF:
            # equally similar: the one that keeps more of the start (a slip is more often late)
            scored.append((-m.ratio(), -len(os.path.commonprefix([text, candidate])), candidate))
    return [candidate for *_, candidate in sorted(scored)[:n]]


def not_found(catalogue: Catalogue, text: str, where: str, hint: str) -> str:
    """One line: the id is not there, the closest ids, and where to look."""
    close = suggestions(catalogue, text)
    maybe = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"no document {text!r} {where}{maybe} ({hint})"


def find(catalogue: Catalogue, text: str, where: str = "in the corpus",
         hint: str = "`qa sources` lists them") -> Document:
    """The document `text` names; QAError with suggestions when there is none."""
    found = locate(catalogue, text)
    if found < 0:
        raise QAError(not_found(catalogue, text, where, hint))
    return catalogue.document(found)
