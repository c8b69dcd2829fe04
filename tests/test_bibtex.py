"""BibTeX reader: Zotero / Google Scholar / JabRef-style entries, edge cases, qa.cite.bibtex read back."""
from __future__ import annotations

from pathlib import Path

import dataclasses
import pytest

from qa import cite
from conftest import FIXTURES, SEED, write_input
from qa.errors import InputError
from qa.models import Document, Section
from qa.readers.bibtex import looks_like_bibtex, parse_bibtex, read_bibtex
from qa.readers.ids import make_doc_id
from citation_docs import ROUND_TRIP_DOCS, abstract_text, hand_built, medline_style, metadata

EXPORT = FIXTURES / "bibtex-zotero-scholar.bib"
RETRACTED = FIXTURES / "bibtex-retracted.bib"
UNBALANCED = FIXTURES / "bibtex-unbalanced.bib"


def write(tmp_path: Path, content: str | bytes, name: str = "input.bib") -> Path:
    return write_input(tmp_path, content, name)


def entry(key: str = "k", **fields: str) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@article{{{key},\n{body}\n}}\n"


def one(tmp_path: Path, **fields: str) -> Document:
    docs = read_bibtex(write(tmp_path, entry(**fields)))
    assert len(docs) == 1
    return docs[0]


# --- a Zotero / Google Scholar / JabRef-style file ---------------------------------------------


@pytest.fixture(scope="module")
def export():
    return read_bibtex(EXPORT)


def test_export_reads_three_entries(export):
    assert len(export) == 3
    assert [d.doc_id for d in export] == [
        "99999911",
        "mullerludenscheidt-2019-antitnf-therapy-in",
        "99999931",
    ]
    assert all(d.source_path == str(EXPORT) for d in export)


def test_zotero_entry(export):
    doc = export[0]
    assert doc.title == (
        "Intravenous immunoglobulin added to standard therapy in refractory "
        "dermatomyositis: a fixture cohort"
    )
    assert doc.authors == ("Anna K. Lindqvist", "Marco Bellini", "Siobhán Ó Briain")
    assert doc.journal == "J Clin Rheumatol"
    assert doc.journal_full is None
    assert doc.date == "2012 Sep"  # year + month = sep (a macro)
    assert (doc.volume, doc.issue, doc.pages) == ("18", "6", "301-309")  # "--" -> "-"
    assert doc.doi == "10.5555/fixture.2012.0915"
    assert doc.pmid == "99999911"  # note = {PMID: ...}
    assert [s.label for s in doc.sections] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert doc.sections[0].text.startswith("This hand-made test fixture")
    assert "Refractory dermatomyositis (DM) often" in doc.sections[0].text  # {DM} unbraced
    assert doc.sections[2].text.startswith("Muscle strength improved in 28 of 40 patients (70%);")
    assert doc.keywords == ("Dermatomyositis", "Intravenous immunoglobulin", "Treatment outcome")
    assert not doc.retracted


def test_google_scholar_entry_latex_names_no_doi_no_abstract(export):
    doc = export[1]
    assert doc.title == "Anti-TNF-α therapy in juvenile dermatomyositis: a fixture case series"
    assert doc.authors == (
        "Zoë Müller-Lüdenscheidt",  # M{\"u}ller-L{\"u}denscheidt, Zo{\"e}
        "Émile Zola",  # {\'E}mile
        "Jos W van der Meer",  # von part
        "Working Group on Fixture Myositis",  # braced corporate name stays whole
    )
    assert doc.journal == "Journal of Autoimmunity"
    assert doc.date == "2019"
    assert doc.pages == "112-119"
    assert doc.sections == ()
    assert doc.doi is None and doc.pmid is None
    assert doc.doc_id == make_doc_id(None, None, doc.authors, "2019", doc.title)


