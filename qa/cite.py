"""Citations of documents: Vancouver lines, BibTeX and RIS entries, and the `source` object of the JSON result."""
from __future__ import annotations

import re

from qa.models import Document, Reference

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{}/"
DOI_URL = "https://doi.org/{}"


# Words that belong to the family name they precede when a name is written given names first
# ("M J L de Hoon", "Seán Ó Briain"): any lower-case word, and the Gaelic particles, capitalised.
_GAELIC_PARTICLES = frozenset({"Ó", "Ní", "Nic", "Mac", "Mc", "Ua", "Uí"})
_SUFFIXES = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})
_RUN_OF_INITIALS = re.compile(r"^[A-Z]{1,3}$")  # MEDLINE's given names: "SR", "MJ"
MAX_INITIALS = 2  # Citing Medicine (the NLM's Vancouver style): at most two initials a name


def name_parts(name: str, family: str | None = None) -> tuple[str, str, str]:
    """(family name, given names, suffix) of an author name as qa stores it.

    `family` is the family name as the source gave it apart (Document.surnames), which settles
    where the name splits: "F De Luca" with "De Luca". Without it: "Ytterberg, Steven R" splits
    at the comma; "Ytterberg SR" and "de Hoon MJ" (MEDLINE) before the initials; "Steven R
    Ytterberg" before the last word, with the particles that precede it ("M J L de Hoon",
    "Seán Ó Briain"). A capitalised particle ("F De Luca") cannot be told from a given name there.
    """
    name = " ".join(name.split())
    family = " ".join((family or "").split())
    if family:
        at = name.rfind(family)
        if at == 0:  # "Ytterberg SR", or a group's name
            return family, name[len(family):].strip(), ""
        if at > 0:
            return family, name[:at].strip(), name[at + len(family):].strip()
    if "," in name:
        last, _, rest = name.partition(",")
        given, _, suffix = rest.partition(",")
        return last.strip(), given.strip(), suffix.strip()
    words = name.split()
    suffix = words.pop() if len(words) > 2 and words[-1] in _SUFFIXES else ""
    if len(words) < 2:
        return " ".join(words), "", suffix
    if _RUN_OF_INITIALS.match(words[-1]):
        return " ".join(words[:-1]), words[-1], suffix
    start = len(words) - 1
    while start > 1 and (words[start - 1].islower() or words[start - 1] in _GAELIC_PARTICLES):
        start -= 1
    return " ".join(words[start:]), " ".join(words[:start]), suffix


def initials(given: str) -> str:
    """'Steven R' -> 'SR'; 'SR' -> 'SR'; 'S.R.' -> 'SR'; 'Jean-Pierre' -> 'JP'."""
    if _RUN_OF_INITIALS.match(given):
        return given
    return "".join(w[0] for w in re.split(r"[\s.-]+", given) if w and w[0].isalpha()).upper()


def short_author(name: str, family: str | None = None) -> str:
    """'Steven R Ytterberg' -> 'Ytterberg SR'; 'M J L de Hoon' -> 'de Hoon MJ'; a name already in
    that form is kept."""
    last, given, suffix = name_parts(name, family)
    return " ".join(p for p in (last, initials(given)[:MAX_INITIALS], suffix) if p)


def people(doc: Document) -> list[tuple[str, str | None]]:
    """(name, family name the source gave or None) of each author of a document."""
    surnames = doc.surnames
    return [(name, surnames[i] if i < len(surnames) and surnames[i] else None)
            for i, name in enumerate(doc.authors)]


def _authors(doc: Document, limit: int = 6) -> str:
    named = people(doc)
    shown = [short_author(name, family) for name, family in named[:limit]]
    if len(named) > limit:
        shown.append("et al")
    return ", ".join(shown)


def where_published(journal, date, volume, issue, pages) -> str:
    """'Curr Rheumatol Rep. 2006 Jun;8(3):167-73' from whichever parts exist."""
    out = f"{journal}." if journal else ""
    tail = date or ""
    if volume:
        tail += f";{volume}"
    if issue:
        tail += f"({issue})"
    if pages:
        tail += f":{pages}"
    tail = tail.lstrip(";")
    return f"{out} {tail}".strip() if tail else out


def url(doc: Document) -> str | None:
    if doc.pmid:
        return PUBMED_URL.format(doc.pmid)
    if doc.doi:
        return DOI_URL.format(doc.doi)
    return None


