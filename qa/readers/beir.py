"""BEIR corpus.jsonl: one JSON object a line with `_id`, `title`, `text`, optional `metadata`.

The `_id` stays the document id (qrels and TREC runs name documents by it). Text in the
PubMedQA style ("LABEL: sentences" paragraphs) keeps its section labels.
"""
from __future__ import annotations

import json
import re

from qa.errors import InputError
from qa.models import Document, Section

_LABELLED = re.compile(r"^([A-Z][A-Z /&-]{1,40}[A-Z]):\s+(.*)$", re.S)


def sections(text: str) -> tuple[Section, ...]:
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        para = para.strip()
        if not para:
            continue
        m = _LABELLED.match(para)
        out.append(Section(m.group(1), m.group(2).strip()) if m else Section(None, para))
    return tuple(out)


def looks_like_beir(first_line: str) -> bool:
    """A JSON object line naming `_id` (a prefix test: the line may be cut where detection stopped)."""
    return first_line.lstrip().startswith("{") and re.search(r'"_id"\s*:', first_line) is not None


# A \u escape of a surrogate: a pair is one character, but json.loads also accepts a lone
# one ("\ud800"), which no UTF-8 index table or output can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(record) -> bool:
    stack = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _opt_str(value) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _document(record: dict, path: str, line: int) -> Document:
    if not isinstance(record, dict):
        raise InputError(path, "expected a JSON object", line)
    doc_id = _opt_str(record.get("_id"))
    if doc_id is None or not doc_id.strip():
        raise InputError(path, "missing `_id`", line)
    title, text = record.get("title") or "", record.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise InputError(path, "`title` and `text` must be strings", line)
    if not title.strip() and not text.strip():
        raise InputError(path, f"document {doc_id!r} has neither title nor text", line)
    meta = record.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InputError(path, "`metadata` must be an object", line)
    authors = meta.get("authors") or ()
    if isinstance(authors, str):
        authors = (authors,)
    year = meta.get("date") or meta.get("year")
    keywords = meta.get("mesh") or meta.get("keywords") or ()
    return Document(
        doc_id=doc_id,
        title=title.strip() or None,
        authors=tuple(str(a) for a in authors),
        journal=_opt_str(meta.get("journal")),
        date=_opt_str(year),
        volume=_opt_str(meta.get("volume")),
        issue=_opt_str(meta.get("issue")),
        pages=_opt_str(meta.get("pages")),
        doi=_opt_str(meta.get("doi")),
        pmid=_opt_str(meta.get("pmid")),
        sections=sections(text),
        keywords=tuple(str(k) for k in keywords) if isinstance(keywords, (list, tuple)) else (),
        source_path=path,
    )


def read_beir(path) -> list[Document]:
    path = str(path)
    docs = []
    try:
        with open(path, encoding="utf-8-sig") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as e:
                    raise InputError(path, f"invalid JSON ({e.msg})", number) from None
                except RecursionError:
                    raise InputError(path, "invalid JSON (nested too deeply)", number) from None
                if _SURROGATE_ESCAPE.search(line) and _lone_surrogate(record):
                    raise InputError(path, "invalid JSON (a \\u escape is a lone surrogate, not a character)",
                                     number)
                docs.append(_document(record, path, number))
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None
    return docs
