"""Plain-text and Markdown reader: titles, sections, markup, front matter, encodings."""
from __future__ import annotations

import pytest

from conftest import FIXTURES
from qa.errors import InputError
from qa.readers.layout import split_authors
from qa.readers.markdown import read_markdown, strip_inline
from qa.readers.text import read_plain, read_text

MARKDOWN = FIXTURES / "markdown-article.md"
TEXT = FIXTURES / "text-article.txt"
PROSE_FIRST = FIXTURES / "text-first-line-prose.txt"


def one(docs):
    assert len(docs) == 1
    return docs[0]


def labels(doc):
    return [s.label for s in doc.sections]


def section(doc, label):
    found = [s.text for s in doc.sections if s.label == label]
    assert found, f"no section {label!r} in {labels(doc)}"
    return found[0]


def all_text(doc):
    return "\n".join(s.text for s in doc.sections)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# --- Markdown ---------------------------------------------------------------------------


def test_markdown_front_matter():
    doc = one(read_markdown(MARKDOWN))
    assert doc.title == "Hydroxychloroquine and Flares in Lupus: A Fixture Note"
    assert doc.authors == ("Ada Placeholder", "Ben Sample")
    assert doc.date == "2023-05-17" and doc.year == "2023"
    assert doc.doi == "10.5555/qa-fixture.md.002"  # the https://doi.org/ form, normalised
    assert doc.doc_id == "10.5555/qa-fixture.md.002"
    assert doc.keywords == ("lupus", "hydroxychloroquine", "test fixture")
    assert doc.pmid is None
    assert doc.source_path == str(MARKDOWN)


def test_markdown_headings_become_sections():
    doc = one(read_markdown(MARKDOWN))
    # the H1 repeats the front matter title: not a section; ### is a section like ##
    assert labels(doc) == [None, "Background", "Patients & dosing", "Conclusions", "Notes"]
    assert section(doc, "Background").startswith("Hydroxychloroquine is widely used")
    assert section(doc, "Notes") == "A footnote of the fixture."


def test_markdown_markup_stripped():
    doc = one(read_markdown(MARKDOWN))
    intro = section(doc, None)
    assert intro == ("TEST FIXTURE: an invented note for the qa test suite; nothing in it is real. "
                     "See the made-up protocol and the hcq_dose variable.")
    text = all_text(doc)
    for markup in ("**", "__", "~~", "`", "](", "![", "<!--", "editor note", "chart", "[^1]", "&amp;"):
        assert markup not in text, markup
    assert "fewer flares & no new safety signal" in section(doc, "Conclusions")


def test_markdown_lists_tables_and_code():
    text = section(one(read_markdown(MARKDOWN)), "Patients & dosing")
    assert "- 80 adults with lupus\n- dose 5 mg/kg per day\n- visits every 3 months" in text
    assert "Arm | Flares\ncontinued | 9\nstopped | 21" in text
    assert "|---" not in text
    # fenced code is kept verbatim as plain text, fence lines dropped
    assert "flares <- c(9, 21)  # *not* emphasis" in text
    assert "```" not in text


def test_markdown_references_kept_out_of_sections():
    doc = one(read_markdown(MARKDOWN))
    assert "References" not in labels(doc)
    assert "An invented lupus cohort" not in all_text(doc)
    assert [r.number for r in doc.references] == [1, 2]
    assert doc.references[0].text.startswith("Placeholder A. An invented lupus cohort.")
    assert doc.references[0].doi == "10.5555/qa-fixture.ref.1"


def test_markdown_title_from_h1_and_doi_from_text(tmp_path):
    path = write(tmp_path, "note.md", "Intro line.\n\n# Gout *flares* after surgery\n\nBody text, "
                                      "doi: 10.5555/abc.1.\n\nSub heading\n-----------\n\nMore text.\n")
    doc = one(read_markdown(path))
    assert doc.title == "Gout flares after surgery"
    assert doc.doi == "10.5555/abc.1"
    assert labels(doc) == [None, "Sub heading"]
    assert section(doc, None) == "Intro line.\n\nBody text, doi: 10.5555/abc.1."


