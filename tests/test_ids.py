"""Documents named the ways qa prints them (and people write them): `qa show`, `cite`, `remove`;
`qa cite` of several documents and of the whole library; `qa add` of a folder."""
from __future__ import annotations

import re
import shutil

import pytest

from conftest import FIXTURES, SEED_CITATION, SEED_DOI
from qa.readers.bibtex import read_bibtex
from qa.readers.ris import read_ris

MEDLINE = FIXTURES / "medline-sample2.txt"  # 4 real records; 14871861 has the DOI below
DE_HOON, DE_HOON_DOI = "14871861", "10.1093/bioinformatics/bth078"


@pytest.fixture
def library(cli):
    r = cli("add", str(MEDLINE))
    assert r.code == 0, r.err
    return cli


@pytest.mark.parametrize("written", [
    DE_HOON, f"{DE_HOON}#2", DE_HOON_DOI, DE_HOON_DOI.upper(), f"doi:{DE_HOON_DOI}",
    f"https://doi.org/{DE_HOON_DOI.upper()}", f"http://dx.doi.org/{DE_HOON_DOI}", f"PMID:{DE_HOON}",
    f"PMID: {DE_HOON}", f"https://pubmed.ncbi.nlm.nih.gov/{DE_HOON}/"])
def test_a_document_is_found_from_any_id_qa_prints(library, written):
    r = library("cite", written)
    assert r.code == 0, r.err
    assert r.out.startswith("de Hoon MJ, Imoto S") and r.out.rstrip().endswith(f"PMID: {DE_HOON}")


@pytest.mark.parametrize("written", [SEED_DOI.upper(), f"{SEED_DOI}#3", f"https://doi.org/{SEED_DOI}"])
def test_show_takes_the_same_forms(cli, written):
    r = cli("show", written)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == SEED_CITATION


def test_an_unknown_id_gets_the_closest_ids(library):
    r = library("cite", DE_HOON[:-1] + "2")
    assert r.code == 1 and r.out == ""
    assert r.err == (f"qa: error: no document '{DE_HOON[:-1]}2' in the corpus; did you mean {DE_HOON}? "
                     "(`qa sources` lists them)\n")
    shown = library("show", "nothing-like-any-id")
    assert shown.code == 1 and "did you mean" not in shown.err and "`qa sources` lists them" in shown.err


def test_cite_takes_several_ids_and_prints_nothing_when_one_is_unknown(library):
    both = library("cite", SEED_DOI, f"PMID:{DE_HOON}")
    assert both.code == 0
    assert both.out.splitlines()[0] == SEED_CITATION and both.out.splitlines()[1].startswith("de Hoon MJ")
    bad = library("cite", SEED_DOI, "12345", "54321")
    assert bad.code == 1 and bad.out == ""
    assert [line.split("'")[1] for line in bad.err.splitlines()] == ["12345", "54321"]


@pytest.mark.parametrize("fmt,reader", [("bibtex", read_bibtex), ("ris", read_ris)])
def test_cite_all_exports_the_library(library, tmp_path, fmt, reader):
    r = library("cite", "--all", "--format", fmt)
    assert r.code == 0, r.err
    path = tmp_path / f"library.{fmt}"
    path.write_text(r.out, encoding="utf-8")
    back = reader(path)
    # the library's four documents; the bundled seed record is not part of the library
    assert sorted(d.pmid for d in back) == ["14630660", "14871861", "16377612", "16403221"]


def test_cite_all_gives_repeated_bibtex_keys_a_letter(cli, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(f'{{"_id": "d{i}", "title": "Same title", "text": "Text {i}.", '
                              f'"metadata": {{"authors": ["Ann Smith"], "year": "2020"}}}}\n' for i in range(3)),
                      encoding="utf-8")
    r = cli("cite", "--all", "--format", "bibtex", "--corpus", str(corpus))
    assert re.findall(r"^@article\{(\w+),", r.out, re.M) == ["smith2020same", "smith2020sameb", "smith2020samec"]


