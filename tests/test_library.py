"""The library end to end: qa add / sources / show / cite / remove, duplicates, rejects, filters."""
from __future__ import annotations


import pytest

from conftest import FIXTURES, SEED_DOI
from qa import library as library_module
from qa.readers.bibtex import read_bibtex
from qa.readers.ris import read_ris

MEDLINE = FIXTURES / "medline-sample2.txt"  # 4 real records (Biopython test file)
XML = FIXTURES / "pubmed-xml-4.xml"  # 1 real record with 48 cited works
RETRACTED = FIXTURES / "ris-retracted.ris"


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def source_ids(cli, *extra) -> dict:
    r = cli("sources", "--json", *extra)
    assert r.code == 0
    return {s["doc_id"]: s for s in r.json()}


def test_add_parses_each_file_and_rejects_bad_ones_whole(cli, qa_home, tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text(XML.read_text(encoding="utf-8")[:3000], encoding="utf-8")  # truncated XML
    r = cli("add", str(MEDLINE), str(bad), str(XML))
    assert r.code == 1
    [error] = lines(r.err)
    assert str(bad) in error and "Traceback" not in r.err
    assert "added 4 documents" in r.out and "added 1 document" in r.out
    ids = source_ids(cli)
    assert SEED_DOI in ids, "the default corpus is the seed plus the library"
    assert {"14630660", "27797938"} <= ids.keys()
    assert ids["27797938"]["passages"] > 48, "cited works become reference passages"
    # nothing of the rejected file is in the library
    assert len(list((qa_home / "library" / "records").glob("*.jsonl"))) == 2


def test_added_documents_answer_questions(cli):
    cli("add", str(XML))
    r = cli("ask", "leucocyte telomere length and pancreatic cancer risk", "--json")
    assert r.json()["hits"][0]["doc_id"] == "27797938"
    assert "pancreatic cancer" in r.json()["answer"]["text"]


def test_duplicates_are_skipped_and_the_rest_of_the_file_added(cli, tmp_path):
    cli("add", str(MEDLINE))
    records = MEDLINE.read_text(encoding="utf-8").strip().split("\n\n")
    new = ("PMID- 99000999\nTI  - A new record about sarcopenia in myositis (made for this test).\n"
           "AB  - Muscle mass fell in most patients.\nAU  - Tester A\nDP  - 2020")
    mixed = tmp_path / "mixed.nbib"
    mixed.write_text(records[1] + "\n\n" + new + "\n", encoding="utf-8")
    r = cli("add", str(mixed))
    assert r.code == 0
    assert "already in the library" in r.err and "added 1 document" in r.out
    assert "99000999" in source_ids(cli)


def test_show_cite_and_remove(cli, tmp_path):
    cli("add", str(XML))
    shown = cli("show", "27797938")
    assert shown.code == 0 and "References:" in shown.out and "Gut" in shown.out
    bib = cli("cite", "27797938", "--format", "bibtex")
    assert bib.out.startswith("@article{")
    path = tmp_path / "back.bib"
    path.write_text(bib.out, encoding="utf-8")
    assert read_bibtex(path)[0].pmid == "27797938"
    ris = tmp_path / "back.ris"
    ris.write_text(cli("cite", "27797938", "--format", "ris").out, encoding="utf-8")
    assert read_ris(ris)[0].title == read_bibtex(path)[0].title
    assert cli("remove", "27797938").code == 0
    assert "27797938" not in source_ids(cli)
    missing = cli("remove", "27797938")
    assert missing.code == 1 and "27797938" in lines(missing.err)[0]
    assert cli("show", "nope").code == 1


def test_library_option_and_corpus_option(cli, tmp_path):
    lib = tmp_path / "review-lib"
    cli("add", str(XML), "--library", str(lib))
    assert (lib / "records").is_dir()
    assert "27797938" in source_ids(cli, "--library", str(lib))
    assert "27797938" not in source_ids(cli), "another library is not the default one"
    only = source_ids(cli, "--corpus", str(MEDLINE))
    assert SEED_DOI not in only and "27797938" not in only
    both = source_ids(cli, "--corpus", str(MEDLINE), "--library", str(lib))
    assert "27797938" in both and "14630660" in both


def test_retracted_publications_are_flagged(cli):
    cli("add", str(RETRACTED))
    ids = source_ids(cli)
    flagged = {i for i, s in ids.items() if s["retracted"]}
    assert flagged == {"10.5555/fixture.2008.0001", "10.5555/fixture.2009.0002"}
    r = cli("ask", "complete remission of polymyositis with a fixture compound")
    assert "RETRACTED" in r.out


def test_filters_from_options(cli):
    cli("add", str(MEDLINE), str(XML))
    r = cli("ask", "python software", "--json", "-k", "20", "--year", "2004-2005")
    years = {h["source"]["year"] for h in r.json()["hits"]}
    assert years and years <= {"2004", "2005"}
    r = cli("ask", "python software", "--json", "-k", "20", "--author", "Hamelryck")
    assert {h["doc_id"] for h in r.json()["hits"]} == {"14630660"}
    r = cli("ask", "python software author:hamelryck", "--json")
    assert r.json()["query"] == "python software"


def test_a_failed_write_leaves_the_library_as_it_was(cli, qa_home, monkeypatch):
    cli("add", str(XML))
    before = source_ids(cli)

    def boom(path, docs):
        path.write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(library_module, "write_records", boom)
    with pytest.raises(OSError):
        library_module.add([str(MEDLINE)], qa_home / "library")
    assert source_ids(cli) == before
    assert not list((qa_home / "library" / "records").glob(".tmp-*"))


def test_duplicates_are_found_from_the_keys_files_without_parsing_the_library(cli, qa_home, monkeypatch):
    cli("add", str(MEDLINE))
    calls = []
    real = library_module.read_records
    monkeypatch.setattr(library_module, "read_records", lambda path: calls.append(path) or real(path))
    r = cli("add", str(XML), str(MEDLINE))
    assert "added 1 document" in r.out and r.err.count("already in the library") == 4
    assert {p.name for p in calls} == {f.name for f in (qa_home / "library" / "records").glob("medline*.jsonl")}, \
        "only the records file of a duplicate is read, to name it"


def test_missing_or_stale_keys_files_are_made_again(cli, qa_home):
    cli("add", str(MEDLINE))
    keys = qa_home / "library" / "keys"
    for f in keys.iterdir():
        f.unlink()
    r = cli("add", str(MEDLINE))
    assert r.err.count("already in the library") == 4
    assert len(list(keys.iterdir())) == 1
    cli("remove", "14630660")
    r = cli("add", str(MEDLINE))
    assert r.err.count("already in the library") == 3 and "added 1 document" in r.out
