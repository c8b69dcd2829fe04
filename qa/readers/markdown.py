"""Markdown files (.md, .markdown, .mdown, .mkd): one document per file.

Public functions:
    read_markdown(path)         Markdown rules, whatever the suffix
    parse_markdown(text, path)  the same for text already decoded
    strip_inline(text)          inline markup removed, the words kept

Decoding, front matter, references, DOI and doc_id are as for plain text (qa.readers.text).

  * title: front matter `title`, else the first level-1 heading (`# Title` or a setext
    `Title` / `=====`), else the file name (stem, "-" and "_" read as spaces).
  * every other heading (`##`, `###`, ... and further `#`) starts a section labelled with
    the heading's text (markup stripped). Text before the first such heading has label None.
  * markup is stripped: emphasis (*x*, _x_, **x**, __x__, ~~x~~), inline code backticks,
    links [text](url) and [text][ref] -> text, <https://autolinks> -> the address, images
    dropped, HTML comments and tags dropped, entities decoded, backslash escapes resolved,
    link definitions ("[ref]: url") and footnote markers dropped, block quote ">" removed,
    table pipes turned into " | " between cells (separator rows dropped).
  * fenced code blocks (``` or ~~~) are kept as plain text: their lines verbatim, without
    the fence lines, as a paragraph of their own. The text of a code block may be what a
    reader searches for (a gene name, a command, a data row); nothing else is done to it.
  * list items keep one line each, "- item" or "3. item", so the sentence splitter still
    ends a sentence at each item; lines of a paragraph are joined with spaces.
  * references: each list item or paragraph of the References section is an entry; numbers
    typed by hand ("1." / "[1]") are dropped when they run 1, 2, 3 ... in order.
  * footnotes ("[^1]: text") are collected into a "Notes" section at the end.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass

from qa.errors import InputError
from qa.models import Document, Reference, Section
from qa.readers.common import read_text_file
from qa.readers.front_matter import as_str, build_document, split_front_matter
from qa.readers.layout import (
    SectionBuilder,
    entry_number,
    join_lines,
    reference_entry,
    run_in_label,
    title_from_filename,
    word_counts,
)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_QUOTE = re.compile(r"^ {0,3}>[ ]?")
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_FOOTNOTE_DEF = re.compile(r"^ {0,3}\[\^[^\]]+\]:\s*(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)

_ESCAPABLE = "\\`*_{}[]()#+-.!<>|~\"$%&',/:;=?@^"
# Spans are bounded ({1,N}) so that unmatched markers cost linear, not quadratic, time, and
# a span cannot run past the next opener of its own kind ("[", "<", the emphasis marker): else
# each of a line of openers ("[[[[", "<a<a<a", "*a *a *a") rescanned up to N characters, or
# to the end of the line, and a 100 kB line took 5-11 s.
_CODE_SPAN = re.compile(r"(`{1,5})(.{1,2000}?)\1", re.S)
_IMAGE = re.compile(r"!\[[^\[\]]{0,2000}\](?:\([^)]{0,2000}\)|\[[^\[\]]{0,200}\])?")
_LINK = re.compile(r"\[([^\[\]]{0,2000})\]\((?:[^()\s]|\([^()\s]{0,500}\)){0,2000}"
                   r"(?:\s+(?:\"[^\"]{0,500}\"|'[^']{0,500}'))?\s*\)")
_REF_LINK = re.compile(r"\[([^\[\]]{1,2000})\]\[[^\[\]]{0,200}\]")
_FOOTNOTE_REF = re.compile(r"\[\^[^\[\]\s]+\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+|[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)((?:(?!\1).){1,1000}?)(?<=\S)\1", re.S)
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]{1,1000}?)(?<=[^\s*])\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])([^_]{1,1000}?)(?<=[^\s_])_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)((?:(?!~~).){1,1000}?)(?<=\S)~~", re.S)


def strip_inline(text: str) -> str:
    """Markdown inline markup removed; the words stay."""
    stash: list[str] = []

    def keep(s: str) -> str:
        stash.append(s)
        return f"\ue000{len(stash) - 1}\ue001"

    text = re.sub(r"\\([" + re.escape(_ESCAPABLE) + r"])", lambda m: keep(m.group(1)), text)
    text = _CODE_SPAN.sub(lambda m: keep(m.group(2).strip() if m.group(2).strip() else m.group(2)), text)
    text = _AUTOLINK.sub(lambda m: keep(m.group(1)), text)
    text = _COMMENT.sub("", text)
    text = _IMAGE.sub("", text)
    for _ in range(2):  # a link inside emphasis inside a link ...
        text = _LINK.sub(r"\1", text)
        text = _REF_LINK.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    text = _HTML_TAG.sub("", text)
    for _ in range(3):  # nested emphasis: ***x***, **_x_**
        text = _STRONG.sub(r"\2", text)
        text = _STRIKE.sub(r"\1", text)
        text = _EM_STAR.sub(r"\1", text)
        text = _EM_UNDERSCORE.sub(r"\1", text)
    text = html.unescape(text)
    text = re.sub(r"\ue000(\d+)\ue001", lambda m: stash[int(m.group(1))], text)
    return re.sub(r"[ \t]+", " ", text).strip()


@dataclass
class _MdBlock:
    kind: str  # "heading" | "para" | "item" | "code" | "table"
    text: str
    level: int = 0
    marker: str = ""


def _md_blocks(lines: list[str]) -> list[_MdBlock]:
    """Markdown lines -> blocks: headings, paragraphs, list items, code, table rows."""
    # HTML comments go first (outside code fences), so that one never hides a heading.
    segments: list[tuple[bool, list[str]]] = []
    fence = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is None and m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            fence = m.group(1)
            segments.append((True, []))
            continue
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                fence = None
                segments.append((False, []))
                continue
            segments[-1][1].append(line)
            continue
        if not segments or segments[-1][0]:
            segments.append((False, []))
        segments[-1][1].append(line)

    blocks: list[_MdBlock] = []
    for is_code, seg in segments:
        if is_code:
            code = "\n".join(seg).strip("\n")
            if code.strip():
                blocks.append(_MdBlock("code", code))
            continue
        _md_text_blocks(_COMMENT.sub("", "\n".join(seg)).split("\n"), blocks)
    return blocks


def _md_text_blocks(lines: list[str], blocks: list[_MdBlock]) -> None:
    para: list[str] = []
    kind = "para"
    marker = ""

    def flush():
        nonlocal para, kind, marker
        if para:
            blocks.append(_MdBlock(kind, "\n".join(para), marker=marker))
        para, kind, marker = [], "para", ""

    for raw in lines:
        line = _QUOTE.sub("", raw)
        while _QUOTE.match(line):
            line = _QUOTE.sub("", line)
        if not line.strip():
            flush()
            continue
        footnote = _FOOTNOTE_DEF.match(line)
        if footnote:
            flush()
            kind = "footnote"
            para = [footnote.group(1)]
            continue
        if _LINK_DEF.match(line) and not para:
            continue
        setext = _SETEXT.match(line)
        if setext and para and kind == "para":
            level = 1 if setext.group(1)[0] == "=" else 2
            blocks.append(_MdBlock("heading", " ".join(p.strip() for p in para), level))
            para, kind, marker = [], "para", ""
            continue
        if _THEMATIC.match(line):
            flush()
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            if atx.group(2) and atx.group(2).strip():
                blocks.append(_MdBlock("heading", atx.group(2).strip(), len(atx.group(1))))
            continue
        item = _LIST_ITEM.match(line)
        if item and para and kind == "para" and item.group(2)[:1].isdigit() and int(item.group(2)[:-1]) != 1:
            item = None  # "2006. The ..." inside a paragraph is not a list
        if item and (item.group(3) or "").strip():
            flush()
            kind, marker = "item", item.group(2)
            para = [item.group(3)]
            continue
        if "|" in line and (line.lstrip().startswith("|") or _TABLE_SEP.match(line) or kind == "table"):
            if _TABLE_SEP.match(line):
                kind = "table" if para else kind
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if kind != "table":
                flush()
                kind = "table"
            para.append(" | ".join(c for c in cells if c))
            continue
        if kind == "table":
            flush()
        para.append(line.strip())
    flush()


def _md_paragraph(block: _MdBlock, words: Counter) -> str:
    if block.kind == "code":
        return block.text
    if block.kind == "table":
        return "\n".join(strip_inline(row) for row in block.text.split("\n"))
    text = strip_inline(join_lines(block.text.split("\n"), words))
    if block.kind == "item":
        bullet = block.marker if block.marker[:1].isdigit() else "-"
        return f"{bullet} {text}" if text else ""
    return text


def parse_markdown(text: str, path: str) -> Document:
    meta, lines = split_front_matter(text)
    blocks = _md_blocks(lines)
    words = word_counts(text)
    title = None
    title_index = None
    meta_title = as_str(meta.get("title"))
    for i, block in enumerate(blocks):
        if block.kind == "heading" and block.level == 1:
            heading = strip_inline(block.text) or None
            if not meta_title:
                title, title_index = heading, i
            elif heading and _same_text(heading, meta_title):
                title_index = i  # the front matter's title printed again: not a section
            break
    builder = SectionBuilder()
    reference_level = 0
    reference_blocks: list[_MdBlock] = []
    previous_kind = None
    for i, block in enumerate(blocks):
        if i == title_index:
            continue
        if block.kind == "heading":
            previous_kind = None
            label = strip_inline(block.text)
            if builder.in_references and block.level > reference_level:
                continue  # a sub-heading inside the references
            builder.heading(label)
            if builder.in_references:
                reference_level = block.level
            continue
        if block.kind == "footnote":
            continue  # collected into a "Notes" section at the end
        if builder.in_references:
            reference_blocks.append(block)
            continue
        paragraph = _md_paragraph(block, words)
        if not paragraph:
            continue
        # Consecutive list items are one paragraph (one item a line).
        if block.kind == "para":
            labelled = run_in_label(paragraph, known_only=True)  # "**Background:** ..." in an abstract
            if labelled:
                builder.heading(labelled[0])
                paragraph = labelled[1]
                if builder.in_references:
                    reference_blocks.append(_MdBlock("para", paragraph))
                    continue
        if block.kind == "item" and previous_kind == "item" and builder.sections \
                and builder.sections[-1][0] == builder.label:
            builder.sections[-1][1][-1] += "\n" + paragraph
        else:
            builder.paragraph(paragraph)
        previous_kind = block.kind
    notes = [strip_inline(join_lines(b.text.split("\n"), words)) for b in blocks if b.kind == "footnote"]
    sections = builder.result()
    if any(notes):
        sections += (Section("Notes", "\n\n".join(n for n in notes if n)),)
    if not sections and not title and not meta.get("title"):
        raise InputError(path, "no text (only markup or front matter)")
    return build_document(path, meta, title or title_from_filename(path), sections,
                          _md_references(reference_blocks, words))


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"[\W_]+", "", a.lower()) == re.sub(r"[\W_]+", "", b.lower())


def _md_references(blocks: list[_MdBlock], words: Counter) -> tuple[Reference, ...]:
    entries = [b for b in blocks if b.kind in ("item", "para")]
    if not entries:
        return ()
    texts = [strip_inline(join_lines(b.text.split("\n"), words)) for b in entries]
    # Paragraph entries numbered "1." / "[1]" by hand: drop the number, keep the order.
    numbered = [entry_number(t) for t in texts]
    if all(numbered) and [number for number, _ in numbered] == list(range(1, len(texts) + 1)):
        texts = [rest for _, rest in numbered]
    return tuple(reference_entry(n, t) for n, t in enumerate(texts, 1) if t)


def read_markdown(path) -> list[Document]:
    """A Markdown file as one Document (Markdown rules whatever the suffix)."""
    path = str(path)
    return [parse_markdown(read_text_file(path), path)]
