"""`qa cache list|prune`: indexes with size and last use; pruning never touches the one in use."""
from __future__ import annotations

import argparse
import calendar
import json
import os
import shutil
import sys
import time

import pytest

from qa.index import cache
from qa.cli.indexes import parse_size
from qa.index.layout import Settings
from qa.index.store import current_build

from conftest import BEIR, BEIR_EXTRA


def copy(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture
def three(cli, qa_home, tmp_path):
    """Indexes for: the default corpus (seed), corpus a (lucene), corpus a (okapi), corpus b."""
    a = copy(BEIR, tmp_path / "data" / "a.jsonl")
    b = copy(BEIR_EXTRA, tmp_path / "data" / "b.jsonl")
    runs = {"seed": [], "a": ["--corpus", str(a)], "a-okapi": ["--corpus", str(a), "--bm25", "okapi"],
            "b": ["--corpus", str(b)]}
    keys = {}
    for name, args in runs.items():
        assert cli("index", *args).code == 0
        listed = cli("cache", "list", "--json", *args).json()
        keys[name] = next(e["key"] for e in listed if e["in_use"])
    assert len(set(keys.values())) == 4
    return {"keys": keys, "args": runs, "a": a, "b": b, "root": qa_home / "indexes"}


def set_last_used(root, key, days_ago: float):
    t = time.time() - days_ago * 86400
    marker = root / key / cache.LAST_USED
    marker.touch()
    os.utime(marker, (t, t))


def listed(cli, *args):
    r = cli("cache", "list", "--json", *args)
    assert r.code == 0, r.err
    return {e["key"]: e for e in r.json()}


def test_list_shows_each_index_with_corpus_settings_size_and_last_use(cli, three):
    keys = three["keys"]
    entries = listed(cli)
    assert set(entries) == set(keys.values())
    a, okapi = entries[keys["a"]], entries[keys["a-okapi"]]
    assert a["corpus"] == [str(three["a"].resolve())] and a["bm25"] == "lucene"
    assert okapi["corpus"] == a["corpus"] and okapi["bm25"] == "okapi"
    assert entries[keys["b"]]["corpus"] == [str(three["b"].resolve())]
    for e in entries.values():
        assert e["size"] > 10_000 and e["path"].endswith(e["key"])
        assert e["documents"] >= 1 and e["passages"] >= 1 and e["unusable"] is None
        assert abs(time.time() - calendar.timegm(time.strptime(e["last_used"], "%Y-%m-%dT%H:%M:%SZ"))) < 600
    # in use: the default corpus without options, the given corpus and settings with them
    assert [k for k, e in entries.items() if e["in_use"]] == [keys["seed"]]
    assert [k for k, e in listed(cli, *three["args"]["a-okapi"]).items() if e["in_use"]] == [keys["a-okapi"]]


def test_list_as_text(cli, three):
    r = cli("cache", "list")
    assert r.code == 0
    for key in three["keys"].values():
        assert key in r.out
    seed_line = next(line for line in r.out.splitlines() if line.startswith(three["keys"]["seed"]))
    assert "(in use)" in seed_line and "lucene" in seed_line and "KB" in seed_line
    assert "okapi" in r.out and f"corpus: {three['b'].resolve()}" in r.out
    assert "4 indexes" in r.out.splitlines()[-1]


def test_list_without_indexes(cli, qa_home):
    r = cli("cache", "list")
    assert r.code == 0 and "no indexes" in r.out
    assert cli("cache", "list", "--json").json() == []


def test_opening_an_index_marks_its_last_use_at_most_once_a_minute(cli, three):
    root, key = three["root"], three["keys"]["a"]
    marker = root / key / cache.LAST_USED
    recent = time.time() - 30
    os.utime(marker, (recent, recent))
    assert cli("ask", "helicopter", *three["args"]["a"]).code == 0
    assert marker.stat().st_mtime == pytest.approx(recent, abs=0.01)  # not rewritten within a minute
    old = time.time() - 3 * 86400
    os.utime(marker, (old, old))
    assert cli("ask", "helicopter", *three["args"]["a"]).code == 0
    assert marker.stat().st_mtime > time.time() - 60


def test_prune_max_size_removes_least_recently_used_but_never_the_one_in_use(cli, three):
    root, keys = three["root"], three["keys"]
    # the index in use (seed) is the oldest of all; then a, b, and a-okapi most recent
    for name, days in (("seed", 40), ("a", 30), ("b", 20), ("a-okapi", 1)):
        set_last_used(root, keys[name], days)
    before = listed(cli)
    limit = before[keys["seed"]]["size"] + before[keys["a-okapi"]]["size"] + 1000
    r = cli("cache", "prune", "--max-size", str(limit))
    assert r.code == 0, r.err
    after = listed(cli)
    assert set(after) == {keys["seed"], keys["a-okapi"]}
    assert f"removed {keys['a']}" in r.out and f"removed {keys['b']}" in r.out
    freed = before[keys["a"]]["size"] + before[keys["b"]]["size"]
    from qa.index.cache import human_size
    assert f"freed {human_size(freed)} (2 indexes)" in r.out
    assert not (root / keys["a"]).exists() and not (root / keys["b"]).exists()
    # a limit below the in-use index alone: everything else goes, the one in use stays
    r = cli("cache", "prune", "--max-size", "1K")
    assert r.code == 0
    assert set(listed(cli)) == {keys["seed"]}
    assert "still over 1.0 KB" in r.out and keys["seed"] in r.out.splitlines()[-1]
    assert cli("ask", "who wrote the review", "--json").code == 0


def test_prune_keeps_the_index_in_use_given_by_corpus_options(cli, three):
    root, keys = three["root"], three["keys"]
    for name, days in (("seed", 4), ("a", 3), ("b", 2), ("a-okapi", 1)):
        set_last_used(root, keys[name], days)
    r = cli("cache", "prune", "--max-size", "1", *three["args"]["b"])
    assert r.code == 0
    assert set(listed(cli)) == {keys["b"]}


def test_prune_removes_an_index_whose_corpus_file_is_gone(cli, three):
    keys = three["keys"]
    three["b"].unlink()
    assert listed(cli)[keys["b"]]["unusable"].startswith("corpus missing")
    r = cli("cache", "prune")
    assert r.code == 0
    assert f"removed {keys['b']}" in r.out and "corpus missing" in r.out
    assert set(listed(cli)) == {keys["seed"], keys["a"], keys["a-okapi"]}
    r = cli("cache", "prune")
    assert r.code == 0 and "nothing to remove" in r.out


def test_prune_removes_indexes_of_another_format_and_incomplete_ones(cli, three):
    root = three["root"]
    old = root / "0123456789abcdef"
    shutil.copytree(root / three["keys"]["a"], old)
    manifest_path = current_build(old) / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["format"] = 1
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    (root / "fedcba9876543210" / ".tmp-build-1-999999999").mkdir(parents=True)  # dead builder, no build
    r = cli("cache", "prune")
    assert r.code == 0
    assert "removed 0123456789abcdef" in r.out and "another version of qa" in r.out
    assert "removed fedcba9876543210" in r.out and "no complete build" in r.out
    assert set(listed(cli)) == set(three["keys"].values())


def test_prune_never_removes_an_index_being_built(cli, three):
    root, keys = three["root"], three["keys"]
    (root / keys["a"] / f".tmp-build-{time.time_ns()}-{os.getpid()}").mkdir()  # a live build
    entries = listed(cli)
    assert entries[keys["a"]]["building"] is True
    r = cli("cache", "prune", "--max-size", "1")
    assert r.code == 0
    assert set(listed(cli)) == {keys["seed"], keys["a"]}
    assert "being built" in r.out


def test_dry_run_removes_nothing(cli, three):
    keys = three["keys"]
    three["b"].unlink()
    r = cli("cache", "prune", "--dry-run", "--max-size", "1")
    assert r.code == 0
    assert r.out.count("would remove") == 3 and "would free" in r.out and "removed" not in r.out
    assert f"would remove {keys['b']}" in r.out
    assert set(listed(cli)) == set(keys.values())


def test_prune_older_than(cli, three):
    root, keys = three["root"], three["keys"]
    for name, days in (("seed", 90), ("a", 60), ("b", 2), ("a-okapi", 45)):
        set_last_used(root, keys[name], days)
    r = cli("cache", "prune", "--older-than", "30")
    assert r.code == 0
    assert set(listed(cli)) == {keys["seed"], keys["b"]}
    assert "not used for 60 days" in r.out


@pytest.mark.parametrize("text, size", [("500K", 500 * 1024), ("500M", 500 * 1024 ** 2), ("2G", 2 * 1024 ** 3),
                                        ("123456", 123456), ("1.5g", int(1.5 * 1024 ** 3)), ("64KB", 65536),
                                        ("10MiB", 10 * 1024 ** 2)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "12X", "-5M", "1,5G"])
def test_parse_size_refuses_nonsense(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)


def test_bad_size_is_a_usage_error(cli, qa_home):
    assert cli("cache", "prune", "--max-size", "lots").code == 2
    assert cli("cache").code == 2


def test_mark_used_in_an_unwritable_place_is_silent(tmp_path):
    cache.mark_used(tmp_path / "missing" / "dir")  # no error, nothing created
    assert not (tmp_path / "missing").exists()


def test_index_dir_for_the_default_corpus_is_the_one_in_use(cli, qa_home):
    from qa.cli.indexes import in_use_dir
    from qa.cli.main import parser
    from qa.readers.corpus import bundled_corpus

    args = parser().parse_args(["cache", "list"])
    assert in_use_dir(args) == cache.index_dir_for([str(bundled_corpus())], Settings(), None)


@pytest.mark.skipif(sys.platform == "win32", reason="flock locks are POSIX")
def test_prune_never_removes_an_index_whose_writers_lock_is_held(cli, three):
    import subprocess

    root, keys = three["root"], three["keys"]
    lock = root / keys["b"] / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time\n"
                               f"f = open({str(lock)!r}, 'w'); fcntl.flock(f, fcntl.LOCK_EX)\n"
                               "print('locked', flush=True); time.sleep(30)"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        assert listed(cli)[keys["b"]]["building"] is True
        r = cli("cache", "prune", "--max-size", "1")
        assert r.code == 0
        assert set(listed(cli)) == {keys["seed"], keys["b"]}
    finally:
        holder.kill()
        holder.wait()
    assert listed(cli)[keys["b"]]["building"] is False