def test_markdown_setext_title(tmp_path):
    doc = one(read_markdown(write(tmp_path, "x.md", "Uveitis in Behcet disease\n=====\n\nText.\n")))
    assert doc.title == "Uveitis in Behcet disease"
    assert labels(doc) == [None]


def test_markdown_without_h1_takes_the_file_name(tmp_path):
    doc = one(read_markdown(write(tmp_path, "giant-cell_arteritis notes.md", "## Signs\n\nHeadache.\n")))
    assert doc.title == "giant cell arteritis notes"
    assert labels(doc) == ["Signs"]
    assert doc.doc_id == "giant-cell-arteritis"


def test_markdown_inline_details():
    assert strip_inline("snake_case_name and 2*3*4 stay") == "snake_case_name and 2*3*4 stay"
    assert strip_inline(r"an \*escaped\* star, \_x\_") == "an *escaped* star, _x_"
    assert strip_inline("***both*** and **_nested_**") == "both and nested"
    assert strip_inline("see <https://example.org/a> or [ref][1]") == "see https://example.org/a or ref"
    assert strip_inline("`a *b* c` code") == "a *b* c code"
    assert strip_inline("x<br>y <sup>2</sup>") == "x y 2"


def test_malformed_front_matter_stays_text(tmp_path):
    path = write(tmp_path, "plain.md", "---\nThis is not YAML, just a rule.\n\n---\n\nSecond paragraph.\n")
    doc = one(read_markdown(path))
    assert doc.title == "plain"
    assert "This is not YAML, just a rule." in all_text(doc)


def test_front_matter_forms(tmp_path):
    path = write(tmp_path, "fm.md", "---\ntitle: 'Sarcoidosis: a note'\nauthor: Jane Doe and John Roe\n"
                                    "year: 2019\ndoi: 10.5555/SARC.9\npmid: 12345678\ntags: a, b\n---\nText.\n")
    doc = one(read_markdown(path))
    assert doc.title == "Sarcoidosis: a note"
    assert doc.authors == ("Jane Doe", "John Roe")
    assert doc.date == "2019"
    assert doc.doi == "10.5555/SARC.9"
    assert doc.pmid == "12345678" and doc.doc_id == "12345678"  # given, not invented
    assert doc.keywords == ("a", "b")


def test_front_matter_only_is_not_empty_but_text_is_required(tmp_path):
    doc = one(read_markdown(write(tmp_path, "t.md", "---\ntitle: Only a title\n---\n")))
    assert doc.title == "Only a title" and doc.sections == ()
    with pytest.raises(InputError, match="no text"):
        read_markdown(write(tmp_path, "c.md", "<!-- nothing but a comment -->\n"))


# --- plain text -----------------------------------------------------------------------


def test_plain_text_title_sections_and_labels():
    doc = one(read_text(TEXT))
    assert doc.title == "Allopurinol Dose Titration in Gout: A Fixture Summary"
    assert doc.authors == ()  # never guessed from the author line
    assert labels(doc) == [None, "Background", "Methods", "RESULTS", "Conclusions"]
    assert section(doc, None).startswith("Ada Placeholder, Ben Sample\n\nTEST FIXTURE.")
    # a "Label:" paragraph labels the paragraphs after it until the next label
    assert section(doc, "Methods") == ("An imaginary clinic raised the dose by 100 mg every four weeks.\n\n"
                                       "Patients with reduced kidney function started at 50 mg.")
    assert section(doc, "RESULTS").startswith("Of 150 invented patients, 112 reached")


def test_plain_text_unwrapped_and_hyphenation_joined():
    background = section(one(read_text(TEXT)), "Background")
    assert "many patients stay on 100 mg daily" in background
    assert "The titration of the dose" in background
    assert "urate-lowering" in background  # a hyphen inside a line stays


