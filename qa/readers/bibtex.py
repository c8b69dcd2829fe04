"""Reader for BibTeX files: Zotero, Google Scholar, Mendeley, JabRef exports and `qa.cite.bibtex`.

Every entry (@article, @inproceedings, @misc, ...) becomes a Document. Fields read:

    title                     title, LaTeX decoded: "M{\\"u}ller" -> "Müller", "{\\'E}mile" ->
                              "Émile", "{TNF}-\\alpha{}" -> "TNF-α", "{IL}" -> "IL"; a title
                              starting "RETRACTED:" marks the work retracted
    author                    "Ytterberg, Steven R and Smith, John" -> ("Steven R Ytterberg",
                              "John Smith"); "{World Health Organization}" stays one name;
                              "Ytterberg, SR" -> "Ytterberg SR" (MEDLINE form, as qa.cite writes
                              such names); "and others" is dropped
    journal, journaltitle     journal, exactly as the field gives it (qa.cite writes the
                              abbreviation, Google Scholar and Zotero the full title: no guessing)
    shortjournal              when present: journal = it, journal_full = the journal field
    year, month               date "2006 Jun" (month as "jun", "June", "6"); biblatex `date`
                              ("2006-06-15") when there is no year
    volume, number / issue    volume, issue
    pages                     "167--173" -> "167-173", "167-73" kept
    doi, url                  verbatim, not LaTeX decoded ("%" and "_" in them are characters)
    pmid                      the pmid field; eprint with eprinttype = pubmed; "PMID: 123" in
                              note / annote / annotation / extra; a PubMed url
    pmcid                     the pmcid field, eprint with eprinttype = pmc, "PMC123" in a note
    keywords                  split on ";" when the field has one, else on ","
    abstract                  labels inside ("BACKGROUND: ...") become Document.sections
    note, annote, annotation  a note saying the work is retracted marks it (see
                              citation_fields.says_retracted)

bibtexparser v2 splits the file into entries (`parse_string` with the `NormalizeFieldKeys` and
`SeparateCoAuthors` middlewares). Its `LatexDecodingMiddleware` is not used, for two reasons:
it decodes every field, so a "%" in a URL or DOI starts a LaTeX comment and cuts the value;
and it leaves names undecoded once `SeparateCoAuthors` has made them a list. Instead the
pylatexenc decoder that middleware builds (pylatexenc is bibtexparser's own dependency) is
applied to text fields and to each name part, with math decoded as text. Names are split one
by one with bibtexparser's `parse_single_name_into_parts` (what `SplitNameParts` calls),
because the display order depends on whether the name was written "Last, First".

Errors: a block bibtexparser could not parse (unbalanced braces, a missing comma or "="),
a duplicate key, or a stray brace between entries raises InputError naming the entry key
(when it can be read) and its line.
"""
from __future__ import annotations

import logging
import re

import bibtexparser
from bibtexparser.exceptions import BlockAbortedException
from bibtexparser.middlewares import NormalizeFieldKeys, SeparateCoAuthors
from bibtexparser.middlewares.names import parse_single_name_into_parts
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    Entry,
    ImplicitComment,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from qa.errors import InputError
from qa.models import Document
from qa.readers.citation_fields import (
    abstract_sections,
    date_parts,
    dedupe,
    month_abbreviation,
    person_name,
    says_retracted,
    split_keywords,
    title_says_retracted,
)
from qa.readers.common import one_line, read_utf8
from qa.readers.ids import (
    clean_doi,
    doi_from_urls,
    is_pmid,
    labelled_pmid,
    make_doc_id,
    pmc_from,
    pmid_from_notes,
    pmid_from_urls,
)

# bibtexparser logs each failed block as a warning, which Python prints to stderr when the
# application configured no logging; qa reports those blocks as InputError instead. The level
# also spares building a record per block (40% of the time on a file of 100,000 broken ones).
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").setLevel(logging.ERROR)

