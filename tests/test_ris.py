"""RIS reader: PubMed-derived and EndNote/Zotero exports, edge cases, and qa.cite.ris read back."""
from __future__ import annotations

from pathlib import Path

import dataclasses
import pytest

from qa import cite
from conftest import FIXTURES, SEED, write_input
from qa.errors import InputError
from qa.models import Section
from qa.readers.ids import make_doc_id
from qa.readers.pubmed_page import read_pubmed_page
from qa.readers.citation_fields import abstract_sections
from qa.readers.ris import looks_like_ris, parse_ris, read_ris
from citation_docs import ROUND_TRIP_DOCS, metadata

PUBMED = FIXTURES / "ris-pubmed-2.ris"
ENDNOTE = FIXTURES / "ris-endnote-zotero.ris"
RETRACTED = FIXTURES / "ris-retracted.ris"
NO_FINAL_ER = FIXTURES / "ris-no-final-er.ris"


def write(tmp_path: Path, content: str | bytes, name: str = "input.ris") -> Path:
    return write_input(tmp_path, content, name)


def record(*lines: str) -> str:
    return "\n".join(("TY  - JOUR", *lines, "ER  - ")) + "\n"


# --- a PubMed-derived export (NCBI citation exporter / EndNote PubMed import flavour) ------


@pytest.fixture(scope="module")
def pubmed():
    return read_ris(PUBMED)


def test_pubmed_export_reads_both_records(pubmed):
    assert [d.pmid for d in pubmed] == ["16901073", "99999911"]
    assert [d.doc_id for d in pubmed] == ["16901073", "99999911"]  # PMID first
    assert all(d.source_path == str(PUBMED) for d in pubmed)


def test_pubmed_export_seed_record(pubmed):
    doc = pubmed[0]
    assert doc.title == "Treatment of refractory polymyositis and dermatomyositis."
    assert doc.authors == ("Steven R Ytterberg",)
    assert doc.journal == "Curr Rheumatol Rep"  # J2: the abbreviation
    assert doc.journal_full == "Current rheumatology reports"  # JF
    assert doc.date == "2006 Jun"  # Y1 2006/06//
    assert (doc.volume, doc.issue, doc.pages) == ("8", "3", "167-73")  # SP-EP as printed
    assert doc.doi == "10.1007/s11926-996-0021-7"
    assert doc.article_types == ("Review",)
    assert doc.keywords[:2] == ("Humans", "Polymyositis / drug therapy")
    assert not doc.retracted


def test_pubmed_export_abstract_matches_the_seed_page(pubmed):
    page = read_pubmed_page(SEED)[0]
    assert pubmed[0].sections == page.sections
    assert pubmed[0].sections[0].label is None


def test_pubmed_export_structured_abstract_and_ids(pubmed):
    doc = pubmed[1]
    assert [s.label for s in doc.sections] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert doc.sections[2].text.startswith("Muscle strength improved in 28 of 40 patients (70%)")
    assert doc.authors == ("Anna K Lindqvist", "Marco Bellini", "Siobhán Ó Briain")
    assert doc.date == "2012 Sep 15"
    assert doc.pages == "301-309"
    assert doc.pmc == "PMC9999911"  # C2
    assert doc.keywords == ("Dermatomyositis", "Immunoglobulins, Intravenous", "Treatment Outcome")
    assert doc.article_types == ("Journal Article", "Multicenter Study")
    assert doc.journal_full.startswith("Journal of clinical rheumatology")


# --- an EndNote / Zotero export -----------------------------------------------------------------


@pytest.fixture(scope="module")
def endnote():
    return read_ris(ENDNOTE)


