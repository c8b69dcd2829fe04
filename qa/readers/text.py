"""Plain text (.txt) files, one document per file; read_plain picks plain-text or Markdown rules.

Public functions:
    read_text(path)      plain-text rules, whatever the suffix
    read_markdown(path)  Markdown rules, whatever the suffix (qa.readers.markdown)
    read_plain(path)     Markdown rules for .md / .markdown / .mdown / .mkd, plain-text rules
                         for anything else (.txt, no suffix, ...)

Both kinds:
  * bytes are UTF-8 (a UTF-8 BOM is skipped; a UTF-16 BOM is honoured); CRLF and lone CR
    are line ends. Invalid UTF-8 -> InputError naming the line and the byte offset; a file
    of only whitespace -> InputError "empty file"; NUL bytes -> "binary file"
    (qa.readers.common.decode_text).
  * a YAML front matter block at the very top (`---` ... `---` or `...`) is read for title,
    author(s), date (or year), doi, pmid (digits only), journal and keywords (or tags)
    (qa.readers.front_matter).
  * a "References" (Bibliography, Literature cited, ...) section is not body text: it is
    kept out of Document.sections. Its entries become Document.references only when they
    are clean: Markdown list items or paragraphs, or entries numbered 1, 2, 3 ... in order;
    otherwise the references are left empty.
  * the DOI is the front matter's, else the first "doi:10..." / "https://doi.org/10..." in
    the body text (never in the references: those are other works' DOIs).
  * doc_id = make_doc_id(pmid, doi, authors, year, title); a PMID is never invented.

Headings, labels, line joins and reference entries follow the rules the PDF reader uses too
(qa.readers.layout).

Plain text:
  * title: the first non-empty line if it looks like a title (at most 25 words and 200
    characters, no final period/comma/colon, not a section heading; a second line that
    continues it in lower case is joined), else the file name.
  * sections start at short ALL-CAPS lines ("METHODS"), at lines that are a usual heading
    word on their own ("Introduction", "Materials and methods", "2. Methods"), and at
    paragraphs opening with "Label: text" (a label of at most five words, starting with a
    capital). A label stays in force until the next one.
  * paragraphs are separated by blank lines; lines inside are joined with spaces, words
    hyphenated across a line break are re-joined ("treat-" + "ment" -> "treatment"), lines
    opening with a list bullet stay lines.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from qa.errors import InputError
from qa.models import Document, Reference
from qa.readers.common import read_text_file
from qa.readers.front_matter import build_document, split_front_matter
from qa.readers.layout import (KNOWN_HEADINGS, SectionBuilder, clean_line, heading_key, heading_label,
                               join_lines, numbered_references, reference_entry, run_in_label,
                               title_from_filename, word_counts)
from qa.readers.markdown import read_markdown

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})

_BULLET = re.compile(r"^\s*(?:[-*•‣◦–]|\d{1,3}[.)])\s+\S")
_DECORATION = re.compile(r"^\s*[=\-_*#~+.]{3,}\s*$")


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Runs of non-blank lines; rules of "=====" or "-----" count as blank lines."""
    out: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip() and not _DECORATION.match(line):
            current.append(line.rstrip())
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _unwrap(lines: list[str], words: Counter) -> str:
    """A paragraph's lines joined; lines that open with a bullet stay lines of their own."""
    groups: list[list[str]] = []
    for line in lines:
        if not groups or _BULLET.match(line):
            groups.append([line])
        else:
            groups[-1].append(line)
    return "\n".join(join_lines([clean_line(x) for x in g], words) for g in groups)


_FUNCTION_WORDS = frozenset("a an and as at by for from in into of on or the to with without versus vs".split())