def test_plain_text_references_kept_out():
    doc = one(read_text(TEXT))
    assert "REFERENCES" not in labels(doc)
    assert "invented gout trial" not in all_text(doc)
    assert [r.number for r in doc.references] == [1, 2]
    assert doc.references[1].text == ("Sample B. A second invented paper about urate. "
                                      "Fixture J. 2018;2:5-8. doi:10.5555/qa-fixture.txt.2")
    # the DOI of a cited work is not the document's
    assert doc.doi is None
    assert doc.doc_id == "allopurinol-dose-titration"


def test_plain_text_first_line_prose_falls_back_to_file_name():
    doc = one(read_text(PROSE_FIRST))
    assert doc.title == "text first line prose"
    assert section(doc, None).startswith("methotrexate was given weekly")


@pytest.mark.parametrize("first", [
    "The dose was raised every four weeks.",  # final period: a sentence
    "Patients were treated with",  # ends on a function word
    "x " * 30,  # too long
])
def test_plain_text_first_lines_that_are_not_titles(tmp_path, first):
    doc = one(read_text(write(tmp_path, "my_notes-2024.txt", first + "\n\nMore.\n")))
    assert doc.title == "my notes 2024"


def test_plain_text_label_rules(tmp_path):
    text = ("Scleroderma notes\n\nThe results were clear: nobody improved.\n\nStudy design:\n"
            "Open label.\n\nMATERIALS AND METHODS\nWe used invented data.\n\n2. Outcome measures\n\n"
            "Skin score.\n\nNote: invented.\n")
    doc = one(read_text(write(tmp_path, "s.txt", text)))
    assert labels(doc) == [None, "Study design", "MATERIALS AND METHODS", "Outcome measures", "Note"]
    assert section(doc, None) == "The results were clear: nobody improved."
    assert section(doc, "Study design") == "Open label."


def test_plain_text_keeps_markdown_characters(tmp_path):
    path = write(tmp_path, "a.txt", "Title line\n\nSome **bold** words.\n")
    assert "**bold**" in all_text(one(read_plain(path)))
    md = write(tmp_path, "a.markdown", "Title line\n\nSome **bold** words.\n")
    assert "Some bold words." in all_text(one(read_plain(md)))


# --- encodings and errors -------------------------------------------------------------------


def test_crlf_bom_and_lf_give_the_same_document(tmp_path):
    lf = TEXT.read_bytes()
    crlf = b"\xef\xbb\xbf" + lf.replace(b"\n", b"\r\n")
    a = one(read_text(write(tmp_path, "t.txt", lf)))
    b = one(read_text(write(tmp_path, "t2.txt", crlf)))
    assert (a.title, a.sections, a.references) == (b.title, b.sections, b.references)
    assert not b.title.startswith("\ufeff")


def test_markdown_crlf_and_bom(tmp_path):
    data = b"\xef\xbb\xbf" + MARKDOWN.read_bytes().replace(b"\n", b"\r\n")
    doc = one(read_markdown(write(tmp_path, "m.md", data)))
    assert doc.title == "Hydroxychloroquine and Flares in Lupus: A Fixture Note"
    assert labels(doc) == [None, "Background", "Patients & dosing", "Conclusions", "Notes"]
    assert "\r" not in all_text(doc)


def test_utf16_with_bom(tmp_path):
    doc = one(read_text(write(tmp_path, "u.txt", "Behçet disease\n\nOral ulcers.\n".encode("utf-16"))))
    assert doc.title == "Behçet disease"


def test_unicode_text(tmp_path):
    text = "Sjögren’s syndrome and β2-microglobulin — a note\n\nLevels ≥ 3 mg/L in 40 % of patients.\n"
    doc = one(read_markdown(write(tmp_path, "u.md", text)))
    assert doc.title == "u"
    doc = one(read_text(write(tmp_path, "u.txt", text)))
    assert doc.title == "Sjögren’s syndrome and β2-microglobulin — a note"
    assert section(doc, None) == "Levels ≥ 3 mg/L in 40 % of patients."
    assert doc.doc_id == "sjogrens-syndrome-and"


