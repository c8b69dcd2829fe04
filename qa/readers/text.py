"""Plain text (.txt) and Markdown (.md, .markdown) files: one document per file.

Public functions:
    read_text(path)      plain-text rules, whatever the suffix
    read_markdown(path)  Markdown rules, whatever the suffix
    read_plain(path)     Markdown rules for .md / .markdown / .mdown / .mkd, plain-text rules
                         for anything else (.txt, no suffix, ...)

Both kinds:
  * bytes are UTF-8 (a UTF-8 BOM is skipped; a UTF-16 BOM is honoured); CRLF and lone CR
    are line ends. Invalid UTF-8 -> InputError naming the line and the byte offset; a file
    of only whitespace -> InputError "empty file"; NUL bytes -> "binary file".
  * a YAML front matter block at the very top (`---` ... `---` or `...`) is read for title,
    author(s), date (or year), doi, pmid (digits only), journal and keywords (or tags);
    other keys are ignored. Only flat `key: value`, `[a, b]` and `- item` forms are
    understood (no YAML library needed); a block that is not of that shape is not front
    matter and stays text.
  * a "References" (Bibliography, Literature cited, ...) section is not body text: it is
    kept out of Document.sections. Its entries become Document.references only when they
    are clean: Markdown list items or paragraphs, or entries numbered 1, 2, 3 ... in order;
    otherwise the references are left empty.
  * the DOI is the front matter's, else the first "doi:10..." / "https://doi.org/10..." in
    the body text (never in the references: those are other works' DOIs).
  * doc_id = make_doc_id(pmid, doi, authors, year, title); a PMID is never invented.

Markdown:
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

import codecs
import html
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import InputError
from qa.readers.common import read_bytes
from qa.models import Document, Reference, Section
from qa.readers.ids import make_doc_id

MAX_BYTES = 64 * 1024 * 1024  # a text file larger than this is not an article
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})

# --- shared with the PDF reader ------------------------------------------------------

_WS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})

# Usual section headings, lower-cased, as they stand alone on a line (after numbering).
_KNOWN = (
    """
    abstract|summary|background|introduction|objective|objectives|aim|aims|purpose|
    aims and objectives|context|rationale|
    methods|method|materials and methods|material and methods|patients and methods|
    subjects and methods|methodology|study design|design|setting|participants|patients|
    interventions|main outcome measures|outcome measures|measurements|statistical analysis|
    results|findings|discussion|results and discussion|conclusion|conclusions|
    conclusions and relevance|interpretation|limitations|strengths and limitations|
    case report|case presentation|case description|clinical relevance|significance|
    implications|recommendations|key points|key messages|highlights|
    acknowledgement|acknowledgements|acknowledgment|acknowledgments|funding|
    financial support|conflict of interest|conflicts of interest|competing interests|
    declaration of interests|disclosures|disclosure|author contributions|
    contributors|ethics|ethics statement|data availability|data availability statement|
    trial registration|abbreviations|keywords|key words|
    supplementary material|supplementary materials|supplementary data|appendix|appendices|
    tables|figures|figure legends|
    references|bibliography|literature cited|works cited|reference list|cited literature
    """
)
KNOWN_HEADINGS = frozenset(h.strip() for h in _KNOWN.replace("\n", "").split("|") if h.strip())
REFERENCE_HEADINGS = frozenset(
    {"references", "bibliography", "literature cited", "works cited", "reference list",
     "cited literature"}
)

_NUMBERING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H]\.)\s+(?=\S)")
_NUMBERED_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.|\d{1,2}\.\d{1,2}(?:\.\d{1,2})*)\s+"
                               r"([A-Z][^.!?;,]{1,70})$")
_CAPS_WORD = re.compile(r"^[A-Z][A-Z'’&/-]*:?$")
_RUN_IN_LABEL = re.compile(r"^([A-Z][A-Za-z'’/&() -]{0,48}?)\s*:\s+(\S.*)$", re.S)

_DOI_PREFIXED = re.compile(
    r"(?:\bdoi\s*:?\s*|\bhttps?://(?:dx\.)?doi\.org/|\bdoi\.org/)(10\.\d{4,9}/[^\s\"<>]+)",
    re.IGNORECASE,
)
_DOI_BARE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")


def clean_line(line: str) -> str:
    """One line with its spaces folded, ligatures spelled out and ends trimmed."""
    return _WS.sub(" ", line.translate(_LIGATURES)).strip()


def _tidy_doi(doi: str) -> str | None:
    doi = doi.rstrip(".,;:")
    while doi and doi[-1] in ")]}" and doi.count(doi[-1]) > doi.count({")": "(", "]": "[", "}": "{"}[doi[-1]]):
        doi = doi[:-1].rstrip(".,;:")
    return doi if re.match(r"^10\.\d{4,9}/\S+$", doi) else None


def find_doi(text: str, bare: bool = False) -> str | None:
    """The first DOI written "doi:10..." / "DOI 10..." / "https://doi.org/10..." in text.

    With bare=True a DOI printed without any prefix counts too (reference entries).
    """
    for pattern in ((_DOI_PREFIXED, _DOI_BARE) if bare else (_DOI_PREFIXED,)):
        for m in pattern.finditer(text):
            doi = _tidy_doi(m.group(1))
            if doi:
                return doi
    return None


def heading_key(label: str) -> str:
    """A heading reduced for comparison: numbering, trailing colon/period and case dropped."""
    label = _NUMBERING.sub("", label.strip())
    return _WS.sub(" ", label.rstrip(" :.")).lower()


def strip_numbering(label: str) -> str:
    return _NUMBERING.sub("", label.strip()).rstrip(" :.").strip() or label.strip()


def heading_label(line: str) -> str | None:
    """The section label if this line, standing alone, reads as a heading; else None.

    Headings: a usual heading word or phrase ("Results", "Materials and Methods:",
    "2. Methods"), a numbered short title ("2.1 Patient selection"), or a short ALL-CAPS
    line of words ("STATISTICAL ANALYSIS"). The label is the line without its numbering.
    """
    line = clean_line(line)
    if not line or len(line) > 80:
        return None
    if heading_key(line) in KNOWN_HEADINGS:
        return strip_numbering(line)
    m = _NUMBERED_HEADING.match(line)
    if m and len(m.group(1).split()) <= 8 and not re.search(r"\d", m.group(1)):
        return m.group(1).strip()
    words = line.rstrip(":").split()
    if (1 <= len(words) <= 8 and len(line) <= 60 and all(_CAPS_WORD.match(w) for w in words)
            and max(len(w.strip("'’&/-:")) for w in words) >= 4):
        return line.rstrip(":").strip()
    return None


_SMALL_WORDS = frozenset("a an and at by for in of on or the to with".split())


def run_in_label(paragraph: str, known_only: bool = False) -> tuple[str, str] | None:
    """("Background", "We studied ...") for a paragraph opening "Background: We studied ..."."""
    m = _RUN_IN_LABEL.match(paragraph)
    if not m:
        return None
    label, rest = m.group(1).strip(), m.group(2).strip()
    words = label.split()
    if len(words) > 5 or "http" in label.lower():
        return None
    if known_only and heading_key(label) not in KNOWN_HEADINGS:
        return None
    known = heading_key(label) in KNOWN_HEADINGS or label.isupper()
    title_case = all(w[:1].isupper() or w.lower() in _SMALL_WORDS for w in words)
    if not (known or title_case or len(words) <= 2):
        return None
    return label, rest


def is_reference_heading(label: str | None) -> bool:
    return label is not None and heading_key(label) in REFERENCE_HEADINGS


_ENTRY_NUMBER = re.compile(r"^\s*(?:\[(\d{1,4})\]|(\d{1,4})[.)])\s+(\S.*)$")


def numbered_references(lines: list[str]) -> tuple[Reference, ...]:
    """Reference entries numbered 1, 2, 3 ... in order ("1. ...", "[1] ...", "1) ..."),
    continuation lines joined; () when the list is not that clean."""
    entries: list[list[str]] = []
    expected = 1
    for raw in lines:
        line = clean_line(raw)
        if not line:
            continue
        m = _ENTRY_NUMBER.match(line)
        number = int(m.group(1) or m.group(2)) if m else None
        if number == expected:
            entries.append([m.group(3)])
            expected += 1
        elif entries:
            entries[-1].append(line)
        else:
            return ()  # text before the first numbered entry: not a clean list
    return tuple(_reference(n, join_lines(parts)) for n, parts in enumerate(entries, 1))


def _reference(number: int, text: str) -> Reference:
    return Reference(number=number, text=text, doi=find_doi(text, bare=True))


def word_counts(text: str) -> Counter:
    return Counter(w.lower() for w in re.findall(r"[^\W\d_][\w'-]*", text))


def join_lines(lines: list[str], words: Counter | None = None) -> str:
    """Lines of one paragraph as one string: words hyphenated at a line end re-joined.

    "treat-" + "ment" -> "treatment". When the hyphen may be part of the word
    ("methotrexate-" + "induced") the document's own spelling decides: the form without the
    hyphen is used if it occurs elsewhere, the hyphenated one if that occurs, and without
    evidence a hyphen before a lower-case letter is taken as a line-break hyphen.
    """
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        if out.endswith("\u00ad"):
            out = out[:-1] + line
        elif re.search(r"[^\W\d_]-$", out[-2:]) and line[:1].isalpha():
            head = re.search(r"([\w'-]*)-$", out[-100:]).group(1).rsplit("-", 1)[-1]
            tail = re.match(r"[\w'-]*", line).group(0).split("-", 1)[0]
            joined, hyphened = (head + tail).lower(), f"{head}-{tail}".lower()
            counts = words or Counter()
            if line[:1].islower() and (counts[joined] or not counts[hyphened]):
                out = out[:-1] + line
            else:
                out = out + line
        else:
            out = out + " " + line
    return out.replace("\u00ad", "")


# --- decoding ------------------------------------------------------------------------


def decode_text(data: bytes, path: str) -> str:
    """Bytes -> str with "\\n" line ends; InputError for invalid UTF-8, NUL bytes, empty files."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise InputError(path, f"invalid UTF-16 at byte {e.start}") from None
    else:
        if b"\x00" in data:
            offset = data.index(b"\x00")
            raise InputError(path, f"binary file (NUL byte at byte {offset}), not text",
                             data.count(b"\n", 0, offset) + 1)
        base = 3 if data.startswith(codecs.BOM_UTF8) else 0
        try:
            text = data[base:].decode("utf-8")
        except UnicodeDecodeError as e:
            offset = base + e.start
            line = data.count(b"\n", 0, offset) + 1
            raise InputError(path, f"invalid UTF-8 at byte {offset} (0x{data[offset]:02X}); "
                                   f"save the file as UTF-8", line) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    if not text.strip():
        raise InputError(path, "empty file")
    return text