def _plain_title(paragraphs: list[list[str]]) -> tuple[str | None, int]:
    """(title, number of lines of the first paragraph it uses) by the plain-text rule."""
    if not paragraphs:
        return None, 0
    first = paragraphs[0]
    line = clean_line(first[0])
    used = 1
    if len(first) > 1 and first[1].strip()[:1].islower() and not line.endswith((".", ",", ";", ":")):
        joined = line + " " + clean_line(first[1])
        if len(joined) <= 200:
            line, used = joined, 2
    if (not line or len(line) > 200 or len(line.split()) > 25 or line.endswith((".", ",", ";", ":", "-"))
            or not re.search(r"[^\W\d_]", line) or heading_key(line) in KNOWN_HEADINGS
            or run_in_label(line, known_only=True)
            or line.split()[-1].lower() in _FUNCTION_WORDS):
        return None, 0
    if len(first) > used and first[used].strip()[:1].islower():
        return None, 0  # the "title" runs on into a sentence: it is prose
    return line, used


def _split_at_headings(paragraphs: list[list[str]]) -> list[list[str]]:
    """A usual heading word on a line of its own inside a paragraph ("...end of text.",
    "Methods", "We ...") starts a paragraph of its own, as does an ALL-CAPS heading after a
    line that ends a sentence."""
    out: list[list[str]] = []
    for para in paragraphs:
        current: list[str] = []
        for line in para:
            if current and (heading_label(line) or _bare_label(line)) and (
                heading_key(line) in KNOWN_HEADINGS or re.search(r"[.?!:]$", current[-1].rstrip())
            ):
                out.append(current)
                current = []
            current.append(line)
        out.append(current)
    return out


def _plain_body(paragraphs: list[list[str]], builder: SectionBuilder, words: Counter) -> None:
    for para in _split_at_headings(paragraphs):
        lines = list(para)
        # Heading lines at the top of the paragraph ("METHODS", "2. Results", "Study design:").
        # Inside the references only a usual heading word ends them ("JAMA" is no heading).
        while lines:
            label = heading_label(lines[0]) or _bare_label(lines[0])
            if label is None or (builder.in_references and heading_key(label) not in KNOWN_HEADINGS):
                break
            builder.heading(label)
            lines = lines[1:]
        if not lines:
            continue
        if builder.in_references:
            builder.reference_lines.extend(lines)
            builder.reference_lines.append("")
            continue
        text = _unwrap(lines, words)
        labelled = run_in_label(text)
        if labelled:
            builder.heading(labelled[0])
            text = labelled[1]
            if builder.in_references:
                builder.reference_lines.append(text)
                builder.reference_lines.append("")
                continue
        builder.paragraph(text)


def _bare_label(line: str) -> str | None:
    """"Study design:" on a line of its own: a label by the same rules as a run-in label."""
    line = line.strip()
    if not line.endswith(":"):
        return None
    labelled = run_in_label(line + " x")
    return labelled[0] if labelled else None


def _plain_references(lines: list[str]) -> tuple[Reference, ...]:
    refs = numbered_references(lines)
    if refs:
        return refs
    # Entries one paragraph each (blank lines between), when there are several.
    paragraphs = _paragraphs(lines)
    if len(paragraphs) >= 2:
        return tuple(reference_entry(n, join_lines([clean_line(x) for x in p]))
                     for n, p in enumerate(paragraphs, 1))
    return ()


def parse_text(text: str, path: str) -> Document:
    """Decoded text -> Document by the plain-text rules; InputError when it holds no text."""
    meta, lines = split_front_matter(text)
    paragraphs = _paragraphs(lines)
    words = word_counts(text)
    title, used = (None, 0) if meta.get("title") else _plain_title(paragraphs)
    if used:
        rest = paragraphs[0][used:]
        paragraphs = ([rest] if rest else []) + paragraphs[1:]
    builder = SectionBuilder()
    _plain_body(paragraphs, builder, words)
    sections = builder.result()
    if not sections and not title and not meta.get("title"):
        raise InputError(path, "no text")
    return build_document(path, meta, title or title_from_filename(path), sections,
                          _plain_references(builder.reference_lines))


def read_text(path) -> list[Document]:
    """A plain-text file as one Document (plain-text rules whatever the suffix)."""
    path = str(path)
    return [parse_text(read_text_file(path), path)]


def read_plain(path) -> list[Document]:
    """read_markdown for .md / .markdown / .mdown / .mkd, read_text for any other suffix."""
    if Path(str(path)).suffix.lower() in MARKDOWN_SUFFIXES:
        return read_markdown(path)
    return read_text(path)
