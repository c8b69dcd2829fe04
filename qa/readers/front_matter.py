"""YAML front matter of text and Markdown files, and the Document built from it and the body.

A front matter block stands at the very top of the file (`---` ... `---` or `...`). Read from
it: title, author(s), date (or year), doi, pmid (digits only), journal and keywords (or tags);
other keys are ignored. Only flat `key: value`, `[a, b]` and `- item` forms are understood (no
YAML library needed); a block that is not of that shape is not front matter and stays text.
"""
from __future__ import annotations

import re

from qa.models import Document, Reference, Section
from qa.readers.ids import find_doi, make_doc_id
from qa.readers.layout import split_authors

_FM_KEY = re.compile(r"^([A-Za-z_][\w -]*?)\s*:(?:\s+(.*)|\s*)$")
_FM_ITEM = re.compile(r"^\s*-\s+(.*)$")


def _fm_scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else inner.replace('\\"', '"')
    return re.sub(r"\s+#.*$", "", value).strip()  # a YAML comment after the value


def _fm_flow_list(value: str) -> list[str]:
    inner = value.strip()[1:-1]
    items, buf, quote = [], "", None
    for ch in inner:
        if quote:
            buf += ch
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            buf += ch
        elif ch == ",":
            items.append(buf)
            buf = ""
        else:
            buf += ch
    items.append(buf)
    return [s for s in (_fm_scalar(i) for i in items) if s]


def parse_front_matter(lines: list[str]) -> tuple[dict[str, object], int] | None:
    """({key: str | list[str]}, number of lines used) for a `---` block at the top, or None."""
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, min(len(lines), 300)) if lines[i].strip() in ("---", "...")), None)
    if end is None or end == 1:
        return None
    meta: dict[str, object] = {}
    key = None
    for raw in lines[1:end]:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        item = _FM_ITEM.match(raw)
        m = _FM_KEY.match(raw) if not raw[:1].isspace() else None
        if m:
            key = m.group(1).strip().lower().replace(" ", "_").replace("-", "_")
            value = (m.group(2) or "").strip()
            if value.startswith("[") and value.endswith("]"):
                meta[key] = _fm_flow_list(value)
            elif value in ("|", ">", "|-", ">-", ""):
                meta[key] = [] if value == "" else ""
            else:
                meta[key] = _fm_scalar(value)
        elif key is not None and item:
            current = meta.get(key)
            entry = item.group(1).strip()
            sub = _FM_KEY.match(entry)
            if sub and sub.group(1).strip().lower() in ("name", "full_name", "fullname"):
                entry = sub.group(2) or ""
            elif sub:
                continue  # another field of a mapping in a list (affiliation: ...)
            entry = _fm_scalar(entry)
            if isinstance(current, list):
                current.append(entry)
            else:
                meta[key] = [entry]
        elif key is not None and raw[:1].isspace():
            sub = _FM_KEY.match(raw.strip())
            if sub and isinstance(meta.get(key), list):
                continue  # indented field of a list item's mapping
            previous = meta.get(key)
            text = raw.strip()
            meta[key] = f"{previous} {text}".strip() if isinstance(previous, str) else text
        else:
            return None  # not a simple key/value block: not front matter
    return meta, end + 1


def split_front_matter(text: str) -> tuple[dict, list[str]]:
    """(front matter, the lines after it); ({}, all lines) when the text has none."""
    lines = text.split("\n")
    parsed = parse_front_matter(lines)
    if parsed is None:
        return {}, lines
    meta, used = parsed
    return meta, lines[used:]


def as_str(value) -> str | None:
    """A front matter value as one string (a list joined with ", "); None when empty."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if str(v).strip())
    value = str(value).strip() if value is not None else ""
    return value or None


def _as_list(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if value is None or not str(value).strip():
        return []
    return [s.strip() for s in re.split(r"[;,]", str(value)) if s.strip()]


def build_document(path: str, meta: dict, title: str | None, sections: tuple[Section, ...],
                   references: tuple[Reference, ...]) -> Document:
    """The Document of a text or Markdown file: front matter fields first, the body's after.

    The DOI is the front matter's, else the first "doi:10..." / "https://doi.org/10..." of
    the body text (never of the references: those are other works' DOIs). A PMID is never
    invented: only the front matter's, and only when it is digits.
    """
    authors: tuple[str, ...] = ()
    raw_authors = meta.get("authors", meta.get("author"))
    if isinstance(raw_authors, list):
        authors = tuple(a for a in raw_authors if a)
    elif raw_authors:
        authors = split_authors(str(raw_authors))
    date = as_str(meta.get("date", meta.get("year")))
    doi = as_str(meta.get("doi"))
    if doi:
        doi = find_doi(doi, bare=True) or doi
    else:
        doi = find_doi("\n\n".join(s.text for s in sections))
    pmid = as_str(meta.get("pmid"))
    if pmid and not pmid.isdigit():
        pmid = None
    year = date[:4] if date and date[:4].isdigit() else None
    title = as_str(meta.get("title")) or title
    return Document(
        doc_id=make_doc_id(pmid, doi, authors, year, title),
        title=title,
        authors=authors,
        journal=as_str(meta.get("journal")),
        date=date,
        doi=doi,
        pmid=pmid,
        sections=sections,
        references=references,
        keywords=tuple(_as_list(meta.get("keywords", meta.get("tags")))),
        source_path=path,
    )
