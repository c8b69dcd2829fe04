"""PDF reader: metadata, headings, unwrapping, and InputError for every unreadable file."""
from __future__ import annotations

import importlib.util
import io

import pytest

from conftest import FIXTURES, ROOT
from qa.errors import InputError
from qa.readers import pdf
from qa.readers.pdf import NO_TEXT_LAYER, looks_like_pdf, meaningful_title, read_pdf, title_from_lines

pypdf = pytest.importorskip("pypdf")

ARTICLE = FIXTURES / "pdf-article.pdf"
NO_TITLE = FIXTURES / "pdf-no-title.pdf"
SCANNED = FIXTURES / "pdf-scanned.pdf"
CORRUPT = FIXTURES / "pdf-corrupt.pdf"

TITLE = "Methotrexate Dose Escalation and Remission in Early Rheumatoid Arthritis: An Invented Cohort"
DOI = "10.5555/qa-fixture.2024.001"


def read_one(path):
    docs = read_pdf(path)
    assert len(docs) == 1
    return docs[0]


def section(doc, label):
    found = [s.text for s in doc.sections if s.label == label]
    assert found, f"no section {label!r} in {[s.label for s in doc.sections]}"
    return found[0]


def all_text(doc):
    return "\n".join(s.text for s in doc.sections)


