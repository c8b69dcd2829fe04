"""A damaged index is detected (sizes always, checksums of small files at load, all with
full=True) and rebuilt with a message, never used silently."""
from __future__ import annotations

import json

import numpy as np
import pytest

from qa import index as ix


def the_build(qa_home):
    [directory] = [p for p in (qa_home / "indexes").iterdir() if p.is_dir()]
    return ix.current_build(directory)


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
    ix.check_files(rebuilt, json.loads((rebuilt / "manifest.json").read_text()), full=True)


def test_full_check_catches_a_flip_in_a_large_file(cli, qa_home, monkeypatch):
    cli("index")
    build = the_build(qa_home)
    manifest = json.loads((build / "manifest.json").read_text())
    ix.check_files(build, manifest, full=True)
    target = build / "passages.txt"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    monkeypatch.setattr(ix, "CHECKSUM_ON_LOAD", 0)  # as if the file were too large to check at load
    ix.check_files(build, manifest, full=False)  # size unchanged: not seen without checksums
    with pytest.raises(ValueError, match="passages.txt"):
        ix.check_files(build, manifest, full=True)


def test_arrays_of_a_fresh_build_match_their_checksums(cli, qa_home):
    cli("index")
    build = the_build(qa_home)
    manifest = json.loads((build / "manifest.json").read_text())
    assert {f"{name}.npy" for name in ix.ARRAYS} <= manifest["files"].keys()
    assert np.load(build / "bm25.impacts.npy").dtype == np.float32


def test_index_verify_finds_a_flip_that_loading_does_not_check(cli, qa_home, monkeypatch):
    cli("index")
    build = the_build(qa_home)
    target = build / "passages.txt"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    monkeypatch.setattr(ix, "CHECKSUM_ON_LOAD", 0)  # as for a large index: loading checks sizes only
    r = cli("index", "--verify")
    assert r.code == 0 and "damaged" in r.err and "passages.txt" in r.err and "built in" in r.out
    r = cli("index", "--verify")
    assert r.code == 0 and "verified" in r.out and r.err == ""
