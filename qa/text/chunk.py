"""Documents -> passages: sentence windows of the text, one passage per reference, one metadata passage.

Windows hold three sentences and advance by two, so every sentence also appears with each
neighbour; a text of at most three sentences stays one passage. Windows stay inside a
labelled section (BACKGROUND, CONCLUSIONS, ...) so each passage has one section.
"""
from __future__ import annotations

from qa.cite import short_label
from qa.models import Document, Passage
from qa.text.sentences import split_sentences

WINDOW = 3
STRIDE = 2

# Label words of metadata and reference passages: they name fields, they are not content.
METADATA_LABELS = ("Title", "Authors", "Journal", "Published", "Volume", "Issue", "Pages",
                   "DOI", "PMID", "Article type", "Keywords", "Reference")


def windows(sentences: list[str]) -> list[list[str]]:
    if len(sentences) <= WINDOW:
        return [sentences] if sentences else []
    out = []
    for start in range(0, len(sentences) - 1, STRIDE):
        out.append(sentences[start : start + WINDOW])
        if start + WINDOW >= len(sentences):
            break
    return out


def metadata_fields(doc: Document) -> list[tuple[str, str]]:
    """(label, value) pairs the document has, in the order a reader expects them."""
    fields = []
    if doc.title:
        fields.append(("Title", doc.title.rstrip(".")))
    if doc.authors:
        fields.append(("Authors", ", ".join(doc.authors)))
    if doc.journal:
        fields.append(("Journal", doc.journal))
    if doc.date:
        fields.append(("Published", doc.date))
    for label, value in (("Volume", doc.volume), ("Issue", doc.issue), ("Pages", doc.pages)):
        if value:
            fields.append((label, value))
    if doc.doi:
        fields.append(("DOI", doc.doi))
    if doc.pmid:
        fields.append(("PMID", doc.pmid))
    if doc.article_types:
        fields.append(("Article type", ", ".join(doc.article_types)))
    if doc.keywords:
        fields.append(("Keywords", "; ".join(doc.keywords)))
    return fields


def metadata_text(fields: list[tuple[str, str]]) -> str:
    return " ".join(f"{label}: {value}." for label, value in fields)


def passages(doc: Document) -> list[Passage]:
    """All passages of a document, numbered 0.. in a stable order: metadata, text, references."""
    out: list[Passage] = []

    def add(kind, text, section=None, ref=None, content=None):
        n = len(out)
        out.append(Passage(f"{doc.doc_id}#{n}", doc.doc_id, n, kind, text, section, ref, content))

    fields = metadata_fields(doc)
    if fields:
        add("metadata", metadata_text(fields), content=" ".join(v for _, v in fields))

    section_sentences = [(s.label, split_sentences(s.text)) for s in doc.sections]
    if sum(len(ss) for _, ss in section_sentences) <= WINDOW:
        text = " ".join(s for _, ss in section_sentences for s in ss)
        labels = {label for label, ss in section_sentences if ss}
        if text:
            add("body", text, section=labels.pop() if len(labels) == 1 else None)
    else:
        for label, ss in section_sentences:
            for window in windows(ss):
                add("body", " ".join(window), section=label)

    if doc.references:
        citing = short_label(doc)
        for ref in doc.references:
            add("reference", f"Reference {ref.number} of {citing}: {ref.text}", ref=ref.number,
                content=f"{citing} {ref.text}")
    return out


def whole(doc: Document) -> list[Passage]:
    """The document's text as one passage (for corpora already cut into passages)."""
    text = " ".join(s.text for s in doc.sections).strip()
    return [Passage(f"{doc.doc_id}#0", doc.doc_id, 0, "body", text)] if text else []