def vancouver(doc: Document) -> str:
    """Vancouver-style citation with the links the source gives; absent parts are left out."""
    parts = []
    if doc.authors:
        parts.append(_authors(doc) + ".")
    if doc.title:
        parts.append(doc.title.rstrip(".") + ".")
    where = where_published(doc.journal, doc.date, doc.volume, doc.issue, doc.pages)
    if where:
        parts.append(where.rstrip(".") + ".")
    if doc.doi:
        parts.append(f"doi:{doc.doi}")
    if doc.pmid:
        parts.append(f"PMID: {doc.pmid}")
    if not parts:
        parts.append(doc.doc_id)
    if doc.retracted:
        parts.insert(0, "RETRACTED:")
    return " ".join(parts)


def reference_text(ref: Reference) -> str:
    return ref.text.strip().rstrip(".")


def cite_reference(ref: Reference, citing: Document) -> str:
    """A reference-list entry is cited as itself and as the work that cites it."""
    return f"{reference_text(ref)} — reference {ref.number} of {vancouver(citing)}"


def short_label(doc: Document) -> str:
    """'Ytterberg SR. Curr Rheumatol Rep. 2006': names the work without repeating its title.

    Reference passages carry it; the title would make every reference match the review's topic.
    """
    parts = []
    if doc.authors:
        parts.append(short_author(*people(doc)[0]) + (" et al." if len(doc.authors) > 1 else "."))
    elif doc.title:
        parts.append(doc.title.rstrip(".") + ".")
    if doc.journal:
        parts.append(doc.journal + ".")
    if doc.year:
        parts.append(doc.year)
    return " ".join(parts) if parts else doc.doc_id


def source(doc: Document) -> dict:
    """The `source` object of a JSON hit: every key present, unknown values null."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "authors": list(doc.authors),
        "journal": doc.journal,
        "year": doc.year,
        "volume": doc.volume,
        "issue": doc.issue,
        "pages": doc.pages,
        "doi": doc.doi,
        "pmid": doc.pmid,
        "url": url(doc),
        "retracted": doc.retracted,
    }


# ---------------------------------------------------------------- BibTeX and RIS

_BIBTEX_SPECIAL = str.maketrans({**{c: "\\" + c for c in "&%$#_{}"},
                                 "~": r"\textasciitilde{}", "\\": r"\textbackslash{}"})
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def inverted_name(name: str, family: str | None = None) -> str:
    """'Steven R Ytterberg' -> 'Ytterberg, Steven R'; 'M J L de Hoon' -> 'de Hoon, M J L'; with a
    suffix 'Smith, John, Jr' (the form RIS expects)."""
    last, given, suffix = name_parts(name, family)
    return ", ".join(p for p in (last, given, suffix) if p)


def _bibtex_name(name: str, family: str | None) -> str:
    """'{de Hoon}, M. J. L.': a family name of several words braced, so that BibTeX keeps it
    whole; given names that are only initials get their periods. A name in MEDLINE's order
    ("Ytterberg SR", "Ó Briain S") keeps its initials as they are: qa's BibTeX reader reads
    "Ytterberg, SR" back as that same name."""
    last, given, suffix = name_parts(name, family)
    words = given.split()
    if not " ".join(name.split()).startswith(last) and words and all(len(w) == 1 and w.isalpha() for w in words):
        given = " ".join(w + "." for w in words)
    last, given, suffix = (p.translate(_BIBTEX_SPECIAL) for p in (last, given, suffix))
    if " " in last:
        last = "{" + last + "}"
    return ", ".join(p for p in (last, suffix, given) if p)


def _keywords(doc: Document) -> list[str]:
    """Keywords without MEDLINE's major-topic marks ("Sequence Alignment/*methods")."""
    return [k.replace("*", "") for k in doc.keywords]


def _month(doc: Document) -> str | None:
    parts = (doc.date or "").split()
    return parts[1].lower()[:3] if len(parts) > 1 and parts[1].lower()[:3] in _MONTHS else None


def _abstract(doc: Document) -> str:
    return " ".join(f"{s.label}: {s.text}" if s.label else s.text for s in doc.sections)


def _ris_date(doc: Document) -> str | None:
    """RIS DA is YYYY/MM/DD/ (day may be empty): keeps the month a PY line would lose."""
    parts = (doc.date or "").split()
    month = _MONTHS.get(parts[1].lower()[:3]) if len(parts) > 1 else None
    if not doc.year or not month:
        return None
    day = parts[2] if len(parts) > 2 and parts[2].isdigit() else ""
    return f"{doc.year}/{month:02d}/{day.zfill(2) if day else ''}/"


