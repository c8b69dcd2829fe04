"""`qa batch --workers N`: same output as one process, crashes noticed, in-memory indexes fall back."""
from __future__ import annotations

import json
import os
import re
import sys
import time

import pytest

import qa.cli.workers
from qa.cli.workers import Parallel, chunk_size, start_method

from conftest import BEIR, beir_records, run_subprocess

needs_fork = pytest.mark.skipif(start_method() != "fork",
                                reason="in-process tests patch code the workers inherit by fork")


def questions_file(tmp_path, n: int = 30, extra: list[dict] | None = None):
    """~30 questions worded from the fixture abstracts, plus off-topic and failing ones."""
    records = beir_records(BEIR)
    lines = []
    for i in range(n):
        words = records[i % len(records)]["text"].split()
        start = (i // len(records)) * 7
        lines.append({"id": f"q{i + 1}", "question": " ".join(words[start:start + 10]) + "?"})
    lines[4] = {"id": "q5", "question": "What is the capital of France?"}
    lines[9] = {"id": "q10", "question": ""}  # fails: an `error` field, exit code 1
    lines += extra or []
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.fixture
def built(tmp_path):
    """QA_HOME with the fixture corpus indexed, so batch runs only answer."""
    home = tmp_path / "home"
    r = run_subprocess(["index", "--corpus", str(BEIR)], home)
    assert r.returncode == 0, r.stderr
    return home


def batch(home, questions, *args, env_extra=None):
    if env_extra:
        os.environ.update(env_extra)
    try:
        return run_subprocess(["batch", str(questions), "--corpus", str(BEIR), *args], home, timeout=120)
    finally:
        for key in env_extra or ():
            os.environ.pop(key, None)


def test_workers_give_byte_identical_jsonl_and_the_same_errors(built, tmp_path):
    questions = questions_file(tmp_path)
    one = batch(built, questions)
    assert one.returncode == 1  # the empty question
    assert len(one.stdout.splitlines()) == 30
    for n in (2, 3):
        many = batch(built, questions, "--workers", str(n))
        assert many.returncode == 1
        assert many.stdout == one.stdout  # byte for byte, in input order
        assert many.stderr == one.stderr == b"qa: question q10: empty question\n"


def test_workers_give_identical_trec_csv_and_tsv(built, tmp_path):
    questions = questions_file(tmp_path)
    for fmt in ("trec", "csv", "tsv"):
        one = batch(built, questions, "--format", fmt, "-k", "3")
        many = batch(built, questions, "--format", fmt, "-k", "3", "--workers", "2")
        assert many.stdout == one.stdout and one.stdout


def test_more_workers_than_questions(built, tmp_path):
    path = tmp_path / "two.txt"
    path.write_text("helicopter intubation\nfolic acid methotrexate\n", encoding="utf-8")
    one = batch(built, path)
    many = batch(built, path, "--workers", "8")
    assert one.returncode == many.returncode == 0
    assert many.stdout == one.stdout and len(one.stdout.splitlines()) == 2


def test_a_killed_worker_marks_its_questions_failed_and_the_batch_goes_on(built, tmp_path):
    questions = questions_file(tmp_path)
    one = batch(built, questions).stdout.decode().splitlines()
    r = batch(built, questions, "--workers", "2", env_extra={"QA_TEST_KILL_WORKER_AFTER": "3"})
    assert r.returncode == 1
    err = r.stderr.decode()
    stopped = [line for line in err.splitlines() if "stopped" in line and not line.startswith("qa: question")]
    assert len(stopped) == 1, err
    m = re.fullmatch(r"qa: worker 1 stopped \(killed by SIGKILL\); its (\d+) questions? (are|is) marked failed",
                     stopped[0])
    assert m, stopped[0]
    lost = int(m.group(1))
    assert 1 <= lost <= chunk_size(30, 2)
    lines = r.stdout.decode().splitlines()
    results = [json.loads(line) for line in lines]
    assert [x["id"] for x in results] == [f"q{i}" for i in range(1, 31)]  # all, in input order
    killed = [i for i, x in enumerate(results) if x.get("error") == "worker 1 stopped (killed by SIGKILL)"]
    assert len(killed) == lost
    assert killed == list(range(killed[0], killed[0] + lost))  # one chunk: consecutive questions
    for i in killed:
        assert results[i]["hits"] == [] and results[i]["answer"] is None
        assert f"qa: question {results[i]['id']}: worker 1 stopped (killed by SIGKILL)" in err
    # every other question is answered exactly as one process answers it
    assert [line for i, line in enumerate(lines) if i not in killed] == \
           [line for i, line in enumerate(one) if i not in killed]



def test_a_hung_worker_is_stopped_after_the_timeout_and_the_batch_goes_on(built, tmp_path):
    questions = questions_file(tmp_path)
    one = batch(built, questions).stdout.decode().splitlines()
    started = time.monotonic()
    r = batch(built, questions, "--workers", "2", "--worker-timeout", "2",
              env_extra={"QA_TEST_HANG_WORKER_AFTER": "3"})
    assert time.monotonic() - started < 60
    assert r.returncode == 1
    err = r.stderr.decode()
    m = re.search(r"qa: worker 1 stopped \(no answer within 2 s; terminated\); its (\d+) questions? (are|is) "
                  r"marked failed", err)
    assert m, err
    results = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [x["id"] for x in results] == [f"q{i}" for i in range(1, 31)]
    hung = [i for i, x in enumerate(results) if "no answer within 2 s" in (x.get("error") or "")]
    assert len(hung) == int(m.group(1)) >= 1
    lines = r.stdout.decode().splitlines()
    assert [line for i, line in enumerate(lines) if i not in hung] == [line for i, line in enumerate(one) if i not in hung]


@needs_fork
def test_workers_that_fail_outside_a_question_do_not_hang_the_batch(cli, tmp_path, monkeypatch):
    questions = questions_file(tmp_path)

    def broken(build_dir):
        raise RuntimeError("boom")

    monkeypatch.setattr(qa.cli.workers, "_load_index", broken)
    r = cli("batch", str(questions), "--corpus", str(BEIR), "--workers", "2")
    assert r.code == 1
    results = [json.loads(line) for line in r.out.splitlines() if line.startswith("{")]
    assert [x["id"] for x in results] == [f"q{i}" for i in range(1, 31)]
    assert all("error" in x and not x["hits"] for x in results)
    assert "qa: worker 1 stopped (RuntimeError: boom)" in r.err
    assert "qa: worker 2 stopped (RuntimeError: boom)" in r.err


@needs_fork
def test_a_question_that_raises_in_a_worker_fails_as_in_one_process(cli, tmp_path, monkeypatch):
    from qa.search.engine import Engine

    ask = Engine.ask

    def flaky(self, question, **kw):
        if "capital of France" in question:
            raise ValueError("no such luck")
        return ask(self, question, **kw)

    monkeypatch.setattr(Engine, "ask", flaky)
    questions = questions_file(tmp_path)
    cli("index", "--corpus", str(BEIR))
    one = cli("batch", str(questions), "--corpus", str(BEIR))
    many = cli("batch", str(questions), "--corpus", str(BEIR), "--workers", "3")
    assert one.code == many.code == 1
    assert many.out == one.out
    assert many.err == one.err
    assert "qa: question q5: ValueError: no such luck" in many.err


def test_an_in_memory_index_falls_back_to_one_worker_with_one_warning(cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    questions = questions_file(tmp_path)
    where = ["--corpus", str(BEIR), "--index", str(blocker / "idx")]
    one = cli("batch", str(questions), *where)
    many = cli("batch", str(questions), *where, "--workers", "2")
    assert many.code == one.code == 1
    assert many.out == one.out
    extra = [line for line in many.err.splitlines() if line not in one.err.splitlines()]
    assert extra == ["qa: the index is in memory, so worker processes cannot share it; "
                     "answering with 1 worker instead of 2"]


def test_workers_must_be_a_positive_number(cli, tmp_path):
    r = cli("batch", str(questions_file(tmp_path)), "--workers", "0")
    assert r.code == 2


def test_parallel_yields_in_input_order_with_a_small_reorder_window(tmp_path, monkeypatch):
    """Many chunks, a window of one chunk per worker: order holds and nothing is lost."""
    from qa.cli.batch_io import Question
    from qa.index.open_index import open_index
    from qa.index.layout import Settings

    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    index, _ = open_index([str(BEIR)], Settings(), warn=lambda m: None)
    monkeypatch.setattr(qa.cli.workers, "WINDOW_PER_WORKER", 1)
    monkeypatch.setattr(qa.cli.workers, "MAX_CHUNK", 2)
    questions = [Question(str(i), q) for i, q in enumerate(["helicopter intubation", "amoxapine PET",
                                                            "bladder tumours cystoscopy", "fatigue"] * 10)]
    pool = Parallel(index.path, questions, 3, k=2, per_document=False, filters=None, fmt="jsonl")
    try:
        results = list(pool)
    finally:
        pool.close()
    assert [qid for qid, _, _ in results] == [str(i) for i in range(40)]
    assert pool.stopped == 0
    assert all(error is None and json.loads(text)["hits"] for _, error, text in results)
    assert not any(p.process.is_alive() for p in pool._pool)


def test_start_method_is_fork_on_linux():
    assert start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")


def test_spawned_workers_give_the_same_results(tmp_path, monkeypatch):
    """The start method used where fork is not (macOS, Windows): arguments and results pickle."""
    from qa.cli.batch_io import Question
    from qa.index.open_index import open_index
    from qa.search.engine import Engine
    from qa.index.layout import Settings
    import io

    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    index, _ = open_index([str(BEIR)], Settings(), warn=lambda m: None)
    monkeypatch.setattr(qa.cli.workers, "start_method", lambda: "spawn")
    questions = [Question(str(i), q) for i, q in enumerate(["helicopter intubation", "amoxapine PET", "",
                                                            "folic acid methotrexate"])]
    pool = Parallel(index.path, questions, 2, k=3, per_document=True, filters=None, fmt="trec")
    try:
        out = io.StringIO()
        writer = pool.writer(out)
        for _, _, text in pool:
            writer.write(text)
        writer.close()
    finally:
        pool.close()
    expected = io.StringIO()
    one = qa.cli.workers.InProcess(Engine(index), questions, k=3, per_document=True, filters=None, fmt="trec")
    writer = one.writer(expected)
    for _, _, result in one:
        writer.write(result)
    writer.close()
    assert out.getvalue() == expected.getvalue() and out.getvalue()
