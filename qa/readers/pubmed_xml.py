"""Reader for PubMed XML (a PubmedArticleSet as efetch retmode=xml returns it).

    <PubmedArticleSet>
      <PubmedArticle>
        <MedlineCitation>
          <PMID>27797938</PMID>
          <Article>
            <Journal> JournalIssue(Volume, Issue, PubDate), Title, ISOAbbreviation </Journal>
            <ArticleTitle>... the <i>TERT</i> gene ...</ArticleTitle>
            <Pagination><MedlinePgn>1116-1122</MedlinePgn></Pagination>
            <Abstract><AbstractText Label="OBJECTIVE">...</AbstractText> ...</Abstract>
            <AuthorList><Author><LastName/><ForeName/></Author> ...</AuthorList>
            <PublicationTypeList> ... </PublicationTypeList>
          </Article>
          <CommentsCorrectionsList>          cited works: RefType="Cites", RefSource + PMID;
                                             RefType="RetractionIn": the article is retracted
          <MeshHeadingList> DescriptorName ... </MeshHeadingList>
        </MedlineCitation>
        <PubmedData>
          <ArticleIdList> doi, pmc ... </ArticleIdList>
          <ReferenceList> Reference(Citation, ArticleIdList) ... </ReferenceList>   (newer files)
        </PubmedData>
      </PubmedArticle>
    </PubmedArticleSet>

The XML is parsed with defusedxml: any entity declaration (entity-expansion bombs, external
entities such as SYSTEM "file:///etc/passwd") is refused before anything is expanded or read,
and external DTDs are never fetched. Inline markup (<i>, <sup>, <sub>, MathML) is flattened to
its text. Values are kept as the XML gives them; what it does not give stays None.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, EntitiesForbidden

from qa.errors import InputError
from qa.models import Document, Reference, Section
from qa.readers.ids import CITED_DOI_PATTERN, is_pmid, make_doc_id

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle")
_SET_TAGS = ("PubmedArticleSet", "PubmedBookArticleSet")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RETRACTED_TYPE = "retracted publication"

# Sniffing: an XML declaration, comments and a DOCTYPE may precede the root element.
_SNIFF = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*"
    r"(?:<!DOCTYPE\s[^\[>]*(?:\[.*?\]\s*)?>\s*)?(?:<!--.*?-->\s*)*"
    r"<(?:PubmedArticleSet|PubmedArticle|PubmedBookArticleSet|PubmedBookArticle)(?:[\s>/]|$)",
    re.DOTALL,
)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_POSITION_SUFFIX = re.compile(r":?\s*line \d+, column \d+$")

# A MEDLINE citation as RefSource prints it: "Stat Med. 1989 May;8(5):551-61",
# "Lancet. 2005 Aug 20-26;366(9486):662-4", "Nat Commun. 2013;4:1597",
# "CA Cancer J Clin. 2016 Jan-Feb;66(1):7-30". Only a whole match is split into fields.
_DATE = r"(?:1[5-9]|20)\d\d(?: [A-Z][a-z]{2,8}(?:-[A-Z][a-z]{2,8})?(?: \d{1,2}(?:-\d{1,2})?)?)?"
_REF_SOURCE = re.compile(
    rf"^(?P<journal>[^.;]+)\. (?P<date>{_DATE})"
    r"(?:;(?P<volume>[^();:]+?)?(?:\((?P<issue>[^()]+)\))?(?::(?P<pages>[^;]+?))?)?"
    r"(?:\.? doi: ?(?P<doi>" + CITED_DOI_PATTERN + r"))?\.?$"
)
_NO_VALUE = frozenset({"", "null", "none"})  # "J Natl Cancer Inst. 2014 Sep 17;106(10):null"


# --- public API -------------------------------------------------------------------------


def looks_like_pubmed_xml(text_head: str) -> bool:
    """True when <PubmedArticleSet> or <PubmedArticle> is the root element of the text."""
    return bool(_SNIFF.match(text_head.lstrip("\ufeff")))


def read_pubmed_xml(path) -> list[Document]:
    """Read a PubMed XML file; InputError for unsafe, malformed or unusable input."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None
    return parse_pubmed_xml(data, str(path))


