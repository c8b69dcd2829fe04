"""Reader for PubMed page text: the captured seed page and a hand-made page of the same shape."""
from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import InputError
from qa.models import Reference, Section
from qa.readers.ids import make_doc_id, surname
from qa.readers.pubmed_page import looks_like_pubmed_page, parse_pubmed_page, read_pubmed_page

ROOT = Path(__file__).parent.parent
SEED = ROOT / "corpus" / "ytterberg-2006-refractory-pm-dm.pubmed.txt"
MULTI = Path(__file__).parent / "fixtures" / "pubmed-page-multi-author.txt"
TITLE = "Treatment of refractory polymyositis and dermatomyositis"
BOILERPLATE_WORDS = ("Disclaimer", "Similar articles", "Cited by", ".gov", "Access keys", "https")


@pytest.fixture(scope="module")
def seed():
    return read_pubmed_page(SEED)[0]


@pytest.fixture(scope="module")
def multi():
    return read_pubmed_page(MULTI)[0]


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


# --- the captured seed page -------------------------------------------------------------


def test_seed_metadata(seed):
    assert seed.title == TITLE
    assert seed.authors == ("Steven R Ytterberg",)
    assert seed.journal == "Curr Rheumatol Rep"
    assert seed.date == "2006 Jun"
    assert seed.year == "2006"
    assert (seed.volume, seed.issue, seed.pages) == ("8", "3", "167-73")
    assert seed.doi == "10.1007/s11926-996-0021-7"
    assert seed.pmid is None
    assert seed.article_types == ("Review",)
    assert seed.keywords == ()  # "MeSH terms" is an empty heading on this page
    assert seed.source_path == str(SEED)


def test_seed_abstract_is_one_section_without_boilerplate(seed):
    assert len(seed.sections) == 1
    section = seed.sections[0]
    assert section.label is None
    assert section.text.startswith("Polymyositis (PM) and dermatomyositis (DM) are autoimmune")
    assert section.text.endswith("better recommendations in the future.")
    for word in BOILERPLATE_WORDS:
        assert word not in section.text


def test_seed_references_in_page_order(seed):
    refs = seed.references
    assert [r.number for r in refs] == [1, 2, 3, 4, 5]
    assert [r.journal for r in refs] == [
        "Arthritis Rheum",
        "J Rheumatol",
        "Clin Immunol",
        "Mayo Clin Proc",
        "Lancet",
    ]
    assert refs[4] == Reference(
        number=5,
        text="Lancet. 2003 Sep 20;362(9388):971-82",
        journal="Lancet",
        date="2003 Sep 20",
        volume="362",
        issue="9388",
        pages="971-82",
    )
    assert refs[0].text == "Arthritis Rheum. 2002 Feb;46(2):467-74"
    for ref in refs:
        assert not ref.text.endswith("PubMed")
        assert not ref.text.startswith("1.")
        assert ref.title is None and ref.authors == ()  # the lines give neither: never guessed


def test_seed_doc_id_is_the_doi(seed):
    assert seed.doc_id == "10.1007/s11926-996-0021-7"


def test_seed_without_doi_gets_a_slug():
    text = seed_text().replace("doi: 10.1007/s11926-996-0021-7.\n", "")
    doc = parse_pubmed_page(text, "seed-without-doi.txt")
    assert doc.doi is None
    assert doc.doc_id == "ytterberg-2006-treatment-of-refractory"


# --- the hand-made page ------------------------------------------------------------------


