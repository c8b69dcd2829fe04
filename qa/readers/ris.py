"""Reader for RIS files: EndNote, Zotero, Mendeley, PubMed-derived exports and `qa.cite.ris`.

A record runs from its `TY  - ` line to its `ER  - ` line. Tags read (each value as given):

    TI, T1              title; a title starting "RETRACTED:" marks the work retracted
    AU, A1              authors: "Ytterberg, Steven R" -> "Steven R Ytterberg";
                        "Ytterberg, SR" and "Ytterberg SR" -> "Ytterberg SR" (MEDLINE form)
    AB, N2              abstract; labels inside ("BACKGROUND: ...") become Document.sections
    JA, J2, JO          journal (abbreviation), first of them in that order
    JF, T2              journal_full; when no abbreviation tag is given, journal too
    PY, Y1, DA          date as PubMed prints it: "2006/06//" -> "2006 Jun", "2006" -> "2006"
    VL, IS              volume, issue
    SP, EP              pages "SP-EP" as printed ("167-73" stays "167-73")
    DO                  doi (a "https://doi.org/" or "doi:" prefix is dropped; else from UR)
    AN                  PMID, see below
    KW                  keywords, one a line (a line holding "a; b" gives two)
    M3                  article types ("Journal Article; Review"); "Retracted Publication" marks
                        the work retracted
    N1, M1              notes: "PMID: 123" gives the PMID; a note saying the work is retracted
                        ("Retracted", "Retraction in: ...", not "Retraction of: ...") marks it
    C2, UR              PMC id (EndNote writes "C2  - PMC1234567"); UR links to PubMed, PMC or
                        doi.org fill PMID, PMC id and DOI when no tag gives them

PMIDs: PubMed itself downloads citations as MEDLINE (.nbib), not RIS. RIS built from PubMed
records - NCBI's Literature Citation Exporter (api.ncbi.nlm.nih.gov/lit/ctxp, format=ris),
EndNote's and Zotero's PubMed imports, `qa.cite.ris` - carries the PMID as the accession
number, `AN  - 16901073`, usually with `DB  - PubMed`. So a bare number in AN is read as the
PMID unless DB names another database (Embase, Scopus and Web of Science accession numbers are
not PMIDs); "PMID: 16901073" in AN or a note is read whatever the DB says.

rispy maps tags to names; this module adds what rispy does not do (see `_parse_records`):
line numbers, records left open (rispy drops a record without ER silently), and tag lines
outside any record.

Names, dates, abstracts, keywords and retraction notes are read as the BibTeX reader reads
them (qa.readers.citation_fields); DOIs, PMIDs and PMC ids by the rules of qa.readers.ids.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import rispy

from qa.errors import InputError
from qa.models import Document
from qa.readers.citation_fields import (
    abstract_sections,
    date_parts,
    dedupe,
    person_name,
    says_retracted,
    split_keywords,
    title_says_retracted,
)
from qa.readers.common import one_line, read_utf8
from qa.readers.ids import (
    DOI_START,
    accession_pmid,
    clean_doi,
    doi_from_urls,
    make_doc_id,
    pmc_from,
    pmid_from_notes,
    pmid_from_urls,
)

_NEWLINE = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also splits on \x0c, \u2028 ...


# --- public API ----------------------------------------------------------------------------

_LOOKS_LIKE = re.compile(r"^TY  - ", re.MULTILINE)


def looks_like_ris(text_head: str) -> bool:
    """True when a line of the head starts a RIS record ("TY  - JOUR")."""
    return bool(_LOOKS_LIKE.search(text_head.lstrip("\ufeff")))


def read_ris(path) -> list[Document]:
    """Every record of a RIS file (UTF-8, BOM and CRLF accepted) as a Document."""
    return parse_ris(read_utf8(path), str(path))


def parse_ris(text: str, path: str) -> list[Document]:
    """Parse the whole text first; InputError names the line and record of the first problem."""
    records = _parse_records(text, path)
    return [_document(record, path) for record in records]


# --- records -------------------------------------------------------------------------------


@dataclass
class _Record:
    number: int  # 1-based position in the file
    line: int  # line of its TY tag
    lines: list[str] = field(default_factory=list)
    tags: dict = field(default_factory=dict)  # rispy's reading of the lines


def _tag_of(line: str) -> str | None:
    """The tag of a RIS tag line, by rispy's own rule (so both split lines the same way)."""
    if line[2:5] == "  -" and line[:2].isupper() and line[:1].isalpha():
        return line[:2]
    return None


def _parse_records(text: str, path: str) -> list[_Record]:
    """Split the file into records with line numbers, then let rispy read each one.

    rispy.loads alone is not enough here: it gives no line numbers, and it silently drops a
    record that has no ER line and any tag lines before the first TY.
    """
    lines = _NEWLINE.split(text.lstrip("\ufeff"))
    if not any(line.strip() for line in lines):
        raise InputError(path, "empty file: no RIS records")
    records: list[_Record] = []
    current: _Record | None = None
    for number, line in enumerate(lines, 1):
        tag = _tag_of(line)
        if current is None:
            if tag == "TY":
                current = _Record(len(records) + 1, number, [line])
            elif tag is not None:
                raise InputError(
                    path, f"{tag} line outside any record (no 'TY  - ' line opens it)", number
                )
            # Blank lines and export headers between records are ignored.
            continue
        if tag == "TY":
            raise InputError(
                path,
                f"record {current.number}{_title_hint(current.lines)} (from line {current.line}) "
                f"has no 'ER  - ' line before the next record starts",
                number,
            )
        current.lines.append(line)
        if tag == "ER":
            records.append(current)
            current = None
    if current is not None:
        raise InputError(
            path,
            f"record {current.number}{_title_hint(current.lines)} has no 'ER  - ' line: "
            f"the file ends at line {len(lines)} (truncated export?)",
            current.line,
        )
    if not records:
        raise InputError(path, "no RIS records: no line starts with 'TY  - '")
    for record in records:
        parsed = rispy.RisParser().parse_lines(iter(record.lines))
        record.tags = parsed[0] if parsed else {}
    return records