def _read_bytes(path: str) -> bytes:
    return read_bytes(path, MAX_BYTES, "file")


def title_from_filename(path: str) -> str | None:
    stem = Path(path).stem
    title = " ".join(stem.replace("_", " ").replace("-", " ").split())
    return title or None


# --- front matter --------------------------------------------------------------------

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


def _as_str(value) -> str | None:
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


_NAME_INITIALS = re.compile(r"^(?:[A-Z]\.?\s*-?){1,4}$|^(?:[A-Z][a-z]+\.?\s*){0,1}(?:[A-Z]\.\s*){1,3}$")


def split_authors(value: str) -> tuple[str, ...]:
    """Names from an author string as metadata gives it.

    "A B; C D" and "A B and C D" and "A B, C D and E F" split into names;
    "Surname, Given" (one author) and "Surname, I., Other, J." (pairs) are kept together
    as "Surname, Given". When the shape is unclear the string stays one author.
    """
    value = " ".join(value.replace("\n", " ").split()).strip(" ;,")
    value = re.sub(r",?\s+et al\.?$", "", value)
    if not value:
        return ()
    if ";" in value:
        return tuple(p.strip(" ,") for p in value.split(";") if p.strip(" ,"))
    chunks = [c.strip(" ,") for c in re.split(r"\s+(?:and|&)\s+|\s*&\s*", value) if c.strip(" ,")]
    names: list[str] = []
    for chunk in chunks:
        parts = [p.strip() for p in chunk.split(",") if p.strip()]
        if len(parts) == 1:
            names.append(parts[0])
        elif all(len(p.split()) >= 2 for p in parts):
            names.extend(parts)  # "Jane Doe, John Roe"
        elif len(parts) % 2 == 0 and all(
            len(parts[i].split()) == 1 and (_NAME_INITIALS.match(parts[i + 1]) or len(parts[i + 1].split()) <= 2)
            for i in range(0, len(parts), 2)
        ):
            names.extend(f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2))
        else:
            names.append(chunk)
    return tuple(n for n in names if re.search(r"[^\W\d_]", n))