def test_multi_metadata(multi):
    assert multi.title == (
        "Methotrexate plus prednisone versus prednisone alone in new-onset giant cell "
        "arteritis: a fixture trial"
    )
    assert multi.authors == ("Anna K Lindqvist", "Marco Bellini", "Hiroshi Tanaka")
    assert multi.journal == "J Clin Rheumatol"
    assert multi.date == "2011 Mar 15"
    assert (multi.volume, multi.issue, multi.pages) == ("17", "2", "88-95")
    assert multi.doi == "10.5555/fixture.2011.0315"
    assert multi.pmid == "99999901"  # not the PMIDs listed under Similar articles / Cited by
    assert multi.doc_id == "99999901"
    assert multi.article_types == ("Randomized Controlled Trial", "Multicenter Study")
    assert multi.keywords == (
        "Aged",
        "Female",
        "Giant Cell Arteritis / drug therapy*",
        "Humans",
        "Methotrexate / therapeutic use*",
        "Prednisone / therapeutic use",
    )


def test_multi_structured_abstract(multi):
    assert [s.label for s in multi.sections] == ["Background", "Methods", "Results", "Conclusions"]
    assert multi.sections[0].text.startswith("This hand-made test fixture describes")
    assert multi.sections[3].text.startswith("In this made-up fixture, adding methotrexate")
    everything = " ".join(s.text for s in multi.sections)
    for word in BOILERPLATE_WORDS + ("Tocilizumab", "Leflunomide", "Long-term outcomes"):
        assert word not in everything


def test_multi_references(multi):
    short, et_al, full = multi.references
    assert [r.number for r in multi.references] == [1, 2, 3]
    assert short == Reference(
        number=1,
        text="Arthritis Rheum. 2002 May;46(5):1309-18",
        journal="Arthritis Rheum",
        date="2002 May",
        volume="46",
        issue="5",
        pages="1309-18",
    )
    assert et_al.authors == ("Jover JA",)
    assert et_al.title == (
        "Combined treatment of giant-cell arteritis with methotrexate and prednisone. "
        "A randomized, double-blind, placebo-controlled trial"
    )
    assert (et_al.journal, et_al.date, et_al.volume, et_al.issue, et_al.pages) == (
        "Ann Intern Med",
        "2001 Jan 16",
        "134",
        "2",
        "106-14",
    )
    assert full.authors == ("Mahr AD", "Jover JA", "Spiera RF")
    assert full.title.startswith("Adjuvant methotrexate for treatment of giant cell arteritis")
    assert full.journal == "Arthritis Rheum"
    assert (full.date, full.volume, full.issue, full.pages) == ("2007 Aug", "56", "8", "2789-97")
    assert full.doi == "10.5555/fixture.ref3"
    assert full.text.endswith("doi: 10.5555/fixture.ref3.")  # " - DOI - PMC - PubMed" dropped
    for ref in multi.references:
        assert not ref.text.endswith(("PubMed", "PMC", "DOI"))


# --- variants of the page shape ----------------------------------------------------------


def test_top_citation_line_with_journal():
    citation = ". 2006 Jun;8(3):167-73."
    text = seed_text().replace(citation, "Curr Rheumatol Rep" + citation)
    doc = parse_pubmed_page(text, "with-journal.txt")
    assert (doc.journal, doc.date, doc.volume, doc.issue, doc.pages) == (
        "Curr Rheumatol Rep",
        "2006 Jun",
        "8",
        "3",
        "167-73",
    )
    assert doc.article_types == ("Review",)


def test_journal_on_its_own_line_is_not_an_article_type():
    text = seed_text().replace("Review\n. 2006 Jun", "Review\nCurr Rheumatol Rep\n. 2006 Jun", 1)
    doc = parse_pubmed_page(text, "journal-line.txt")
    assert doc.article_types == ("Review",)
    assert doc.journal == "Curr Rheumatol Rep"


def test_bom_and_crlf_give_the_same_document(tmp_path, seed):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"\xef\xbb\xbf" + seed_text().replace("\n", "\r\n").encode("utf-8"))
    doc = read_pubmed_page(path)[0]
    assert doc.source_path == str(path)
    assert doc.title == seed.title
    assert doc.sections == seed.sections
    assert doc.references == seed.references


