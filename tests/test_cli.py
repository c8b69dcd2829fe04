"""The command line end to end: `qa ask|batch|index` as a user runs them, against the README's contract."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import qa.index.store
from qa.search.engine import Engine
from qa.index.store import current_build

from conftest import BEIR, BEIR_EXTRA, ROOT, SEED_CITATION, SEED_DOI, beir_records, run_subprocess

# schema 1 keys, then keys added since ("corrections": spelling; "expansions": abbreviations;
# "missing_terms", "covered_terms": what the library does not say)
TOP_KEYS = ["schema", "id", "question", "query", "answer", "confidence", "hits", "corrections", "expansions",
            "missing_terms", "covered_terms"]
# hit keys of schema 1, then keys added since ("doc_score": whole-document ranking; "dense": the
# semantic stage's cosine, null when it is off)
HIT_KEYS = ["rank", "score", "bm25", "tfidf", "passage_id", "doc_id", "section", "text", "highlight",
            "citation", "source", "doc_score", "dense"]
# schema 1 keys in contract order, then keys added since ("retracted")
SOURCE_KEYS = ["doc_id", "title", "authors", "journal", "year", "volume", "issue", "pages", "doi", "pmid", "url",
               "retracted"]
CSV_HEADER = ["id", "question", "answer", "rank", "score", "doc_id", "passage_id", "citation", "text"]
OFF_TOPIC = ["What is the capital of France?", "Which football team won the cup?"]
DRUG_QUESTION = "Is rituximab used for nonresponding patients?"
EXTRA_ID = "10877371"
EXTRA_QUESTION = "Does anterior chamber depth decrease in eyes with pseudoexfoliation in a prone position?"

# Questions worded from one BEIR abstract each, and that abstract's _id.
BEIR_QUESTIONS = {
    "10135926": "Does the in-flight environment of a BO-105 helicopter impair endotracheal intubation by flight nurses?",
    "10331115": "Is amoxapine an atypical antipsychotic judged by 5-HT2 and D2 occupancy on PET?",
    "10759659": "Can a urology nurse practitioner detect bladder tumours during flexible cystoscopy?",
    "11035130": "Should folic acid supplementation continue in rheumatoid arthritis patients on methotrexate?",
    "11053064": "Is fibromyalgia more common in primary Sjögren's syndrome patients who complain of fatigue?",
}


def answer_text(result) -> str:
    return (result["answer"] or {}).get("text") or ""


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def copy_beir(tmp_path):
    path = tmp_path / "data" / "corpus.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BEIR, path)
    return path


def append_extra(path):
    st = path.stat()
    with open(path, "a", encoding="utf-8") as f:
        f.write(BEIR_EXTRA.read_text(encoding="utf-8"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- ask on the seed


def test_ask_answers_with_the_vancouver_citation(cli):
    r = cli("ask", "What treatments are there for refractory polymyositis?")
    assert r.code == 0
    assert "Answer" in r.out
    assert SEED_CITATION in r.out
    assert re.search(r"\[1\]", r.out)


def test_every_hit_carries_the_seed_citation(cli):
    r = cli("ask", "Is there reason to be optimistic for intravenous gammaglobulin in polymyositis?", "--json")
    result = r.json()
    assert r.code == 0
    assert result["answer"] is not None
    body_hits = [h for h in result["hits"] if "reference" not in h["citation"]]
    assert body_hits
    assert all(h["citation"] == SEED_CITATION for h in body_hits)


@pytest.mark.parametrize("question,expected", [
    ("who wrote the review", "Ytterberg"),
    ("when was it published", "2006"),
    ("what is the DOI", SEED_DOI),
])
def test_metadata_questions(cli, question, expected):
    result = cli("ask", question, "--json").json()
    assert expected in answer_text(result)
    assert result["hits"][0]["citation"] == SEED_CITATION


@pytest.mark.parametrize("question,drug", [
    (DRUG_QUESTION, "rituximab"),
    ("Is there reason to be optimistic for tacrolimus?", "tacrolimus"),
    ("Is mycophenolate mofetil an option after methotrexate and azathioprine?", "mycophenolate mofetil"),
])
def test_drug_question_answer_names_the_drug_with_a_marker(cli, question, drug):
    result = cli("ask", question, "--json").json()
    text = answer_text(result)
    assert drug in text.lower()
    sentence_with_drug = next(s for s in re.split(r"(?<=\]) ", text) if drug in s.lower())
    assert re.search(r"\[\d+\]$", sentence_with_drug)


@pytest.mark.parametrize("question,reference", [
    ("Lancet 2003 Sep", "Lancet. 2003 Sep 20;362(9388):971-82 — reference 5 of "),
    ("Mayo Clin Proc 1968", "Mayo Clin Proc. 1968 Aug;43(8):545-56 — reference 4 of "),
])
def test_reference_question_cites_the_reference_and_the_review(cli, question, reference):
    result = cli("ask", question, "--json").json()
    assert result["hits"][0]["citation"] == reference + SEED_CITATION


def test_human_output_of_a_reference_question(cli):
    r = cli("ask", "Lancet 2003 Sep")
    assert "Lancet. 2003 Sep 20;362(9388):971-82 — reference 5 of " + SEED_CITATION in r.out


# ---------------------------------------------------------------- --json schema


def test_json_schema(cli):
    r = cli("ask", "Which drugs give reason to be optimistic for nonresponding patients?", "--json")
    assert r.code == 0
    result = r.json()
    assert list(result) == TOP_KEYS
    assert result["schema"] == 1 and result["id"] == "1"
    assert result["question"] == "Which drugs give reason to be optimistic for nonresponding patients?"
    assert isinstance(result["query"], str)
    assert 0.0 <= result["confidence"] <= 1.0
    hits = result["hits"]
    assert hits
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    for h in hits:
        assert list(h) == HIT_KEYS
        assert list(h["source"]) == SOURCE_KEYS
        assert re.fullmatch(re.escape(h["doc_id"]) + r"#\d+", h["passage_id"])
        assert h["doc_id"] == h["source"]["doc_id"] == SEED_DOI
        assert h["highlight"] in h["text"]
        assert all(isinstance(h[k], (int, float)) for k in ("score", "bm25", "tfidf"))
        src = h["source"]
        assert src["pmid"] is None  # the seed page has no PMID
        assert src["doi"] == SEED_DOI
        assert src["title"] == "Treatment of refractory polymyositis and dermatomyositis"
        assert src["authors"] == ["Steven R Ytterberg"]
        assert (src["journal"], src["year"], src["volume"], src["issue"], src["pages"]) == (
            "Curr Rheumatol Rep", "2006", "8", "3", "167-73")
        assert SEED_DOI in src["url"]
    answer = result["answer"]
    assert list(answer) == ["text", "citations"]
    ranks = {h["rank"] for h in hits}
    assert answer["citations"] and set(answer["citations"]) <= ranks
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer["text"])} == set(answer["citations"])


def test_passage_ids_are_unique(cli):
    hits = cli("ask", "polymyositis dermatomyositis treatment therapy", "--json", "-k", "20").json()["hits"]
    ids = [h["passage_id"] for h in hits]
    assert len(ids) == len(set(ids)) > 2


# ---------------------------------------------------------------- nothing matches


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_question_says_nothing_matches(cli, question):
    r = cli("ask", question)
    assert r.code == 0
    assert "nothing" in r.out.lower() and "match" in r.out.lower()
    assert "Answer" not in r.out
    result = cli("ask", question, "--json").json()
    assert result["hits"] == [] and result["answer"] is None
    assert list(result) == TOP_KEYS


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_question_on_a_beir_corpus(cli, question):
    result = cli("ask", question, "--json", "--corpus", str(BEIR)).json()
    assert result["hits"] == [] and result["answer"] is None


# ---------------------------------------------------------------- options and usage


def test_k_limits_hits(cli):
    question = "polymyositis dermatomyositis patients therapy"
    assert len(cli("ask", question, "--json").json()["hits"]) > 2
    r = cli("ask", question, "--json", "-k", "2")
    assert r.code == 0
    assert len(r.json()["hits"]) == 2


def test_version(cli):
    r = cli("--version")
    assert r.code == 0
    assert re.search(r"qa \d+\.\d+", r.out + r.err)


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["batch", "--help"]])
def test_help_shows_examples(cli, args):
    r = cli(*args)
    assert r.code == 0
    assert "examples:" in r.out
    command = "ask" if args[0] == "--help" else args[0]
    assert f"\n  qa {command} " in r.out  # an example line of that command


@pytest.mark.parametrize("args", [
    ["ask", "rituximab", "-k", "0"],
    ["ask", "rituximab", "-k", "two"],
    ["ask", "rituximab", "--no-such-option"],
    ["ask"],
    ["batch", "--format", "xml"],
    ["ask", "rituximab", "--bm25", "bm42"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2(cli, args):
    r = cli(*args)
    assert r.code == 2
    assert "usage" in r.err.lower()
    assert "Traceback" not in r.err


def test_nonexistent_corpus_is_one_line_naming_it(cli, tmp_path):
    missing = tmp_path / "no-such-corpus.jsonl"
    r = cli("ask", "rituximab", "--corpus", str(missing))
    assert r.code == 1
    assert str(missing) in one_line(r.err)
    assert "Traceback" not in r.err and r.out == ""


def test_unknown_corpus_format_is_one_line_naming_it(cli, tmp_path):
    # plain text is a format; a file of no known kind is refused
    odd = tmp_path / "notes.dat"
    odd.write_text("rituximab and tacrolimus\nfor nonresponding patients\n", encoding="utf-8")
    r = cli("ask", "rituximab", "--corpus", str(odd))
    assert r.code == 1
    assert str(odd) in one_line(r.err)
    assert "Traceback" not in r.err


def test_subprocess_usage_error_and_missing_corpus(tmp_path):
    usage = run_subprocess(["ask", "rituximab", "-k", "0"], tmp_path / "home")
    assert usage.returncode == 2
    missing = run_subprocess(["ask", "rituximab", "--corpus", str(tmp_path / "gone")], tmp_path / "home")
    assert missing.returncode == 1
    err = missing.stderr.decode()
    assert str(tmp_path / "gone") in one_line(err)
    assert "Traceback" not in err


# ---------------------------------------------------------------- BEIR corpus


@pytest.mark.parametrize("doc_id", sorted(BEIR_QUESTIONS))
def test_beir_question_finds_its_abstract_first(cli, doc_id):
    result = cli("ask", BEIR_QUESTIONS[doc_id], "--json", "--corpus", str(BEIR)).json()
    top = result["hits"][0]
    assert top["doc_id"] == doc_id
    assert top["source"]["pmid"] == doc_id
    assert doc_id in top["citation"]
    assert result["answer"] is not None


def test_beir_sections_and_metadata(cli):
    result = cli("ask", BEIR_QUESTIONS["11035130"], "--json", "--corpus", str(BEIR), "-k", "10").json()
    record = next(r for r in beir_records() if r["_id"] == "11035130")
    ours = [h for h in result["hits"] if h["doc_id"] == "11035130"]
    labels = {line.split(":")[0] for line in record["text"].split("\n\n")}
    assert any(h["section"] in labels for h in ours)
    assert ours[0]["source"]["year"] == record["metadata"]["year"]


def test_beir_corpus_given_as_a_dataset_folder(cli, tmp_path):
    path = copy_beir(tmp_path)
    result = cli("ask", BEIR_QUESTIONS["10759659"], "--json", "--corpus", str(path.parent)).json()
    assert result["hits"][0]["doc_id"] == "10759659"


def test_two_corpora_together(cli):
    result = cli("ask", "who wrote the review on refractory polymyositis", "--json", "--corpus", str(BEIR),
                 "--corpus", str(ROOT / "corpus")).json()
    assert "Ytterberg" in answer_text(result)
    result = cli("ask", BEIR_QUESTIONS["10331115"], "--json", "--corpus", str(BEIR),
                 "--corpus", str(ROOT / "corpus")).json()
    assert result["hits"][0]["doc_id"] == "10331115"


# ---------------------------------------------------------------- batch


def test_batch_plain_text_with_blank_line(cli, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("who wrote the review\n\nwhat is the DOI\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = cli("batch", str(questions), "-o", str(out))
    assert r.code == 0
    results = jsonl(out)
    assert [x["id"] for x in results] == ["1", "3"]
    assert "Ytterberg" in answer_text(results[0])
    assert SEED_DOI in answer_text(results[1])
    assert all(list(x) == TOP_KEYS for x in results)


def test_batch_jsonl_keeps_input_order(cli, tmp_path):
    questions = tmp_path / "q.jsonl"
    items = [("z9", OFF_TOPIC[0]), ("a1", "what is the DOI"), ("m5", DRUG_QUESTION), ("b2", "who wrote the review")]
    questions.write_text("".join(json.dumps({"id": i, "question": q}) + "\n" for i, q in items), encoding="utf-8")
    r = cli("batch", str(questions))
    assert r.code == 0
    results = [json.loads(line) for line in r.out.splitlines()]
    assert [x["id"] for x in results] == [i for i, _ in items]
    assert [x["question"] for x in results] == [q for _, q in items]
    assert results[0]["hits"] == [] and results[0]["answer"] is None
    assert "rituximab" in answer_text(results[2]).lower()


def test_batch_beir_queries_jsonl(cli, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"_id": d, "text": q}) + "\n" for d, q in BEIR_QUESTIONS.items()),
                       encoding="utf-8")
    r = cli("batch", str(queries), "--corpus", str(BEIR))
    results = [json.loads(line) for line in r.out.splitlines()]
    assert [x["id"] for x in results] == list(BEIR_QUESTIONS)
    assert all(x["hits"][0]["doc_id"] == x["id"] for x in results)


def test_batch_csv_input_and_csv_output(cli, tmp_path):
    questions = tmp_path / "q.csv"
    questions.write_text('id,question\nA,who wrote the review\nB,"rituximab, tacrolimus for nonresponding patients"\n',
                         encoding="utf-8")
    out = tmp_path / "out.csv"
    r = cli("batch", str(questions), "--format", "csv", "-k", "2", "-o", str(out))
    assert r.code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0] == CSV_HEADER
    body = rows[1:]
    assert {row[0] for row in body} == {"A", "B"}
    assert [row[0] for row in body] == sorted(row[0] for row in body)  # A's rows, then B's
    for qid in ("A", "B"):
        mine = [row for row in body if row[0] == qid]
        assert 1 <= len(mine) <= 2
        assert [row[3] for row in mine] == [str(i) for i in range(1, len(mine) + 1)]
        assert all(row[5] == SEED_DOI and row[6].startswith(SEED_DOI + "#") for row in mine)
    assert "Ytterberg" in body[0][2]
    assert body[-1][1] == "rituximab, tacrolimus for nonresponding patients"


def test_batch_tsv_output(cli, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("what is the DOI\n" + OFF_TOPIC[1] + "\n", encoding="utf-8")
    out = tmp_path / "out.tsv"
    assert cli("batch", str(questions), "--format", "tsv", "-o", str(out)).code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline=""), delimiter="\t"))
    assert rows[0] == CSV_HEADER
    assert rows[-1][:2] == ["2", OFF_TOPIC[1]] and rows[-1][2:] == [""] * 7  # no hits: one empty row
    assert all(len(row) == 9 for row in rows)


def test_batch_trec_output(cli, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"_id": d, "text": q}) + "\n" for d, q in BEIR_QUESTIONS.items()),
                       encoding="utf-8")
    out = tmp_path / "run.trec"
    r = cli("batch", str(queries), "--format", "trec", "-k", "3", "--corpus", str(BEIR), "-o", str(out))
    assert r.code == 0
    lines = [line.split(" ") for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines and all(len(f) == 6 for f in lines)
    assert {(f[1], f[5]) for f in lines} == {("Q0", "qa")}
    assert [f[0] for f in lines] == sorted((f[0] for f in lines), key=list(BEIR_QUESTIONS).index)
    for qid in BEIR_QUESTIONS:
        mine = [f for f in lines if f[0] == qid]
        assert 1 <= len(mine) <= 3  # -k counts documents
        assert [int(f[3]) for f in mine] == list(range(1, len(mine) + 1))
        assert len({f[2] for f in mine}) == len(mine)
        scores = [float(f[4]) for f in mine]
        assert scores == sorted(scores, reverse=True)
        assert mine[0][2] == qid


def test_batch_reads_stdin_in_a_subprocess(tmp_path):
    proc = run_subprocess(["batch", "-"], tmp_path / "home", stdin=b"who wrote the review\n\nwhat is the DOI\n")
    assert proc.returncode == 0, proc.stderr.decode()
    results = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [x["id"] for x in results] == ["1", "3"]
    assert "Ytterberg" in answer_text(results[0])
    proc = run_subprocess(["batch", "--format", "trec"], tmp_path / "home", stdin=b"what is the DOI\n")
    assert proc.returncode == 0
    assert proc.stdout.decode().split()[:4] == ["1", "Q0", SEED_DOI, "1"]


def test_batch_with_one_bad_question_answers_the_rest_and_exits_1(cli, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "first", "question": "who wrote the review"}) + "\n"
        + json.dumps({"id": "bad", "question": ""}) + "\n"
        + json.dumps({"id": "last", "question": DRUG_QUESTION}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = cli("batch", str(questions), "-o", str(out))
    assert r.code == 1
    results = jsonl(out)
    assert [x["id"] for x in results] == ["first", "bad", "last"]
    assert "error" in results[1] and results[1]["hits"] == []
    assert "error" not in results[0] and "error" not in results[2]
    assert results[0]["hits"] and results[2]["hits"]
    assert "bad" in r.err and "Traceback" not in r.err


def test_batch_bad_input_file_is_exit_1(cli, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "1", "question": "who wrote"}\n{not json\n', encoding="utf-8")
    r = cli("batch", str(questions))
    assert r.code == 1
    assert str(questions) in one_line(r.err) and ":2" in r.err


def test_batch_output_in_a_missing_directory_is_a_one_line_error(cli, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("who wrote the review\n", encoding="utf-8")
    target = tmp_path / "no-such-dir" / "out.jsonl"
    r = cli("batch", str(questions), "-o", str(target))
    assert r.code == 1
    assert str(target) in one_line(r.err)


# ---------------------------------------------------------------- index persistence


def index_dirs(home):
    return sorted(p for p in (home / "indexes").iterdir() if p.is_dir())


def test_index_twice_is_up_to_date_the_second_time(cli, qa_home):
    first = cli("index")
    assert first.code == 0 and "built" in first.out
    [directory] = index_dirs(qa_home)
    current = (directory / "CURRENT").read_text()
    second = cli("index")
    assert second.code == 0
    assert "up to date" in second.out
    assert (directory / "CURRENT").read_text() == current
    assert [p.name for p in directory.glob("build-*")] == [current.strip()]
    # asking uses the same build too
    assert cli("ask", "who wrote the review").code == 0
    assert (directory / "CURRENT").read_text() == current


def test_index_rebuild_flag_builds_again(cli, qa_home):
    cli("index")
    [directory] = index_dirs(qa_home)
    before = (directory / "CURRENT").read_text()
    r = cli("index", "--rebuild")
    assert r.code == 0 and "up to date" not in r.out
    assert (directory / "CURRENT").read_text() != before


def test_changed_corpus_is_reindexed(cli, tmp_path):
    path = copy_beir(tmp_path)
    before = cli("ask", EXTRA_QUESTION, "--json", "--corpus", str(path)).json()
    assert EXTRA_ID not in {h["doc_id"] for h in before["hits"]}
    append_extra(path)
    after = cli("ask", EXTRA_QUESTION, "--json", "--corpus", str(path)).json()
    assert after["hits"][0]["doc_id"] == EXTRA_ID
    stats = cli("index", "--corpus", str(path))
    assert "up to date" in stats.out and "documents: 9" in stats.out


def test_touched_corpus_file_is_reindexed(cli, tmp_path):
    path = copy_beir(tmp_path)
    assert "built" in cli("index", "--corpus", str(path)).out
    assert "up to date" in cli("index", "--corpus", str(path)).out
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # same bytes, new mtime
    r = cli("index", "--corpus", str(path))
    assert r.code == 0 and "up to date" not in r.out


def test_new_file_in_a_corpus_folder_is_reindexed(cli, tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    shutil.copyfile(BEIR, folder / "a.jsonl")
    assert "documents: 8" in cli("index", "--corpus", str(folder)).out
    shutil.copyfile(BEIR_EXTRA, folder / "b.jsonl")
    result = cli("ask", EXTRA_QUESTION, "--json", "--corpus", str(folder)).json()
    assert result["hits"][0]["doc_id"] == EXTRA_ID


def test_index_dir_option_puts_the_index_there(cli, qa_home, tmp_path):
    target = tmp_path / "my-index"
    r = cli("index", "--index", str(target))
    assert r.code == 0
    assert str(target) in r.out
    name = (target / "CURRENT").read_text(encoding="utf-8").strip()
    build = target / name
    assert name.startswith("build-") and build.is_dir()
    assert (build / "manifest.json").is_file()
    assert json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert len(list(build.glob("*.npy"))) >= 5
    assert not (qa_home / "indexes").exists()  # nothing went to the cache
    result = cli("ask", "who wrote the review", "--json", "--index", str(target)).json()
    assert "Ytterberg" in answer_text(result)
    assert (target / "CURRENT").read_text(encoding="utf-8").strip() == name  # loaded, not rebuilt


def test_bm25_variants_have_their_own_index(cli, qa_home):
    lucene = cli("index")
    okapi = cli("index", "--bm25", "okapi")
    assert "bm25: lucene" in lucene.out and "bm25: okapi" in okapi.out
    assert len(index_dirs(qa_home)) == 2
    assert "up to date" in cli("index").out  # the okapi build did not replace the lucene one
    assert "up to date" in cli("index", "--bm25", "okapi").out
    q = "polymyositis dermatomyositis therapy"
    a = cli("ask", q, "--json").json()["hits"]
    b = cli("ask", q, "--json", "--bm25", "okapi").json()["hits"]
    assert [h["bm25"] for h in a] != [h["bm25"] for h in b]


def _raise_on_call(real, n, exc):
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= n:
            raise exc
        return real(*args, **kwargs)

    return wrapper


def test_interrupted_build_leaves_the_old_index(cli, tmp_path, monkeypatch):
    path = copy_beir(tmp_path)
    target = tmp_path / "idx"
    assert cli("index", "--corpus", str(path), "--index", str(target)).code == 0
    old = (target / "CURRENT").read_text(encoding="utf-8")
    append_extra(path)

    with monkeypatch.context() as m:  # only this patch is undone after; QA_HOME stays set
        m.setattr(qa.index.store, "write_table", _raise_on_call(qa.index.store.write_table, 3, KeyboardInterrupt()))
        r = cli("ask", EXTRA_QUESTION, "--corpus", str(path), "--index", str(target))
    assert r.code == 130 and "interrupted" in r.err

    assert (target / "CURRENT").read_text(encoding="utf-8") == old
    assert not list(target.glob(".tmp-*"))
    build = current_build(target)
    assert build is not None and build.name == old.strip()
    index = qa.index.store.load(build)
    assert index.manifest["stats"]["documents"] == 8
    result = Engine(index).ask(BEIR_QUESTIONS["10135926"])
    assert result["hits"][0]["doc_id"] == "10135926"

    # the next run completes the build
    after = cli("ask", EXTRA_QUESTION, "--json", "--corpus", str(path), "--index", str(target)).json()
    assert after["hits"][0]["doc_id"] == EXTRA_ID
    assert (target / "CURRENT").read_text(encoding="utf-8") != old


def test_failed_write_mid_build_keeps_old_index_and_answers_from_memory(cli, tmp_path, monkeypatch):
    path = copy_beir(tmp_path)
    target = tmp_path / "idx"
    assert cli("index", "--corpus", str(path), "--index", str(target)).code == 0
    old = (target / "CURRENT").read_text(encoding="utf-8")
    append_extra(path)

    with monkeypatch.context() as m:
        m.setattr(np, "save", _raise_on_call(np.save, 4, OSError(28, "No space left on device")))
        r = cli("ask", EXTRA_QUESTION, "--json", "--corpus", str(path), "--index", str(target))
    assert r.code == 0
    assert "memory" in one_line(r.err)
    assert r.json()["hits"][0]["doc_id"] == EXTRA_ID
    assert (target / "CURRENT").read_text(encoding="utf-8") == old
    assert not list(target.glob(".tmp-*"))


def test_killed_build_leftovers_are_never_used(cli, tmp_path):
    path = copy_beir(tmp_path)
    target = tmp_path / "idx"
    assert cli("index", "--corpus", str(path), "--index", str(target)).code == 0
    old = (target / "CURRENT").read_text(encoding="utf-8").strip()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    leftover = target / f".tmp-build-1-{int(dead.stdout)}"
    leftover.mkdir()
    (leftover / "manifest.json").write_text("{half a manifest", encoding="utf-8")

    assert "up to date" in cli("index", "--corpus", str(path), "--index", str(target)).out
    assert (target / "CURRENT").read_text(encoding="utf-8").strip() == old
    append_extra(path)
    result = cli("ask", EXTRA_QUESTION, "--json", "--corpus", str(path), "--index", str(target)).json()
    assert result["hits"][0]["doc_id"] == EXTRA_ID
    assert not leftover.exists()  # a dead process's temporary is cleared by the next build
    assert not (target / "CURRENT").read_text(encoding="utf-8").startswith(".tmp")


def test_killed_subprocess_build_leaves_the_old_index(tmp_path):
    path = copy_beir(tmp_path)
    target = tmp_path / "idx"
    home = tmp_path / "home"
    assert run_subprocess(["index", "--corpus", str(path), "--index", str(target)], home).returncode == 0
    old = (target / "CURRENT").read_text(encoding="utf-8")
    append_extra(path)
    # a build that dies (os._exit, no cleanup) in the middle of writing its files
    code = ("import os, sys, qa.index.store\n"
            "real = qa.index.store.write_table\n"
            "def dying(*a, **k):\n"
            "    real(*a, **k)\n"
            "    os._exit(9)\n"
            "qa.index.store.write_table = dying\n"
            "from qa.cli.main import main\n"
            "main(sys.argv[1:])\n")
    env = {**os.environ, "QA_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", code, "index", "--corpus", str(path), "--index", str(target)],
                          cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert proc.returncode == 9
    assert (target / "CURRENT").read_text(encoding="utf-8") == old
    index = qa.index.store.load(current_build(target))
    assert Engine(index).ask(BEIR_QUESTIONS["10331115"])["hits"][0]["doc_id"] == "10331115"
    # the next run rebuilds, and the dead build's temporary is not what it uses
    ok = run_subprocess(["ask", EXTRA_QUESTION, "--json", "--corpus", str(path), "--index", str(target)], home)
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["hits"][0]["doc_id"] == EXTRA_ID
    assert (target / "CURRENT").read_text(encoding="utf-8").startswith("build-")
    assert not list(target.glob(".tmp-*"))


def test_damaged_index_is_rebuilt(cli, qa_home):
    cli("index")
    [directory] = index_dirs(qa_home)
    build = current_build(directory)
    (build / "bm25.impacts.npy").unlink()
    r = cli("ask", "who wrote the review", "--json")
    assert r.code == 0
    assert "Ytterberg" in answer_text(r.json())
    assert "damaged" in one_line(r.err)
    assert (current_build(directory) / "bm25.impacts.npy").exists()


# ---------------------------------------------------------------- unwritable index location


def test_index_under_a_regular_file_answers_from_memory(cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    r = cli("ask", "who wrote the review", "--json", "--index", str(blocker / "idx"))
    assert r.code == 0
    assert "Ytterberg" in answer_text(r.json())
    assert "in-memory" in one_line(r.err)


def test_qa_home_that_is_a_file_answers_from_memory(cli, tmp_path, monkeypatch):
    blocker = tmp_path / "home-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("QA_HOME", str(blocker))
    r = cli("ask", DRUG_QUESTION)
    assert r.code == 0
    assert "rituximab" in r.out
    assert "in-memory" in one_line(r.err)
    r = cli("index")
    assert r.code == 0 and "memory" in r.out


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can write into a read-only directory")
def test_read_only_index_location_answers_from_memory(cli, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        r = cli("ask", "who wrote the review", "--json", "--index", str(locked / "idx"))
    finally:
        locked.chmod(0o700)
    assert r.code == 0
    assert "Ytterberg" in answer_text(r.json())
    assert "in-memory" in one_line(r.err)


# ---------------------------------------------------------------- edge corpora


def test_empty_corpus_folder_is_handled(cli, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    r = cli("ask", "rituximab", "--corpus", str(folder))
    assert r.code == 1
    assert "no documents" in one_line(r.err) and str(folder) in r.err


def test_corpus_of_stop_words_only_is_handled(cli, tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps({"_id": "x1", "text": "It is what it is, and that is all."}) + "\n", encoding="utf-8")
    r = cli("ask", "rituximab", "--corpus", str(path))
    assert r.code == 0 and r.err == ""
    assert "Nothing in the corpus matches" in r.out


# ---------------------------------------------------------------- python cli.py == qa.cli.main.main


@pytest.mark.parametrize("args", [
    ["ask", DRUG_QUESTION, "--json"],
    ["ask", "Lancet 2003 Sep", "-k", "3"],
])
def test_cli_py_and_main_print_the_same(cli, tmp_path, args):
    proc = run_subprocess(args, tmp_path / "other-home")
    assert proc.returncode == 0
    r = cli(*args)
    assert r.code == 0
    assert proc.stdout.decode("utf-8") == r.out


# ---------------------------------------------------------------- what a corpus folder may hold


def test_a_fifo_or_device_in_a_corpus_folder_is_skipped_with_a_warning(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    shutil.copyfile(BEIR, folder / "a.jsonl")
    os.mkfifo(folder / "pipe")
    os.symlink("/dev/zero", folder / "zero")
    question = BEIR_QUESTIONS["10135926"]
    for _ in range(2):  # built, then loaded: neither blocks on the FIFO
        r = run_subprocess(["ask", question, "--json", "--corpus", str(folder)], tmp_path / "home", timeout=60)
        assert r.returncode == 0 and json.loads(r.stdout)["hits"][0]["doc_id"] == "10135926"
        assert sorted(r.stderr.decode().splitlines()) == [
            f"qa: {folder / 'pipe'}: not a regular file (a FIFO); skipped",
            f"qa: {folder / 'zero'}: not a regular file (a device); skipped"]


def test_broken_symbolic_links_in_a_corpus_folder_are_skipped_with_a_warning(cli, tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    shutil.copyfile(BEIR, folder / "a.jsonl")
    os.symlink(folder / "missing.txt", folder / "dangling")
    os.symlink(folder / "loop-b", folder / "loop-a")
    os.symlink(folder / "loop-a", folder / "loop-b")
    r = cli("ask", BEIR_QUESTIONS["10331115"], "--json", "--corpus", str(folder))
    assert r.code == 0 and r.json()["hits"][0]["doc_id"] == "10331115"
    assert sorted(r.err.splitlines()) == [f"qa: {folder / 'dangling'}: a symbolic link to nothing; skipped",
                                          f"qa: {folder / 'loop-a'}: a loop of symbolic links; skipped",
                                          f"qa: {folder / 'loop-b'}: a loop of symbolic links; skipped"]


def test_a_fifo_named_as_the_corpus_is_one_line(cli, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    r = cli("ask", "rituximab", "--corpus", str(tmp_path / "pipe"))
    assert r.code == 1 and one_line(r.err) == f"qa: error: {tmp_path / 'pipe'}: not a regular file (a FIFO)"


def test_an_os_error_anywhere_is_one_line_naming_the_path(cli, tmp_path, monkeypatch):
    import errno

    import qa.library

    def full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    with monkeypatch.context() as m:  # only this patch is undone after; QA_HOME stays set
        m.setattr(qa.library.shutil, "copyfile", full)
        r = cli("add", str(BEIR))
    assert r.code == 1 and "Traceback" not in r.err
    line = one_line(r.err)
    assert line.startswith("qa: error: ") and line.endswith(": No space left on device") and ".tmp-" in line
    assert "added 8 documents" in cli("add", str(BEIR)).out, "nothing of the failed add was kept"


# ---------------------------------------------------------------- size and workers caps


@pytest.mark.parametrize("fmt", ["beir", "ris", "medline"])
def test_a_line_longer_than_8_mb_is_one_line_and_nothing_is_read(cli, tmp_path, fmt):
    words = "rituximab myositis " * (9 * 1024 * 1024 // 19)
    path = tmp_path / f"long.{fmt}"
    path.write_text({"beir": json.dumps({"_id": "x", "text": words}) + "\n",
                     "ris": f"TY  - JOUR\nTI  - A long one\nAB  - {words}\nER  - \n",
                     "medline": f"PMID- 1\nTI  - A long one\nAB  - {words}\n"}[fmt], encoding="utf-8")
    r = cli("add", str(path))
    assert r.code == 1
    line = one_line(r.err)
    assert str(path) in line and "line longer than 8 MB" in line
    assert f"{path}:{3 if fmt != 'beir' else 1}:" in line


def test_a_large_file_of_short_records_is_read(cli, tmp_path):
    path = tmp_path / "corpus.jsonl"
    record = json.loads(BEIR.read_text(encoding="utf-8").splitlines()[0])
    with open(path, "w", encoding="utf-8") as f:
        for i in range(12_000):  # about 9 MB, every line short
            f.write(json.dumps({**record, "_id": f"d{i}"}) + "\n")
    assert path.stat().st_size > 8 * 1024 * 1024
    r = cli("index", "--corpus", str(path))
    assert r.code == 0 and "documents: 12000" in r.out


def test_workers_are_capped_at_two_a_core(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # the same few processes on any machine
    questions = tmp_path / "q.txt"
    questions.write_text("\n".join(f"helicopter intubation {i}" for i in range(5)) + "\n", encoding="utf-8")
    one = cli("batch", str(questions), "--corpus", str(BEIR))
    many = cli("batch", str(questions), "--corpus", str(BEIR), "--workers", "5")
    assert many.code == 0 and many.out == one.out
    assert one_line(many.err) == "qa: --workers 5 is more than 2 a core (1 core): answering with 2"