def test_fixtures_are_what_the_tool_writes():
    spec = importlib.util.spec_from_file_location("make_pdf_fixtures", ROOT / "tools" / "make_pdf_fixtures.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for name, data in tool.fixtures().items():
        assert (FIXTURES / name).read_bytes() == data, f"{name}: run tools/make_pdf_fixtures.py"


def test_metadata_title_authors_and_doi():
    doc = read_one(ARTICLE)
    assert doc.title == TITLE
    assert doc.authors == ("Jane Q. Fixture", "Ravi Testwell")
    assert doc.doi == DOI
    assert doc.doc_id == DOI
    assert doc.pmid is None
    assert doc.date is None
    assert doc.source_path == str(ARTICLE)


def test_sections_from_headings():
    doc = read_one(ARTICLE)
    labels = [s.label for s in doc.sections]
    assert labels == [None, "Abstract", "Introduction", "Methods", "Results", "DISCUSSION", "Conclusions"]
    assert section(doc, "Results").startswith("Remission at week 24 was reached by 41 of 60 patients")
    assert "faster escalation did not add toxicity" in section(doc, "DISCUSSION")
    # "TEST FIXTURE: this article ..." is prose that opens with capitals, not a label
    assert section(doc, "Abstract").startswith("TEST FIXTURE: this article was invented")


def test_title_lines_not_repeated_and_front_matter_kept():
    doc = read_one(ARTICLE)
    front = section(doc, None)
    assert "Rheumatoid Arthritis: An Invented Cohort" not in front
    assert "doi:10.5555/qa-fixture.2024.001" in front


def test_hyphenated_line_break_joined_and_lines_unwrapped():
    doc = read_one(ARTICLE)
    abstract = section(doc, "Abstract")
    assert "escalation of the treatment to 25 mg weekly" in abstract
    assert "treat-" not in all_text(doc)
    assert "\n" not in abstract
    # a real hyphen inside a line stays
    assert "made-up cohort" in abstract


def test_paragraph_runs_over_the_page_break_and_footer_is_dropped():
    doc = read_one(ARTICLE)
    assert "oral methotrexate with 5 mg of weekly folic acid." in section(doc, "Methods")
    assert "page 1 of 2" not in all_text(doc)
    assert "qa test fixture - invented data" not in all_text(doc)


def test_winansi_characters_decoded():
    doc = read_one(ARTICLE)
    assert "Sjögren overlap" in section(doc, "Introduction")
    assert "54 ± 11 years" in section(doc, "Methods")


def test_references_are_not_body_text():
    doc = read_one(ARTICLE)
    assert "References" not in [s.label for s in doc.sections]
    text = all_text(doc)
    assert "Another invented paper about remission" not in text
    assert "qa-fixture.2023.009" not in text
    # numbered 1, 2 in order: clean enough to keep as entries
    assert [r.number for r in doc.references] == [1, 2]
    assert doc.references[0].text.startswith("Fixture JQ, Example B. A made-up trial")
    assert doc.references[0].text.endswith("doi:10.5555/qa-fixture.2023.009")
    assert doc.references[0].doi == "10.5555/qa-fixture.2023.009"
    assert doc.references[1].doi is None


def test_no_title_metadata_takes_the_first_page_title():
    doc = read_one(NO_TITLE)
    assert doc.title == TITLE
    assert doc.authors == ()  # no /Author: never guessed from the page's author line
    assert doc.doi == DOI
    assert [s.label for s in doc.sections][1:] == ["Abstract", "Introduction", "Methods", "Results",
                                                    "DISCUSSION", "Conclusions"]


def test_meaningless_metadata_title_is_ignored(tmp_path):
    writer = pypdf.PdfWriter(clone_from=str(ARTICLE))
    writer.add_metadata({"/Title": "Microsoft Word - fixture_draft.docx", "/Author": "Administrator"})
    out = tmp_path / "word-export.pdf"
    with open(out, "wb") as f:
        writer.write(f)
    doc = read_one(out)
    assert doc.title == TITLE
    assert doc.authors == ()


@pytest.mark.parametrize("value", ["", "   ", "untitled", "Untitled-3", "Document1", "Microsoft Word - x.docx",
                                   "paper_v3", "manuscript.tex", "/home/me/paper.pdf", "jrheum_2020_123", "12"])
def test_meaningful_title_rejects_file_names_and_stock_titles(value):
    assert meaningful_title(value, "some/file.pdf") is None


def test_meaningful_title_keeps_real_titles_and_rejects_the_file_stem():
    assert meaningful_title("  Methotrexate in early RA  ") == "Methotrexate in early RA"
    assert meaningful_title("Gout", "x.pdf") == "Gout"
    assert meaningful_title("draft-two", "papers/draft-two.pdf") is None


def test_first_page_title_from_lines():
    lines = ["ORIGINAL ARTICLE", "Journal of Imaginary Rheumatology 2024;3:10-19",
             "Allopurinol titration in gout:", "an invented cohort study",
             "J Smith1, K Jones2 and L Brown1", "doi:10.5555/x", "Abstract", "Text."]
    assert title_from_lines(lines) == "Allopurinol titration in gout: an invented cohort study"
    assert title_from_lines(["Abstract", "Body text of the abstract."]) is None


def test_scanned_pdf_needs_ocr():
    with pytest.raises(InputError) as info:
        read_pdf(SCANNED)
    assert info.value.message == NO_TEXT_LAYER
    assert str(info.value) == f"{SCANNED}: no text layer (scanned PDF?); run OCR first"


def test_truncated_pdf_is_an_input_error():
    with pytest.raises(InputError) as info:
        read_pdf(CORRUPT)
    assert str(info.value).startswith(f"{CORRUPT}: truncated PDF")


def test_damaged_pdf_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ngarbage\n%%EOF\n")
    with pytest.raises(InputError) as info:
        read_pdf(bad)
    assert str(info.value).startswith(str(bad) + ": ")
    assert "\n" not in str(info.value)


def test_mangled_copies_raise_only_input_errors(tmp_path):
    """Cuts and byte flips anywhere: a Document or an InputError, never another exception."""
    data = ARTICLE.read_bytes()
    variants = [data[:cut] + b"\n%%EOF\n" for cut in range(0, len(data), 173)]
    for pos in range(9, len(data), 211):
        flipped = bytearray(data)
        flipped[pos] = (flipped[pos] + 0x5A) % 256
        variants.append(bytes(flipped))
    target = tmp_path / "mangled.pdf"
    for variant in variants:
        target.write_bytes(variant)
        try:
            read_pdf(target)
        except InputError as e:
            assert str(e).startswith(str(target))


def test_encrypted_pdf_with_a_password(tmp_path):
    writer = pypdf.PdfWriter(clone_from=str(ARTICLE))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = tmp_path / "locked.pdf"
    with open(out, "wb") as f:
        writer.write(f)
    with pytest.raises(InputError, match="encrypted PDF that needs a password"):
        read_pdf(out)


def test_encrypted_pdf_without_a_user_password_is_read(tmp_path):
    writer = pypdf.PdfWriter(clone_from=str(ARTICLE))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    out = tmp_path / "restricted.pdf"
    out.write_bytes(buffer.getvalue())
    assert read_one(out).title == TITLE


def test_page_limit(monkeypatch):
    monkeypatch.setattr(pdf, "MAX_PAGES", 1)
    with pytest.raises(InputError, match=r"PDF has 2 pages; at most 1 are read"):
        read_pdf(ARTICLE)


def test_not_a_pdf_and_missing_file(tmp_path):
    other = tmp_path / "notes.pdf"
    other.write_text("just text\n")
    with pytest.raises(InputError, match="not a PDF"):
        read_pdf(other)
    with pytest.raises(InputError, match="No such file"):
        read_pdf(tmp_path / "absent.pdf")


def test_looks_like_pdf():
    assert looks_like_pdf(ARTICLE.read_bytes()[:64])
    assert looks_like_pdf(b"\x00\x00junk%PDF-1.7\n")
    assert not looks_like_pdf(b"PDF-1.4")
    assert not looks_like_pdf(b"")
    assert not looks_like_pdf(b"{\"_id\": \"1\"}")


def test_running_heads_and_page_numbers_dropped():
    pages = [["ARTHRITIS & RHEUMATOLOGY", "Abstract", "Text of page one.", "12"],
             ["ARTHRITIS & RHEUMATOLOGY", "More text.", "Results", "13"],
             ["ARTHRITIS & RHEUMATOLOGY", "Last text.", "Page 14 of 20"]]
    assert pdf.drop_running_lines(pages) == [["Abstract", "Text of page one."], ["More text.", "Results"],
                                             ["Last text."]]


def test_title_lines_dropped_from_first_page():
    lines = ["Header", "Methotrexate Dose Escalation and", "Remission", "Authors"]
    assert pdf.drop_title_lines(lines, "Methotrexate dose escalation and remission") == ["Header", "Authors"]
    assert pdf.drop_title_lines(lines, "Something else") == lines


def test_without_pypdf_the_error_says_so(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pypdf", None)  # import pypdf -> ImportError
    with pytest.raises(InputError, match="needs the pypdf package"):
        read_pdf(ARTICLE)