def _title_hint(lines: list[str]) -> str:
    for line in lines:
        if _tag_of(line) in ("TI", "T1"):
            title = one_line(line[6:]) or ""
            return f' ("{title[:60]}{"..." if len(title) > 60 else ""}")' if title else ""
    return ""


# --- fields --------------------------------------------------------------------------------


def _values(tags: dict, key: str) -> list[str]:
    """All non-empty values of a rispy key, whitespace folded.

    rispy keeps the first value of a repeated single tag and turns continuation lines of list
    tags (AU, KW, N1, UR) into extra items; blank items are dropped here.
    """
    value = tags.get(key)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [v for v in (one_line(str(item)) for item in items) if v]


def _first(tags: dict, *keys: str) -> str | None:
    for key in keys:
        values = _values(tags, key)
        if values:
            return values[0]
    return None


def _ris_author(value: str) -> str:
    """"Ytterberg, Steven R" -> "Steven R Ytterberg"; "Smith, John, Jr" -> "John Smith Jr";
    a name without a comma ("Ytterberg SR", "World Health Organization") as given."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) == 1:
        return one_line(value) or ""
    return person_name(parts[0], parts[1], " ".join(parts[2:]))


def _ris_date(tags: dict) -> str | None:
    """PY gives the year; DA or Y1 may add month and day when they agree on the year."""
    keys = ("year", "publication_year", "date")  # PY, Y1, DA
    found = [p for p in (date_parts(_first(tags, k)) for k in keys) if p]
    if not found:
        return None
    year = found[0][0]
    same_year = [p for p in found if p[0] == year]
    best = max(same_year, key=lambda p: (p[1] is not None, p[2] is not None))
    return " ".join(part for part in best if part)


def _pages(tags: dict) -> str | None:
    start, end = _first(tags, "start_page"), _first(tags, "end_page")
    if start and end and end != start and "-" not in start:
        return f"{start}-{end}"
    return start or end


_PUBMED_DB = re.compile(r"pubmed|medline|\bnlm\b|ncbi", re.I)
_NOTE_KEYS = ("notes", "note", "accession_number") + tuple(f"custom{n}" for n in range(1, 9))


def _pmid(tags: dict, urls: list[str]) -> str | None:
    accession = _first(tags, "accession_number")
    database = _first(tags, "name_of_database")
    if accession:
        pmid = accession_pmid(accession)
        explicit = accession.upper().startswith("PMID")
        if pmid and (explicit or not database or _PUBMED_DB.search(database)):
            return pmid
    notes = [v for key in _NOTE_KEYS for v in _values(tags, key)]
    return pmid_from_notes(notes) or pmid_from_urls(urls)


# Some exports put the DOI or a link in M3 (type of work): that is no article type.
_DOI_LIKE = re.compile(r"^(?:doi:|" + DOI_START + r"|https?://)", re.I)


def _article_types(tags: dict) -> tuple[str, ...]:
    types = []
    for value in _values(tags, "type_of_work"):
        if not _DOI_LIKE.match(value):
            types.extend(split_keywords(value, ";"))
    return dedupe(types)


def _document(record: _Record, path: str) -> Document:
    tags = record.tags
    title = _first(tags, "title", "primary_title")
    sections, abstract_keywords = abstract_sections(_first(tags, "abstract", "notes_abstract"))
    if not title and not sections:
        raise InputError(
            path,
            f"record {record.number} has no title (TI/T1) and no abstract (AB/N2)",
            record.line,
        )
    names = _values(tags, "authors") + _values(tags, "first_authors")  # AU, A1
    people: dict[str, str] = {}  # name -> its family name where "Last, First" gives it, else ""
    for name in names:
        person = _ris_author(name)
        if person and person not in people:
            family, comma, _ = name.partition(",")
            people[person] = (one_line(family) or "") if comma else ""
    authors = tuple(people)
    surnames = tuple(people.values()) if any(people.values()) else ()
    abbreviation = _first(tags, "alternate_title2", "alternate_title1", "journal_name")  # JA J2 JO
    full = _first(tags, "alternate_title3", "secondary_title")  # JF T2
    date = _ris_date(tags)
    urls = _values(tags, "urls")
    doi = clean_doi(_first(tags, "doi")) or doi_from_urls(urls)
    pmid = _pmid(tags, urls)
    notes = _values(tags, "notes") + _values(tags, "note")
    keywords = [k for value in _values(tags, "keywords") for k in split_keywords(value, ";")]
    keywords += abstract_keywords
    types = _article_types(tags)
    retracted = (
        title_says_retracted(title)
        or any(says_retracted(n) for n in notes)
        or says_retracted(" ".join(notes))  # rispy splits a wrapped N1 into several notes
        or any(t.lower() in ("retracted publication", "retracted") for t in (*types, *keywords))
    )
    pmc = pmc_from(_values(tags, "custom2") + notes + urls)
    return Document(
        doc_id=make_doc_id(pmid, doi, authors, date[:4] if date else None, title),
        title=title,
        authors=authors,
        surnames=surnames,
        journal=abbreviation or full,
        journal_full=full,
        date=date,
        volume=_first(tags, "volume"),
        issue=_first(tags, "number"),
        pages=_pages(tags),
        doi=doi,
        pmid=pmid,
        article_types=types,
        sections=sections,
        keywords=dedupe(keywords),
        retracted=bool(retracted),
        pmc=pmc,
        source_path=str(path),
    )