def test_zotero_record(endnote):
    doc = endnote[0]
    assert doc.title == "Anti-TNF-α therapy in juvenile dermatomyositis: a fixture case series"
    assert doc.authors == ("Zoë Müller-Lüdenscheidt", "Łukasz Wójcik", "Văn An Nguyễn")
    assert (doc.journal, doc.journal_full) == ("J Autoimmun", "Journal of Autoimmunity")  # J2, T2
    assert doc.date == "2019 Mar 5"  # PY 2019 with DA 2019/03/05/
    assert doc.doi == "10.5555/fixture.2019.0305"  # "https://doi.org/" dropped
    assert doc.pmid == "99999921"  # N1 "PMID: 99999921"
    assert doc.doc_id == "99999921"
    assert [s.label for s in doc.sections] == ["Background", "Methods", "Results", "Conclusions"]
    assert doc.keywords == ("Dermatomyositis", "Infliximab", "Child")


def test_endnote_record_without_abstract_or_doi(endnote):
    doc = endnote[1]
    assert doc.sections == ()
    assert doc.doi is None and doc.pmid is None
    # A1 authors; a MEDLINE-style name kept; a suffix after a second comma.
    assert doc.authors == ("Smith JA", "Pieter van der Berg", "Chinedu Okafor Jr")
    # Only JF: the one journal name is the journal too.
    assert doc.journal == doc.journal_full == "Rheumatology International"
    assert doc.date == "2015"  # Y1 2015///
    assert doc.pages == "e1002"  # SP without EP
    assert doc.doc_id == make_doc_id(None, None, doc.authors, "2015", doc.title)
    assert doc.doc_id == "smith-2015-mycophenolate-mofetil-for"


def test_wrapped_abstract_and_semicolon_keywords(endnote):
    doc = endnote[2]
    assert doc.sections == (
        Section(
            None,
            "This hand-made fixture chapter reviews core set measures for adult and juvenile "
            "myositis. An EndNote export wraps long abstracts onto continuation lines like these.",
        ),
    )
    assert doc.keywords == ("Outcome Assessment", "Myositis")
    assert doc.authors == ("Siobhán Ó Briain",)


# --- retraction --------------------------------------------------------------------------------


def test_retracted_records():
    docs = read_ris(RETRACTED)
    assert [d.retracted for d in docs] == [True, True, False]
    # Title "RETRACTED: ..." is kept as printed.
    assert docs[0].title.startswith("RETRACTED: ")


@pytest.mark.parametrize(
    "note, retracted",
    [
        ("Retracted", True),
        ("Retracted Publication", True),
        ("This article has been retracted at the request of the authors.", True),
        ("Retraction in: Lancet. 2010 Feb 6;375(9713):445.", True),
        ("Retraction of: Wakefield AJ, et al. Lancet. 1998.", False),
        ("See also a related paper that was later retracted.", False),
        ("Comment in: N Engl J Med. 2006;354:1.", False),
    ],
)
def test_retraction_notes(tmp_path, note, retracted):
    path = write(tmp_path, record("TI  - A title", f"N1  - {note}"))
    assert read_ris(path)[0].retracted is retracted


# --- fields --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines, date",
    [
        (["PY  - 2006"], "2006"),
        (["PY  - 2006///"], "2006"),
        (["Y1  - 2006/06//"], "2006 Jun"),
        (["DA  - 2006/06/05"], "2006 Jun 5"),
        (["PY  - 2006", "DA  - 2006/06/15/"], "2006 Jun 15"),
        (["PY  - 2006", "DA  - 2005/12/01/"], "2006"),  # DA of another year (e-pub) not mixed in
        (["PY  - 2011///Spring"], "2011 Spring"),
        (["PY  - 2019-03-05"], "2019 Mar 5"),
        (["PY  - 2003 Sep 20"], "2003 Sep 20"),
        ([], None),
    ],
)
def test_dates(tmp_path, lines, date):
    doc = read_ris(write(tmp_path, record("TI  - A title", *lines)))[0]
    assert doc.date == date