def test_cite_needs_ids_or_all_not_both(library):
    for args in ([], ["--all", DE_HOON]):
        r = library("cite", *args)
        assert r.code == 2 and r.out == "" and "qa cite: error: " in r.err


def test_cite_all_of_an_empty_library_says_so(cli):
    r = cli("cite", "--all")
    assert r.code == 1 and "is empty: `qa add FILE` adds papers to it" in r.err


def test_remove_takes_the_same_forms_and_suggests(library):
    r = library("remove", f"PMID:{DE_HOON}", DE_HOON_DOI.upper(), "10.1186/1471-2105-7-10#0")
    assert r.code == 0, r.err
    assert r.out.startswith(f"removed 2 documents from ") and f": {DE_HOON}, 16403221" in r.out
    missing = library("remove", "14630661")
    assert missing.code == 1
    assert "no document '14630661' in the library" in missing.err and "did you mean 14630660" in missing.err


def test_add_of_a_folder_adds_what_it_can_read_and_names_the_rest(cli, tmp_path):
    folder = tmp_path / "papers"
    (folder / "2019").mkdir(parents=True)
    shutil.copy(MEDLINE, folder / "pubmed.nbib")
    shutil.copy(FIXTURES / "ris-endnote-zotero.ris", folder / "2019" / "endnote.ris")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not a format qa reads")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")  # hidden: passed over without a word
    r = cli("add", str(folder))
    assert r.code == 0, r.err
    assert f"added 4 documents from {folder}/pubmed.nbib" in r.out
    assert re.search(rf"added \d+ documents? from {folder}/2019/endnote.ris", r.out)
    assert f"{folder}: 2 files read, 1 file skipped (named above)" in r.out
    [skipped] = r.err.splitlines()
    assert skipped.startswith("qa: skipped ") and "notes.docx: unrecognised format" in skipped
    assert "DS_Store" not in r.err + r.out


def test_add_of_a_folder_with_nothing_readable_is_an_error(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    r = cli("add", str(tmp_path / "empty"))
    assert r.code == 1 and "no file in this folder is in a format qa reads" in r.err


def test_add_of_a_file_already_in_the_library_says_nothing_was_added(library):
    r = library("add", str(MEDLINE))
    assert r.code == 0
    assert r.out == f"nothing added from {MEDLINE}: all its 4 documents are already in the library\n"
    assert len(r.err.splitlines()) == 4  # each duplicate named


def test_one_document_of_one_passage_is_counted_in_the_singular(cli, tmp_path):
    corpus = tmp_path / "one.jsonl"
    corpus.write_text('{"_id": "d1", "text": "Rituximab helped."}\n', encoding="utf-8")
    r = cli("sources", "--corpus", str(corpus))
    assert r.out.splitlines() == ["d1  —  —  [no title]  —  (1 passage)", "1 document"]


def test_adding_a_file_again_after_removing_one_of_its_documents_keeps_the_others(library):
    assert library("remove", DE_HOON).code == 0
    r = library("add", str(MEDLINE))
    assert r.code == 0 and f"added 1 document from {MEDLINE}" in r.out
    listed = library("sources", "--json").json()
    assert {"14630660", "14871861", "16377612", "16403221"} <= {s["doc_id"] for s in listed}


def test_an_unknown_id_gets_suggestions_in_a_large_corpus_too(cli, tmp_path):
    corpus = tmp_path / "large.jsonl"  # more ids than are compared one by one: the sorted neighbours are
    corpus.write_text("".join(f'{{"_id": "doc{i:05d}", "text": "Text number {i}."}}\n' for i in range(6000)),
                      encoding="utf-8")
    r = cli("show", "doc05321x", "--corpus", str(corpus))
    assert r.code == 1 and "did you mean doc05321 or " in r.err
