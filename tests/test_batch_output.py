"""`qa batch -o`: the format from the file name, comment lines, a whole file or none, a summary line."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

QUESTIONS = "# questions about the seed record\nIs rituximab an option?\n\n# the next one is about drugs\nWhich drugs help?\n"


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text(QUESTIONS, encoding="utf-8")
    return path


@pytest.mark.parametrize("name,check", [
    ("results.csv", lambda text: next(csv.reader(io.StringIO(text)))[:3] == ["id", "question", "answer"]),
    ("results.tsv", lambda text: text.startswith("id\tquestion\tanswer\t")),
    ("run.trec", lambda text: all(len(line.split()) == 6 and line.split()[1] == "Q0" for line in text.splitlines())),
    ("results.jsonl", lambda text: all(json.loads(line)["schema"] == 1 for line in text.splitlines())),
    ("results.out", lambda text: all(json.loads(line)["schema"] == 1 for line in text.splitlines())),
])
def test_the_format_follows_the_output_name(cli, tmp_path, questions, name, check):
    r = cli("batch", str(questions), "-o", str(tmp_path / name))
    assert r.code == 0, r.err
    assert check((tmp_path / name).read_text(encoding="utf-8"))


def test_a_format_that_contradicts_the_output_name_is_a_usage_error(cli, tmp_path, questions):
    r = cli("batch", str(questions), "--format", "jsonl", "-o", str(tmp_path / "results.csv"))
    assert r.code == 2 and "--format jsonl contradicts the output file" in r.err
    assert list(tmp_path.iterdir()) == [questions]
    agreed = cli("batch", str(questions), "--format", "csv", "-o", str(tmp_path / "results.csv"))
    assert agreed.code == 0


def test_comment_lines_of_a_text_file_are_not_questions(cli, questions):
    r = cli("batch", str(questions))
    results = [json.loads(line) for line in r.out.splitlines()]
    assert [(x["id"], x["question"]) for x in results] == [("2", "Is rituximab an option?"), ("5", "Which drugs help?")]


def test_batch_to_a_file_ends_with_one_summary_line(cli, tmp_path, questions):
    out = tmp_path / "results.jsonl"
    r = cli("batch", str(questions), "-o", str(out))
    assert r.code == 0 and r.out == ""
    assert r.err == f"qa: wrote 2 results to {out} (jsonl)\n"


def test_an_interrupted_batch_leaves_the_previous_file_and_no_half_one(tmp_path):
    questions = tmp_path / "many.txt"
    questions.write_text("".join(f"Is rituximab an option for refractory myositis, case {i}?\n" for i in range(4000)),
                         encoding="utf-8")
    out = tmp_path / "results.jsonl"
    out.write_text("the previous results\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONPATH")}
    env["QA_HOME"] = str(tmp_path / "home")
    # Ctrl-C's default action, even where this test runs in the background (a shell starts background
    # jobs with SIGINT ignored, and Python then never turns it into KeyboardInterrupt)
    proc = subprocess.Popen([sys.executable, "cli.py", "batch", str(questions), "-o", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120  # a guard against a hang, not a speed claim
        partial = []
        while not partial and proc.poll() is None and time.monotonic() < deadline:
            partial = [p for p in tmp_path.glob(".tmp-*-results.jsonl") if p.stat().st_size > 0]
            time.sleep(0.02)
        assert partial, "the batch never started writing its results"
        proc.send_signal(signal.SIGINT)  # Ctrl-C while results are being written
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    err = err.decode()
    assert proc.returncode == 130, err
    assert err.startswith("qa: interrupted after ") and err.rstrip().endswith(f"{out} was not written")
    assert out.read_text(encoding="utf-8") == "the previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "many.txt", "results.jsonl"]
