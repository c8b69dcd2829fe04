"""PubMed XML reader: two real efetch files (Biopython test files), edge cases, attacks."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import FIXTURES, write_input
from qa.errors import InputError
from qa.models import Reference, Section
from qa.readers.ids import make_doc_id
from qa.readers.pubmed_xml import looks_like_pubmed_xml, read_pubmed_xml

XML2 = FIXTURES / "pubmed-xml-2.xml"  # 2 articles, one line each, 2025 DTD
XML4 = FIXTURES / "pubmed-xml-4.xml"  # 1 article, structured abstract, 48 cited works
HANDMADE = FIXTURES / "pubmed-xml-handmade.xml"  # made-up: retractions, ReferenceList

HEAD = '<?xml version="1.0" ?>\n<PubmedArticleSet>\n'
TAIL = "</PubmedArticleSet>\n"


def article(pmid: str = "99000021", title: str = "A made-up title.", extra: str = "") -> str:
    pmid_xml = f"<PMID Version=\"1\">{pmid}</PMID>" if pmid else ""
    title_xml = f"<ArticleTitle>{title}</ArticleTitle>" if title else ""
    return (
        f"<PubmedArticle><MedlineCitation>{pmid_xml}<Article>{title_xml}{extra}</Article>"
        "</MedlineCitation></PubmedArticle>\n"
    )


@pytest.fixture(scope="module")
def xml2():
    return read_pubmed_xml(XML2)


@pytest.fixture(scope="module")
def gut():
    docs = read_pubmed_xml(XML4)
    assert len(docs) == 1
    return docs[0]


@pytest.fixture(scope="module")
def handmade():
    return read_pubmed_xml(HANDMADE)


def write(tmp_path: Path, data: str | bytes, name: str = "in.xml") -> Path:
    return write_input(tmp_path, data, name)


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as info:
        read_pubmed_xml(path)
    return str(info.value)


# --- pubmed-xml-2.xml ---------------------------------------------------------------------


def test_xml2_two_articles(xml2):
    assert [d.pmid for d in xml2] == ["11748933", "11700088"]
    assert [d.doc_id for d in xml2] == ["11748933", "11700088"]
    assert all(d.source_path == str(XML2) for d in xml2)


def test_xml2_first_article(xml2):
    doc = xml2[0]
    assert doc.title == (
        "Is cryopreservation a homogeneous process? Ultrastructure and motility of untreated, "
        "prefreezing, and postthawed spermatozoa of Diplodus puntazzo (Cetti)."
    )
    assert doc.authors[0] == "A R Taddei"
    assert len(doc.authors) == 8
    assert (doc.journal, doc.journal_full) == ("Cryobiology", "Cryobiology")
    assert (doc.date, doc.volume, doc.issue, doc.pages) == ("2001 Jun", "42", "4", "244-55")
    assert doc.doi == "10.1006/cryo.2001.2328"
    assert doc.pmc is None
    assert doc.article_types == ("Journal Article", "Research Support, Non-U.S. Gov't")
    assert len(doc.keywords) == 11
    assert doc.keywords[0] == "Animals" and doc.keywords[-1] == "Spermatozoa"
    assert len(doc.sections) == 1 and doc.sections[0].label is None
    assert "(P < 0.001)" in doc.sections[0].text  # &lt; decoded
    assert "Copyright" not in doc.sections[0].text
    assert doc.references == () and doc.retracted is False


def test_xml2_second_article(xml2):
    doc = xml2[1]
    assert doc.title == "Proton MRI of (13)C distribution by J and chemical shift editing."
    assert doc.authors == ("C Casieri", "C Testa", "G Carpinelli", "R Canese", "F Podo",
                           "F De Luca")
    assert doc.journal == "J Magn Reson"
    assert doc.journal_full == "Journal of magnetic resonance (San Diego, Calif. : 1997)"
    assert (doc.date, doc.volume, doc.issue, doc.pages) == ("2001 Nov", "153", "1", "117-23")
    assert doc.doi == "10.1006/jmre.2001.2429"
    assert doc.keywords == ()  # PubMed-not-MEDLINE: no MeSH


# --- pubmed-xml-4.xml ---------------------------------------------------------------------


def test_xml4_fields(gut):
    assert gut.pmid == "27797938"
    # <i>TERT</i> flattened
    assert gut.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region and risk of "
        "pancreatic cancer."
    )
    assert len(gut.authors) == 22
    assert gut.authors[0] == "Ying Bao"
    assert "J Michael Gaziano" in gut.authors
    assert (gut.journal, gut.journal_full) == ("Gut", "Gut")
    assert gut.date == "2017 Jun"  # <Month>06</Month> printed as PubMed prints it
    assert (gut.volume, gut.issue, gut.pages) == ("66", "6", "1116-1122")
    assert gut.doi == "10.1136/gutjnl-2016-312510"
    assert gut.pmc == "PMC5442267"
    assert gut.article_types == (
        "Journal Article",
        "Observational Study",
        "Research Support, N.I.H., Extramural",
        "Research Support, U.S. Gov't, Non-P.H.S.",
        "Research Support, Non-U.S. Gov't",
    )
    assert gut.retracted is False


def test_xml4_mesh_then_author_keyword(gut):
    assert len(gut.keywords) == 22  # 21 MeSH descriptors + 1 author keyword
    assert gut.keywords[0] == "Adenocarcinoma"
    assert gut.keywords[20] == "United States"
    assert gut.keywords[21] == "PANCREATIC CANCER"


def test_xml4_structured_abstract(gut):
    assert [s.label for s in gut.sections] == ["OBJECTIVE", "DESIGN", "RESULTS", "CONCLUSIONS"]
    assert gut.sections[0].text.startswith("Telomere shortening occurs as an early event")
    assert "(TERT) gene region" in gut.sections[0].text
    results = gut.sections[2].text
    assert "ptrend=0.048" in results  # p<sub>trend</sub>
    assert "r2<0.25" in results  # r<sup>2</sup>&lt;0.25
    assert gut.sections[3] == Section(
        "CONCLUSIONS",
        "Prediagnostic leucocyte telomere length and genetic variants at the TERT gene region "
        "were associated with risk of pancreatic cancer.",
    )
    assert all("BMJ Publishing" not in s.text for s in gut.sections)  # CopyrightInformation


def test_xml4_cited_works(gut):
    refs = gut.references
    assert len(refs) == 48
    assert [r.number for r in refs] == list(range(1, 49))
    assert refs[0] == Reference(
        number=1,
        text="Stat Med. 1989 May;8(5):551-61",
        journal="Stat Med",
        date="1989 May",
        volume="8",
        issue="5",
        pages="551-61",
        pmid="2657958",
    )
    assert (refs[-1].text, refs[-1].pmid) == (
        "Nucleic Acids Res. 2002 May 15;30(10):e47", "12000852"
    )
    assert (refs[-1].journal, refs[-1].date, refs[-1].pages) == (
        "Nucleic Acids Res", "2002 May 15", "e47"
    )
    # the CommentIn entry (PMID 27920200) is not a cited work
    assert "27920200" not in {r.pmid for r in refs}


def test_xml4_refsource_shapes(gut):
    by_pmid = {r.pmid: r for r in gut.references}
    assert by_pmid["25231748"].text == "J Natl Cancer Inst. 2014 Sep 17;106(10):null"
    assert by_pmid["25231748"].pages is None  # "null" is no page
    lancet = by_pmid["16112303"]
    assert (lancet.date, lancet.volume, lancet.issue, lancet.pages) == (
        "2005 Aug 20-26", "366", "9486", "662-4"
    )
    nat_commun = by_pmid["23511462"]  # "Nat Commun. 2013;4:1597"
    assert (nat_commun.date, nat_commun.volume, nat_commun.issue, nat_commun.pages) == (
        "2013", "4", None, "1597"
    )
    assert by_pmid["26742998"].date == "2016 Jan-Feb"
    assert by_pmid["23535731"].pages == "371-84, 384e1-2"


# --- hand-made articles -------------------------------------------------------------------


def test_retraction_in_unicode_names_collective_and_invalid_author(handmade):
    doc = handmade[0]
    assert doc.retracted is True  # CommentsCorrections RefType="RetractionIn"
    assert doc.article_types == ("Journal Article",)
    assert doc.title == "A made-up retracted study of CO2 in Nordic cohorts."
    # ValidYN="N" left out; Initials when there is no ForeName; Suffix; CollectiveName kept
    assert doc.authors == (
        "Jürgen Müller", "Søren K Østergaard", "JA Smith Jr", "Nordic Telomere Study Group"
    )
    assert doc.date == "2019 Mar 5"
    assert doc.pages == "12-19"  # StartPage-EndPage when there is no MedlinePgn
    assert doc.sections == ()  # no abstract
    assert doc.doi is None and doc.pmc is None
    assert doc.doc_id == "99000011"
    # RetractionIn is not a cited work; a free-text RefSource is kept, not split
    assert doc.references == (
        Reference(1, "Free text that is not a MEDLINE citation, 2001", pmid="99000018"),
    )


def test_retracted_type_medline_date_and_reference_list(handmade):
    doc = handmade[1]
    assert doc.retracted is True  # PublicationType "Retracted Publication"
    assert doc.date == "1998 Dec-1999 Jan"  # MedlineDate as printed
    assert doc.year == "1998"
    assert doc.journal == "J Made Up Rev"  # MedlineTA when there is no ISOAbbreviation
    assert doc.doi == "10.9999/made.up.12"  # ELocationID when ArticleIdList has no doi
    assert doc.pmc == "PMC9999912"
    assert doc.authors == ()
    assert doc.sections == (Section(None, "An unlabelled abstract with r2<0.25 inline."),)
    assert doc.keywords == ("made-up keyword",)
    assert doc.references == (
        Reference(1, "Stat Med. 1989 May;8(5):551-61", journal="Stat Med", date="1989 May",
                  volume="8", issue="5", pages="551-61", pmid="2657958"),
        Reference(2, "Doe J, Roe R. A free-text citation. Some Journal 2001; 1: 2-3.",
                  doi="10.9999/cited.2"),
    )


def test_single_article_root_and_no_doi(tmp_path):
    path = write(tmp_path, '<?xml version="1.0"?>\n' + article("99000022", "Alone."))
    (doc,) = read_pubmed_xml(path)
    assert (doc.pmid, doc.title, doc.doi, doc.sections) == ("99000022", "Alone.", None, ())


def test_record_without_pmid_uses_slug(tmp_path):
    authors = ("<AuthorList><Author><LastName>Østergaard</LastName><ForeName>Søren</ForeName>"
               "</Author></AuthorList>")
    path = write(tmp_path, HEAD + article("", "Telomere length and risk.", authors) + TAIL)
    (doc,) = read_pubmed_xml(path)
    assert doc.pmid is None
    assert doc.authors == ("Søren Østergaard",)
    assert doc.doc_id == make_doc_id(None, None, doc.authors, None, doc.title)
    assert doc.doc_id.endswith("-telomere-length-and")


def test_bom_and_crlf_read_like_the_original(tmp_path, xml2):
    raw = XML2.read_bytes()
    path = write(tmp_path, b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
    docs = read_pubmed_xml(path)
    assert docs == [dataclasses.replace(d, source_path=str(path)) for d in xml2]


def test_book_article(tmp_path):
    book = (
        "<PubmedBookArticle><BookDocument><PMID Version=\"1\">99000028</PMID>"
        "<ArticleIdList><ArticleId IdType=\"bookaccession\">NBK0</ArticleId></ArticleIdList>"
        "<Book><Publisher><PublisherName>Made-up Press</PublisherName></Publisher>"
        "<BookTitle>Made-up Reviews</BookTitle><PubDate><Year>2023</Year><Month>Jan</Month>"
        "</PubDate></Book><ArticleTitle>A made-up chapter.</ArticleTitle>"
        "<AuthorList Type=\"authors\"><Author><LastName>Doe</LastName><ForeName>Jane</ForeName>"
        "</Author></AuthorList><PublicationType UI=\"D000000\">Review</PublicationType>"
        "<Abstract><AbstractText Label=\"Summary\">Text.</AbstractText></Abstract>"
        "</BookDocument><PubmedBookData><ArticleIdList>"
        "<ArticleId IdType=\"pubmed\">99000028</ArticleId></ArticleIdList></PubmedBookData>"
        "</PubmedBookArticle>"
    )
    (doc,) = read_pubmed_xml(write(tmp_path, HEAD + book + TAIL))
    assert (doc.pmid, doc.title, doc.authors, doc.date) == (
        "99000028", "A made-up chapter.", ("Jane Doe",), "2023 Jan"
    )
    assert doc.sections == (Section("Summary", "Text."),)
    assert doc.article_types == ("Review",) and doc.journal is None


# --- attacks ------------------------------------------------------------------------------


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>99000023</PMID><Article>
<ArticleTitle>&lol9;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>
"""


