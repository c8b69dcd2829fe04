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
    again = cli("remove", "27797938")
    assert again.code == 0 and "already removed" in lines(again.err)[0]
    missing = cli("remove", "99999999")
    assert missing.code == 1 and "99999999" in lines(missing.err)[0]
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


# ---------------------------------------------------------------- crashes, collisions, names, damage

MEDLINE_IDS = {"16403221", "16377612", "14871861", "14630660"}


def library_names(home, folder: str) -> list[str]:
    path = home / "library" / folder
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


def subprocess_ids(home) -> set[str]:
    from conftest import run_subprocess
    import json

    r = run_subprocess(["sources", "--json"], home)
    assert r.returncode == 0, r.stderr
    return {s["doc_id"] for s in json.loads(r.stdout)}


def test_a_file_killed_before_its_records_were_renamed_is_added_whole_by_the_rerun(tmp_path):
    from conftest import killed_at, run_subprocess

    home = tmp_path / "home"
    killed_at("records:before-rename", ["add", str(MEDLINE)], home)
    assert [n for n in library_names(home, "records") if n.startswith(".tmp-")], "the kill left the temporary"
    r = run_subprocess(["add", str(MEDLINE)], home)
    assert r.returncode == 0 and "added 4 documents" in r.stdout.decode()
    assert "already in the library" not in r.stderr.decode()
    assert MEDLINE_IDS <= subprocess_ids(home)
    for folder in ("originals", "records", "keys"):
        assert not [n for n in library_names(home, folder) if n.startswith(".")], f"a leftover in {folder}"


def test_leftovers_of_killed_adds_are_cleared_by_the_next_change(tmp_path):
    from conftest import killed_at, run_subprocess

    home = tmp_path / "home"
    killed_at("original:before-rename", ["add", str(XML)], home)  # a whole copy of the file, hidden
    killed_at("keys:before-rename", ["add", str(MEDLINE)], home)  # its original, without records
    assert library_names(home, "originals") and not library_names(home, "records")
    r = run_subprocess(["add", str(RETRACTED)], home)
    assert r.returncode == 0
    records = library_names(home, "records")
    assert [n[: -len(".jsonl")] for n in records] == library_names(home, "originals"), \
        "only the original of the file now added is left"
    assert [n[: -len(".jsonl")] + ".keys.npy" for n in records] == library_names(home, "keys")