@pytest.mark.parametrize(
    "lines, pmid",
    [
        (["AN  - 16901073"], "16901073"),  # what cite.ris writes: no DB
        (["DB  - PubMed", "AN  - 16901073"], "16901073"),
        (["DB  - MEDLINE", "AN  - 16901073"], "16901073"),
        (["DB  - Embase", "AN  - 621234567"], None),  # an Embase accession number
        (["DB  - Embase", "AN  - PMID: 16901073"], "16901073"),
        (["AN  - WOS:000239876500002"], None),
        (["N1  - PMID: 16901073"], "16901073"),
        (["UR  - https://pubmed.ncbi.nlm.nih.gov/16901073/"], "16901073"),
        ([], None),
    ],
)
def test_pmid_sources(tmp_path, lines, pmid):
    doc = read_ris(write(tmp_path, record("TI  - A title", *lines)))[0]
    assert doc.pmid == pmid


@pytest.mark.parametrize(
    "lines, journal, journal_full",
    [
        (["JO  - Curr Rheumatol Rep"], "Curr Rheumatol Rep", None),
        (["JA  - Curr Rheumatol Rep"], "Curr Rheumatol Rep", None),
        (["JF  - Current rheumatology reports"], "Current rheumatology reports",
         "Current rheumatology reports"),
        (["T2  - Current rheumatology reports", "J2  - Curr Rheumatol Rep"], "Curr Rheumatol Rep",
         "Current rheumatology reports"),
    ],
)
def test_journal_tags(tmp_path, lines, journal, journal_full):
    doc = read_ris(write(tmp_path, record("TI  - A title", *lines)))[0]
    assert (doc.journal, doc.journal_full) == (journal, journal_full)


@pytest.mark.parametrize(
    "lines, pages",
    [
        (["SP  - 167", "EP  - 73"], "167-73"),
        (["SP  - 167", "EP  - 173"], "167-173"),
        (["SP  - 167-73"], "167-73"),
        (["SP  - e1002", "EP  - e1002"], "e1002"),
        (["EP  - 73"], "73"),
    ],
)
def test_pages(tmp_path, lines, pages):
    assert read_ris(write(tmp_path, record("TI  - A title", *lines)))[0].pages == pages


def test_title_from_t1_and_doi_from_url(tmp_path):
    doc = read_ris(write(tmp_path, record("T1  - Title one", "UR  - https://doi.org/10.5555/abc")))[0]
    assert doc.title == "Title one"
    assert doc.doi == "10.5555/abc"
    assert doc.doc_id == "10.5555/abc"


def test_abstract_from_n2(tmp_path):
    doc = read_ris(write(tmp_path, record("TI  - T", "N2  - OBJECTIVE: To test. RESULTS: Done.")))[0]
    assert doc.sections == (Section("OBJECTIVE", "To test."), Section("RESULTS", "Done."))


def test_abstract_sections_rules():
    sections, keywords = abstract_sections(
        "Two patterns emerged: one and two. In the U.S. FDA: approval. "
        "Materials and methods: We did it. KEYWORDS: alpha; beta"
    )
    assert sections == (
        Section(None, "Two patterns emerged: one and two. In the U.S. FDA: approval."),
        Section("Materials and methods", "We did it."),
    )
    assert keywords == ["alpha", "beta"]
    # A mixed-case "label" longer than four words is a clause, not a label.
    clause = "It worked. Patients receiving drug A or placebo: all improved."
    assert abstract_sections(clause)[0] == (Section(None, clause),)
    assert abstract_sections(None) == ((), [])
    assert abstract_sections("One.\n\nTwo.") == ((Section(None, "One.\n\nTwo."),), [])


# --- encodings and line endings --------------------------------------------------------------------


def without_path(docs):
    return [dataclasses.replace(d, source_path=None) for d in docs]