def parse_pubmed_xml(data: bytes, path: str) -> list[Document]:
    """Documents of every PubmedArticle in the XML bytes; the whole file is parsed first."""
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise InputError(path, "empty file: no PubMed XML")
    _check_utf8(data, path)
    documents: list[Document] = []
    number = 0  # records started so far
    record_tag = "PubmedArticle"
    depth = 0
    root: Element | None = None
    try:
        for event, elem in SafeET.iterparse(
            io.BytesIO(data),
            events=("start", "end"),
            forbid_dtd=False,  # PubMed files carry a DOCTYPE naming the NLM DTD (never fetched)
            forbid_entities=True,
            forbid_external=True,
        ):
            if event == "start":
                depth += 1
                if root is None:
                    root = elem
                    _check_root(elem, path)
                if elem.tag in _RECORD_TAGS and depth <= 2:
                    number += 1
                    record_tag = elem.tag
                continue
            depth -= 1
            if elem.tag in _RECORD_TAGS and depth <= 1:
                documents.append(_document(elem, f"{elem.tag} {number}", path))
                if elem is not root:
                    root.clear()  # keep memory flat on large efetch batches
    except EntitiesForbidden as exc:
        system = f" (SYSTEM {exc.sysid!r})" if exc.sysid else ""
        raise InputError(
            path,
            f"refused: the XML declares entity {exc.name!r}{system}; entity declarations are "
            "not allowed (protection against entity-expansion bombs and external entities)",
            _line_of(data, b"<!ENTITY"),
        ) from None
    except DefusedXmlException as exc:
        raise InputError(path, f"refused: unsafe XML ({type(exc).__name__}: {exc})") from None
    except LookupError as exc:  # <?xml ... encoding="bogus"?>
        raise InputError(path, f"unknown character encoding declared: {exc}", 1) from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        reason = _POSITION_SUFFIX.sub("", str(exc))
        where = f" in {record_tag} {number}" if number else ""
        raise InputError(
            path, f"malformed or truncated XML{where}: {reason} (column {column})", line
        ) from None
    if root is None or not documents:
        raise InputError(path, "no PubmedArticle records in the file")
    return documents


# --- file-level checks ------------------------------------------------------------------


