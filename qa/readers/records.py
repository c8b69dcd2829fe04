"""Documents as JSON lines: how the index stores document metadata and the library stores records."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from qa.errors import InputError
from qa.models import Document, Reference, Section

RECORD_KEYS = frozenset(f.name for f in dataclasses.fields(Document))


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_DOCUMENT_FIELDS = [f.name for f in dataclasses.fields(Document)]
_SECTION_FIELDS = [f.name for f in dataclasses.fields(Section)]
_REFERENCE_FIELDS = [f.name for f in dataclasses.fields(Reference)]


def _plain(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


def document_to_json(doc: Document) -> str:
    # field by field rather than dataclasses.asdict: asdict deep-copies every value, ten times slower
    d = _plain(doc, _DOCUMENT_FIELDS)
    d["sections"] = [_plain(s, _SECTION_FIELDS) for s in doc.sections]
    d["references"] = [_plain(r, _REFERENCE_FIELDS) for r in doc.references]
    return _ENCODE(d)


def document_from_json(text: str) -> Document:
    d = json.loads(text)
    d["sections"] = tuple(Section(**s) for s in d["sections"])
    d["references"] = tuple(Reference(**{**r, "authors": tuple(r["authors"])}) for r in d["references"])
    for key in ("authors", "article_types", "keywords"):
        d[key] = tuple(d[key])
    d["surnames"] = tuple(d.get("surnames", ()))  # absent from records written before it existed
    return Document(**d)


_OPTIONAL_TEXT = ("title", "journal", "journal_full", "date", "volume", "issue", "pages", "doi", "pmid",
                  "pmc", "source_path", "citation_key")
_REFERENCE_TEXT = ("journal", "date", "volume", "issue", "pages", "title", "doi", "pmid")


def _checked(doc: Document) -> Document:
    """A damaged record that json.loads accepted: a wrong type would crash later, far from the
    file (`"title": 5` when the index folds it), and a lone surrogate escape ("\\ud800") cannot
    be written as UTF-8. TypeError / UnicodeEncodeError (a ValueError) name the problem."""

    def text(value, name: str, optional: bool = True) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string{' or null' if optional else ''}")
        value.encode("utf-8")

    text(doc.doc_id, "doc_id", optional=False)
    if not doc.doc_id.strip():
        raise TypeError("doc_id is empty")
    for name in _OPTIONAL_TEXT:
        text(getattr(doc, name), name)
    for name in ("authors", "article_types", "keywords", "surnames"):
        for value in getattr(doc, name):
            text(value, name, optional=False)
    if not isinstance(doc.retracted, bool):
        raise TypeError("retracted must be true or false")
    for section in doc.sections:
        text(section.label, "section label")
        text(section.text, "section text", optional=False)
    for ref in doc.references:
        if not isinstance(ref.number, int) or isinstance(ref.number, bool):
            raise TypeError("reference number must be a number")
        text(ref.text, "reference text", optional=False)
        for name in _REFERENCE_TEXT:
            text(getattr(ref, name), f"reference {name}")
        for value in ref.authors:
            text(value, "reference authors", optional=False)
    return doc


def looks_like_records(first_line: str) -> bool:
    """A prefix test: the first line may be longer than what format detection reads."""
    return first_line.lstrip().startswith('{"doc_id":')


def read_records(path) -> list[Document]:
    """A library records file (written by `qa add`)."""
    docs = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        docs.append(_checked(document_from_json(line)))
                    except RecursionError:
                        raise InputError(str(path), "damaged library record (nested too deeply)", number) from None
                    except (ValueError, TypeError, KeyError, AttributeError) as e:
                        reason = " ".join(str(e).split())  # one line: a key may hold a newline
                        raise InputError(str(path), f"damaged library record ({reason})", number) from None
    except OSError as e:
        raise InputError(str(path), e.strerror or str(e)) from None
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"not UTF-8 text (byte {e.start})") from None
    return docs


def write_records(path: Path, docs: list[Document]) -> None:
    path.write_text("".join(document_to_json(d) + "\n" for d in docs), encoding="utf-8")
