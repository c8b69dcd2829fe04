"""The small records every stage passes along: Document, Reference, Section, Passage, Hit."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of a document's reference list, as the source prints it."""

    number: int  # 1-based position in the source's list
    text: str  # the entry as printed, site boilerplate removed
    journal: str | None = None
    date: str | None = None  # as printed, e.g. "2003 Sep 20"
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    doi: str | None = None
    pmid: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A labelled part of a text (label None for unlabelled prose)."""

    label: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """A work with the metadata its source gives; absent values stay None."""

    doc_id: str
    title: str | None = None
    authors: tuple[str, ...] = ()  # names as printed, e.g. "Steven R Ytterberg"
    journal: str | None = None  # abbreviation where the source gives one
    journal_full: str | None = None  # full journal title, where given (MEDLINE JT, RIS JF)
    date: str | None = None  # as printed, e.g. "2006 Jun"
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    article_types: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()  # the abstract / body text
    references: tuple[Reference, ...] = ()
    keywords: tuple[str, ...] = ()  # MeSH terms or keywords, where given
    retracted: bool = False  # the source flags it (PT "Retracted Publication", RetractionIn, a note)
    pmc: str | None = None
    source_path: str | None = None
    # Each author's family name where the source gives it apart from the given names (MEDLINE FAU,
    # PubMed XML LastName, "Last, First" in RIS and BibTeX), "" where it does not; () when none is
    # known. A name as printed cannot say where "M J L de Hoon" or "F De Luca" splits.
    surnames: tuple[str, ...] = ()
    citation_key: str | None = None  # the key a BibTeX entry had (@article{key, ...}), kept on export

    @property
    def year(self) -> str | None:
        if not self.date:
            return None
        head = self.date.strip()[:4]
        return head if head.isdigit() else None


@dataclass(frozen=True, slots=True)
class Passage:
    """A searchable piece of a document: body window, reference entry or metadata summary."""

    passage_id: str  # "<doc_id>#<n>"
    doc_id: str
    n: int
    kind: str  # "body" | "reference" | "metadata"
    text: str
    section: str | None = None
    reference_number: int | None = None
    # Text without label words ("Title:", "Reference 5 of"); None means same as text.
    # Only content decides whether a question matches the corpus at all.
    content: str | None = None


@dataclass
class Hit:
    """A ranked passage for one question."""

    rank: int
    passage_index: int
    score: float  # final (fused) score
    bm25: float
    tfidf: float
    doc_score: float = 0.0  # its document's score: the document's best passage's score
    dense: float | None = None  # cosine of the question's and the passage's embeddings; None: off
    passage_id: str = ""
    doc_id: str = ""
    section: str | None = None
    text: str = ""
    highlight: str = ""
    citation: str = ""
    source: dict = field(default_factory=dict)
