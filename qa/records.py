"""Documents as JSON lines: how the index stores document metadata and the library stores records."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from .errors import InputError
from .models import Document, Reference, Section

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
    return Document(**d)


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
                        docs.append(document_from_json(line))
                    except (ValueError, TypeError, KeyError) as e:
                        raise InputError(str(path), f"damaged library record ({e})", number) from None
    except OSError as e:
        raise InputError(str(path), e.strerror or str(e)) from None
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"not UTF-8 text (byte {e.start})") from None
    return docs


def write_records(path: Path, docs: list[Document]) -> None:
    path.write_text("".join(document_to_json(d) + "\n" for d in docs), encoding="utf-8")