def test_jabref_entry(export):
    doc = export[2]
    assert doc.title == "IL-6 blockade & muscle strength in anti-MDA5 dermatomyositis"
    assert doc.authors == ("Văn An Nguyễn", "Élodie François", "Ytterberg SR")
    assert (doc.journal, doc.journal_full) == ("Clin Exp Rheumatol", "Clinical & Experimental Rheumatology")
    assert doc.date == "2020 Jun"
    assert doc.pages == "401-8"
    assert doc.doi == "10.5555/fixture.2020_06"  # verbatim: "_" is not a LaTeX subscript here
    assert doc.pmid == "99999931"
    assert doc.sections == (
        Section("Background", "This hand-made test fixture describes an invented study of "
                "interleukin-6 (IL-6) blockade."),
        Section("Methods", "Ten patients received tocilizumab for 24 weeks."),  # 24~weeks
        Section("Results", "Strength improved in seven."),
        Section("Conclusion", "IL-6 blockade deserves a trial."),
    )
    # ";" separates: the commas inside a MeSH heading stay.
    assert doc.keywords == ("Dermatomyositis", "Interleukin-6", "Antibodies, Monoclonal, Humanized")


# --- retraction ----------------------------------------------------------------------------------


def test_retracted_entries():
    docs = read_bibtex(RETRACTED)
    assert [d.retracted for d in docs] == [True, True, False]
    assert docs[0].title.startswith("RETRACTED: ")
    assert docs[2].authors == ("Editors of Fixture J Myol",)


@pytest.mark.parametrize("field", ["note", "annote"])
def test_retraction_note_fields(tmp_path, field):
    doc = one(tmp_path, title="T", **{field: "This article has been retracted."})
    assert doc.retracted


# --- fields ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        (r"M{\"u}ller", "Müller"),
        (r"{\'E}mile", "Émile"),
        (r"{TNF}-\alpha{} levels", "TNF-α levels"),
        (r"{TNF}-$\alpha$ levels", "TNF-α levels"),
        (r"{IL}-6 \& {TNF}", "IL-6 & TNF"),
        (r"50\% of {Ca}$^{2+}$", "50% of Ca^2+"),
        (r"Fran{\c{c}}ois and {\o}ster", "François and øster"),
        ("Arthritis & Rheumatology", "Arthritis & Rheumatology"),  # bare & (Google Scholar)
        ("rose by 50% in", "rose by 50% in"),  # bare % is not a comment
        ("a  title\n  wrapped", "a title wrapped"),
    ],
)
def test_latex_decoding_of_titles(tmp_path, raw, expected):
    assert one(tmp_path, title=raw).title == expected


@pytest.mark.parametrize(
    "authors, expected",
    [
        ("Ytterberg, Steven R and Smith, John", ("Steven R Ytterberg", "John Smith")),
        ("Steven R Ytterberg and John Smith", ("Steven R Ytterberg", "John Smith")),
        ("Ytterberg, SR and Smith, J", ("Ytterberg SR", "Smith J")),
        ("Smith, Jr, John and de la Cruz, Ana", ("John Smith Jr", "Ana de la Cruz")),
        ("{Barnes and Noble} and Smith, John and others", ("Barnes and Noble", "John Smith")),
        (r"M{\"u}ller, Hans and {\'E}mile Zola", ("Hans Müller", "Émile Zola")),
    ],
)
def test_authors(tmp_path, authors, expected):
    assert one(tmp_path, title="T", author=authors).authors == expected


@pytest.mark.parametrize(
    "fields, date",
    [
        ({"year": "2006"}, "2006"),
        ({"year": "2006", "month": "jun"}, "2006 Jun"),
        ({"year": "2006", "month": "June"}, "2006 Jun"),
        ({"year": "2006", "month": "6"}, "2006 Jun"),
        ({"year": "2006", "month": "Spring"}, "2006"),
        ({"date": "2006-06-15"}, "2006 Jun 15"),
        ({"date": "2006-06"}, "2006 Jun"),
        ({}, None),
    ],
)
def test_dates(tmp_path, fields, date):
    assert one(tmp_path, title="T", **fields).date == date


def test_month_macro_without_braces(tmp_path):
    path = write(tmp_path, "@article{k, title = {T}, year = 2006, month = jun}\n")
    assert read_bibtex(path)[0].date == "2006 Jun"


