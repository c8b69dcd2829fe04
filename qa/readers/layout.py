"""Article structure in free text (text, Markdown, PDF readers): headings, labels, joins, references.

The plain-text, Markdown and PDF readers meet the same things once a file is lines of text:
headings on lines of their own ("2. Methods", "RESULTS"), run-in labels ("Background: ..."),
words hyphenated across line breaks, a References section kept out of the body, author
strings to split. The rules for them are here, so the three readers agree.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qa.models import Reference, Section
from qa.readers.ids import find_doi

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


def clean_line(line: str) -> str:
    """One line with its spaces folded, ligatures spelled out and ends trimmed."""
    return _WS.sub(" ", line.translate(_LIGATURES)).strip()


def heading_key(label: str) -> str:
    """A heading reduced for comparison: numbering, trailing colon/period and case dropped."""
    label = _NUMBERING.sub("", label.strip())
    return _WS.sub(" ", label.rstrip(" :.")).lower()


def strip_numbering(label: str) -> str:
    """A heading without its numbering and trailing colon/period ("2.1 Methods:" -> "Methods")."""
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
    """True for "References", "Bibliography", "Literature cited" and the like."""
    return label is not None and heading_key(label) in REFERENCE_HEADINGS


# Reference entries numbered "1. ...", "[1] ...", "1) ...".
_ENTRY_NUMBER = re.compile(r"^\s*(?:\[(\d{1,4})\]|(\d{1,4})[.)])\s+(\S.*)$")


def entry_number(text: str) -> tuple[int, str] | None:
    """(3, "Smith J ...") for a reference entry "3. Smith J ..." / "[3] ..." / "3) ..."; else None."""
    m = _ENTRY_NUMBER.match(text)
    return (int(m.group(1) or m.group(2)), m.group(3)) if m else None


def numbered_references(lines: list[str]) -> tuple[Reference, ...]:
    """Reference entries numbered 1, 2, 3 ... in order ("1. ...", "[1] ...", "1) ..."),
    continuation lines joined; () when the list is not that clean."""
    entries: list[list[str]] = []
    expected = 1
    for raw in lines:
        line = clean_line(raw)
        if not line:
            continue
        numbered = entry_number(line)
        if numbered and numbered[0] == expected:
            entries.append([numbered[1]])
            expected += 1
        elif entries:
            entries[-1].append(line)
        else:
            return ()  # text before the first numbered entry: not a clean list
    return tuple(reference_entry(n, join_lines(parts)) for n, parts in enumerate(entries, 1))


def reference_entry(number: int, text: str) -> Reference:
    """A Reference for an entry's text; its DOI is the first printed in it, bare ones too."""
    return Reference(number=number, text=text, doi=find_doi(text, bare=True))


def word_counts(text: str) -> Counter:
    """Lower-cased words of a document and how often each occurs (see join_lines)."""
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


def title_from_filename(path: str) -> str | None:
    """The file name as a title: "my-paper_v2.txt" -> "my paper v2"."""
    stem = Path(path).stem
    title = " ".join(stem.replace("_", " ").replace("-", " ").split())
    return title or None


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
