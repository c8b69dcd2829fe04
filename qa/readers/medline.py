"""Reader for MEDLINE / .nbib text (PubMed "Save -> PubMed format", efetch rettype=medline).

Shape of a record (records are separated by blank lines; a file may hold many):

    PMID- 16403221
    TI  - A high level interface to SCOP and ASTRAL implemented in python.
    AB  - BACKGROUND: Benchmarking algorithms in structural bioinformatics often involves
          the construction of datasets ... RESULTS: We have designed ...
    FAU - Casbon, James A
    AU  - Casbon JA
    TA  - BMC Bioinformatics
    ...

A line is a tag padded to four characters, "- " and a value; lines indented by six spaces
continue the value above them.

Why not Bio.Medline.parse (Biopython 1.88)? It is right about joining wrapped TI/AB lines and
wrapped MH terms, and the tests check that this reader agrees with it there, but it falls short
for a reader that must report bad input and keep every field whole:
  * it keeps no line numbers, so an error cannot say where the bad record is;
  * it accepts any line as a field ("garbage line" becomes tag "garb"), a byte-order mark
    becomes part of the first tag ("\\ufeffPMI"), and an indented line before any tag raises
    KeyError('') rather than a message;
  * a wrapped value of a list field other than MH/AD (AU, FAU, CN, PT, RIN, CIN, OT ...)
    becomes two list entries, e.g. a long "RIN - ..." retraction note splits in two.
So the record splitter and field joining are written here; the mapping to Document follows the
brief and Biopython's field names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.errors import InputError
from qa.models import Document, Section
from qa.readers.common import read_utf8
from qa.readers.ids import is_pmid, make_doc_id, tagged_doi, tagged_pmc

_NEWLINE = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also splits on \x0c, \u2028 ...
# "PMID- 1", "TI  - x", "AB  -" (empty value): a tag left-justified in four columns, then "-".
_TAG_LINE = re.compile(r"^(?P<tag>[A-Z][A-Z0-9]{0,3}) *-(?: (?P<value>.*))?$")

# A structured-abstract label inside the joined AB text: capitals (and digits, spaces, "&",
# "/", ",", "-") followed by ": ", at the start of the abstract or of a paragraph, or after a
# sentence end. MEDLINE prints NLM labels in capitals ("BACKGROUND:", "SUPPLEMENTARY
# INFORMATION:"); requiring the sentence end keeps "... odds ratio OR: 1.3" from being a label.
_AB_LABEL = re.compile(
    r"(?:^|(?<=[.?!] )|(?<=\n))(?P<label>[A-Z][A-Z0-9]*(?:[ ,/&-]+[A-Z0-9]+)*):(?:\s+|$)"
)

_RETRACTED_TYPE = "retracted publication"
# Tags found only in MEDLINE (RIS shares the "XX  - value" shape and AU/TI/AB).
_MEDLINE_ONLY_TAGS = frozenset(
    "PMID FAU DP TA JT PT MH OWN STAT SO LID AID DCOM LR IS VI IP PG PL JID SB EDAT MHDA".split()
)


@dataclass
class _Field:
    tag: str
    line: int
    parts: list[str] = field(default_factory=list)  # value pieces; "" marks a paragraph break

    @property
    def value(self) -> str:
        """The wrapped lines joined with single spaces, paragraphs with a blank line."""
        paragraphs: list[list[str]] = [[]]
        for part in self.parts:
            if part == "":
                paragraphs.append([])
            else:
                paragraphs[-1].extend(part.split())
        return "\n\n".join(" ".join(p) for p in paragraphs if p)


@dataclass
class _Record:
    number: int  # 1-based position in the file
    line: int  # line of its first field
    fields: list[_Field] = field(default_factory=list)

    def all(self, tag: str) -> list[str]:
        return [f.value for f in self.fields if f.tag == tag]

    def first(self, tag: str) -> str | None:
        values = [v for v in self.all(tag) if v]
        return values[0] if values else None


# --- public API -------------------------------------------------------------------------


def looks_like_medline(text_head: str) -> bool:
    """True when the start of a file reads as MEDLINE tag lines ("PMID- 123", "TI  - ...")."""
    lines = [line for line in _NEWLINE.split(text_head.lstrip("\ufeff")) if line.strip()]
    if not lines:
        return False
    tags = []
    for line in lines[:60]:
        m = _TAG_LINE.match(line)
        if m:
            tags.append(m.group("tag"))
        elif not line.startswith(" "):
            break
    if not tags or not _TAG_LINE.match(lines[0]):
        return False
    if "TY" in tags or "ER" in tags:  # RIS
        return False
    if tags[0] == "PMID":
        return True
    return len(set(tags) & _MEDLINE_ONLY_TAGS) >= 2


def read_medline(path) -> list[Document]:
    """Read a MEDLINE/.nbib file (UTF-8, BOM and CRLF accepted); InputError on any bad record."""
    text = read_utf8(path)
    return parse_medline(text, str(path))


def parse_medline(text: str, path: str) -> list[Document]:
    """Documents of every record in MEDLINE text; the whole text is checked before returning."""
    records = _split_records(text, path)
    if not records:
        raise InputError(path, "empty file: no MEDLINE records")
    return [_document(record, path) for record in records]


# --- records ----------------------------------------------------------------------------


def _split_records(text: str, path: str) -> list[_Record]:
    """Group tag lines and their continuations into records, with line numbers."""
    lines = _NEWLINE.split(text.lstrip("\ufeff"))
    continues = _continues(lines)
    records: list[_Record] = []
    current: _Record | None = None
    for index, raw in enumerate(lines):
        lineno = index + 1
        line = raw.rstrip()
        if not line:
            # A blank line (PubMed prints six spaces) inside a wrapped value, followed by more of
            # that value, is a paragraph break (seen in some AB fields; Biopython issue #4557).
            # Otherwise a blank line ends the record.
            if current is not None and continues[index]:
                current.fields[-1].parts.append("")
                continue
            current = None
            continue
        if line[0] in " \t":
            if current is None or not current.fields:
                number = len(records) + 1
                raise InputError(
                    path, f"record {number}: indented line with no field before it", lineno
                )
            current.fields[-1].parts.append(line.strip())
            continue
        m = _TAG_LINE.match(line)
        if not m or len(line) < 5 or line[4] != "-":
            number = len(records) + (0 if current is not None else 1)
            raise InputError(
                path,
                f"record {number}: expected 'TAG - value' or an indented continuation, "
                f"got {_preview(line)}",
                lineno,
            )
        tag = m.group("tag")
        if tag in ("TY", "ER"):
            raise InputError(path, f"'{tag}  -' is an RIS tag: this looks like RIS, not MEDLINE",
                             lineno)
        if current is None:
            current = _Record(len(records) + 1, lineno)
            records.append(current)
        value = (m.group("value") or "").strip()
        current.fields.append(_Field(tag, lineno, [value] if value else []))
    return records


def _continues(lines: list[str]) -> list[bool]:
    """For each line: True when the next non-blank line after it is an indented continuation.

    One pass from the end: looking ahead from every blank line made files with many blank
    lines quadratic (a 2 MB file took 10 s).
    """
    out = [False] * len(lines)
    following = False  # what the next non-blank line below says
    for index in range(len(lines) - 1, -1, -1):
        out[index] = following
        raw = lines[index]
        if raw.strip():
            following = raw[0] in " \t"
    return out


def _preview(line: str) -> str:
    return repr(line if len(line) <= 40 else line[:40] + "...")


# --- record -> Document -----------------------------------------------------------------


def _document(record: _Record, path: str) -> Document:
    where = f"record {record.number} (line {record.line})"
    pmid = record.first("PMID")
    if pmid is not None and not is_pmid(pmid):
        raise InputError(path, f"{where}: PMID {pmid!r} is not a number")
    title = record.first("TI") or record.first("BTI")  # BTI: book title of a book record
    if pmid is None and title is None:
        raise InputError(path, f"{where}: no PMID and no title (TI)")
    authors, surnames = _authors(record)
    doi = _doi(record)
    date = record.first("DP")
    article_types = tuple(_dedupe(record.all("PT")))
    retracted = any(t.lower() == _RETRACTED_TYPE for t in article_types) or bool(
        record.all("RIN")
    )
    abstract = record.first("AB")
    return Document(
        doc_id=make_doc_id(pmid, doi, authors, _year(date), title),
        title=title,
        authors=authors,
        surnames=surnames,
        journal=record.first("TA"),
        journal_full=record.first("JT"),
        date=date,
        volume=record.first("VI"),
        issue=record.first("IP"),
        pages=record.first("PG"),
        doi=doi,
        pmid=pmid,
        article_types=article_types,
        sections=abstract_sections(abstract) if abstract else (),
        # MeSH headings as printed ("Sequence Alignment/*methods"), then author keywords (OT).
        keywords=tuple(_dedupe(v for v in record.all("MH") + record.all("OT") if v)),
        retracted=retracted,
        pmc=_pmc(record),
        source_path=path,
    )


def _authors(record: _Record) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names in record order: FAU turned round ("Ytterberg, Steven R" -> "Steven R Ytterberg")
    when the record has FAU lines, else AU as printed ("Ytterberg SR"); CN (a group) as is.
    With them, each name's family name where FAU gives it ("de Hoon, M J L" -> "de Hoon"), a
    group's whole name, else ""."""
    use_full = any(f.tag == "FAU" for f in record.fields)
    names: list[str] = []
    surnames: list[str] = []
    for f in record.fields:
        value = f.value
        if not value:
            continue
        if f.tag == "CN" or (f.tag == "FAU" and use_full) or (f.tag == "AU" and not use_full):
            names.append(full_name(value) if f.tag == "FAU" else value)
            family, comma, _ = value.partition(",")
            if f.tag == "CN":  # a group's name is all family: nothing of it is a given name
                surnames.append(value)
            else:
                surnames.append(family.strip() if f.tag == "FAU" and comma else "")
    return tuple(names), (tuple(surnames) if any(surnames) else ())


