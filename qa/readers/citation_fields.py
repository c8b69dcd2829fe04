"""Fields of reference-manager exports (RIS, BibTeX): names, dates, abstracts, keywords, retractions."""
from __future__ import annotations

import re

from qa.models import Section
from qa.readers.common import KEYWORD_LABELS, LABEL_WORDS, one_line

_BLANK_LINES = re.compile(r"\n[ \t\u00a0]*\n\s*")

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()


def month_abbreviation(value: str | int | None) -> str | None:
    """'6', '06', 'jun', 'June', 'Sept.' -> 'Jun' / 'Sep'; None when it is not a month."""
    text = str(value if value is not None else "").strip().rstrip(".").lower()
    if text.isdigit():
        return MONTHS[int(text) - 1] if 1 <= int(text) <= 12 else None
    if len(text) >= 3:
        for abbreviation, name in zip(MONTHS, _MONTH_NAMES):
            if name.startswith(text):
                return abbreviation
    return None


# Initials written as MEDLINE does, without dots: "SR", "J", "JW".
_INITIALS = re.compile(r"^[A-Z]{1,3}$")


def person_name(family: str, given: str = "", suffix: str = "") -> str:
    """A name as qa stores it: "Steven R Ytterberg"; dotless initials stay MEDLINE-style.

    ("Ytterberg", "Steven R") -> "Steven R Ytterberg"; ("Ytterberg", "SR") -> "Ytterberg SR"
    (the form `qa.cite` writes as "Ytterberg, SR" for a MEDLINE-style name); ("World Health
    Organization", "") -> "World Health Organization".
    """
    family, given, suffix = (one_line(part) or "" for part in (family, given, suffix))
    if given and _INITIALS.match(given):
        parts = [family, given, suffix]
    else:
        parts = [given, family, suffix]
    return " ".join(p for p in parts if p)


# Structured-abstract labels. All-capital labels ("BACKGROUND", "MATERIALS AND METHODS") are
# taken after a sentence end; mixed-case ones only when the first word is a usual label word.
_LABEL = re.compile(
    r"(?:^|(?<=[.?!])\s+|(?<=[.?!][)\]\"'”’])\s+)"
    r"(?P<label>[^\W\d_]+(?:[ /&,-]+[^\W\d_]+){0,5}):\s+"
)


def _is_label(label: str) -> bool:
    words = re.findall(r"[^\W\d_]+", label)
    if label.isupper():
        return sum(len(w) for w in words) >= 4  # not "FDA: ..." after "U.S."
    # "Materials and methods", "Design, setting, and participants"; not a longer clause
    return len(words) <= 4 and words[0].lower() in LABEL_WORDS


def abstract_sections(text: str | None) -> tuple[tuple[Section, ...], list[str]]:
    """Sections of an abstract and the keywords of a "Keywords: a; b" part, if any.

    Paragraphs (split on blank lines) keep their breaks; inside a paragraph whitespace is
    folded. A label at the start of a paragraph or after a sentence end starts a section;
    text before the first label is Section(None, ...).
    """
    if not text or not text.strip():
        return (), []
    parts: list[tuple[str | None, list[str]]] = []
    for paragraph in _BLANK_LINES.split(text.strip()):
        paragraph = one_line(paragraph)
        if not paragraph:
            continue
        cuts = [m for m in _LABEL.finditer(paragraph) if _is_label(m.group("label"))]
        head = paragraph[: cuts[0].start()].strip() if cuts else paragraph
        if head:
            if parts:
                parts[-1][1].append(head)
            else:
                parts.append((None, [head]))
        for i, m in enumerate(cuts):
            end = cuts[i + 1].start() if i + 1 < len(cuts) else len(paragraph)
            parts.append((m.group("label"), [paragraph[m.end() : end].strip()]))
    sections: list[Section] = []
    keywords: list[str] = []
    for label, texts in parts:
        body = "\n\n".join(t for t in texts if t)
        if label and label.lower() in KEYWORD_LABELS:
            keywords.extend(split_keywords(body, ";" if ";" in body else ","))
        elif body or label:
            sections.append(Section(label, body))
    return tuple(sections), keywords


def split_keywords(text: str, separator: str = ";") -> list[str]:
    out = []
    for word in text.split(separator):
        word = one_line(word)
        if word:
            word = word.rstrip(".").strip()
        if word:
            out.append(word)
    return out


_RETRACTED_TITLE = re.compile(r"^\s*[\[(]?\s*retracted(?:\s+(?:article|paper))?\s*[:\])]", re.I)
# What a note says when the work itself is retracted; anchored at the note's start so that a
# note merely mentioning some retracted paper does not count.
_RETRACTED_NOTE = re.compile(
    r"^(?:retracted\b|retraction(?: notice)? in\b"
    r"|(?:this|the) (?:[\w-]+ ){0,2}(?:has been|had been|was|is|is being) retracted\b)",
    re.I,
)
_HTML_TAG = re.compile(r"<[^>]+>")


def title_says_retracted(title: str | None) -> bool:
    """Titles such as "RETRACTED: ...", "RETRACTED ARTICLE: ...", "[Retracted] ..."."""
    return bool(title and _RETRACTED_TITLE.match(title))


def says_retracted(note: str | None) -> bool:
    """A note saying the work is retracted: "Retracted", "Retracted Publication", "This article
    has been retracted ...", "Retraction in: ..." (PubMed's link from a retracted paper to its
    notice). "Retraction of: ..." (the notice itself) does not count."""
    text = one_line(_HTML_TAG.sub(" ", note or "")) or ""
    return bool(_RETRACTED_NOTE.match(text.lstrip("[(*-•: ")))


def dedupe(items) -> tuple[str, ...]:
    """The non-empty items in first-seen order, each once."""
    return tuple(dict.fromkeys(item for item in items if item))


# RIS dates: "YYYY/MM/DD/other" with empty parts ("2006/06//", "2006///Spring"); also ISO
# "2006-06-15" (biblatex `date` fields too) and "2006 Jun 15" as PubMed prints them.
_RIS_DATE = re.compile(
    r"^(?P<year>\d{4})(?:[/-](?P<month>\d{0,2})(?:[/-](?P<day>\d{0,2})(?:/(?P<other>.*))?)?)?$"
)
_PRINTED_DATE = re.compile(
    r"^(?P<year>\d{4})\s+(?P<month>[A-Za-z]{3,9})\.?(?:\s+(?P<day>\d{1,2}))?$"
)
_LEADING_YEAR = re.compile(r"^(\d{4})\b")


def date_parts(value: str | None) -> tuple[str, str | None, str | None] | None:
    """(year, "Jun" or a season, day) of a RIS date; None when it has no year."""
    value = one_line(value)
    if not value:
        return None
    m = _RIS_DATE.match(value)
    if m:
        month = month_abbreviation(m.group("month")) if m.group("month") else None
        day = m.group("day")
        day = str(int(day)) if month and day and 1 <= int(day) <= 31 else None
        other = one_line(m.group("other"))
        if not month and other and other.isalpha():  # "2011///Spring"
            month = other
        return m.group("year"), month, day
    m = _PRINTED_DATE.match(value)
    if m and month_abbreviation(m.group("month")):
        return m.group("year"), month_abbreviation(m.group("month")), m.group("day")
    m = _LEADING_YEAR.match(value)
    return (m.group(1), None, None) if m else None
