"""qa eval: measures by ir-measures on a query set, from qa's own ranking or a TREC run."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import BEIR, FIXTURES, ROOT, beir_records
from qa.search.evaluate import compute


def write_query_set(tmp_path):
    """One question per fixture abstract, made of words of its conclusion (as PubMedQA's are)."""
    queries, qrels = [], ["query-id\tcorpus-id\tscore"]
    for record in beir_records(BEIR):
        conclusion = record["text"].rsplit("CONCLUSION", 1)[-1].split(":", 1)[-1]
        words = [w for w in conclusion.split() if len(w) > 6][:6]
        queries.append({"_id": f"q{record['_id']}", "text": " ".join(words)})
        qrels.append(f"q{record['_id']}\t{record['_id']}\t1")
    qpath, rpath = tmp_path / "queries.jsonl", tmp_path / "qrels.tsv"
    qpath.write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    rpath.write_text("\n".join(qrels) + "\n", encoding="utf-8")
    return qpath, rpath


def test_eval_runs_qa_and_reports_the_measures(cli, tmp_path):
    queries, qrels = write_query_set(tmp_path)
    r = cli("eval", str(queries), str(qrels), "--corpus", str(BEIR), "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["queries"] == len(beir_records(BEIR))
    assert set(out["measures"]) == {"nDCG@10", "R@1", "R@5", "MRR@10"}
    assert out["measures"]["R@1"] >= 0.75  # questions made of each abstract's own words
    assert out["measures"]["MRR@10"] >= out["measures"]["R@1"]


def test_a_trec_run_from_batch_gives_the_same_figures(cli, tmp_path):
    queries, qrels = write_query_set(tmp_path)
    run = tmp_path / "run.trec"
    assert cli("batch", str(queries), "--format", "trec", "-k", "100", "--corpus", str(BEIR), "-o", str(run)).code == 0
    from_run = cli("eval", str(queries), str(qrels), "--run", str(run), "--json").json()["measures"]
    direct = cli("eval", str(queries), str(qrels), "--corpus", str(BEIR), "--json").json()["measures"]
    assert from_run == pytest.approx(direct)


def test_unknown_measure_and_bad_run_are_one_line_errors(cli, tmp_path):
    queries, qrels = write_query_set(tmp_path)
    r = cli("eval", str(queries), str(qrels), "--corpus", str(BEIR), "--measures", "Bogus@3")
    assert r.code == 1 and "Bogus@3" in r.err and len(r.err.strip().splitlines()) == 1
    bad = tmp_path / "bad.trec"
    bad.write_text("q1 Q0 d1 1\n", encoding="utf-8")
    r = cli("eval", str(queries), str(qrels), "--run", str(bad))
    assert r.code == 1 and f"{bad}:1" in r.err


def test_compute_counts_unanswered_queries_as_zero():
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    values = compute(qrels, {"q1": {"d1": 1.0}}, ["R@1", "MRR@10", "nDCG@10"])
    assert values == {"R@1": 0.5, "MRR@10": 0.5, "nDCG@10": 0.5}


# --- bad input: one line, exit 1; a run that can only score 0: a warning ---------------------------

QUERIES = FIXTURES / "pubmedqa-8.queries.jsonl"  # 3 real PubMedQA dev questions
QRELS = FIXTURES / "pubmedqa-8.qrels.tsv"  # and their judgements


def one_error_line(r, *parts: str) -> None:
    assert r.code == 1 and r.out == ""
    [line] = r.err.splitlines()
    assert line.startswith("qa: error: ") and "Traceback" not in r.err
    for part in parts:
        assert part in line, line


def test_a_missing_qrels_file_is_one_line(cli, tmp_path):
    missing = tmp_path / "nope.tsv"
    one_error_line(cli("eval", str(QUERIES), str(missing), "--corpus", str(BEIR)), f"{missing}: cannot read")


def test_a_malformed_qrels_file_names_its_line(cli, tmp_path):
    bad = tmp_path / "qrels.tsv"
    bad.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2 d2\n", encoding="utf-8")
    one_error_line(cli("eval", str(QUERIES), str(bad), "--corpus", str(BEIR)), f"{bad}:3: expected ")


def test_a_missing_run_file_is_one_line(cli, tmp_path):
    missing = tmp_path / "run.trec"
    one_error_line(cli("eval", str(QUERIES), str(QRELS), "--run", str(missing)), f"{missing}: cannot read")


def test_forgetting_the_corpus_warns_that_no_judged_document_is_in_it(cli):
    r = cli("eval", str(QUERIES), str(QRELS), "--json")  # the default corpus: the seed record
    assert r.code == 0
    [warning] = r.err.splitlines()
    assert warning.startswith("qa: warning: none of the 3 documents judged in ") and "--corpus" in warning
    assert set(r.json()["measures"].values()) == {0.0}
    right = cli("eval", str(QUERIES), str(QRELS), "--corpus", str(BEIR), "--json")
    assert right.code == 0 and right.err == "" and right.json()["measures"]["R@1"] > 0


def test_a_run_whose_query_ids_match_no_judgement_warns(cli, tmp_path):
    run = tmp_path / "run.trec"
    run.write_text("10411439 Q0 10411439 1 3.5 other\n", encoding="utf-8")  # "10411439", not "q10411439"
    r = cli("eval", str(QUERIES), str(QRELS), "--run", str(run))
    assert r.code == 0
    [warning] = r.err.splitlines()
    assert warning.startswith(f"qa: warning: no query id of {run} is a query id of {QRELS}")


def test_without_ir_measures_qa_eval_says_how_to_add_it(tmp_path):
    """ir-measures is the eval extra, not a dependency of qa: a plain install lacks it."""
    shadow = tmp_path / "shadow" / "ir_measures"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed (a test stands in for it)')\n")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(QA_HOME=str(tmp_path / "home"), PYTHONPATH=str(shadow.parent))
    proc = subprocess.run([sys.executable, "cli.py", "eval", str(QUERIES), str(QRELS), "--corpus", str(BEIR)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == ("qa: error: qa eval computes its measures with ir-measures, which is not installed: "
                           "pip install '.[eval]' in qa's source folder adds it\n")