def test_billion_laughs_is_refused(tmp_path):
    message = error_of(write(tmp_path, BILLION_LAUGHS))
    assert ":3: refused: the XML declares entity 'lol'" in message
    assert "lollol" not in message


def _passwd_lines() -> list[str]:
    try:
        text = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE PubmedArticleSet [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>',
    ],
)
def test_external_entity_is_refused_and_nothing_read(tmp_path, doctype):
    text = f'<?xml version="1.0"?>\n{doctype}\n<PubmedArticleSet>' + article(
        "99000024", "&x;" if "% x" not in doctype else "Title"
    ) + TAIL
    with pytest.raises(InputError) as info:
        read_pubmed_xml(write(tmp_path, text))
    message = str(info.value)
    assert "refused" in message and "file:///etc/passwd" in message
    assert "root:" not in message
    for line in _passwd_lines():
        assert line not in message
    assert all(line not in repr(info.value.args) for line in _passwd_lines())


def test_external_dtd_is_not_fetched(tmp_path):
    text = ('<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet SYSTEM "file:///etc/passwd">\n'
            "<PubmedArticleSet>" + article("99000025", "Plain.") + TAIL)
    (doc,) = read_pubmed_xml(write(tmp_path, text))
    assert doc.title == "Plain."
    fields = " ".join(str(v) for v in dataclasses.asdict(doc).values())
    assert "root:" not in fields
    for line in _passwd_lines():
        assert line not in fields


