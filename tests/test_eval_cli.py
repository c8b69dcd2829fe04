"""qa eval: measures by ir-measures on a query set, from qa's own ranking or a TREC run."""
from __future__ import annotations

import json

import pytest

from conftest import BEIR, beir_records
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