def note(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text(f"# Rituximab in refractory myositis\n\n{body}\n", encoding="utf-8")
    return path


def test_two_documents_with_one_id_are_both_kept_and_remove_takes_the_one_named(cli, qa_home, tmp_path):
    first = note(tmp_path, "a.md", "Two patients improved on rituximab after methotrexate failed.")
    second = note(tmp_path, "b.md", "Tacrolimus was tried when cyclosporine had to be stopped.")
    r = cli("add", str(first), str(second))
    assert r.code == 0 and r.out.count("added 1 document from") == 2
    [line] = lines(r.err)
    base = line.split("has the id ")[1].split(";")[0]
    assert line.endswith(f"added this one as {base}-2")
    assert {base, f"{base}-2"} <= source_ids(cli).keys()
    hit = cli("ask", "tacrolimus cyclosporine stopped", "--json").json()["hits"][0]
    assert hit["doc_id"] == f"{base}-2"
    assert cli("remove", f"{base}-2").code == 0
    ids = source_ids(cli)
    assert base in ids and f"{base}-2" not in ids, "remove took the document it named, and only it"
    assert len(library_names(qa_home, "originals")) == len(library_names(qa_home, "records")) == 1


def test_a_file_whose_name_starts_with_a_dot_is_searchable(cli, qa_home, tmp_path):
    hidden = note(tmp_path, ".notes.md", "Intravenous immunoglobulin helped a patient with dermatomyositis.")
    assert cli("add", str(hidden)).code == 0
    assert not [n for n in library_names(qa_home, "records") if n.startswith(".")]
    r = cli("ask", "immunoglobulin dermatomyositis patient", "--json").json()
    assert "immunoglobulin" in r["hits"][0]["text"]
    assert "already in the library" in cli("add", str(hidden)).err


def test_records_an_older_qa_stored_under_a_hidden_name_are_made_visible(cli, qa_home, tmp_path):
    hidden = note(tmp_path, "notes.md", "Intravenous immunoglobulin helped a patient with dermatomyositis.")
    cli("add", str(hidden))
    for folder in ("records", "originals"):  # as an older qa stored `.notes.md`
        [name] = library_names(qa_home, folder)
        (qa_home / "library" / folder / name).rename(qa_home / "library" / folder / ("." + name))
    assert cli("add", str(MEDLINE)).code == 0  # any change of the library
    assert not [n for f in ("records", "originals") for n in library_names(qa_home, f) if n.startswith(".")]
    r = cli("ask", "immunoglobulin dermatomyositis patient", "--json").json()
    assert "immunoglobulin" in r["hits"][0]["text"]


def test_a_file_name_of_245_bytes_is_added(cli, qa_home, tmp_path):
    path = tmp_path / ("é" * 118 + "-medline.txt")
    assert len(path.name.encode()) == 248
    path.write_bytes(MEDLINE.read_bytes())
    r = cli("add", str(path))
    assert r.code == 0 and "added 4 documents" in r.out
    [stored] = library_names(qa_home, "originals")
    assert stored.endswith(".txt." + stored.rsplit(".", 1)[1]) and len(stored.encode()) < 160


def flip(path, line: int, old: bytes, new: bytes) -> None:
    """Damage a records file as a flipped bit would: one byte of one line changed in place."""
    rows = path.read_bytes().split(b"\n")
    assert old in rows[line - 1]
    rows[line - 1] = rows[line - 1].replace(old, new, 1)
    path.write_bytes(b"\n".join(rows))


def medline_records(home):
    [path] = (home / "library" / "records").glob("medline*.jsonl")
    return path


def test_a_damaged_records_file_is_rebuilt_from_its_original(cli, qa_home):
    cli("add", str(MEDLINE), str(XML))
    records = medline_records(qa_home)
    flip(records, 2, b"Python", b"Pythom")  # still valid JSON and UTF-8: only the checksum tells
    r = cli("sources", "--json")
    assert r.code == 0
    [warning] = lines(r.err)
    assert str(records) in warning and "damaged (line 2" in warning and "1 read again from its original" in warning
    assert MEDLINE_IDS | {"27797938"} <= {s["doc_id"] for s in r.json()}
    assert len(library_module.read_records(records)) == 4
    assert (qa_home / "library" / "damaged" / records.name).is_file(), "the damaged file is kept"
    assert cli("sources").err == "", "said once"


@pytest.mark.parametrize("command", [("add", str(RETRACTED)), ("remove", "27797938")])
def test_a_damaged_records_file_does_not_block_a_change_of_the_library(cli, qa_home, command):
    cli("add", str(MEDLINE), str(XML))
    records = medline_records(qa_home)
    (qa_home / "library" / "keys" / (records.name[: -len(".jsonl")] + ".keys.npy")).unlink()  # read the records
    rows = records.read_bytes().split(b"\n")
    records.write_bytes(b"\n".join(rows[:2] + [rows[2][:40]] + rows[3:]))  # a line cut short
    r = cli(*command)
    assert r.code == 0 and "damaged (line 3" in r.err and "Traceback" not in r.err
    assert MEDLINE_IDS <= source_ids(cli).keys()


def test_documents_removed_before_the_damage_stay_removed(cli, qa_home):
    cli("add", str(MEDLINE))
    assert cli("remove", "16377612").code == 0
    records = medline_records(qa_home)
    flip(records, 1, b"SCOP", b"SCOQ")
    assert cli("index").code == 0
    assert source_ids(cli).keys() & MEDLINE_IDS == MEDLINE_IDS - {"16377612"}


def test_a_damaged_records_file_without_its_original_keeps_its_good_lines(cli, qa_home):
    cli("add", str(MEDLINE))
    records = medline_records(qa_home)
    (qa_home / "library" / "originals" / records.name[: -len(".jsonl")]).unlink()
    flip(records, 1, b"SCOP", b"SCOQ")
    r = cli("sources", "--json")
    assert r.code == 0 and "original cannot be read" in r.err and "kept its 3 good documents" in r.err
    assert len(MEDLINE_IDS & {s["doc_id"] for s in r.json()}) == 3


def test_records_written_before_records_had_checksums_are_read_and_get_one(cli, qa_home):
    import re

    cli("add", str(MEDLINE))
    records = medline_records(qa_home)
    records.write_text(re.sub(r',"crc32":"[0-9a-f]{8}"\}', "}", records.read_text("utf-8")), "utf-8")
    r = cli("sources", "--json")
    assert r.code == 0 and r.err == "" and MEDLINE_IDS <= {s["doc_id"] for s in r.json()}
    cli("remove", "16377612")
    assert records.read_text("utf-8").count('"crc32":') == 3


def test_an_interrupted_remove_can_be_run_again(tmp_path):
    from conftest import killed_at, run_subprocess

    home = tmp_path / "home"
    assert run_subprocess(["add", str(MEDLINE), str(XML)], home).returncode == 0
    # the MEDLINE file is rewritten without 16377612; the XML file, whose only document goes, not yet
    killed_at("remove-records:before-dir-fsync", ["remove", "16377612", "27797938"], home)
    r = run_subprocess(["remove", "16377612", "27797938"], home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("removed 1 document")
    [notice] = lines(r.stderr.decode())
    assert "16377612" in notice and "already removed" in notice
    assert not subprocess_ids(home) & {"16377612", "27797938"}
    assert (MEDLINE_IDS - {"16377612"}) <= subprocess_ids(home)
    again = run_subprocess(["remove", "16377612", "27797938"], home)  # killed after its last change: a notice
    assert again.returncode == 0 and "already removed" in again.stderr.decode()
    never = run_subprocess(["remove", "99999999"], home)  # an id the library never held: an error
    assert never.returncode == 1 and "no document '99999999' in the library" in never.stderr.decode()


def test_a_read_only_library_is_one_line(cli, qa_home, monkeypatch):
    import errno
    import os

    cli("add", str(XML))
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).endswith(".lock") and flags & (os.O_RDWR | os.O_WRONLY):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    for command in (("add", str(MEDLINE)), ("remove", "27797938")):
        r = cli(*command)
        assert r.code == 1 and "Traceback" not in r.err
        [line] = lines(r.err)
        assert "cannot change the library" in line and "Read-only file system" in line