def test_crlf_and_bom_read_the_same(tmp_path):
    lf = read_ris(PUBMED)
    data = PUBMED.read_bytes()
    crlf = read_ris(write(tmp_path, data.replace(b"\n", b"\r\n"), "crlf.ris"))
    bom = read_ris(write(tmp_path, b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"), "bom.ris"))
    assert without_path(crlf) == without_path(lf)
    assert without_path(bom) == without_path(lf)


def test_invalid_utf8(tmp_path):
    path = write(tmp_path, record("TI  - Ok").encode() + b"TY  - JOUR\nTI  - Caf\xe9\nER  - \n")
    with pytest.raises(InputError) as err:
        read_ris(path)
    assert err.value.line == 5  # the second record's TI line
    assert "not valid UTF-8" in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content", ["", "\n\n  \n", "\ufeff"])
def test_empty_file(tmp_path, content):
    with pytest.raises(InputError, match="empty file"):
        read_ris(write(tmp_path, content))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        read_ris(tmp_path / "nope.ris")


# --- broken files ------------------------------------------------------------------------------------


def test_missing_final_er_names_the_record_and_line():
    with pytest.raises(InputError) as err:
        read_ris(NO_FINAL_ER)
    message = str(err.value)
    assert err.value.line == 8  # the TY line of record 2
    assert message.startswith(f"{NO_FINAL_ER}:8: record 2")
    assert "A fixture record cut off before its end" in message
    assert "no 'ER  - ' line" in message
    assert "\n" not in message


def test_record_without_er_before_the_next_record(tmp_path):
    path = write(tmp_path, "TY  - JOUR\nTI  - First\n\nTY  - JOUR\nTI  - Second\nER  - \n")
    with pytest.raises(InputError) as err:
        read_ris(path)
    assert err.value.line == 4
    assert 'record 1 ("First") (from line 1)' in str(err.value)


def test_tag_outside_a_record(tmp_path):
    path = write(tmp_path, record("TI  - One") + "AU  - Smith, John\n")
    with pytest.raises(InputError) as err:
        read_ris(path)
    assert err.value.line == 4
    assert "AU line outside any record" in str(err.value)


def test_text_without_records(tmp_path):
    with pytest.raises(InputError, match="no RIS records"):
        read_ris(write(tmp_path, "just some text\n"))


def test_record_without_title_or_abstract(tmp_path):
    path = write(tmp_path, record("TI  - One") + "\n" + record("AU  - Smith, John", "PY  - 2001"))
    with pytest.raises(InputError) as err:
        read_ris(path)
    assert err.value.line == 5
    assert "record 2 has no title" in str(err.value)


# --- sniffing ----------------------------------------------------------------------------------------


def test_looks_like_ris():
    assert looks_like_ris(PUBMED.read_text(encoding="utf-8")[:500])
    assert looks_like_ris("\ufeffTY  - JOUR\r\nTI  - x")
    assert looks_like_ris("\n\nTY  - BOOK\n")
    assert not looks_like_ris("@article{key,\n title = {TY  - no}}")
    assert not looks_like_ris(SEED.read_text(encoding="utf-8")[:4000])
    assert not looks_like_ris('{"_id": "1", "text": "TY  - JOUR"}')
    assert not looks_like_ris("PMID- 16901073\nTI  - Treatment of refractory")  # MEDLINE


# --- round trip: qa.cite.ris read back by read_ris --------------------------------------------------


@pytest.mark.parametrize("name", ROUND_TRIP_DOCS)
def test_cite_ris_reads_back_to_the_same_metadata(tmp_path, name):
    doc = ROUND_TRIP_DOCS[name]()
    back = read_ris(write(tmp_path, cite.ris(doc)))
    assert len(back) == 1
    assert metadata(back[0]) == metadata(doc)


def test_cite_ris_several_records_in_one_file(tmp_path):
    docs = [make() for make in ROUND_TRIP_DOCS.values()]
    back = read_ris(write(tmp_path, "\n\n".join(cite.ris(d) for d in docs) + "\n"))
    assert [metadata(d) for d in back] == [metadata(d) for d in docs]


def test_cite_ris_keeps_the_month(tmp_path):
    doc = read_pubmed_page(SEED)[0]
    assert read_ris(write(tmp_path, cite.ris(doc)))[0].date == "2006 Jun"


def test_parse_ris_takes_text():
    docs = parse_ris(record("TI  - From text"), "<memory>")
    assert docs[0].title == "From text" and docs[0].source_path == "<memory>"
