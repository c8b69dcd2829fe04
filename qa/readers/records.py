"""Documents as JSON lines: how the index stores document metadata and the library stores records.

A line of a library records file ends with the CRC-32 of the rest of it (`,"crc32":"89abcdef"}`),
so a damaged line is told from a good one; lines written before records carried one are read
as they are (and get one when their file is next written).
"""
from __future__ import annotations

import dataclasses
import json
import zlib
from pathlib import Path

from qa.errors import DamagedRecord, InputError
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


_CRC = ',"crc32":"'  # then 8 hex digits and '"}'
_CRC_TAIL = len(_CRC) + 10


def record_line(doc: Document) -> str:
    """One line of a records file: the document's JSON with the checksum of that JSON last."""
    body = document_to_json(doc)
    return f'{body[:-1]}{_CRC}{zlib.crc32(body.encode("utf-8")):08x}"}}'


def _record(line: str) -> Document:
    """The document of one line; ValueError, TypeError, ... when it is damaged."""
    if line[-_CRC_TAIL:-10] == _CRC:
        body = line[:-_CRC_TAIL] + "}"
        if f"{zlib.crc32(body.encode('utf-8')):08x}" != line[-10:-2]:
            raise ValueError("the line does not match its checksum")
        line = body
    return _checked(document_from_json(line))


def read_records(path, damaged: list | None = None) -> list[Document]:
    """A library records file (written by `qa add`). DamagedRecord names the first damaged line;
    with a list `damaged`, (line number, reason) of each damaged line goes there instead and the
    good lines are returned."""
    docs = []
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    docs.append(_record(raw.decode("utf-8").rstrip("\r\n")))
                except RecursionError:
                    reason = "nested too deeply"
                except UnicodeDecodeError as e:
                    reason = f"not UTF-8 text (byte {e.start})"
                except (ValueError, TypeError, KeyError, AttributeError) as e:
                    reason = " ".join(str(e).split())  # one line: a key may hold a newline
                else:
                    continue
                if damaged is None:
                    raise DamagedRecord(str(path), f"damaged library record ({reason})", number)
                damaged.append((number, reason))
    except OSError as e:
        raise InputError(str(path), e.strerror or str(e)) from None
    return docs


def write_records(path: Path, docs: list[Document]) -> None:
    path.write_text("".join(record_line(d) + "\n" for d in docs), encoding="utf-8")