@pytest.mark.parametrize(
    "fields, pmid, pmc",
    [
        ({"pmid": "16901073"}, "16901073", None),
        ({"eprint": "16901073", "eprinttype": "pubmed"}, "16901073", None),
        ({"note": "PMID: 16901073 PMCID: PMC1234567"}, "16901073", "PMC1234567"),
        ({"annote": "PMID: 16901073"}, "16901073", None),
        ({"url": "https://pubmed.ncbi.nlm.nih.gov/16901073/"}, "16901073", None),
        ({"pmcid": "PMC1234567"}, None, "PMC1234567"),
        ({}, None, None),
    ],
)
def test_pmid_and_pmc(tmp_path, fields, pmid, pmc):
    doc = one(tmp_path, title="T", **fields)
    assert (doc.pmid, doc.pmc) == (pmid, pmc)
    if pmid:
        assert doc.doc_id == pmid


def test_doi_and_url_are_not_latex_decoded(tmp_path):
    doc = one(tmp_path, title="T", doi="https://doi.org/10.1002/(SICI)1097_0258%3A5", url="https://x.org/a%20b")
    assert doc.doi == "10.1002/(SICI)1097_0258%3A5"


def test_issue_field_and_number(tmp_path):
    assert one(tmp_path, title="T", issue="4").issue == "4"
    assert one(tmp_path, title="T", number="3", issue="4").issue == "3"


@pytest.mark.parametrize(
    "keywords, expected",
    [
        ("a, b, c", ("a", "b", "c")),
        ("a; b, c", ("a", "b, c")),
        ("", ()),
    ],
)
def test_keywords(tmp_path, keywords, expected):
    fields = {"title": "T", "keywords": keywords} if keywords else {"title": "T"}
    assert one(tmp_path, **fields).keywords == expected


def test_field_names_are_case_insensitive(tmp_path):
    path = write(tmp_path, "@ARTICLE{k, Title = {Upper}, AUTHOR = {Smith, John}, Year = {2001}}\n")
    doc = read_bibtex(path)[0]
    assert (doc.title, doc.authors, doc.date) == ("Upper", ("John Smith",), "2001")


def test_parenthesised_entry_and_string_macros(tmp_path):
    text = "@string{crr = {Curr Rheumatol Rep}}\n@article(k, title = {T}, journal = crr)\n"
    assert read_bibtex(write(tmp_path, text))[0].journal == "Curr Rheumatol Rep"


# --- encodings and line endings --------------------------------------------------------------------


def without_path(docs):
    return [dataclasses.replace(d, source_path=None) for d in docs]


