"""A sharded index (qa index --shards N) answers every question exactly as one index does.

The PubMedQA corpus (1,000 abstracts) split into 2 and 3 shards, served in this process: each of
the 500 dev questions gets the same JSON result, rankings, scores, answers and confidence to the
bit, with filters and per-document rankings too; `qa add` into a sharded index equals a sharded
build of all, and one index; the shards are runs of the id order, and an added document goes
into the shard of its id's range. The same shards on a Ray cluster: tests/test_cluster.py.
"""
from __future__ import annotations

import json
import pickle
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from conftest import BEIR, FIXTURES, beir_records, run_subprocess

from qa.index import shards, store
from qa.index.layout import Settings
from qa.index.open_index import open_index
from qa.search.engine import Engine
from qa.search.filters import build as filters

PUBMEDQA = FIXTURES / "pubmedqa-1000.corpus.jsonl"
QUESTIONS = [json.loads(line) for line in (FIXTURES / "pubmedqa-dev.queries.jsonl").read_text("utf-8").splitlines()]
FILTERS = [None, filters(years=["2000-2010"]), filters(journals=["surg"]), filters(sections=["conclusions"]),
           filters(authors=["smith", "wang", "li"])]


@pytest.fixture(scope="module")
def pubmedqa(tmp_path_factory):
    """One index and 2- and 3-shard indexes of the PubMedQA corpus."""
    root = tmp_path_factory.mktemp("pubmedqa")
    out = {1: open_index([str(PUBMEDQA)], Settings(), str(root / "one"))[0]}
    for n in (2, 3):
        index, built = open_index([str(PUBMEDQA)], Settings(), str(root / f"shards-{n}"), n_shards=n)
        assert built and index.sharded and len(index.manifest["shards"]) == n
        out[n] = index
    return out


def asked(engine: Engine, i: int, q: dict) -> dict:
    """Question i as the tests ask it: every other one ranking documents, some with filters."""
    return engine.ask(q["text"], qid=q["_id"], k=10, per_document=i % 2 == 1, filters=FILTERS[i % len(FILTERS)])


@pytest.mark.parametrize("n", [2, 3])
def test_every_pubmedqa_dev_question_gets_the_one_index_s_result(pubmedqa, n):
    one, sharded = Engine(pubmedqa[1]), Engine(pubmedqa[n])
    differ = [q["_id"] for i, q in enumerate(QUESTIONS) if asked(one, i, q) != asked(sharded, i, q)]
    assert len(QUESTIONS) == 500 and differ == []
    # and the results say something: most questions rank their own abstract first
    first = sum(asked(sharded, 0, q)["hits"][0]["doc_id"] == q["_id"].removeprefix("q") for q in QUESTIONS[:50])
    assert first >= 45


def test_the_shards_are_runs_of_the_id_order_and_score_with_the_corpus_s_statistics(pubmedqa):
    one, index = pubmedqa[1], pubmedqa[3]
    entries = index.manifest["shards"]
    ids = [one.documents.ids[i] for i in range(one.n_documents)]
    assert [e["first_id"] for e in entries] == [ids[0], ids[entries[0]["documents"]],
                                                ids[entries[0]["documents"] + entries[1]["documents"]]]
    assert sum(e["documents"] for e in entries) == one.n_documents == index.n_documents
    assert sum(e["passages"] for e in entries) == one.n_passages == index.n_passages
    # the global statistics are the one index's, array for array
    for name in ("term_feature", "bigrams", "bigram_feature", "df", "idf"):
        np.testing.assert_array_equal(np.asarray(getattr(index.tfidf, name)), np.asarray(getattr(one.tfidf, name)))
    np.testing.assert_array_equal(np.asarray(index.postings.indptr), np.asarray(one.postings.indptr))
    assert [index.terms.names[i] for i in range(0, len(index.terms.names), 97)] == \
        [one.terms.names[i] for i in range(0, len(one.terms.names), 97)]
    # a shard's impacts are the one index's for its passages
    shard = store.load(index.path / entries[1]["name"])
    term = one.term_id("surgeri")
    lo, hi = int(one.postings.indptr[term]), int(one.postings.indptr[term + 1])
    offset = entries[0]["passages"]
    inside = (np.asarray(one.postings.indices[lo:hi]) >= offset) & \
             (np.asarray(one.postings.indices[lo:hi]) < offset + entries[1]["passages"])
    local = shard.term_id("surgeri")
    np.testing.assert_array_equal(np.asarray(one.postings.impacts[lo:hi])[inside],
                                  np.asarray(shard.postings.impacts[shard.postings.indptr[local]:
                                                                    shard.postings.indptr[local + 1]]))
    best = max(float(np.max(one.postings.impacts[lo:hi])), 0.0)
    assert index.best_impact(index.term_id("surgeri")) == best