def _check_utf8(data: bytes, path: str) -> None:
    """Name the line of an invalid UTF-8 byte (expat would only say "not well-formed")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 with a byte-order mark: expat decodes it
    declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    encoding = declared.group(1).decode("ascii").lower().replace("_", "-") if declared else None
    if encoding not in (None, "utf-8", "utf8"):
        return  # another declared encoding: expat decodes it
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line
        ) from None


def _line_of(data: bytes, needle: bytes) -> int | None:
    at = data.find(needle)
    return data.count(b"\n", 0, at) + 1 if at >= 0 else None


def _check_root(root: Element, path: str) -> None:
    if root.tag not in _SET_TAGS + _RECORD_TAGS:
        tag = " ".join(root.tag.split())  # a namespace URI may hold "&#10;": one line
        raise InputError(
            path, f"not PubMed XML: the root element is <{tag}>, not <PubmedArticleSet>"
        )


# --- record -> Document -----------------------------------------------------------------


def _document(record: Element, where: str, path: str) -> Document:
    if record.tag == "PubmedBookArticle":
        return _book_document(record, where, path)
    citation = record.find("MedlineCitation")
    if citation is None:
        raise InputError(path, f"{where}: no <MedlineCitation>")
    article = citation.find("Article")
    article = article if article is not None else Element("Article")
    pubmed_data = record.find("PubmedData")
    ids = _article_ids(pubmed_data.find("ArticleIdList") if pubmed_data is not None else None)

    pmid = _text(citation.find("PMID")) or ids.get("pubmed")
    title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
    where = f"{where} (PMID {pmid})" if pmid else where
    _check_ids(pmid, title, where, path)

    journal = article.find("Journal")
    journal = journal if journal is not None else Element("Journal")
    issue = journal.find("JournalIssue")
    issue = issue if issue is not None else Element("JournalIssue")
    doi = ids.get("doi") or _elocation(article, "doi")
    authors, surnames = _authors(article.find("AuthorList"))
    date = _pub_date(issue.find("PubDate"))
    types = tuple(_dedupe(_texts(article.findall("PublicationTypeList/PublicationType"))))
    comments = citation.findall("CommentsCorrectionsList/CommentsCorrections")
    retracted = any(t.lower() == _RETRACTED_TYPE for t in types) or any(
        c.get("RefType") == "RetractionIn" for c in comments
    )
    return Document(
        doc_id=make_doc_id(pmid, doi, authors, _year(date), title),
        title=title,
        authors=authors,
        surnames=surnames,
        journal=_text(journal.find("ISOAbbreviation"))
        or _text(citation.find("MedlineJournalInfo/MedlineTA")),
        journal_full=_text(journal.find("Title")),
        date=date,
        volume=_text(issue.find("Volume")),
        issue=_text(issue.find("Issue")),
        pages=_pages(article.find("Pagination")),
        doi=doi,
        pmid=pmid,
        article_types=types,
        sections=_sections(article.find("Abstract")),
        references=_references(pubmed_data, comments),
        keywords=_keywords(citation),
        retracted=retracted,
        pmc=ids.get("pmc"),
        source_path=path,
    )


def _book_document(record: Element, where: str, path: str) -> Document:
    """A PubmedBookArticle (a book or chapter, e.g. GeneReviews, StatPearls): the same fields
    where the BookDocument gives them; no journal."""
    book_doc = record.find("BookDocument")
    if book_doc is None:
        raise InputError(path, f"{where}: no <BookDocument>")
    book = book_doc.find("Book")
    book = book if book is not None else Element("Book")
    ids = _article_ids(book_doc.find("ArticleIdList"))
    book_data = record.find("PubmedBookData")
    if book_data is not None:
        ids = {**_article_ids(book_data.find("ArticleIdList")), **ids}
    pmid = _text(book_doc.find("PMID")) or ids.get("pubmed")
    title = _text(book_doc.find("ArticleTitle")) or _text(book.find("BookTitle"))
    where = f"{where} (PMID {pmid})" if pmid else where
    _check_ids(pmid, title, where, path)
    authors, surnames = _authors(book_doc.find("AuthorList"))
    if not authors:
        authors, surnames = _authors(book.find("AuthorList"))
    date = _pub_date(book.find("PubDate"))
    doi = ids.get("doi")
    types = tuple(_dedupe(_texts(book_doc.findall("PublicationType"))))
    return Document(
        doc_id=make_doc_id(pmid, doi, authors, _year(date), title),
        title=title,
        authors=authors,
        surnames=surnames,
        date=date,
        volume=_text(book.find("Volume")),
        doi=doi,
        pmid=pmid,
        article_types=types,
        sections=_sections(book_doc.find("Abstract")),
        references=_references(book_data, []),
        keywords=tuple(_dedupe(_texts(book_doc.findall("KeywordList/Keyword")))),
        retracted=any(t.lower() == _RETRACTED_TYPE for t in types),
        pmc=ids.get("pmc"),
        source_path=path,
    )


def _check_ids(pmid: str | None, title: str | None, where: str, path: str) -> None:
    if pmid is None and title is None:
        raise InputError(path, f"{where}: no PMID and no ArticleTitle")
    if pmid is not None and not is_pmid(pmid):
        raise InputError(path, f"{where}: PMID {pmid!r} is not a number")


# --- fields -----------------------------------------------------------------------------


def _text(elem: Element | None) -> str | None:
    """All text of an element, inline markup flattened, whitespace folded; None when empty."""
    if elem is None:
        return None
    text = " ".join("".join(elem.itertext()).split())
    return text or None


def _texts(elems) -> list[str]:
    return [t for t in (_text(e) for e in elems) if t]


def _article_ids(id_list: Element | None) -> dict[str, str]:
    """IdType -> value of an ArticleIdList ("doi", "pmc", "pubmed" ...), first of each type."""
    ids: dict[str, str] = {}
    if id_list is None:
        return ids
    for article_id in id_list.findall("ArticleId"):
        kind = (article_id.get("IdType") or "").strip().lower()
        value = _text(article_id)
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def _elocation(article: Element, kind: str) -> str | None:
    for eloc in article.findall("ELocationID"):
        if (eloc.get("EIdType") or "").lower() == kind and eloc.get("ValidYN", "Y") == "Y":
            return _text(eloc)
    return None


def _authors(author_list: Element | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """"ForeName LastName Suffix" ("Steven R Ytterberg"), a CollectiveName as is; authors
    marked ValidYN="N" (names NLM found to be wrong) are left out, as PubMed does. With them,
    each name's LastName ("De Luca"); a collective name is its own."""
    if author_list is None:
        return (), ()
    names: list[str] = []
    surnames: list[str] = []
    for author in author_list.findall("Author"):
        if author.get("ValidYN", "Y") == "N":
            continue
        collective = _text(author.find("CollectiveName"))
        last = _text(author.find("LastName"))
        if last:
            given = _text(author.find("ForeName")) or _text(author.find("Initials"))
            parts = (given, last, _text(author.find("Suffix")))
            names.append(" ".join(p for p in parts if p))
            surnames.append(last)
        elif collective:  # a group's name is all family: nothing of it is a given name
            names.append(collective)
            surnames.append(collective)
    return tuple(names), (tuple(surnames) if any(surnames) else ())