@pytest.mark.parametrize("data", [b"", b"   \n\n\t \r\n", b"\xef\xbb\xbf\n  \n"])
@pytest.mark.parametrize("reader", [read_text, read_markdown])
def test_empty_file(tmp_path, data, reader):
    path = write(tmp_path, "empty.txt", data)
    with pytest.raises(InputError) as info:
        reader(path)
    assert str(info.value) == f"{path}: empty file"


@pytest.mark.parametrize("reader", [read_text, read_markdown])
def test_invalid_utf8(tmp_path, reader):
    path = write(tmp_path, "latin1.md", "Title\n\nCaf".encode() + b"\xe9 au lait\n")
    with pytest.raises(InputError) as info:
        reader(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: invalid UTF-8 at byte 10 (0xE9)")


def test_invalid_utf8_after_bom_counts_the_bom(tmp_path):
    path = write(tmp_path, "b.txt", b"\xef\xbb\xbfab\n\xff")
    with pytest.raises(InputError, match=r"invalid UTF-8 at byte 6") as info:
        read_text(path)
    assert info.value.line == 2


def test_binary_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="binary file"):
        read_text(write(tmp_path, "bin.txt", b"abc\x00def"))
    with pytest.raises(InputError, match="No such file"):
        read_plain(tmp_path / "absent.md")


def test_split_authors():
    assert split_authors("Ada Placeholder; Ben Sample;") == ("Ada Placeholder", "Ben Sample")
    assert split_authors("Doe, Jane") == ("Doe, Jane",)
    assert split_authors("Doe, J., Roe, K. and Poe, A.") == ("Doe, J.", "Roe, K.", "Poe, A.")
    assert split_authors("Jane Doe, John Roe & Ann Poe") == ("Jane Doe", "John Roe", "Ann Poe")
    assert split_authors("Jane Doe et al.") == ("Jane Doe",)
    assert split_authors("  ") == ()


def test_plain_text_headings_without_blank_lines_and_rules(tmp_path):
    text = ("Polymyalgia notes\n=================\n\nAn invented opening sentence.\nMethods\n"
            "We made the data up.\nIt ends here.\nSAFETY DATA\nNo events.\n")
    doc = one(read_text(write(tmp_path, "p.txt", text)))
    assert doc.title == "Polymyalgia notes"
    assert labels(doc) == [None, "Methods", "SAFETY DATA"]
    assert section(doc, "Methods") == "We made the data up. It ends here."
    assert "=====" not in all_text(doc)


def test_plain_text_bullets_stay_lines(tmp_path):
    text = "Gout diet notes\n\nAvoid:\n- beer\n- organ meats\nand drink water.\n"
    doc = one(read_text(write(tmp_path, "g.txt", text)))
    assert section(doc, "Avoid") == "- beer\n- organ meats and drink water."


def test_markdown_structured_abstract_labels(tmp_path):
    text = "# Invented trial\n\n## Abstract\n\n**Background:** Made up.\n\n**Results:** Also made up.\n"
    doc = one(read_markdown(write(tmp_path, "a.md", text)))
    assert labels(doc) == ["Background", "Results"]
    assert section(doc, "Results") == "Also made up."


def test_plain_text_references_end_only_at_a_usual_heading(tmp_path):
    text = ("Vasculitis notes\n\nBody text.\n\nReferences\n1. Doe J. Invented.\nJAMA\n"
            "2. Roe K. Also invented.\n\nAcknowledgements\nThanks to nobody.\n")
    doc = one(read_text(write(tmp_path, "v.txt", text)))
    assert labels(doc) == [None, "Acknowledgements"]
    assert [r.text for r in doc.references] == ["Doe J. Invented. JAMA", "Roe K. Also invented."]