def test_the_same_rows_texts_and_documents(pubmedqa):
    one, index = pubmedqa[1], pubmedqa[2]
    for p in (0, 1, one.n_passages // 2, one.n_passages - 1):
        assert index.passages.text[p] == one.passages.text[p]
        assert index.passage_id(p) == one.passage_id(p)
        assert index.section(p) == one.section(p)
        assert index.kind(p) == one.kind(p)
    for doc_id in ("10135926", one.documents.ids[one.n_documents - 1], "no-such-id"):
        assert index.document_index(doc_id) == one.document_index(doc_id)
    assert index.documents.ids.lower_bound(b"2") == one.documents.ids.lower_bound(b"2")
    np.testing.assert_array_equal(np.asarray(index.passages.doc), np.asarray(one.passages.doc))
    np.testing.assert_array_equal(np.asarray(index.passages.hash), np.asarray(one.passages.hash))


def test_a_lexical_question_reads_no_whole_column_of_the_shards(pubmedqa):
    """What a question asks the shards follows its candidates, never every passage: a whole
    column (e.g. every passage's kind) would cross the network at each start of a client."""
    from qa.index.open_index import load_build
    from qa.search.sharded import LocalShards

    methods = []

    class Counting(LocalShards):
        def scatter(self, requests):
            methods.extend(method for method, _ in requests.values())
            return super().scatter(requests)

    engine = Engine(load_build(pubmedqa[3].path, serve=Counting))
    for i, q in enumerate(QUESTIONS[:40]):
        asked(engine, i, q)
    engine.rank_documents(QUESTIONS[0]["text"], k=10)
    assert methods and "bm25_candidates" in methods and "column" not in methods


def test_a_question_s_explanation_is_the_same(pubmedqa):
    one, sharded = Engine(pubmedqa[1]), Engine(pubmedqa[3])
    for q in QUESTIONS[:20]:
        top = one.ask(q["text"], k=1)["hits"][0]["passage_id"]
        assert sharded.explain(q["text"], top) == one.explain(q["text"], top)


class StandIn:
    """A stand-in sentence encoder (vectors from a bag of hashed words): the semantic stage's
    plumbing through the shards, without the model's minutes of embedding."""

    name, dim = "stand-in", 16
    settings = {"model": "stand-in", "dim": 16}

    def embed(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in text.lower().split():
            vector[hash_word(word) % self.dim] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_many(self, texts, progress=None) -> np.ndarray:
        return np.asarray([self.embed(t) for t in texts]).reshape(-1, self.dim)


def hash_word(word: str) -> int:
    import zlib

    return zlib.crc32(word.encode("utf-8"))


def test_the_semantic_stage_gives_the_same_results(pubmedqa, monkeypatch):
    from qa.search import dense

    monkeypatch.setattr(dense, "loaded_encoder", lambda: StandIn())
    one = Engine(pubmedqa[1], semantic=dense.stage(pubmedqa[1], embed_up_to=10 ** 6, warn=print))
    sharded = Engine(pubmedqa[3], semantic=dense.stage(pubmedqa[3], embed_up_to=10 ** 6, warn=print))
    assert one.semantic is not None and sharded.semantic is not None
    assert sharded.semantic.admit == one.semantic.admit
    dense_hits = 0
    for i, q in enumerate(QUESTIONS[:60]):
        a, b = asked(one, i, q), asked(sharded, i, q)
        assert a == b, q["_id"]
        dense_hits += bool(a["hits"]) and a["hits"][0]["dense"] is not None
    assert dense_hits >= 30  # the stage was on (0 when it is off; filtered questions may find nothing)


def records(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_adding_documents_to_a_sharded_index_equals_building_it_whole(tmp_path):
    """A corpus folder gains a file: the sharded index is extended (each new document in the shard of
    its id range, every shard weighed again) and answers as a sharded build, and one index, of all."""
    lines = PUBMEDQA.read_text("utf-8").splitlines()[:300]
    ids = sorted(json.loads(line)["_id"] for line in lines)
    # new documents: one sorting before every id, one inside shard 1's range, one after every id
    chosen = {ids[0], ids[150], ids[-1]}
    folder = tmp_path / "corpus"
    folder.mkdir()
    records(folder / "a.jsonl", [line for line in lines if json.loads(line)["_id"] not in chosen])
    index, _ = open_index([str(folder)], Settings(), str(tmp_path / "sharded"), n_shards=3)
    first_ids = [e["first_id"] for e in index.manifest["shards"]]
    records(folder / "b.jsonl", [line for line in lines if json.loads(line)["_id"] in chosen])
    grown, built = open_index([str(folder)], Settings(), str(tmp_path / "sharded"))
    assert built and grown.sharded and grown.manifest.get("updates") == 1
    expected = {f"shard-{shards.shard_for(d, first_ids)}" for d in chosen}
    assert set(grown.manifest["added"]) == expected == {"shard-0", "shard-1", "shard-2"}
    assert grown.manifest["shards"][0]["first_id"] == ids[0]  # the new first id of all
    whole, _ = open_index([str(folder)], Settings(), str(tmp_path / "sharded-whole"), n_shards=3)
    one, _ = open_index([str(folder)], Settings(), str(tmp_path / "one"))
    engines = [Engine(grown), Engine(whole), Engine(one)]
    for i, q in enumerate(QUESTIONS[:120]):
        results = [asked(e, i, q) for e in engines]
        assert results[0] == results[1] == results[2], q["_id"]
    assert grown.document_index(ids[150]) == one.document_index(ids[150]) >= 0


def test_a_sharded_build_is_published_like_any_build(tmp_path):
    index, _ = open_index([str(BEIR)], Settings(), str(tmp_path / "ix"), n_shards=3)
    build_dir = store.current_build(tmp_path / "ix")
    assert index.path == build_dir and (build_dir / "shard-2" / "manifest.json").is_file()
    assert not list(build_dir.glob("*.local"))  # the shards weighed alone are gone
    # fresh: loaded, not built again; the same shards asked for: the same
    again, built = open_index([str(BEIR)], Settings(), str(tmp_path / "ix"))
    assert not built and again.path == build_dir
    again, built = open_index([str(BEIR)], Settings(), str(tmp_path / "ix"), n_shards=3)
    assert not built
    # another number of shards, or one index, is a new build
    two, built = open_index([str(BEIR)], Settings(), str(tmp_path / "ix"), n_shards=2)
    assert built and len(two.manifest["shards"]) == 2
    plain, built = open_index([str(BEIR)], Settings(), str(tmp_path / "ix"), n_shards=1)
    assert built and not plain.sharded


def test_a_damaged_shard_is_noticed_and_the_index_rebuilt(tmp_path, capsys):
    index, _ = open_index([str(BEIR)], Settings(), str(tmp_path / "ix"), n_shards=2)
    shard = index.path / "shard-1"
    (shard / "passages.txt").write_bytes(b"x" + (shard / "passages.txt").read_bytes()[1:])
    again, built = open_index([str(BEIR)], Settings(), str(tmp_path / "ix"))
    assert built and again.sharded and again.path != index.path
    assert "shard-1" in capsys.readouterr().err
    # a shard whose manifest is another build's is refused too
    other, _ = open_index([str(BEIR)], Settings(), str(tmp_path / "other"), n_shards=2)
    shutil.copy(again.path / "shard-0" / "manifest.json", other.path / "shard-1" / "manifest.json")
    with pytest.raises(ValueError, match="shard-1"):
        shards_of(other.path)


def shards_of(build_dir: Path):
    from qa.index.open_index import load_build

    return load_build(build_dir)


def test_more_shards_than_documents_is_one_line(tmp_path, cli):
    r = cli("index", "--corpus", str(BEIR), "--index", str(tmp_path / "ix"), "--shards", "9")
    assert r.code == 1 and r.err.strip() == "qa: error: cannot split 8 documents into 9 shards"


class Pickled:
    """Runs each shard's task in another process, as a cluster's task: arguments and results cross
    by pickle, and a task sees nothing of this process but the files."""

    def map(self, function, calls, shard_numbers):
        with ProcessPoolExecutor(2) as pool:
            return list(pool.map(_call, [pickle.dumps((function, call)) for call in calls]))


def _call(blob):
    function, call = pickle.loads(blob)
    return function(*call)


def test_each_shard_s_work_is_a_task_of_its_own(tmp_path):
    """The build's tasks run elsewhere (as on a cluster) make the same index as in this process."""
    from qa.readers.corpus import corpus_files, read_documents

    docs = read_documents(corpus_files([str(PUBMEDQA)]))[:200]
    here = shards.build_sharded(tmp_path / "here", docs, Settings(), 3, {"corpus": []})
    there = shards.build_sharded(tmp_path / "there", docs, Settings(), 3, {"corpus": []}, runner=Pickled())
    for build_dir in (here, there):
        assert store.read_manifest(build_dir)["stats"]["documents"] == 200
    a, b = store.read_manifest(here), store.read_manifest(there)
    assert a["files"] == b["files"]  # the global statistics, byte for byte
    for i in range(3):
        sa, sb = (store.read_manifest(d / f"shard-{i}") for d in (here, there))
        assert sa["files"] == sb["files"]


def test_the_cli_serves_a_sharded_index_as_one(tmp_path, cli):
    one = ["--corpus", str(BEIR), "--index", str(tmp_path / "one")]
    sharded = ["--corpus", str(BEIR), "--index", str(tmp_path / "sharded")]
    r = cli("index", *sharded, "--shards", "3", "--no-semantic")
    assert r.code == 0, r.err
    assert "shards: 3, by document id (shard-0: 3 documents" in r.out
    assert cli("index", *sharded, "--verify", "--no-semantic").out.count("verified") == 1
    question = "Is there an association between lithotomy position and limb ischemia?"
    for command in (["ask", question, "--json", "--no-semantic"], ["ask", question, "--no-semantic", "-k", "3"],
                    ["sources", "--json"], ["show", "10411439"], ["cite", "--all", "--format", "bibtex"],
                    ["ask", question, "--json", "--no-semantic", "--year", "1999-2000"]):
        a, b = cli(*command, *one), cli(*command, *sharded)
        assert a.code == b.code == 0 and a.out == b.out and a.out, command
    questions = tmp_path / "q.txt"
    questions.write_text("\n".join(q["text"] for q in beir_records(FIXTURES / "pubmedqa-8.queries.jsonl")) + "\n")
    batch = [["batch", str(questions), "--no-semantic", "--workers", "2"], ["batch", str(questions), "--no-semantic"]]
    outputs = [cli(*c, *sharded) for c in batch] + [cli(*batch[1], *one)]
    assert all(o.code == 0 for o in outputs) and outputs[0].out == outputs[1].out == outputs[2].out
    # a TREC run ranks documents only (no answers composed): the same run
    trec = [cli("batch", str(questions), "--no-semantic", "--format", "trec", *c) for c in (one, sharded)]
    assert trec[0].code == trec[1].code == 0 and trec[0].out == trec[1].out and trec[0].out.count("\n") >= 5


def test_cluster_without_ray_says_how_to_install_it(tmp_path, cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where the extra is missing
    r = cli("ask", "rituximab?", "--corpus", str(BEIR), "--index", str(tmp_path / "ix"), "--cluster", "127.0.0.1:6379")
    assert r.code == 1
    assert r.err.strip() == ("qa: error: --cluster needs Ray, which is not installed: "
                             "pip install '.[cluster]' in qa's source folder (the cluster extra)")
    monkeypatch.setenv("QA_CLUSTER", "127.0.0.1:6379")  # the environment's cluster, for every command that serves
    (tmp_path / "q.txt").write_text("rituximab?\n", encoding="utf-8")
    assert "needs Ray" in cli("batch", str(tmp_path / "q.txt"), "--corpus", str(BEIR), "--index", str(tmp_path / "ix")).err


def test_a_cluster_address_must_be_host_and_port(tmp_path, cli):
    pytest.importorskip("ray")
    r = cli("ask", "rituximab?", "--corpus", str(BEIR), "--index", str(tmp_path / "ix"), "--cluster", "nowhere")
    assert r.code == 1 and "give the cluster's address as HOST:PORT" in r.err


def test_qa_add_into_a_sharded_library_says_which_shard_took_the_documents(cli, qa_home):
    """The library's index split in 3: `qa add` extends the shard of the new document's id range,
    says which, and the sharded index answers from it."""
    assert cli("add", str(FIXTURES / "medline-sample2.txt"), "--no-semantic").code == 0  # 4 records, and the seed's
    r = cli("index", "--shards", "3", "--no-semantic")
    assert r.code == 0 and "shards: 3" in r.out, r.err
    [index_dir] = [d for d in (qa_home / "indexes").iterdir() if d.is_dir()]
    first_ids = [e["first_id"] for e in store.read_manifest(store.current_build(index_dir))["shards"]]
    r = cli("add", str(FIXTURES / "pubmed-xml-4.xml"), "--no-semantic")  # one record, PMID 27797938
    assert r.code == 0, r.err
    shard = shards.shard_for("27797938", first_ids)
    assert f"added to: shard-{shard} (1 document) of 3 shards; all 3 weighed again" in r.out
    manifest = store.read_manifest(store.current_build(index_dir))
    assert manifest["updates"] == 1 and manifest["added"] == {f"shard-{shard}": 1}
    r = cli("ask", "leucocyte telomere length and pancreatic cancer risk", "--json", "--no-semantic")
    assert r.json()["hits"][0]["doc_id"] == "27797938"
