"""MEDLINE / .nbib reader: two real PubMed exports (Biopython test files) and edge cases."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import FIXTURES, write_input
from qa.errors import InputError
from qa.models import Section
from qa.readers.medline import abstract_sections, full_name, looks_like_medline, read_medline

SAMPLE2 = FIXTURES / "medline-sample2.txt"  # 4 records
SAMPLE3 = FIXTURES / "medline-sample3.txt"  # 1 record, LID doi, a wrapped MeSH term
HANDMADE = FIXTURES / "medline-handmade.txt"  # made-up: retracted, unicode names, AU only


@pytest.fixture(scope="module")
def sample2():
    return read_medline(SAMPLE2)


@pytest.fixture(scope="module")
def sample3():
    return read_medline(SAMPLE3)[0]


@pytest.fixture(scope="module")
def handmade():
    return read_medline(HANDMADE)


def write(tmp_path: Path, text: str | bytes, name: str = "in.nbib") -> Path:
    return write_input(tmp_path, text, name)


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as info:
        read_medline(path)
    return str(info.value)


# --- medline-sample2.txt: four Bioinformatics / BMC Bioinformatics records ---------------


def test_sample2_records_in_order(sample2):
    assert [d.pmid for d in sample2] == ["16403221", "16377612", "14871861", "14630660"]
    assert [d.doc_id for d in sample2] == [d.pmid for d in sample2]
    assert all(d.source_path == str(SAMPLE2) for d in sample2)


def test_sample2_first_record_fields(sample2):
    doc = sample2[0]
    assert doc.title == "A high level interface to SCOP and ASTRAL implemented in python."
    assert doc.authors == ("James A Casbon", "Gavin E Crooks", "Mansoor A S Saqi")
    assert doc.journal == "BMC Bioinformatics"
    assert doc.journal_full == "BMC bioinformatics"
    assert doc.date == "2006"  # DP as printed (SO says 2006 Jan 10: the e-pub date)
    assert doc.year == "2006"
    assert (doc.volume, doc.issue, doc.pages) == ("7", None, "10")
    assert doc.doi == "10.1186/1471-2105-7-10"  # from "AID - 10.1186/1471-2105-7-10 [doi]"
    assert doc.pmc == "PMC1373603"
    assert doc.article_types == ("Evaluation Studies", "Journal Article")
    assert len(doc.keywords) == 9
    assert doc.keywords[0] == "*Database Management Systems"
    assert "Information Storage and Retrieval/*methods" in doc.keywords
    assert doc.retracted is False
    assert doc.references == ()


def test_sample2_structured_abstract_labels_inside_wrapped_lines(sample2):
    sections = sample2[0].sections
    assert [s.label for s in sections] == ["BACKGROUND", "RESULTS", "CONCLUSION"]
    assert sections[0].text.startswith("Benchmarking algorithms in structural bioinformatics")
    assert sections[0].text.endswith("construction of datasets from these resources.")
    assert sections[2].text == (
        "The modules make the analysis and generation of datasets for use in structural "
        "genomics easier and more principled."
    )
    assert all("  " not in s.text and "\n" not in s.text for s in sections)


def test_sample2_wrapped_title_and_multiword_label(sample2):
    doc = sample2[1]
    assert doc.title == (
        "GenomeDiagram: a python package for the visualization of large-scale genomic data."
    )
    assert doc.authors[0] == "Leighton Pritchard"
    assert doc.authors[2] == "Paul R J Birch"
    assert doc.journal == "Bioinformatics"
    assert doc.journal_full == "Bioinformatics (Oxford, England)"
    assert (doc.date, doc.volume, doc.issue, doc.pages) == ("2006 Mar 1", "22", "5", "616-7")
    assert doc.doi == "10.1093/bioinformatics/btk021"  # the second AID; the first is [pii]
    assert doc.pmc is None
    assert [s.label for s in doc.sections] == [
        "SUMMARY", "AVAILABILITY", "SUPPLEMENTARY INFORMATION"
    ]
    assert doc.sections[2].text == (
        "A user manual, example code and images are available at "
        "http://bioinf.scri.ac.uk/lp/programs.html."
    )


def test_sample2_particle_surname_and_record_without_doi(sample2):
    assert sample2[2].authors == ("M J L de Hoon", "S Imoto", "J Nolan", "S Miyano")
    assert sample2[2].doi == "10.1093/bioinformatics/bth078"
    last = sample2[3]
    assert last.title == "PDB file parser and structure class implemented in Python."
    assert last.doi is None and last.pmc is None
    assert last.doc_id == "14630660"
    # unlabelled text, then a label
    assert [s.label for s in last.sections] == [None, "AVAILABILITY"]
    assert last.sections[0].text.startswith("The biopython project provides")
    assert last.sections[1].text.endswith("from http://www.biopython.org")
    assert len(last.keywords) == 9
    assert last.keywords[3] == "Information Storage and Retrieval/*methods/*standards"


# --- medline-sample3.txt ------------------------------------------------------------------


def test_sample3_fields(sample3):
    assert sample3.pmid == "23039619"
    assert sample3.title == (
        "Effects of different parameters in the fast scanning method for HIFU treatment."
    )
    assert sample3.authors == ("Shan Qiao", "Guofeng Shen", "Jingfeng Bai", "Yazhu Chen")
    assert (sample3.journal, sample3.journal_full) == ("Med Phys", "Medical physics")
    assert (sample3.date, sample3.volume, sample3.issue, sample3.pages) == (
        "2012 Oct", "39", "10", "5795-813"
    )
    assert sample3.doi == "10.1118/1.4748329"  # from "LID - 10.1118/1.4748329 [doi]"
    assert sample3.article_types == ("Journal Article", "Research Support, Non-U.S. Gov't")


def test_sample3_wrapped_mesh_term_is_one_keyword(sample3):
    assert len(sample3.keywords) == 8
    assert sample3.keywords[1] == (
        "High-Intensity Focused Ultrasound Ablation/adverse effects/instrumentation/*methods"
    )


def test_sample3_sections(sample3):
    assert [s.label for s in sample3.sections] == ["PURPOSE", "METHODS", "RESULTS", "CONCLUSIONS"]
    # "RESULTS: " ends a line (with a trailing space); its text starts on the next line
    assert sample3.sections[2].text.startswith("Based on the results of the fast-scanning method")
    assert sample3.sections[3].text.endswith("success and safety of ablation treatment.")


def test_agrees_with_biopython_where_biopython_is_right(sample2, sample3):
    Medline = pytest.importorskip("Bio.Medline")
    for path, docs in ((SAMPLE2, sample2), (SAMPLE3, [sample3])):
        with open(path, encoding="utf-8") as handle:
            records = list(Medline.parse(handle))
        assert len(records) == len(docs)
        for record, doc in zip(records, docs):
            assert doc.pmid == record["PMID"]
            assert doc.title == record["TI"]
            assert doc.keywords == tuple(record["MH"])
            assert doc.article_types == tuple(record["PT"])
            assert doc.authors == tuple(full_name(name) for name in record["FAU"])
            joined = " ".join(
                f"{s.label}: {s.text}" if s.label else s.text for s in doc.sections
            )
            assert joined == " ".join(record["AB"].split())


# --- hand-made records ------------------------------------------------------------------


def test_retracted_record_with_unicode_names_and_no_abstract(handmade):
    doc = handmade[0]
    assert doc.retracted is True  # PT "Retracted Publication" and an RIN field
    assert doc.authors == ("Jürgen Müller", "Søren K Østergaard", "Nordic Telomere Study Group")
    assert doc.sections == ()
    assert doc.doi is None
    assert doc.doc_id == "99000001"
    assert doc.keywords == ("Telomere/*genetics",)


def test_au_only_record_paragraphs_labels_and_ids(handmade):
    doc = handmade[1]
    assert doc.authors == ("Smith JA", "García-López M")  # no FAU: AU kept as printed
    assert doc.title == (
        "A made-up unstructured abstract with a second paragraph and an electronic locator."
    )
    assert doc.doi == "10.9999/made.up.2"  # the [doi] LID, not the [pii] one
    assert doc.pmc == "PMC9999999"  # from "AID - PMC9999999 [pmc]"
    assert doc.keywords == ("telomeres", "made-up keyword")  # OT author keywords
    assert doc.retracted is False
    assert doc.sections == (
        Section(
            None,
            "The first paragraph has no label; it mentions an odds ratio OR: 1.3 mid-sentence."
            "\n\nA second paragraph follows a line of spaces.",
        ),
        Section("CONCLUSIONS", "Labels after a sentence end start a section."),
    )


def test_rin_alone_marks_retracted_and_retraction_notice_does_not(tmp_path):
    text = (
        "PMID- 99000003\nTI  - Retracted by a notice.\nPT  - Journal Article\n"
        "RIN - J Made Up. 2020;1:1.\n\n"
        "PMID- 99000004\nTI  - The notice itself.\nPT  - Retraction of Publication\n"
        "ROF - J Made Up. 2019;1:2.\n"
    )
    docs = read_medline(write(tmp_path, text))
    assert [d.retracted for d in docs] == [True, False]


def test_crlf_and_bom_read_like_lf(tmp_path, sample3):
    raw = SAMPLE3.read_bytes()
    assert b"\r" not in raw
    path = write(tmp_path, b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
    doc = read_medline(path)[0]
    assert doc == dataclasses.replace(sample3, source_path=str(path))


def test_unicode_names_with_crlf(tmp_path):
    text = (
        "PMID- 99000005\r\nTI  - Ünïcode.\r\nFAU - Østergaard, Søren\r\n"
        "AU  - Østergaard S\r\n"
    )
    doc = read_medline(write(tmp_path, text))[0]
    assert doc.authors == ("Søren Østergaard",)
    assert doc.title == "Ünïcode."


def test_record_without_pmid_but_with_title_uses_slug_id(tmp_path):
    text = "TI  - Telomere length and cancer risk.\nAU  - Bao Y\nDP  - 2017 Jun\n"
    doc = read_medline(write(tmp_path, text))[0]
    assert doc.pmid is None
    assert doc.doc_id == "bao-2017-telomere-length-and"


def test_full_name():
    assert full_name("Ytterberg, Steven R") == "Steven R Ytterberg"
    assert full_name("de Hoon, M J L") == "M J L de Hoon"
    assert full_name("Smith, John, Jr") == "John Smith Jr"
    assert full_name("Plato") == "Plato"


def test_abstract_sections():
    assert abstract_sections("Plain text. No labels here.") == (
        Section(None, "Plain text. No labels here."),
    )
    assert abstract_sections("AIM: To test. KEY RESULTS: It works.") == (
        Section("AIM", "To test."),
        Section("KEY RESULTS", "It works."),
    )


# --- errors -------------------------------------------------------------------------------


def test_empty_file(tmp_path):
    assert "empty file" in error_of(write(tmp_path, ""))
    assert "empty file" in error_of(write(tmp_path, b"\xef\xbb\xbf\r\n  \n", "blank.nbib"))


def test_invalid_utf8_names_line(tmp_path):
    path = write(tmp_path, b"PMID- 1\nTI  - caf\xe9\n")
    message = error_of(path)
    assert message.startswith(f"{path}:2: ")
    assert "UTF-8" in message


def test_bad_line_names_file_record_and_line(tmp_path):
    lines = SAMPLE2.read_text(encoding="utf-8").split("\n")
    at = lines.index("PMID- 14871861") + 3  # inside the third record
    lines.insert(at, "this is not a MEDLINE line")
    path = write(tmp_path, "\n".join(lines))
    message = error_of(path)
    assert message.startswith(f"{path}:{at + 1}: record 3: ")
    assert "'this is not a MEDLINE line'" in message


def test_record_without_pmid_and_title(tmp_path):
    text = "PMID- 99000006\nTI  - Fine.\n\nAU  - Nobody N\nDP  - 2001\n"
    message = error_of(write(tmp_path, text))
    assert message.endswith("record 2 (line 4): no PMID and no title (TI)")


def test_non_numeric_pmid(tmp_path):
    message = error_of(write(tmp_path, "PMID- 12ab\nTI  - x\n"))
    assert "record 1 (line 1): PMID '12ab' is not a number" in message


def test_continuation_before_any_field(tmp_path):
    message = error_of(write(tmp_path, "      dangling\nPMID- 1\n"))
    assert ":1: record 1: indented line with no field before it" in message


def test_ris_file_is_refused(tmp_path):
    text = "TY  - JOUR\nTI  - A title\nAU  - Smith, J\nER  - \n"
    assert "RIS" in error_of(write(tmp_path, text))
    assert not looks_like_medline(text)


def test_missing_file(tmp_path):
    assert "cannot read file" in error_of(tmp_path / "nope.nbib")


# --- sniffing -----------------------------------------------------------------------------


def test_looks_like_medline():
    assert looks_like_medline(SAMPLE2.read_text(encoding="utf-8")[:2000])  # starts blank
    assert looks_like_medline(SAMPLE3.read_text(encoding="utf-8")[:500])
    assert looks_like_medline("\ufeffPMID- 123\r\nOWN - NLM\r\n")
    assert looks_like_medline("TI  - Title\nFAU - Smith, John\nDP  - 2001\nTA  - J X\n")
    assert not looks_like_medline("")
    assert not looks_like_medline('<?xml version="1.0"?>\n<PubmedArticleSet>')
    assert not looks_like_medline('{"_id": "1", "title": "t", "text": "x"}')
    assert not looks_like_medline("Review\n. 2006 Jun;8(3):167-73.\nTitle\n")
    assert not looks_like_medline("TI  - only one common tag\n")