# --- errors -------------------------------------------------------------------------------


def test_truncated_xml_names_record_and_line(tmp_path):
    raw = XML4.read_bytes()
    cut = raw[: raw.index(b"<MeshHeadingList>")]
    path = write(tmp_path, cut)
    last_line = cut.count(b"\n") + 1
    message = error_of(path)
    assert message.startswith(f"{path}:{last_line}: ")
    assert "malformed or truncated XML in PubmedArticle 1" in message


def test_truncated_in_second_article(tmp_path):
    raw = XML2.read_bytes()
    cut = raw[: raw.index(b"11700088") + 20]
    message = error_of(write(tmp_path, cut))
    assert "in PubmedArticle 2" in message


def test_mismatched_tag(tmp_path):
    message = error_of(write(tmp_path, HEAD + "<PubmedArticle><MedlineCitation></PubmedArticle>"))
    assert "mismatched tag" in message


def test_record_without_pmid_and_title(tmp_path):
    text = HEAD + article("99000026", "Fine.") + article("", "") + TAIL
    message = error_of(write(tmp_path, text))
    assert message.endswith("PubmedArticle 2: no PMID and no ArticleTitle")


def test_bad_pmid(tmp_path):
    message = error_of(write(tmp_path, HEAD + article("12x", "T.") + TAIL))
    assert "PubmedArticle 1 (PMID 12x): PMID '12x' is not a number" in message


