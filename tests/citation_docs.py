"""Documents for round trips: qa.cite writes BibTeX/RIS, qa's readers must read the same metadata."""
from __future__ import annotations

import dataclasses

from conftest import SEED
from qa.models import Document, Section
from qa.readers.ids import make_doc_id
from qa.readers.pubmed_page import read_pubmed_page



def hand_built(**changes) -> Document:
    authors = ("Zoë Müller-Lüdenscheidt", "José María García-López", "Łukasz Wójcik")
    doc = Document(
        doc_id="99999941",
        title="Anti-TNF-α & IL-6 blockade in refractory dermatomyositis: 50% respond",
        authors=authors,
        journal="J Autoimmun",
        date="2019 Mar 5",
        volume="98",
        issue="2",
        pages="112-9",
        doi="10.5555/fixture.2019_0305",
        pmid="99999941",
        keywords=("Dermatomyositis", "Tumor Necrosis Factor-alpha", "Interleukin-6"),
        sections=(
            Section("BACKGROUND", "Relapse is common (p<0.05) in 30-40% of patients."),
            Section("METHODS", "We studied 40 patients & 12 controls; costs were $5 {each}."),
            Section("RESULTS", "Half relapsed; IL-6 fell."),
            Section("CONCLUSIONS", "Monitor them."),
        ),
    )
    return dataclasses.replace(doc, **changes)


def medline_style() -> Document:
    """MEDLINE-style names, no DOI or PMID, an e-page and a two-paragraph abstract."""
    authors = ("Smith JA", "Ó Briain S", "van der Berg P")
    title = "Mycophenolate mofetil for interstitial lung disease in myositis"
    return Document(
        doc_id=make_doc_id(None, None, authors, "2015", title),
        title=title,
        authors=authors,
        journal="Rheumatol Int",
        date="2015 Nov",
        volume="35",
        issue="11",
        pages="e1002",
        sections=(Section(None, "First paragraph.\n\nSecond paragraph."),),
    )


ROUND_TRIP_DOCS = {
    "seed": lambda: read_pubmed_page(SEED)[0],
    "hand-built": hand_built,
    "medline-style": medline_style,
}


def month(date: str | None) -> str | None:
    return " ".join(date.split()[:2]) if date else None


def abstract_text(doc: Document) -> str:
    return " ".join(" ".join(f"{s.label}: {s.text}" if s.label else s.text for s in doc.sections).split())


def metadata(doc: Document) -> dict:
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "authors": doc.authors,
        "journal": doc.journal,
        "date": month(doc.date),  # the writers keep year and month (BibTeX drops the day)
        "volume": doc.volume,
        "issue": doc.issue,
        "pages": doc.pages,
        "doi": doc.doi,
        "pmid": doc.pmid,
        "keywords": doc.keywords,
        "abstract": abstract_text(doc),
        "labels": [s.label for s in doc.sections],
    }