def bibtex_key(doc: Document) -> str:
    """The entry's own key when it came from BibTeX, else 'ytterberg2006treatment'."""
    from qa.readers.ids import make_doc_id

    if doc.citation_key:
        return doc.citation_key
    slug = make_doc_id(None, None, doc.authors, doc.year, doc.title).split("-")
    return "".join(slug[:3]) if slug != ["untitled"] else "".join(c for c in doc.doc_id if c.isalnum())


def unique_keys(docs: list[Document]) -> list[str]:
    """A BibTeX key for each document, a letter added to repeats (smith2020, smith2020b, …)."""
    seen: dict[str, int] = {}
    keys = []
    for doc in docs:
        key = bibtex_key(doc)
        n = seen.get(key, 0)
        seen[key] = n + 1
        keys.append(key if n == 0 else f"{key}{_letters(n)}")
    return keys


def _letters(n: int) -> str:
    """The suffix of the n-th repeat of a key: 1 -> 'b', 25 -> 'z', then the count itself."""
    return "abcdefghijklmnopqrstuvwxyz"[n] if n < 26 else str(n + 1)


def _bibtex_entry(kind: str, key: str, fields: list[tuple[str, str | None]]) -> str:
    body = ",\n".join(f"  {k} = {{{v if k in ('doi', 'url') else str(v).translate(_BIBTEX_SPECIAL)}}}"
                      for k, v in fields if v and k != "author")
    author = next((v for k, v in fields if k == "author" and v), None)
    if author:  # names are escaped one part at a time: a braced family name keeps its braces
        body = f"  author = {{{author}}}" + (",\n" + body if body else "")
    return f"@{kind}{{{key},\n{body}\n}}"


def bibtex(doc: Document, key: str | None = None) -> str:
    names = " and ".join(_bibtex_name(name, family) for name, family in people(doc))
    fields = [("author", names or None),
              ("title", doc.title), ("journal", doc.journal), ("year", doc.year), ("month", _month(doc)),
              ("volume", doc.volume), ("number", doc.issue), ("pages", (doc.pages or "").replace("-", "--") or None),
              ("doi", doc.doi), ("pmid", doc.pmid), ("url", url(doc)), ("abstract", _abstract(doc) or None),
              ("keywords", "; ".join(_keywords(doc)) or None)]  # MeSH terms hold commas
    return _bibtex_entry("article", key or bibtex_key(doc), fields)


def reference_document(ref: Reference, citing: Document) -> Document:
    """A reference-list entry as a document of its own, for BibTeX and RIS."""
    return Document(doc_id=f"{citing.doc_id}-ref{ref.number}", title=ref.title, authors=tuple(ref.authors),
                    journal=ref.journal, date=ref.date, volume=ref.volume, issue=ref.issue, pages=ref.pages,
                    doi=ref.doi, pmid=ref.pmid)


def bibtex_reference(ref: Reference, citing: Document) -> str:
    """A reference-list entry in BibTeX: an @article when the source gives its authors and title;
    else an @misc whose note is the entry as printed (a key and a year alone would cite nothing)."""
    doc = reference_document(ref, citing)
    if doc.title and doc.authors:
        return bibtex(doc)
    fields = [("note", reference_text(ref)), ("year", doc.year), ("doi", doc.doi), ("pmid", doc.pmid),
              ("url", url(doc))]
    return _bibtex_entry("misc", f"{bibtex_key(citing)}ref{ref.number}", fields)


def ris(doc: Document) -> str:
    lines = ["TY  - JOUR"]
    lines += [f"AU  - {inverted_name(name, family)}" for name, family in people(doc)]
    first, _, last = (doc.pages or "").partition("-")
    for tag, value in (("TI", doc.title), ("JO", doc.journal), ("PY", doc.year), ("DA", _ris_date(doc)),
                       ("VL", doc.volume), ("IS", doc.issue), ("SP", first or None), ("EP", last or None),
                       ("DO", doc.doi), ("AN", doc.pmid), ("UR", url(doc)), ("AB", _abstract(doc) or None)):
        if value:
            lines.append(f"{tag}  - {value}")
    lines += [f"KW  - {k}" for k in _keywords(doc)]
    lines.append("ER  - ")
    return "\n".join(lines)


CITATION_FORMATS = {"vancouver": vancouver, "bibtex": bibtex, "ris": ris}
