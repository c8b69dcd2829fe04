"""Faults and concurrency: kill -9 during builds, two writers at once, a held lock."""
from __future__ import annotations

import json
import shutil
import os
import random
import signal
import subprocess
import sys
import time

from conftest import BEIR, ROOT, run_subprocess
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


def test_kill_9_during_rebuilds_never_breaks_the_index(tmp_path):
    home = tmp_path / "home"
    assert answers(home, BEIR)
    rng = random.Random(7)
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "cli.py", "index", "--rebuild", "--corpus", str(BEIR)],
                                cwd=ROOT, env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        [directory] = [p for p in (home / "indexes").iterdir() if p.is_dir()]
        build = store.current_build(directory)
        assert build is not None, "CURRENT always names a complete build"
        store.check_files(build, json.loads((build / "manifest.json").read_text()), full=True)
    assert answers(home, BEIR)


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


def test_kill_9_during_adds_leaves_each_file_whole_or_absent(tmp_path):
    from conftest import FIXTURES
    from qa.readers.records import read_records

    home = tmp_path / "home"
    files = [FIXTURES / "medline-sample2.txt", FIXTURES / "pubmed-xml-4.xml", FIXTURES / "ris-pubmed-2.ris"]
    expected = {"medline-sample2.txt": 4, "pubmed-xml-4.xml": 1, "ris-pubmed-2.ris": 2}
    rng = random.Random(11)
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "cli.py", "add", *map(str, files)], cwd=ROOT, env=env_for(home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        records = home / "library" / "records"
        for path in (records.glob("*.jsonl") if records.is_dir() else []):
            source = path.name.rsplit(".", 2)[0]
            assert len(read_records(path)) == expected[source], f"{path.name} is not whole"
        shutil.rmtree(home / "library", ignore_errors=True)
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