def full_name(fau: str) -> str:
    """A MEDLINE FAU name as a page prints it: "Ytterberg, Steven R" -> "Steven R Ytterberg".

    "de Hoon, M J L" -> "M J L de Hoon"; "Smith, John, Jr" -> "John Smith Jr"; a name
    without a comma is kept.
    """
    last, sep, rest = fau.partition(",")
    if not sep or not rest.strip():
        return fau.strip().rstrip(",")
    given, _, suffix = rest.partition(",")
    return " ".join(part for part in (given.strip(), last.strip(), suffix.strip()) if part)


def _doi(record: _Record) -> str | None:
    for tag in ("LID", "AID"):
        for value in record.all(tag):
            doi = tagged_doi(value)
            if doi:
                return doi
    return None


def _pmc(record: _Record) -> str | None:
    pmc = record.first("PMC")
    if pmc:
        return pmc
    for value in record.all("AID") + record.all("LID"):
        pmc = tagged_pmc(value)
        if pmc:
            return pmc
    return None


def abstract_sections(abstract: str) -> tuple[Section, ...]:
    """Split an AB value at its structured labels ("BACKGROUND: ... RESULTS: ...").

    Text before the first label (or an abstract without labels) is Section(None, text);
    each label starts Section(label without colon, text). Labels with no text are dropped.
    """
    sections: list[Section] = []
    matches = list(_AB_LABEL.finditer(abstract))
    matches = [m for m in matches if sum(c.isalpha() for c in m.group("label")) >= 3]
    start = 0
    label: str | None = None
    for m in matches:
        _add_section(sections, label, abstract[start : m.start()])
        label, start = m.group("label"), m.end()
    _add_section(sections, label, abstract[start:])
    return tuple(sections)


def _add_section(sections: list[Section], label: str | None, text: str) -> None:
    text = text.strip()
    if text:
        sections.append(Section(label, text))


def _year(date: str | None) -> str | None:
    return date[:4] if date and date[:4].isdigit() else None


def _dedupe(items) -> list[str]:
    return list(dict.fromkeys(items))