def test_empty_and_blank_files(tmp_path):
    assert "empty file" in error_of(write(tmp_path, b""))
    assert "empty file" in error_of(write(tmp_path, b"\xef\xbb\xbf \r\n", "blank.xml"))


def test_invalid_utf8(tmp_path):
    data = HEAD.encode() + article("1", "caf\udce9").encode("utf-8", "surrogateescape")
    path = write(tmp_path, data)
    message = error_of(path)
    assert message.startswith(f"{path}:3: ") and "UTF-8" in message


def test_declared_latin1_is_decoded(tmp_path):
    text = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<PubmedArticleSet>'
    data = text.encode() + article("99000027", "Caf\xe9.").encode("latin-1") + TAIL.encode()
    (doc,) = read_pubmed_xml(write(tmp_path, data))
    assert doc.title == "Café."


def test_other_xml_and_empty_set(tmp_path):
    assert "root element is <html>" in error_of(write(tmp_path, "<html><body/></html>"))
    assert "no PubmedArticle" in error_of(write(tmp_path, HEAD + TAIL, "empty-set.xml"))
    assert "malformed" in error_of(write(tmp_path, "PMID- 1\nTI  - x\n", "medline.xml"))
    bogus = '<?xml version="1.0" encoding="bogus"?>\n<PubmedArticleSet/>'
    assert "unknown character encoding" in error_of(write(tmp_path, bogus, "bogus.xml"))


def test_missing_file(tmp_path):
    assert "cannot read file" in error_of(tmp_path / "nope.xml")


# --- sniffing -----------------------------------------------------------------------------


def test_looks_like_pubmed_xml():
    assert looks_like_pubmed_xml(XML2.read_text(encoding="utf-8")[:1000])
    assert looks_like_pubmed_xml(XML4.read_text(encoding="utf-8")[:1000])
    assert looks_like_pubmed_xml(HANDMADE.read_text(encoding="utf-8")[:1000])  # a comment first
    assert looks_like_pubmed_xml("\ufeff<PubmedArticle><MedlineCitation>")
    assert looks_like_pubmed_xml('<!DOCTYPE PubmedArticleSet [<!ENTITY a "b">]>\n<PubmedArticleSet')
    assert not looks_like_pubmed_xml('<?xml version="1.0"?>\n<html>')
    assert not looks_like_pubmed_xml("PMID- 123\nTI  - x\n")
    assert not looks_like_pubmed_xml("")