def test_crlf_and_bom_read_the_same(tmp_path):
    lf = read_bibtex(EXPORT)
    data = EXPORT.read_bytes()
    crlf = read_bibtex(write(tmp_path, data.replace(b"\n", b"\r\n"), "crlf.bib"))
    bom = read_bibtex(write(tmp_path, b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"), "bom.bib"))
    assert without_path(crlf) == without_path(lf)
    assert without_path(bom) == without_path(lf)


def test_invalid_utf8(tmp_path):
    path = write(tmp_path, b"@article{k,\n  title = {Caf\xe9}\n}\n")
    with pytest.raises(InputError) as err:
        read_bibtex(path)
    assert err.value.line == 2
    assert "not valid UTF-8" in str(err.value)


@pytest.mark.parametrize("content", ["", "\n  \n", "\ufeff"])
def test_empty_file(tmp_path, content):
    with pytest.raises(InputError, match="empty file"):
        read_bibtex(write(tmp_path, content))


def test_file_without_entries(tmp_path):
    with pytest.raises(InputError, match="no BibTeX entries"):
        read_bibtex(write(tmp_path, "% only a comment\n@comment{nothing here}\n"))


# --- broken files ------------------------------------------------------------------------------------


def test_unbalanced_braces_name_the_entry_and_line():
    with pytest.raises(InputError) as err:
        read_bibtex(UNBALANCED)
    message = str(err.value)
    assert err.value.line == 7
    assert message.startswith(f"{UNBALANCED}:7: entry 'broken2012': unbalanced braces")
    assert "line 12" in message  # where the next entry starts
    assert "\n" not in message


def test_entry_still_open_at_end_of_file(tmp_path):
    path = write(tmp_path, entry("ok", title="Fine") + "\n@article{last,\n  title = {Never closed\n")
    with pytest.raises(InputError) as err:
        read_bibtex(path)
    assert err.value.line == 5
    assert "entry 'last'" in str(err.value)
    assert "end of the file" in str(err.value)


def test_extra_closing_brace(tmp_path):
    path = write(tmp_path, "@article{early,\n  title = {A}},\n  year = {2000}\n}\n")
    with pytest.raises(InputError) as err:
        read_bibtex(path)
    assert "after entry 'early'" in str(err.value)
    assert "unbalanced braces" in str(err.value)


def test_duplicate_key(tmp_path):
    path = write(tmp_path, entry("same", title="One") + entry("same", title="Two"))
    with pytest.raises(InputError) as err:
        read_bibtex(path)
    assert err.value.line == 4
    assert "duplicate entry key 'same' (first used at line 1)" in str(err.value)


def test_missing_key(tmp_path):
    path = write(tmp_path, entry("ok", title="Fine") + "@article{title = {No key}}\n")
    with pytest.raises(InputError) as err:
        read_bibtex(path)
    assert err.value.line == 4
    assert "comma after entry key" in str(err.value)


def test_entry_without_title_or_abstract(tmp_path):
    with pytest.raises(InputError) as err:
        read_bibtex(write(tmp_path, entry("ok", title="Fine") + entry("bare", author="Smith, J")))
    assert err.value.line == 4
    assert "entry 'bare' has no title and no abstract" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        read_bibtex(tmp_path / "nope.bib")


def test_parser_warnings_are_not_printed(tmp_path, capfd):
    with pytest.raises(InputError):
        read_bibtex(UNBALANCED)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


# --- sniffing ----------------------------------------------------------------------------------------


def test_looks_like_bibtex():
    assert looks_like_bibtex(EXPORT.read_text(encoding="utf-8")[:500])  # Zotero: blank line first
    assert looks_like_bibtex("\ufeff@article{k,")
    assert looks_like_bibtex("% Encoding: UTF-8\n\n@Article{Key2020,\n")  # JabRef
    assert looks_like_bibtex(
        "Automatically generated by Mendeley Desktop.\nAny changes to this file will be lost.\n\n"
        "@article{Smith2001,\n"
    )
    assert looks_like_bibtex("@misc (key,")
    assert not looks_like_bibtex("TY  - JOUR\nTI  - x\nER  - \n")
    assert not looks_like_bibtex(SEED.read_text(encoding="utf-8")[:4000])
    assert not looks_like_bibtex('{"_id": "1", "text": "@article{x"}')
    assert not looks_like_bibtex("Contact: someone@example.org {for details}")


# --- round trip: qa.cite.bibtex read back by read_bibtex ---------------------------------------------


@pytest.mark.parametrize("name", ROUND_TRIP_DOCS)
def test_cite_bibtex_reads_back_to_the_same_metadata(tmp_path, name):
    doc = ROUND_TRIP_DOCS[name]()
    back = read_bibtex(write(tmp_path, cite.bibtex(doc)))
    assert len(back) == 1
    assert metadata(back[0]) == metadata(doc)


def test_cite_bibtex_keeps_paragraphs(tmp_path):
    doc = medline_style()
    assert read_bibtex(write(tmp_path, cite.bibtex(doc)))[0].sections == doc.sections


def test_cite_bibtex_several_entries_in_one_file(tmp_path):
    docs = [make() for make in ROUND_TRIP_DOCS.values()]
    back = read_bibtex(write(tmp_path, "\n\n".join(cite.bibtex(d) for d in docs) + "\n"))
    assert [metadata(d) for d in back] == [metadata(d) for d in docs]


def test_cite_bibtex_keywords_with_commas(tmp_path):
    doc = hand_built(keywords=("Dermatomyositis", "Immunoglobulins, Intravenous"))
    assert read_bibtex(write(tmp_path, cite.bibtex(doc)))[0].keywords == doc.keywords


def test_cite_bibtex_tilde(tmp_path):
    doc = hand_built(sections=(Section(None, "Roughly ~50% of patients relapsed."),))
    assert abstract_text(read_bibtex(write(tmp_path, cite.bibtex(doc)))[0]) == abstract_text(doc)


def test_parse_bibtex_takes_text():
    docs = parse_bibtex(entry(title="From text"), "<memory>")
    assert docs[0].title == "From text" and docs[0].source_path == "<memory>"
