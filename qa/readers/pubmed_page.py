"""Reader for the text of a PubMed article web page as copied or captured ("PubMed page text").

Shape of such a page (see corpus/ytterberg-2006-refractory-pm-dm.pubmed.txt):

    <site banners>                      dropped
    Access keys NCBI Homepage ...       dropped
    Review                              article type(s), the lines before the citation line
    . 2006 Jun;8(3):167-73.             top citation line (the journal may be lost, as here)
    doi: 10.1007/s11926-996-0021-7.
    <title>
    [John A Smith 1 2, Mary B Jones 2]  full author line with affiliation numbers, when printed
    Affiliations                        heading, maybe with affiliation lines
    [PMID: 12345678]
    Review / <title>                    repeated
    Steven R Ytterberg. Curr Rheumatol Rep. 2006 Jun.   short citation: authors, journal, date
    Abstract                            paragraphs, maybe labelled ("Background: ...")
    PubMed Disclaimer                   boilerplate: ends the abstract
    Similar articles / Cited by         other papers: ignored
    References                          "    1. Lancet. 2003 Sep 20;362(9388):971-82 - PubMed"
    MeSH terms / Keywords               keywords
    Substances ...                      ignored

Everything kept is text the page prints; a field the page does not give stays None.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.errors import InputError
from qa.models import Document, Reference, Section
from qa.readers.common import KEYWORD_LABELS, LABEL_WORDS, read_utf8
from qa.readers.ids import labelled_doi, labelled_pmid, make_doc_id

# --- line level -------------------------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also splits on \x0c, \u2028 ...
_SPACES = re.compile(r"\s+")  # also folds the no-break spaces of captured pages

# Site banners and page chrome. Comparison is case-folded with ’ read as ' (captures differ).
# These end whatever section they interrupt ("PubMed Disclaimer" closes the abstract).
_BANNERS = frozenset(
    {
        "skip to main page content",
        "u.s. flag",
        "an official website of the united states government",
        "here's how you know",
        "dot gov",
        "the .gov means it's official.",
        "https",
        "the site is secure.",
        "pubmed disclaimer",
    }
)
_BANNER_PREFIXES = (
    "access keys",
    "federal government websites often end in",
    "the https:// ensures",
    "official websites use .gov",
    "a .gov website belongs to",
    "secure .gov websites use https",
    "a lock (",
    "share sensitive information only on official",
)
# Widget labels that may sit anywhere; skipped without ending a section.
_NOISE = re.compile(
    r"^(?:expand|collapse|free article|free pmc article|item in clipboard|show details"
    r"|display options|send to|proceed to details|no abstract available"
    r"|show all \d+ references|see all similar articles|see all \"?cited by\"? articles)\.?$",
    re.IGNORECASE,
)

# Headings that belong to the top of the page: the title block continues after them.
_HEADER_HEADINGS = ("affiliations", "full text links", "cite")
# Headings of the page body, and what the reader does with their content.
_USED_HEADINGS = ("abstract", "references", "mesh terms", "keywords", "publication types")
_IGNORED_HEADINGS = (
    "similar articles",
    "cited by",
    "substances",
    "grants and funding",
    "linkout - more resources",
    "related information",
    "comment in",
    "comment on",
    "erratum in",
    "update of",
    "update in",
    "conflict of interest statement",
    "figures",
    "supplementary info",
    "associated data",
)
_HEADING = re.compile(
    r"^(?P<name>"
    + "|".join(re.escape(h) for h in _HEADER_HEADINGS + _USED_HEADINGS + _IGNORED_HEADINGS)
    + r")(?:\s*\(\d+\)|\s+\d+\s+articles?)?$",  # "Cited by (12)", "Cited by 12 articles"
    re.IGNORECASE,
)

# --- citations --------------------------------------------------------------------------

# As PubMed prints dates: "2006", "2006 Jun", "2003 Sep 20", "2006 Jun-Jul", "2011 Spring".
_DATE = r"(?:1[89]|20)\d\d(?: [A-Z][a-z]{2,8}(?:-[A-Z][a-z]{2,8})?(?: \d{1,2}(?:-\d{1,2})?)?)?"
# ";8(3):167-73", ";32:1719-26", ";67 Suppl 3:iii1-4"; every part optional.
_VOLUME_ISSUE_PAGES = (
    r"(?:;(?P<volume>[^();:]+?)?(?:\((?P<issue>[^()]+)\))?(?::(?P<pages>[^\s;]+?))?)?"
)
_CITATION_END = r"\.?(?=\s|$)"

# Top citation line: "Curr Rheumatol Rep. 2006 Jun;8(3):167-73." or, journal lost, ". 2006 Jun;..."
_TOP_CITATION = re.compile(
    rf"^(?P<journal>[^.;]*?)\s*\.\s+(?P<date>{_DATE}){_VOLUME_ISSUE_PAGES}{_CITATION_END}"
)
# Short citation under the repeated title: "Steven R Ytterberg. Curr Rheumatol Rep. 2006 Jun."
_SHORT_CITATION = re.compile(
    rf"^(?P<authors>[^.]+?)\. (?P<journal>[^.;]+?)\. (?P<date>{_DATE})\.?$"
)
# Journal part inside a reference line; it starts the line or follows a sentence end.
_REF_CITATION = re.compile(
    rf"(?:^|(?<=[.?!] ))(?P<journal>[^\s.;?!][^.;?!]*?)\. (?P<date>{_DATE})"
    rf"{_VOLUME_ISSUE_PAGES}{_CITATION_END}"
)
_REF_NUMBER = re.compile(r"^\d+\.\s+")
_REF_SITE_LINKS = re.compile(r"(?:\s+-\s+(?:PubMed|PMC|DOI|Google Scholar))+\s*$")

_META_LINE = re.compile(r"^(?:PMID|PMCID|doi):", re.IGNORECASE)

# Names in references: "Dalakas MC", "van der Meer JW", "Hernández-García C", "Smith JA Jr".
_REF_NAME = (
    r"(?:[a-z]+ ){0,3}[^\W\d_][\w'’-]*(?: [^\W\d_][\w'’-]*){0,3} [A-Z]{1,4}"
    r"(?: (?:Jr|Sr|2nd|3rd|II|III|IV))?"
)
_REF_AUTHORS = re.compile(rf"^{_REF_NAME}(?:, {_REF_NAME})*(?:,? et al)?$")
# A person as the page prints one: "Steven R Ytterberg", "Marco Bellini", "Ana de la Cruz".
_PERSON = re.compile(r"^[^\W\d_][\w'’.-]*(?: [^\W\d_][\w'’.-]*){1,5}$")
_AFFILIATION_NUMBERS = re.compile(r"(?:\s+\d{1,2})+$")
_ET_AL = re.compile(r"^et al\.?$", re.IGNORECASE)

# --- abstract ---------------------------------------------------------------------------

_LABEL = re.compile(r"^(?P<label>[^\W\d_]+(?:[ /&,-]+[^\W\d_]+){0,5}):\s+(?P<body>\S.*)$")


# --- format sniffing: page chrome, or a citation line near an Abstract heading ---------

_SNIFF_CHROME = re.compile(
    r"^(?:Skip to main page content|An official website of the United States government"
    r"|PubMed Disclaimer|Access keys NCBI Homepage.*)\s*$",
    re.MULTILINE,
)
_SNIFF_ABSTRACT = re.compile(r"^\s*Abstract\s*$", re.MULTILINE)
_SNIFF_CITATION = re.compile(rf"^[^.;\n]*\.\s+{_DATE};[^\n]*:\S+\.?\s*$", re.MULTILINE)


@dataclass
class _Block:
    """Lines under one body heading; name None for text after boilerplate (ignored)."""

    name: str | None
    line: int
    lines: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Header:
    """What the top of the page says about the article."""

    article_types: list[str] = field(default_factory=list)
    title: str | None = None
    authors: tuple[str, ...] = ()
    short_authors: tuple[str, ...] = ()
    journal: str | None = None
    short_journal: str | None = None
    date: str | None = None
    short_date: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    citation_line: int | None = None


# --- public API -------------------------------------------------------------------------


def looks_like_pubmed_page(text: str) -> bool:
    """True when text carries PubMed page chrome, or a citation line plus an Abstract heading."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in ("{", "[", "<"):  # JSON lines, XML, HTML are other formats
        return False
    if _SNIFF_CHROME.search(text):
        return True
    top = text[:4000]
    return bool(_SNIFF_ABSTRACT.search(top) and _SNIFF_CITATION.search(top))


def read_pubmed_page(path) -> list[Document]:
    """Read one PubMed page text file (UTF-8, BOM and CRLF accepted) as [Document]."""
    text = read_utf8(path)
    return [parse_pubmed_page(text, str(path))]


def parse_pubmed_page(text: str, path: str) -> Document:
    """Parse the text of one PubMed article page; InputError when it has no usable article."""
    lines = _clean_lines(text)
    if not any(line for _, line in lines):
        raise InputError(path, "empty file: no PubMed page text")
    header_entries, blocks = _split_page(lines)
    header = _parse_header(header_entries)
    if header.title is None:
        raise InputError(path, _no_title_message(header), header.citation_line)

    sections: list[Section] = []
    references: list[Reference] = []
    keywords: list[str] = []
    types = list(header.article_types)
    abstract_line = None
    for block in blocks:
        if block.name in (None, "abstract"):  # not in reference lists or other papers' data
            _take_block_meta(block, header)
        if block.name == "abstract":
            abstract_line = abstract_line or block.line
            found, words = _parse_abstract(block.lines)
            sections.extend(found)
            keywords.extend(words)
        elif block.name == "references":
            for _, line in block.lines:
                if line:
                    references.append(_parse_reference(len(references) + 1, line))
        elif block.name in ("mesh terms", "keywords"):
            keywords.extend(_keyword_lines(block.lines))
        elif block.name == "publication types":
            types.extend(line for _, line in block.lines if line)
    if not sections and not references:
        raise InputError(path, "no abstract and no references: nothing to search", abstract_line)
    return _make_document(header, types, sections, references, keywords, path)


# --- page structure ---------------------------------------------------------------------


def _clean_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number, whitespace-normalised line) for every line, blanks kept."""
    text = text.lstrip("\ufeff")
    return [(n, _SPACES.sub(" ", raw).strip()) for n, raw in enumerate(_NEWLINE.split(text), 1)]


def _is_banner(line: str) -> bool:
    key = line.casefold().replace("’", "'")
    return key in _BANNERS or key.startswith(_BANNER_PREFIXES)


def _split_page(lines: list[tuple[int, str]]):
    """Header entries (text, or None for a header heading) and the body blocks.

    The header runs until the first body heading; banners and widget labels are dropped,
    blank lines kept in blocks because they separate abstract paragraphs.
    """
    header: list[tuple[int, str | None]] = []
    blocks: list[_Block] = []
    for lineno, line in lines:
        if line and _NOISE.match(line):
            continue
        heading = _HEADING.match(line) if line else None
        if heading:
            name = heading.group("name").lower()
            if not blocks and name in _HEADER_HEADINGS:
                header.append((lineno, None))
            else:
                blocks.append(_Block(name, lineno))
        elif line and _is_banner(line):
            if blocks:  # boilerplate ends the current section
                blocks.append(_Block(None, lineno))
        elif blocks:
            blocks[-1].lines.append((lineno, line))
        elif line:
            header.append((lineno, line))
    return header, blocks


def _take_block_meta(block: _Block, header: _Header) -> None:
    """Pull "PMID: ..." / "doi: ..." lines out of a block into the header fields."""
    kept = []
    for lineno, line in block.lines:
        if line and _take_meta(line, header):
            continue
        kept.append((lineno, line))
    block.lines[:] = kept


def _take_meta(line: str, header: _Header) -> bool:
    """Record a metadata line ("PMID: 123 DOI: 10..."); False when the line is something else."""
    if not _META_LINE.match(line):
        return False
    pmid = labelled_pmid(line, printed=True)
    if pmid and header.pmid is None:
        header.pmid = pmid
    doi = labelled_doi(line)
    if doi and header.doi is None:
        header.doi = doi
    return True


# --- header -----------------------------------------------------------------------------


def _parse_header(entries: list[tuple[int, str | None]]) -> _Header:
    header = _Header()
    rest = [(n, line) for n, line in entries if line is None or not _take_meta(line, header)]
    top = next(
        (i for i, (_, line) in enumerate(rest) if line and _TOP_CITATION.match(line)), None
    )
    if top is not None:
        header.article_types = _dedupe(line for _, line in rest[:top] if line)
        header.citation_line = rest[top][0]
        _apply_top_citation(rest[top][1], header)
        rest = rest[top + 1 :]
    _read_title_block(rest, header, title_first=top is not None)
    _settle_header(header)
    return header


def _apply_top_citation(line: str, header: _Header) -> None:
    m = _TOP_CITATION.match(line)
    header.journal = m.group("journal").strip() or None
    header.date = m.group("date")
    header.volume = _strip_or_none(m.group("volume"))
    header.issue = _strip_or_none(m.group("issue"))
    header.pages = _strip_or_none(m.group("pages"))
    doi = labelled_doi(line)  # "Curr Rheumatol Rep. 2006 Jun;8(3):167-73. doi: 10...."
    if doi and header.doi is None:
        header.doi = doi


def _read_title_block(
    rest: list[tuple[int, str | None]], header: _Header, title_first: bool
) -> None:
    """Title, full author line and short citation from the lines after the citation line.

    With a citation line the title is the next unclassified line. Without one, type lines
    cannot be told from the title, so only the line just above the short citation counts
    (or the single unclassified line of the header, when there is exactly one).
    """
    previous: str | None = None  # last unclassified line, for the short-citation fallback
    after_title = False  # the full author line, when printed, follows the title directly
    others: list[str] = []
    for _, line in rest:
        if line is None:  # "Affiliations" and the like end the title block
            previous, after_title = None, False
            continue
        if line == header.title or line in header.article_types:
            after_title = False
            continue
        short = _SHORT_CITATION.match(line)
        if short:
            _apply_short_citation(short, header)
            if header.title is None and previous is not None:
                header.title = previous
            continue
        if header.title is None and title_first:
            header.title, after_title = line, True
            continue
        names = _author_line(line) if after_title and not header.authors else None
        if names:
            header.authors = names
        else:
            others.append(line)
            previous = line
        after_title = False
    if header.title is None and not title_first and len(others) == 1:
        header.title = others[0]


def _apply_short_citation(m: re.Match, header: _Header) -> None:
    items = (_AFFILIATION_NUMBERS.sub("", a.strip()) for a in m.group("authors").split(","))
    header.short_authors = tuple(a for a in items if a and not _ET_AL.match(a))
    header.short_journal = m.group("journal").strip()
    header.short_date = m.group("date")


def _author_line(line: str) -> tuple[str, ...] | None:
    """Names of "John A Smith 1 2, Mary B Jones 2, et al", or None if any item is no name."""
    names = []
    for item in line.rstrip(".").split(","):
        name = _AFFILIATION_NUMBERS.sub("", item.strip())
        if _ET_AL.match(name):
            continue
        if not _PERSON.match(name):
            return None
        names.append(name)
    return tuple(names) or None


def _settle_header(header: _Header) -> None:
    """Prefer the top citation and the full author line; fill gaps from the short citation."""
    header.journal = header.journal or header.short_journal
    header.date = header.date or header.short_date
    header.authors = header.authors or header.short_authors


def _no_title_message(header: _Header) -> str:
    if header.citation_line is not None:
        return "no article title after the citation line"
    return "no article title found (no citation line such as 'J Name. 2006 Jun;8(3):167-73.')"


# --- abstract, keywords -----------------------------------------------------------------


def _paragraphs(lines: list[tuple[int, str]]) -> list[str]:
    """Join wrapped lines; a blank line or a labelled line ("Methods: ...") starts a paragraph."""
    paragraphs: list[list[str]] = []
    fresh = True
    for _, line in lines:
        if not line:
            fresh = True
            continue
        if fresh or _label_of(line):
            paragraphs.append([])
        paragraphs[-1].append(line)
        fresh = False
    return [" ".join(p) for p in paragraphs]


def _label_of(paragraph: str) -> re.Match | None:
    m = _LABEL.match(paragraph)
    if not m:
        return None
    label = m.group("label")
    first = label.split()[0].lower().strip(",/&-")
    if label.isupper() or first in LABEL_WORDS:
        return m
    return None


def _parse_abstract(lines: list[tuple[int, str]]) -> tuple[list[Section], list[str]]:
    """Sections of the abstract and any "Keywords: a; b" paragraph it ends with.

    A labelled paragraph starts Section(label, text); unlabelled paragraphs continue the
    current section, or form Section(None, ...) when no label came before them.
    """
    parts: list[tuple[str | None, list[str]]] = []
    keywords: list[str] = []
    for paragraph in _paragraphs(lines):
        m = _label_of(paragraph)
        if m and m.group("label").lower() in KEYWORD_LABELS:
            keywords.extend(_split_keywords(m.group("body")))
        elif m:
            parts.append((m.group("label"), [m.group("body")]))
        elif parts:
            parts[-1][1].append(paragraph)
        else:
            parts.append((None, [paragraph]))
    return [Section(label, "\n\n".join(texts)) for label, texts in parts], keywords


def _split_keywords(text: str) -> list[str]:
    return [k.strip().rstrip(".").strip() for k in text.split(";") if k.strip().rstrip(".")]


def _keyword_lines(lines: list[tuple[int, str]]) -> list[str]:
    words: list[str] = []
    for _, line in lines:
        if line:
            words.extend(_split_keywords(line))
    return words


# --- references -------------------------------------------------------------------------


def _parse_reference(number: int, line: str) -> Reference:
    """One reference line; fields the line does not clearly give stay None."""
    text = _REF_SITE_LINKS.sub("", _REF_NUMBER.sub("", line)).strip()
    m = _best_citation(text)
    authors, title = _authors_and_title(text[: m.start()] if m else "")
    return Reference(
        number=number,
        text=text,
        journal=m.group("journal").strip() if m else None,
        date=m.group("date") if m else None,
        volume=_strip_or_none(m.group("volume")) if m else None,
        issue=_strip_or_none(m.group("issue")) if m else None,
        pages=_strip_or_none(m.group("pages")) if m else None,
        title=title,
        authors=authors,
        doi=labelled_doi(text),
        pmid=labelled_pmid(text, printed=True),
    )


def _best_citation(text: str) -> re.Match | None:
    """The journal/date match with volume or pages, else the first; titles may hold dates."""
    first = None
    for m in _REF_CITATION.finditer(text):
        if m.group("volume") or m.group("pages"):
            return m
        first = first or m
    return first


def _authors_and_title(prefix: str) -> tuple[tuple[str, ...], str | None]:
    """Split "Dalakas MC, Hohlfeld R. Polymyositis and dermatomyositis." when clearly shaped."""
    head, sep, tail = prefix.strip().partition(". ")
    if not sep or not tail.strip() or not _REF_AUTHORS.match(head):
        return (), None
    names = tuple(n.strip() for n in head.split(",") if n.strip() and not _ET_AL.match(n.strip()))
    return names, tail.strip().rstrip(".").strip() or None


# --- small helpers ----------------------------------------------------------------------


def _make_document(header, types, sections, references, keywords, path) -> Document:
    # A journal printed on its own line above ". 2006 Jun;..." would look like a type line.
    types = [t for t in types if t != header.journal]
    doc_id = make_doc_id(header.pmid, header.doi, header.authors, _year(header.date), header.title)
    return Document(
        doc_id=doc_id,
        title=header.title,
        authors=header.authors,
        journal=header.journal,
        date=header.date,
        volume=header.volume,
        issue=header.issue,
        pages=header.pages,
        doi=header.doi,
        pmid=header.pmid,
        article_types=tuple(_dedupe(types)),
        sections=tuple(sections),
        references=tuple(references),
        keywords=tuple(_dedupe(keywords)),
        source_path=str(path),
    )


def _year(date: str | None) -> str | None:
    return date[:4] if date and date[:4].isdigit() else None


def _strip_or_none(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None


def _dedupe(items) -> list[str]:
    return list(dict.fromkeys(items))