_NEWLINE = re.compile(r"\r\n|\r")
_LOOKS_LIKE = re.compile(r"^[ \t]*@[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_ENTRY_KEY = re.compile(r"^\s*@\s*(?P<type>\w+)\s*[{(]\s*(?P<key>[^\s,={}()]+)\s*,")
_COMMENT_LINE = re.compile(r"^[ \t]*%.*$", re.MULTILINE)
# A bare "&" is a LaTeX alignment tab and a bare "%" starts a comment: in exported fields they
# mean the characters (Google Scholar and Mendeley do not always escape them).
_BARE_SPECIAL = re.compile(r"(?<!\\)([&%])")
# What pylatexenc reads as LaTeX: macros, groups, math, comments, and its text specials
# (& ~ `` '' -- --- !` ?`). A value with none of them decodes to itself; skipping the decoder
# for it matters on long fields (a 1 MB plain-text title took 6 s).
_LATEX_SYNTAX = re.compile(r"[\\{}$%&~^_#]|--|``|''|[!?]`")
_DASHES = re.compile(r"\s*(?:--+|[\u2010-\u2015\u2212])\s*")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_MONTH_WORD = re.compile(r"[A-Za-z]+\.?|\d{1,2}")

_NOTE_FIELDS = ("note", "annote", "annotation", "extra", "addendum")


def _decoder() -> LatexNodes2Text:
    """The decoder bibtexparser's LatexDecodingMiddleware builds, except that math is turned
    into text too ("$\\alpha$" -> "α", which is what a search for the word should find)."""
    context = get_default_latex_context_db()
    context.add_context_category(
        "qa-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False, math_mode="text")


_LATEX = _decoder()


# --- public API ----------------------------------------------------------------------------


def looks_like_bibtex(text_head: str) -> bool:
    """True when a line near the start opens an entry ("@article{", "@Book(")."""
    return bool(_LOOKS_LIKE.search(text_head.lstrip("\ufeff")[:4000]))


def read_bibtex(path) -> list[Document]:
    """Every entry of a BibTeX file (UTF-8, BOM and CRLF accepted) as a Document."""
    return parse_bibtex(read_utf8(path), str(path))


def parse_bibtex(text: str, path: str) -> list[Document]:
    """Parse the whole text first; InputError names the entry and line of the first problem."""
    text = _NEWLINE.sub("\n", text.lstrip("\ufeff"))
    if not text.strip():
        raise InputError(path, "empty file: no BibTeX entries")
    library = bibtexparser.parse_string(
        text, append_middleware=[NormalizeFieldKeys(), SeparateCoAuthors()]
    )
    previous_key = None
    for block in library.blocks:  # in file order: report the first problem
        if isinstance(block, ParsingFailedBlock):
            raise _failure(block, text, path)
        if isinstance(block, ImplicitComment):
            _check_stray_braces(block, previous_key, path)
        if isinstance(block, Entry):
            previous_key = block.key
    if not library.entries:
        raise InputError(path, "no BibTeX entries (no '@type{key, ...}' block)")
    return [_document(entry, path) for entry in library.entries]


# --- errors --------------------------------------------------------------------------------


def _line(block) -> int:
    return (block.start_line or 0) + 1  # bibtexparser counts lines from 0


def _failure(block: ParsingFailedBlock, text: str, path: str) -> InputError:
    line = _line(block)
    m = _ENTRY_KEY.match(block.raw or "")
    who = f"entry '{m.group('key')}'" if m else "entry"
    if isinstance(block, DuplicateBlockKeyBlock):
        first = _line(block.previous_block)
        message = f"duplicate entry key '{block.key}' (first used at line {first})"
        return InputError(path, message, line)
    error = block.error
    if isinstance(block, MiddlewareErrorBlock):
        return InputError(path, f"{who}: {error}", line)
    if isinstance(error, BlockAbortedException):
        reason = error.abort_reason.strip().rstrip(".")
        end = text.count("\n", 0, error.end_index) + 1 if error.end_index is not None else None
        if "end of file" in reason.lower():
            problem = "unbalanced braces or quotes: the entry is still open at the end of the file"
        elif "unexpected block start" in reason.lower():
            problem = (
                "unbalanced braces: the entry is still open where the next entry starts"
                + (f" (line {end})" if end else "")
            )
        else:
            problem = reason.replace("`", "'") + (f" (line {end})" if end and end != line else "")
        return InputError(path, f"{who}: {problem}", line)
    return InputError(path, f"{who}: cannot parse ({error})", line)


def _check_stray_braces(block: ImplicitComment, previous_key: str | None, path: str) -> None:
    """Text between entries is ignored by BibTeX, but a brace there means an entry above
    closed too early ("title = {A}}, year = ...") and lost its remaining fields."""
    comment = _COMMENT_LINE.sub("", block.comment or "")
    if "{" in comment or "}" in comment:
        after = f" after entry '{previous_key}'" if previous_key else ""
        raise InputError(
            path,
            f"unbalanced braces: stray brace in text outside any entry{after} "
            f"(an entry closed early?)",
            _line(block),
        )


# --- fields --------------------------------------------------------------------------------


def _raw(fields: dict, *keys: str) -> str | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _decode(value: str | None, entry: Entry, key: str, path: str) -> str | None:
    """LaTeX to Unicode text; "~" (no-break space) becomes a plain space."""
    if value is None:
        return None
    if not _LATEX_SYNTAX.search(value):  # what pylatexenc would return, without ~10 µs a word
        return value.replace("\u00a0", " ")
    try:
        text = _LATEX.latex_to_text(_BARE_SPECIAL.sub(r"\\\1", value))
    except Exception as exc:  # pylatexenc is tolerant; this is a safety net
        message = f"entry '{entry.key}': cannot decode {key}: {exc}"
        raise InputError(path, message, _line(entry)) from None
    return text.replace("\u00a0", " ")


def _text(fields: dict, entry: Entry, path: str, *keys: str) -> str | None:
    for key in keys:
        value = _raw(fields, key)
        if value is not None:
            text = one_line(_decode(value, entry, key, path))
            if text:
                return text
    return None


def _has_top_level_comma(name: str) -> bool:
    depth = 0
    for char in name:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            return True
    return False


def _authors(value, entry: Entry, path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names of the author field (a list once SeparateCoAuthors has split it on "and"), and
    each one's family name ("von Last": "de Hoon", "{De Luca}")."""
    names = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    people: dict[str, str] = {}
    for raw in names:
        raw = raw.strip()
        if not raw or raw.lower() == "others":
            continue
        parts = parse_single_name_into_parts(raw, strict=False)
        first, von, last, jr = (
            " ".join(_decode(token, entry, "author", path) for token in tokens)
            for tokens in (parts.first, parts.von, parts.last, parts.jr)
        )
        family = " ".join(w for w in (von, last) if w)
        if _has_top_level_comma(raw):  # "von Last, First" or "von Last, Jr, First"
            name = person_name(family, first, jr)
        else:  # "First von Last": kept in that order
            name = one_line(" ".join((first, von, last, jr))) or ""
        if name and name not in people:
            people[name] = one_line(family) or ""
    return tuple(people), (tuple(people.values()) if any(people.values()) else ())


def _date(fields: dict, entry: Entry, path: str) -> str | None:
    year_text = _text(fields, entry, path, "year")
    year = _YEAR.search(year_text).group(1) if year_text and _YEAR.search(year_text) else None
    if year is None:  # biblatex: date = {2006-06-15}
        parts = date_parts(_raw(fields, "date"))
        return " ".join(p for p in parts if p) if parts else None
    month_text = _text(fields, entry, path, "month")
    month = None
    if month_text:
        m = _MONTH_WORD.search(month_text)
        month = month_abbreviation(m.group(0)) if m else None
    return f"{year} {month}" if month else year


def _pages(fields: dict, entry: Entry, path: str) -> str | None:
    pages = _text(fields, entry, path, "pages")
    return _DASHES.sub("-", pages) if pages else None


def _eprint(fields: dict, *types: str) -> str | None:
    kind = (_raw(fields, "eprinttype", "archiveprefix") or "").lower()
    return _raw(fields, "eprint") if kind in types else None


def _pmid(fields: dict, notes: list[str], urls: list[str]) -> str | None:
    for value in (_raw(fields, "pmid"), _eprint(fields, "pubmed", "pmid")):
        if value:  # stripped by _raw: a PMID field is the digits alone
            pmid = value if is_pmid(value) else labelled_pmid(value)
            if pmid:
                return pmid
    return pmid_from_notes(notes) or pmid_from_urls(urls)


def _keywords(fields: dict, entry: Entry, path: str) -> list[str]:
    text = _raw(fields, "keywords")
    if not text:
        return []
    text = _decode(text, entry, "keywords", path) or ""
    return split_keywords(text, ";" if ";" in text else ",")


def _document(entry: Entry, path: str) -> Document:
    fields = {key: field.value for key, field in entry.fields_dict.items()}
    title = _text(fields, entry, path, "title")
    abstract = _raw(fields, "abstract")
    sections, abstract_keywords = abstract_sections(
        _decode(abstract, entry, "abstract", path) if abstract else None
    )
    if not title and not sections:
        raise InputError(path, f"entry '{entry.key}' has no title and no abstract", _line(entry))
    authors, surnames = _authors(fields.get("author"), entry, path)
    journal = _text(fields, entry, path, "journal", "journaltitle")
    short = _text(fields, entry, path, "shortjournal")
    date = _date(fields, entry, path)
    urls = [u for u in (_raw(fields, "url"),) if u]
    notes = [n for n in (_text(fields, entry, path, key) for key in _NOTE_FIELDS) if n]
    doi = clean_doi(_raw(fields, "doi")) or doi_from_urls(urls)
    pmid = _pmid(fields, notes, urls)
    pmc_fields = [v for v in (_raw(fields, "pmcid"), _eprint(fields, "pmc", "pmcid")) if v]
    pmc = pmc_from(pmc_fields + notes + urls)
    keywords = _keywords(fields, entry, path) + abstract_keywords
    retracted = (
        title_says_retracted(title)
        or any(says_retracted(note) for note in notes)
        or any(k.lower() in ("retracted publication", "retracted") for k in keywords)
    )
    return Document(
        doc_id=make_doc_id(pmid, doi, authors, date[:4] if date else None, title),
        title=title,
        authors=authors,
        surnames=surnames,
        journal=short or journal,
        journal_full=journal if short else None,
        date=date,
        volume=_text(fields, entry, path, "volume"),
        issue=_text(fields, entry, path, "number", "issue"),
        pages=_pages(fields, entry, path),
        doi=doi,
        pmid=pmid,
        sections=sections,
        keywords=dedupe(keywords),
        retracted=bool(retracted),
        pmc=pmc,
        source_path=str(path),
        citation_key=one_line(entry.key) or None,
    )