def test_publication_types_and_keywords_headings_add_to_the_document():
    text = seed_text() + "\n\nPublication types\n\nReview\nResearch Support, Non-U.S. Gov't\n"
    text += "\nKeywords\n\nmyositis; rituximab\n"
    doc = parse_pubmed_page(text, "extra.txt")
    assert doc.article_types == ("Review", "Research Support, Non-U.S. Gov't")
    assert doc.keywords == ("myositis", "rituximab")


def test_sentence_with_colon_is_not_a_label():
    text = seed_text().replace(
        "Polymyositis (PM)", "Two patterns emerged: one.\n\nPolymyositis (PM)", 1
    )
    doc = parse_pubmed_page(text, "colon.txt")
    assert len(doc.sections) == 1
    assert doc.sections[0] == Section(None, doc.sections[0].text)
    assert doc.sections[0].text.startswith("Two patterns emerged: one.\n\nPolymyositis")


# --- doc ids -----------------------------------------------------------------------------


def test_make_doc_id_prefers_pmid_then_doi_then_slug():
    authors = ("Steven R Ytterberg",)
    assert make_doc_id("16901073", "10.1007/x", authors, "2006", TITLE) == "16901073"
    assert make_doc_id(None, "10.1007/x", authors, "2006", TITLE) == "10.1007/x"
    slug = "ytterberg-2006-treatment-of-refractory"
    assert make_doc_id(None, None, authors, "2006", TITLE) == slug
    assert make_doc_id("", "", authors, 2006, TITLE) == slug


def test_make_doc_id_slug_parts():
    assert make_doc_id(None, None, ("Ytterberg SR",), "2006", TITLE).startswith("ytterberg-2006-")
    assert make_doc_id(None, None, ("Müller, Anna",), None, "Anti-TNF: a review") == (
        "muller-antitnf-a-review"
    )
    assert make_doc_id(None, None, (), None, None) == "untitled"
    assert surname("Steven R Ytterberg") == "Ytterberg"
    assert surname("van der Meer JW") == "van der Meer"


# --- format sniffing ---------------------------------------------------------------------


def test_looks_like_pubmed_page():
    assert looks_like_pubmed_page(seed_text())
    assert looks_like_pubmed_page(MULTI.read_text(encoding="utf-8"))
    assert not looks_like_pubmed_page('{"_id": "123", "title": "", "text": "Abstract"}')
    assert not looks_like_pubmed_page(
        "Myositis is an inflammation of muscle. Patients often report weakness.\n"
        "Treatment usually starts with glucocorticoids.\n"
    )
    assert not looks_like_pubmed_page("")


def test_page_without_banners_is_still_recognised():
    text = seed_text().split("Access keys", 1)[1].split("\n", 1)[1]
    assert looks_like_pubmed_page(text.replace("PubMed Disclaimer", ""))


# --- errors ------------------------------------------------------------------------------


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_pubmed_page(path)
    assert str(path) in str(err.value)
    assert "empty" in str(err.value)


def test_page_without_title(tmp_path):
    path = tmp_path / "no-title.txt"
    path.write_text(seed_text().replace(TITLE + "\n", ""), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_pubmed_page(path)
    assert str(path) in str(err.value)
    assert "title" in err.value.message
    assert err.value.line == 18  # the citation line the title should follow


def test_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    # a Windows-1252 apostrophe on line 8, as a wrongly saved copy would have
    path.write_bytes(SEED.read_bytes().replace("’".encode("utf-8"), b"\x92"))
    with pytest.raises(InputError) as err:
        read_pubmed_page(path)
    assert str(path) in str(err.value)
    assert "UTF-8" in err.value.message
    assert err.value.line == 8


def test_page_with_nothing_to_search():
    text = seed_text().split("Abstract\n", 1)[0]
    with pytest.raises(InputError) as err:
        parse_pubmed_page(text, "bare.txt")
    assert "nothing to search" in str(err.value)
    assert str(err.value).startswith("bare.txt")


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as err:
        read_pubmed_page(tmp_path / "absent.txt")
    assert "absent.txt" in str(err.value)
