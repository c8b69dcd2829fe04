"""A damaged index is detected (sizes always, checksums of small files at load, all with
full=True) and rebuilt with a message, never used silently."""
from __future__ import annotations

import json

import numpy as np
import pytest

from qa.index import layout, store


def the_build(qa_home):
    [directory] = [p for p in (qa_home / "indexes").iterdir() if p.is_dir()]
    return store.current_build(directory)


def ask_json(cli):
    r = cli("ask", "who wrote the review", "--json")
    assert r.code == 0
    return r


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_file_is_detected_and_rebuilt(cli, qa_home, damage):
    assert cli("index").code == 0
    build = the_build(qa_home)
    target = build / "bm25.impacts.npy"
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[-3] ^= 0xFF  # a flipped byte inside the array data: same size, other numbers
    else:
        data = data[: len(data) // 2]
    target.write_bytes(bytes(data))
    r = ask_json(cli)
    assert "damaged" in r.err and "bm25.impacts.npy" in r.err
    assert "Ytterberg" in r.json()["answer"]["text"]
    rebuilt = the_build(qa_home)
    store.check_files(rebuilt, json.loads((rebuilt / "manifest.json").read_text()), full=True)


def test_full_check_catches_a_flip_in_a_large_file(cli, qa_home, monkeypatch):
    cli("index")
    build = the_build(qa_home)
    manifest = json.loads((build / "manifest.json").read_text())
    store.check_files(build, manifest, full=True)
    target = build / "passages.txt"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    monkeypatch.setattr(store, "CHECKSUM_ON_LOAD", 0)  # as if the file were too large to check at load
    store.check_files(build, manifest, full=False)  # size unchanged: not seen without checksums
    with pytest.raises(ValueError, match="passages.txt"):
        store.check_files(build, manifest, full=True)


def test_arrays_of_a_fresh_build_match_their_checksums(cli, qa_home):
    cli("index")
    build = the_build(qa_home)
    manifest = json.loads((build / "manifest.json").read_text())
    assert {f"{f.file}.npy" for f in layout.stored_fields() if not f.table and not f.parts} <= manifest["files"].keys()
    assert np.load(build / "bm25.impacts.npy").dtype == np.float32


def test_index_verify_finds_a_flip_that_loading_does_not_check(cli, qa_home, monkeypatch):
    cli("index")
    build = the_build(qa_home)
    target = build / "passages.txt"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    monkeypatch.setattr(store, "CHECKSUM_ON_LOAD", 0)  # as for a large index: loading checks sizes only
    r = cli("index", "--verify")
    assert r.code == 0 and "damaged" in r.err and "passages.txt" in r.err and "built in" in r.out
    r = cli("index", "--verify")
    assert r.code == 0 and "verified" in r.out and r.err == ""


# ---------------------------------------------------------------- large files: checked block by block

@pytest.fixture
def block_checked(monkeypatch):
    """Every file handled as a large one (checked block by block as read), in small blocks."""
    from qa.index import checksums

    monkeypatch.setattr(store, "CHECKSUM_ON_LOAD", 0)
    monkeypatch.setattr(checksums, "BLOCK", 256)


def flip(path, position):
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


QUESTIONS = ["who wrote the review", "Is rituximab an option?", "methotrexate and azathioprine",
             "What is intravenous immunoglobulin (IVIG) used for?"]


def test_a_block_checked_index_answers_exactly_as_a_plain_one(cli, qa_home, monkeypatch):
    plain = [cli("ask", q, "--json").json() for q in QUESTIONS]
    from qa.index import checksums

    monkeypatch.setattr(store, "CHECKSUM_ON_LOAD", 0)
    monkeypatch.setattr(checksums, "BLOCK", 256)
    assert cli("index", "--rebuild").code == 0
    manifest = json.loads((the_build(qa_home) / "manifest.json").read_text())
    assert "bm25.impacts.npy" in manifest["blocks"] and "docs.txt" in manifest["blocks"]
    assert [cli("ask", q, "--json").json() for q in QUESTIONS] == plain


@pytest.mark.parametrize("target", ["bm25.impacts.npy", "bm25.indices.npy", "docs.txt", "passages.txt",
                                    "tfidf.features.npy", "tfidf.counts.npy", "tfidf.rows.npy"])
def test_a_flip_in_a_block_a_question_reads_is_caught_and_the_index_rebuilt(cli, qa_home, block_checked, target):
    expected = cli("ask", "who wrote the review", "--json").json()
    build = the_build(qa_home)
    size = (build / target).stat().st_size
    for position in range(200, size, 256):  # one byte in every block: whatever the question reads
        flip(build / target, position)
    r = cli("ask", "who wrote the review", "--json")
    assert r.code == 0, r.err
    assert "damaged" in r.err and target in r.err and "rebuilding" in r.err and "Traceback" not in r.err
    assert r.json() == expected
    rebuilt = the_build(qa_home)
    assert rebuilt != build
    store.check_files(rebuilt, json.loads((rebuilt / "manifest.json").read_text()), full=True)


def test_a_batch_reports_damage_per_question_and_the_next_run_rebuilds(cli, qa_home, block_checked, tmp_path):
    cli("index")
    build = the_build(qa_home)
    size = (build / "bm25.impacts.npy").stat().st_size
    for position in range(130, size, 256):
        flip(build / "bm25.impacts.npy", position)
    questions = tmp_path / "q.txt"
    questions.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    r = cli("batch", str(questions))
    assert r.code == 1
    results = [json.loads(line) for line in r.out.splitlines()]
    assert len(results) == len(QUESTIONS)
    assert all("damaged" in x["error"] and "bm25.impacts.npy" in x["error"] for x in results)
    r = cli("ask", "who wrote the review", "--json")
    assert r.code == 0 and "damaged" in r.err and "rebuilding" in r.err
    assert "Ytterberg" in r.json()["answer"]["text"]


def test_a_flip_in_a_block_nothing_reads_is_left_to_verify(cli, qa_home, block_checked):
    cli("index")
    build = the_build(qa_home)
    passages = build / "passages.txt"
    flip(passages, passages.stat().st_size - 1)  # the last passage: a reference no question here reads
    r = cli("ask", "who wrote the review", "--json")
    assert r.code == 0 and r.err == "", "an answer that reads no damaged block is not held up"
    r = cli("index", "--verify")
    assert "damaged" in r.err and "passages.txt" in r.err


def test_an_update_reads_what_it_keeps_through_the_checksums(cli, qa_home, block_checked):
    from conftest import FIXTURES

    assert cli("add", str(FIXTURES / "medline-sample2.txt")).code == 0
    build = the_build(qa_home)
    flip(build / "bm25.tf.npy", 200)  # read by no query, read whole by an update
    r = cli("add", str(FIXTURES / "pubmed-xml-4.xml"))
    assert r.code == 0
    rebuilt = the_build(qa_home)
    manifest = json.loads((rebuilt / "manifest.json").read_text())
    assert "updates" not in manifest, "the damaged build was not extended: it was built again"
    store.check_files(rebuilt, manifest, full=True)
