"""Citations of documents: Vancouver lines, BibTeX and RIS entries, and the `source` object of the JSON result."""
from __future__ import annotations

from qa.models import Document, Reference

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{}/"
DOI_URL = "https://doi.org/{}"


def short_author(name: str) -> str:
    """'Steven R Ytterberg' -> 'Ytterberg SR'; a name already in that form is kept."""
    parts = name.replace(".", " ").split()
    if len(parts) < 2:
        return name.strip()
    if "," in name:  # "Ytterberg, Steven R"
        surname, given = name.split(",", 1)
        return f"{surname.strip()} {''.join(w[0] for w in given.split() if w[0].isalpha()).upper()}".strip()
    if parts[-1].isupper() and len(parts[-1]) <= 3:  # "Ytterberg SR"
        return " ".join(parts)
    initials = "".join(w[0] for w in parts[:-1] if w[0].isalpha()).upper()
    return f"{parts[-1]} {initials}"


def _authors(names: tuple[str, ...]) -> str:
    shown = [short_author(n) for n in names[:6]]
    if len(names) > 6:
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
        parts.append(_authors(doc.authors) + ".")
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
        parts.append(_authors(doc.authors[:1]) + (" et al." if len(doc.authors) > 1 else "."))
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


def inverted_name(name: str) -> str:
    """'Steven R Ytterberg' -> 'Ytterberg, Steven R' (the form BibTeX and RIS expect)."""
    from qa.readers.ids import surname

    if "," in name:
        return name.strip()
    family = surname(name)
    given = name.strip()[: len(name.strip()) - len(family)].strip() if name.strip().endswith(family) else ""
    if not given and name.strip().startswith(family):  # "Ytterberg SR"
        given = name.strip()[len(family):].strip()
    return f"{family}, {given}" if given else family


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
    from qa.readers.ids import make_doc_id

    slug = make_doc_id(None, None, doc.authors, doc.year, doc.title).split("-")
    return "".join(slug[:3]) if slug != ["untitled"] else "".join(c for c in doc.doc_id if c.isalnum())


def bibtex(doc: Document) -> str:
    fields = [("author", " and ".join(inverted_name(a) for a in doc.authors) if doc.authors else None),
              ("title", doc.title), ("journal", doc.journal), ("year", doc.year), ("month", _month(doc)),
              ("volume", doc.volume), ("number", doc.issue), ("pages", doc.pages), ("doi", doc.doi),
              ("pmid", doc.pmid), ("url", url(doc)), ("abstract", _abstract(doc) or None),
              ("keywords", "; ".join(doc.keywords) or None)]  # MeSH terms hold commas
    body = ",\n".join(f"  {k} = {{{v if k in ('doi', 'url') else str(v).translate(_BIBTEX_SPECIAL)}}}"
                      for k, v in fields if v)
    return f"@article{{{bibtex_key(doc)},\n{body}\n}}"


def ris(doc: Document) -> str:
    lines = ["TY  - JOUR"]
    lines += [f"AU  - {inverted_name(a)}" for a in doc.authors]
    first, _, last = (doc.pages or "").partition("-")
    for tag, value in (("TI", doc.title), ("JO", doc.journal), ("PY", doc.year), ("DA", _ris_date(doc)),
                       ("VL", doc.volume), ("IS", doc.issue), ("SP", first or None), ("EP", last or None),
                       ("DO", doc.doi), ("AN", doc.pmid), ("UR", url(doc)), ("AB", _abstract(doc) or None)):
        if value:
            lines.append(f"{tag}  - {value}")
    lines += [f"KW  - {k}" for k in doc.keywords]
    lines.append("ER  - ")
    return "\n".join(lines)


CITATION_FORMATS = {"vancouver": vancouver, "bibtex": bibtex, "ris": ris}