def _pub_date(pub_date: Element | None) -> str | None:
    """As PubMed prints it: "2006 Jun", "2003 Sep 20", "2011 Spring", MedlineDate as is."""
    if pub_date is None:
        return None
    medline_date = _text(pub_date.find("MedlineDate"))
    if medline_date:
        return medline_date
    year = _text(pub_date.find("Year"))
    if not year:
        return None
    month = _month(_text(pub_date.find("Month")))
    day = _text(pub_date.find("Day"))
    season = _text(pub_date.find("Season"))
    parts = [year]
    if month:
        parts.append(month)
        if day:
            parts.append(day.lstrip("0") or day)
    elif season:
        parts.append(season)
    return " ".join(parts)


def _month(month: str | None) -> str | None:
    """ "06" or "6" -> "Jun"; a name ("Jun", "June") -> its three-letter form; else as is."""
    if not month:
        return None
    if month.isdigit():
        n = int(month)
        return _MONTHS[n - 1] if 1 <= n <= 12 else month
    head = month[:3].title()
    return head if head in _MONTHS else month


def _pages(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    medline = _text(pagination.find("MedlinePgn"))
    if medline:
        return medline
    start, end = _text(pagination.find("StartPage")), _text(pagination.find("EndPage"))
    if start and end and end != start:
        return f"{start}-{end}"
    return start


def _sections(abstract: Element | None) -> tuple[Section, ...]:
    """One Section per AbstractText: Label (e.g. "RESULTS") or None for unlabelled text."""
    if abstract is None:
        return ()
    sections = []
    for part in abstract.findall("AbstractText"):
        text = _text(part)
        if text:
            label = (part.get("Label") or "").strip() or None
            sections.append(Section(label, text))
    return tuple(sections)


def _keywords(citation: Element) -> tuple[str, ...]:
    """MeSH descriptor names in order, then author keywords (KeywordList), without repeats."""
    mesh = _texts(citation.findall("MeshHeadingList/MeshHeading/DescriptorName"))
    other = _texts(citation.findall("KeywordList/Keyword"))
    return tuple(_dedupe(mesh + other))


# --- references -------------------------------------------------------------------------


def _references(pubmed_data: Element | None, comments: list[Element]) -> tuple[Reference, ...]:
    """The article's ReferenceList when the file has one (it is the full list, cited works
    without a PMID included); else the works of CommentsCorrections RefType="Cites"."""
    listed = _reference_list(pubmed_data)
    if listed:
        return listed
    refs: list[Reference] = []
    for comment in comments:
        if comment.get("RefType") != "Cites":
            continue
        source = _text(comment.find("RefSource"))
        pmid = _text(comment.find("PMID"))
        if source or pmid:
            refs.append(_reference(len(refs) + 1, source or f"PMID {pmid}", pmid, None))
    return tuple(refs)


def _reference_list(pubmed_data: Element | None) -> tuple[Reference, ...]:
    if pubmed_data is None:
        return ()
    refs: list[Reference] = []
    for ref_list in pubmed_data.findall("ReferenceList"):
        for ref in ref_list.iter("Reference"):
            ids = _article_ids(ref.find("ArticleIdList"))
            text = _text(ref.find("Citation"))
            pmid = ids.get("pubmed")
            if text or pmid:
                refs.append(_reference(len(refs) + 1, text or f"PMID {pmid}", pmid, ids.get("doi")))
    return tuple(refs)


def _reference(number: int, text: str, pmid: str | None, doi: str | None) -> Reference:
    """A cited work; journal, date, volume, issue and pages only when the text is exactly a
    MEDLINE citation ("Stat Med. 1989 May;8(5):551-61"), never guessed from free text."""
    m = _REF_SOURCE.match(text)
    if not m:
        return Reference(number=number, text=text, doi=doi, pmid=pmid)
    return Reference(
        number=number,
        text=text,
        journal=m.group("journal").strip(),
        date=m.group("date"),
        volume=_value(m.group("volume")),
        issue=_value(m.group("issue")),
        pages=_value(m.group("pages")),
        doi=doi or m.group("doi"),
        pmid=pmid,
    )


# --- small helpers ----------------------------------------------------------------------


def _value(value: str | None) -> str | None:
    value = value.strip() if value else None
    return None if value is None or value.lower() in _NO_VALUE else value


def _year(date: str | None) -> str | None:
    return date[:4] if date and date[:4].isdigit() else None


def _dedupe(items) -> list[str]:
    return list(dict.fromkeys(items))
