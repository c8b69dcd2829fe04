"""Faults and concurrency: kill -9 at each named moment of a build or an add (qa/phases.py), two
writers at once, a held lock, a full disk, damaged index pointers and folders that are not qa's."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import BEIR, FIXTURES, ROOT, killed_at, run_subprocess
from qa.index import store
from qa import locking


def env_for(home, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONPATH")}
    env.update(QA_HOME=str(home), **extra)
    return env


def answers(home, corpus=None) -> bool:
    args = ["ask", "who wrote the review", "--json"] if corpus is None else \
        ["ask", "intubation in a helicopter", "--json", "--corpus", str(corpus)]
    r = run_subprocess(args, home)
    return r.returncode == 0 and bool(json.loads(r.stdout)["hits"])


@pytest.mark.parametrize("phase", ["build:before-fsync", "build:before-rename", "current:before-rename",
                                   "current:before-dir-fsync", "build:published"])
def test_kill_9_during_a_rebuild_never_breaks_the_index(tmp_path, phase):
    home = tmp_path / "home"
    assert answers(home, BEIR)
    [directory] = [p for p in (home / "indexes").iterdir() if p.is_dir()]
    before = store.current_build(directory)
    killed_at(phase, ["index", "--rebuild", "--corpus", str(BEIR)], home)
    build = store.current_build(directory)
    assert build is not None, "CURRENT always names a complete build"
    assert (build == before) == (phase in ("build:before-fsync", "build:before-rename", "current:before-rename"))
    store.check_files(build, json.loads((build / "manifest.json").read_text()), full=True)
    assert answers(home, BEIR)
    assert not list(directory.glob(".tmp-*")), "the next run clears what the killed one left"


def test_a_second_writer_waits_then_gives_up_with_a_message(tmp_path):
    home = tmp_path / "home"
    assert answers(home)
    [directory] = [p for p in (home / "indexes").iterdir() if p.is_dir()]
    with locking.exclusive(directory, "testing"):
        r = subprocess.run([sys.executable, "cli.py", "index", "--rebuild"], cwd=ROOT, capture_output=True,
                           env=env_for(home, QA_LOCK_WAIT="1"), timeout=60)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "waiting" in err and "gave up" in err and "Traceback" not in err
    assert answers(home), "a reader is not blocked by the lock"


def test_two_builds_at_once_both_answer_and_one_build_is_kept(tmp_path):
    home = tmp_path / "home"
    procs = [subprocess.Popen([sys.executable, "cli.py", "ask", "who wrote the review", "--json"], cwd=ROOT,
                              env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert all("Ytterberg" in json.loads(o[0])["answer"]["text"] for o in outs)
    [directory] = [p for p in (home / "indexes").iterdir() if p.is_dir()]
    assert len(list(directory.glob("build-*"))) == 1, "the second process loaded the first one's build"


ADDED = [FIXTURES / "medline-sample2.txt", FIXTURES / "pubmed-xml-4.xml", FIXTURES / "ris-pubmed-2.ris"]
DOCUMENTS = {"medline-sample2.txt": 4, "pubmed-xml-4.xml": 1, "ris-pubmed-2.ris": 2}


@pytest.mark.parametrize("phase", ["add:parsed@2", "original:before-rename@2", "keys:before-fsync@2",
                                   "records:before-rename@2", "records:before-dir-fsync@3",
                                   "build:before-rename"])  # the last: the index update after the add
def test_kill_9_during_an_add_leaves_each_file_whole_or_absent_and_the_rerun_adds_the_rest(tmp_path, phase):
    from qa.readers.records import read_records

    home = tmp_path / "home"
    assert answers(home)
    killed_at(phase, ["add", *map(str, ADDED)], home)
    records = home / "library" / "records"
    for path in records.glob("[!.]*.jsonl"):
        assert len(read_records(path)) == DOCUMENTS[path.name.rsplit(".", 2)[0]], f"{path.name} is not whole"
    r = run_subprocess(["add", *map(str, ADDED)], home)
    assert r.returncode == 0, r.stderr
    r = run_subprocess(["sources", "--json"], home)
    ids = [s["doc_id"] for s in json.loads(r.stdout)]
    assert len(ids) == len(set(ids)) == 1 + sum(DOCUMENTS.values()), "every document once"
    assert answers(home)


def test_a_full_disk_during_a_rebuild_keeps_the_old_index_and_answers(cli, qa_home, monkeypatch):
    import errno

    import numpy as np

    assert cli("index").code == 0
    [directory] = [p for p in (qa_home / "indexes").iterdir() if p.is_dir()]
    before = store.current_build(directory)
    real_save = np.save
    calls = {"n": 0}

    def full_disk(path, array, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(path, array, *args, **kwargs)

    monkeypatch.setattr(np, "save", full_disk)
    r = cli("index", "--rebuild")
    assert r.code == 0 and "No space left on device" in r.err and "in-memory" in r.err
    assert store.current_build(directory) == before, "the previous build stays in use"
    assert not list(directory.glob(".tmp-*")), "the half-written build is removed"
    monkeypatch.setattr(np, "save", real_save)
    r = cli("ask", "who wrote the review", "--json")
    assert r.code == 0 and "Ytterberg" in r.json()["answer"]["text"] and r.err == ""


def test_a_full_disk_during_an_update_answers_from_memory_with_one_warning(cli, qa_home, monkeypatch):
    import errno

    from qa.index import store as store_module

    assert cli("add", str(FIXTURES / "medline-sample2.txt")).code == 0  # the index of seed + library
    real = store_module._write_files

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module, "_write_files", full_disk)
    r = cli("add", str(FIXTURES / "pubmed-xml-4.xml"))  # the library gains a file: an update
    assert r.code == 0 and "added 1 document" in r.out and "Traceback" not in r.err
    [warning] = r.err.splitlines()
    assert "No space left on device" in warning and "in-memory index" in warning
    for _ in range(2):  # until space is freed, every command answers the same way
        r = cli("ask", "telomere length pancreatic cancer", "--json")
        assert r.code == 0 and r.json()["hits"][0]["doc_id"] == "27797938"
        assert len(r.err.splitlines()) == 1 and "in-memory" in r.err
    monkeypatch.setattr(store_module, "_write_files", real)
    r = cli("ask", "telomere length pancreatic cancer", "--json")
    assert r.code == 0 and r.err == "" and r.json()["hits"][0]["doc_id"] == "27797938"


def _deep(n: int) -> str:
    return "[" * n + "]" * n


@pytest.mark.parametrize("damage", ["CURRENT not UTF-8", "manifest a list", "manifest nested 100k deep"])
def test_a_damaged_current_or_manifest_is_rebuilt_with_one_line(cli, qa_home, damage):
    assert cli("index").code == 0
    [directory] = [p for p in (qa_home / "indexes").iterdir() if p.is_dir()]
    build = store.current_build(directory)
    manifest = build / "manifest.json"
    if damage == "CURRENT not UTF-8":
        data = bytearray((directory / "CURRENT").read_bytes())
        data[3] ^= 0x80  # a flipped bit
        (directory / "CURRENT").write_bytes(bytes(data))
    elif damage == "manifest a list":
        manifest.write_text("[1, 2, 3]", encoding="utf-8")
    else:
        manifest.write_text(_deep(100_000), encoding="utf-8")
    for args in (["cache", "list"], ["index", "--rebuild"], ["ask", "who wrote the review", "--json"], ["sources"]):
        r = cli(*args)
        assert r.code == 0 and "Traceback" not in r.err, (args, r.err)
        assert len(r.err.splitlines()) <= 1
    assert "Ytterberg" in cli("ask", "who wrote the review", "--json").json()["answer"]["text"]


def test_index_never_deletes_a_folder_it_did_not_make(cli, tmp_path):
    project = tmp_path / "proj"
    for name in ("build-output", "build-scripts", ".tmp-backup-2023"):
        (project / name).mkdir(parents=True)
        (project / name / "keep.txt").write_text("the user's", encoding="utf-8")
    for args in (["index"], ["index", "--rebuild"], ["ask", "who wrote the review"]):
        r = cli(*args, "--index", str(project))
        assert r.code == 1 and "not an index folder of qa" in r.err and len(r.err.splitlines()) == 1
    assert sorted(p.name for p in project.iterdir()) == [".tmp-backup-2023", "build-output", "build-scripts"]
    assert all((project / name / "keep.txt").is_file() for name in ("build-output", "build-scripts"))


def test_an_index_folder_is_recognised_with_or_without_its_mark_and_keeps_foreign_names(cli, tmp_path):
    target = tmp_path / "idx"
    assert cli("index", "--index", str(target)).code == 0
    (target / store.MARKER).unlink()  # as an index folder made before qa marked them
    assert cli("index", "--index", str(target), "--rebuild").code == 0
    assert (target / store.MARKER).is_file()
    odd = target / ".tmp-backup-2023"  # in qa's folder, but no name qa gives a temporary
    odd.mkdir()
    for _ in range(2):
        assert cli("index", "--index", str(target), "--rebuild").code == 0
    assert odd.is_dir() and len(list(target.glob("build-*"))) == 2


def test_a_killed_writers_pointer_temporary_is_cleared_by_the_next_reader(tmp_path):
    home = tmp_path / "home"
    assert answers(home)
    killed_at("current:before-rename", ["index", "--rebuild"], home)
    [directory] = [p for p in (home / "indexes").iterdir() if p.is_dir()]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    (directory / f".CURRENT-{int(dead.stdout)}").write_text("build-1-1", encoding="utf-8")  # an older qa's
    assert len(list(directory.glob(".tmp-*")) + list(directory.glob(".CURRENT-*"))) == 2
    assert answers(home)
    assert not list(directory.glob(".tmp-*")) and not list(directory.glob(".CURRENT-*"))