# --- the document being built ----------------------------------------------------------


@dataclass
class SectionBuilder:
    """Paragraphs in order under the current label; in_references once a References heading is seen."""

    sections: list[tuple[str | None, list[str]]] = field(default_factory=list)
    label: str | None = None
    in_references: bool = False
    reference_lines: list[str] = field(default_factory=list)

    def heading(self, label: str) -> None:
        self.label = label
        self.in_references = is_reference_heading(label)

    def paragraph(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self.sections and self.sections[-1][0] == self.label:
            self.sections[-1][1].append(text)
        else:
            self.sections.append((self.label, [text]))

    def result(self) -> tuple[Section, ...]:
        merged: list[Section] = []
        for label, paragraphs in self.sections:
            merged.append(Section(label, "\n\n".join(paragraphs)))
        return tuple(merged)


def _document(path: str, meta: dict, title: str | None, sections: tuple[Section, ...],
              references: tuple[Reference, ...]) -> Document:
    authors: tuple[str, ...] = ()
    raw_authors = meta.get("authors", meta.get("author"))
    if isinstance(raw_authors, list):
        authors = tuple(a for a in raw_authors if a)
    elif raw_authors:
        authors = split_authors(str(raw_authors))
    date = _as_str(meta.get("date", meta.get("year")))
    doi = _as_str(meta.get("doi"))
    if doi:
        doi = find_doi(doi, bare=True) or doi
    else:
        doi = find_doi("\n\n".join(s.text for s in sections))
    pmid = _as_str(meta.get("pmid"))
    if pmid and not pmid.isdigit():
        pmid = None
    year = date[:4] if date and date[:4].isdigit() else None
    title = _as_str(meta.get("title")) or title
    return Document(
        doc_id=make_doc_id(pmid, doi, authors, year, title),
        title=title,
        authors=authors,
        journal=_as_str(meta.get("journal")),
        date=date,
        doi=doi,
        pmid=pmid,
        sections=sections,
        references=references,
        keywords=tuple(_as_list(meta.get("keywords", meta.get("tags")))),
        source_path=path,
    )


def _split_front_matter(text: str) -> tuple[dict, list[str]]:
    lines = text.split("\n")
    parsed = parse_front_matter(lines)
    if parsed is None:
        return {}, lines
    meta, used = parsed
    return meta, lines[used:]


# --- plain text ----------------------------------------------------------------------

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
        return tuple(_reference(n, join_lines([clean_line(x) for x in p]))
                     for n, p in enumerate(paragraphs, 1))
    return ()


def parse_text(text: str, path: str) -> Document:
    meta, lines = _split_front_matter(text)
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
    return _document(path, meta, title or title_from_filename(path), sections,
                     _plain_references(builder.reference_lines))


def read_text(path) -> list[Document]:
    """A plain-text file as one Document (plain-text rules whatever the suffix)."""
    path = str(path)
    return [parse_text(decode_text(_read_bytes(path), path), path)]


# --- Markdown ------------------------------------------------------------------------

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
    meta, lines = _split_front_matter(text)
    blocks = _md_blocks(lines)
    words = word_counts(text)
    title = None
    title_index = None
    meta_title = _as_str(meta.get("title"))
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
    return _document(path, meta, title or title_from_filename(path), sections,
                     _md_references(reference_blocks, words))


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"[\W_]+", "", a.lower()) == re.sub(r"[\W_]+", "", b.lower())


def _md_references(blocks: list[_MdBlock], words: Counter) -> tuple[Reference, ...]:
    entries = [b for b in blocks if b.kind in ("item", "para")]
    if not entries:
        return ()
    texts = [strip_inline(join_lines(b.text.split("\n"), words)) for b in entries]
    # Paragraph entries numbered "1." / "[1]" by hand: drop the number, keep the order.
    numbered = [_ENTRY_NUMBER.match(t) for t in texts]
    if all(numbered) and [int(m.group(1) or m.group(2)) for m in numbered] == list(range(1, len(texts) + 1)):
        texts = [m.group(3) for m in numbered]
    return tuple(_reference(n, t) for n, t in enumerate(texts, 1) if t)


def read_markdown(path) -> list[Document]:
    """A Markdown file as one Document (Markdown rules whatever the suffix)."""
    path = str(path)
    return [parse_markdown(decode_text(_read_bytes(path), path), path)]


def read_plain(path) -> list[Document]:
    """read_markdown for .md / .markdown / .mdown / .mkd, read_text for any other suffix."""
    if Path(str(path)).suffix.lower() in MARKDOWN_SUFFIXES:
        return read_markdown(path)
    return read_text(path)
