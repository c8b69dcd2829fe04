"""A sharded index on a real two-node Ray cluster answers as one index, and survives a shard's death.

Run with a cluster at $QA_TEST_CLUSTER: `bash .ci/cluster python -m pytest -m cluster` starts a head
and a worker on 127.0.0.1 in a network namespace of their own, runs these tests there and stops
the cluster (CI does so after the other tests). Without a cluster they are skipped.

100 PubMedQA dev questions (lexical) through `qa batch --cluster` give byte for byte the output of
one index in this process, with 2 and 3 shards; the shards built as Ray tasks are the shards built
in this process; a shard actor killed while a request is in flight (a test hook makes it die by
SIGKILL at its N-th request, in the middle of the batch) is restarted by Ray and the request sent
again: the batch completes with the same results; a shard killed from outside between questions
comes back too; a shard that stays down (its restarted actor dies too) stops the batch with one
line naming it, and with --allow-partial the others answer, the question in flight asked again; a
shard that cannot be opened is named in the error, and --allow-partial answers from the others and
says which; QA_CLUSTER serves ask and eval, and chat answers as on one index; the semantic stage
(a stand-in encoder) reranks with the texts the actors send, as on one index.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from conftest import FIXTURES, run_subprocess
from qa.index import store

ray = pytest.importorskip("ray")

ADDRESS = os.environ.get("QA_TEST_CLUSTER")
pytestmark = [pytest.mark.cluster,
              pytest.mark.skipif(not ADDRESS, reason="needs a Ray cluster at $QA_TEST_CLUSTER "
                                                     "(bash .ci/cluster python -m pytest -m cluster)")]

PUBMEDQA = FIXTURES / "pubmedqa-1000.corpus.jsonl"
QUESTIONS = (FIXTURES / "pubmedqa-dev.queries.jsonl").read_text("utf-8").splitlines()[:100]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """The 100 questions, one index and 2- and 3-shard indexes (built in this process), and the
    one index's batch output: what the cluster must print."""
    root = tmp_path_factory.mktemp("cluster")
    (root / "questions.jsonl").write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    home = root / "home"
    for name, shards in (("one", []), ("shards-2", ["--shards", "2"]), ("shards-3", ["--shards", "3"])):
        r = qa(["index", *corpus(root, name), *shards], home)
        assert r.returncode == 0, r.stderr
    expected = qa(["batch", str(root / "questions.jsonl"), "-k", "10", *corpus(root, "one")], home)
    assert expected.returncode == 0 and expected.stdout.count(b"\n") == 100
    return root, home, expected.stdout


def corpus(root: Path, name: str) -> list[str]:
    return ["--corpus", str(PUBMEDQA), "--index", str(root / name), "--no-semantic"]


def qa(args: list[str], home: Path, env: dict | None = None):
    return run_subprocess(args, home, timeout=600, env=env)


@pytest.mark.parametrize("n", [2, 3])
def test_a_batch_on_the_cluster_prints_what_one_index_prints(work, n):
    root, home, expected = work
    r = qa(["batch", str(root / "questions.jsonl"), "-k", "10", *corpus(root, f"shards-{n}"), "--cluster", ADDRESS],
           home)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == expected
    assert r.stderr == b""  # nothing of Ray's reaches the user


def test_qa_cluster_in_the_environment_serves_ask_and_eval(work):
    root, home, expected = work
    first = json.loads(expected.splitlines()[0])
    r = qa(["ask", first["question"], "--json", "-k", "10", *corpus(root, "shards-3")], home, env={"QA_CLUSTER": ADDRESS})
    assert r.returncode == 0, r.stderr.decode()
    assert json.loads(r.stdout) == {**first, "id": "1"}
    qrels = root / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{json.loads(q)['_id']}\t{json.loads(q)['_id'][1:]}\t1\n" for q in QUESTIONS), encoding="utf-8")
    measures = [qa(["eval", str(root / "questions.jsonl"), str(qrels), "--json", *corpus(root, name)], home,
                   env={"QA_CLUSTER": ADDRESS} if name != "one" else None) for name in ("one", "shards-2")]
    assert measures[0].returncode == measures[1].returncode == 0, measures[1].stderr.decode()
    assert json.loads(measures[0].stdout) == json.loads(measures[1].stdout)


def test_the_shards_built_by_ray_tasks_are_those_built_here(work):
    root, home, _ = work
    r = qa(["index", *corpus(root, "built-on-cluster"), "--shards", "3", "--cluster", ADDRESS], home)
    assert r.returncode == 0, r.stderr.decode()
    assert "shards built by Ray tasks on the cluster" in r.stdout.decode()

    here = store.current_build(root / "shards-3")
    there = store.current_build(root / "built-on-cluster")
    assert store.read_manifest(there)["files"] == store.read_manifest(here)["files"]
    for i in range(3):
        a, b = (store.read_manifest(d / f"shard-{i}") for d in (here, there))
        assert a["files"] == b["files"]


def requests_per_question(root: Path, shard: int) -> list[int]:
    """How many requests each question sends shard `shard` (counted in this process: the same
    requests go to the cluster)."""
    from qa.index.open_index import load_build
    from qa.search.engine import Engine
    from qa.search.sharded import LocalShards

    counts = []

    class Counting(LocalShards):
        def scatter(self, requests):
            counts[-1] += shard in requests
            return super().scatter(requests)

    engine = Engine(load_build(store.current_build(root / "shards-3"), serve=Counting))
    for line in QUESTIONS:
        counts.append(0)
        engine.ask(json.loads(line)["text"], k=10)
    return counts


def test_a_shard_killed_while_a_request_is_in_flight_is_restarted_and_the_batch_completes(work):
    root, home, expected = work
    kill_at, _ = kill_in_the_middle(root, 1)  # the request shard 1 dies at, by the test hook
    r = qa(["batch", str(root / "questions.jsonl"), "-k", "10", *corpus(root, "shards-3"), "--cluster", ADDRESS],
           home, env={"QA_TEST_SHARD_KILL": f"1@{kill_at}"})
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == expected
    # the request that was in flight failed, and was sent again to the restarted actor
    assert r.stderr.decode().count("stopped (its process died); the request was sent again") == 1
    assert "shard 1 of 3" in r.stderr.decode()


def kill_in_the_middle(root: Path, shard: int) -> tuple[int, int]:
    """The request of `shard` at the middle of the batch, and the question (0-based) that sends it."""
    counts = requests_per_question(root, shard)
    kill_at = sum(counts) // 2
    during = next(i for i in range(len(counts)) if sum(counts[:i + 1]) >= kill_at)
    assert 10 <= during <= 90  # questions answered before it, and after it
    return kill_at, during


def test_a_shard_that_stays_down_fails_the_batch_with_one_line_naming_it(work):
    """Shard 1 dies mid-batch and its restarted actor dies at its first request too: the batch
    stops at that question with one error line naming the shard; what was printed before is the
    one index's output, nothing partial after it."""
    root, home, expected = work
    kill_at, during = kill_in_the_middle(root, 1)
    r = qa(["batch", str(root / "questions.jsonl"), "-k", "10", *corpus(root, "shards-3"), "--cluster", ADDRESS],
           home, env={"QA_TEST_SHARD_KILL": f"1@{kill_at}+"})
    assert r.returncode == 1
    where = store.current_build(root / "shards-3") / "shard-1"
    assert r.stderr.decode().splitlines() == [
        f"qa: shard 1 of 3 ({where}) stopped (its process died); the request was sent again",
        f"qa: error: shard 1 of 3 ({where}) is unavailable: its process died again after a restart "
        "(--allow-partial answers from the other shards)"]
    assert r.stdout.splitlines() == expected.splitlines()[:during]


def test_allow_partial_answers_from_the_shards_left_and_says_which(work):
    """The same, with --allow-partial: the question in flight is asked again of shards 0 and 2, every
    later one too; one line says which shards answer; no answer cites shard 1's documents."""
    root, home, expected = work
    kill_at, during = kill_in_the_middle(root, 1)
    r = qa(["batch", str(root / "questions.jsonl"), "-k", "10", *corpus(root, "shards-3"), "--cluster", ADDRESS,
            "--allow-partial"], home, env={"QA_TEST_SHARD_KILL": f"1@{kill_at}+"})
    assert r.returncode == 0, r.stderr.decode()
    build_dir = store.current_build(root / "shards-3")
    assert r.stderr.decode().splitlines()[1:] == [
        f"qa: shard 1 of 3 ({build_dir / 'shard-1'}) is unavailable (its process died again after a restart); "
        "answering from shards 0, 2 (--allow-partial)"]
    lines = r.stdout.splitlines()
    assert len(lines) == 100 and lines[:during] == expected.splitlines()[:during]
    entries = store.read_manifest(build_dir)["shards"]
    after = [json.loads(line) for line in lines[during:]]
    cited = [h["doc_id"] for result in after for h in result["hits"]]
    assert cited and not any(entries[1]["first_id"] <= d < entries[2]["first_id"] for d in cited)
    # questions whose best abstract is in another shard still find it
    assert sum(a["hits"][0] == json.loads(e)["hits"][0] for a, e in zip(after, expected.splitlines()[during:])) >= 20


def test_chat_on_the_cluster_answers_as_one_index(work):
    root, home, expected = work
    said = "".join(json.loads(line)["text"] + "\n" for line in QUESTIONS[:3]).encode() + b"quit\n"
    one = run_subprocess(["chat", *corpus(root, "one")], home, stdin=said, timeout=600)
    on_cluster = run_subprocess(["chat", *corpus(root, "shards-2"), "--cluster", ADDRESS], home, stdin=said, timeout=600)
    assert one.returncode == on_cluster.returncode == 0, on_cluster.stderr.decode()
    assert on_cluster.stdout == one.stdout and one.stdout.count(b"Sources") >= 3


@pytest.fixture
def on_cluster(work, monkeypatch):
    """An engine on the 3-shard index served by the cluster, driven from this process."""
    from qa.search.cluster import serving
    from qa.index.open_index import load_build
    from qa.search.engine import Engine

    root = work[0]
    made = []

    def engine(**env):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        index = load_build(store.current_build(root / "shards-3"), serve=serving(ADDRESS))
        made.append(index)
        return Engine(index)

    yield engine
    for index in made:
        index.close()


def test_the_kill_lands_while_questions_are_in_flight(work, on_cluster):
    """Driven from here, question by question: the in-flight request fails during a question in the
    middle of the batch, is sent again, and every answer is the one index's."""
    expected = [json.loads(line) for line in work[2].splitlines()]
    counts = requests_per_question(work[0], 2)
    kill_at = sum(counts[:40]) + 1  # shard 2's first request of question 40
    engine = on_cluster(QA_TEST_SHARD_KILL=f"2@{kill_at}")
    shards = engine.index.shards
    before = shards.pids()
    failed_during = None
    for i, line in enumerate(QUESTIONS):
        q = json.loads(line)
        result = engine.ask(q["text"], k=10, qid=str(i + 1))
        assert result == {**expected[i], "id": str(i + 1)}
        if shards.retries and failed_during is None:
            failed_during = i
    assert failed_during == 40 and shards.retries == 1
    after = shards.pids()
    assert after[2] != before[2] and after[:2] == before[:2]  # shard 2's actor is a new process


def test_a_shard_killed_from_outside_comes_back(work, on_cluster):
    expected = [json.loads(line) for line in work[2].splitlines()]
    engine = on_cluster()
    shards = engine.index.shards
    before = shards.pids()
    for i, line in enumerate(QUESTIONS[:60]):
        if i == 30:
            os.kill(before[0], signal.SIGKILL)  # the actor's process, on this machine's head node
        result = engine.ask(json.loads(line)["text"], k=10, qid=str(i + 1))
        assert result == {**expected[i], "id": str(i + 1)}
    assert shards.pids()[0] != before[0]


def test_a_shard_that_cannot_be_opened_is_named_and_partial_answers_say_which_answered(work):
    root, home, expected = work
    broken = root / "broken"
    shutil.copytree(root / "shards-3", broken, symlinks=True)

    build_dir = store.current_build(broken)
    shutil.rmtree(build_dir / "shard-1")
    first = json.loads(expected.splitlines()[0])
    r = qa(["ask", first["question"], "--json", *corpus(root, "broken"), "--cluster", ADDRESS], home)
    assert r.returncode == 1 and r.stdout == b""
    assert r.stderr.decode().strip() == (
        f"qa: error: shard 1 of 3 ({build_dir / 'shard-1'}) is unavailable: ValueError: {build_dir / 'shard-1'} "
        "is missing (--allow-partial answers from the other shards)")
    r = qa(["ask", first["question"], "--json", *corpus(root, "broken"), "--cluster", ADDRESS, "--allow-partial"],
           home)
    assert r.returncode == 0, r.stderr.decode()
    assert f"shard 1 of 3 ({build_dir / 'shard-1'}) is unavailable" in r.stderr.decode()
    assert "answering from shards 0, 2 (--allow-partial)" in r.stderr.decode()
    entries = store.read_manifest(build_dir)["shards"]
    hits = json.loads(r.stdout)["hits"]
    assert hits and all(not entries[1]["first_id"] <= h["doc_id"] < entries[2]["first_id"] for h in hits)


def test_the_semantic_stage_on_the_cluster_gives_the_one_index_s_results(work, on_cluster, monkeypatch):
    """The rerank by embeddings (a stand-in encoder: the stage's plumbing, not the model's minutes)
    reads the candidates' texts and hashes from the actors: every result is one index's."""
    from test_shards import StandIn

    from qa.index.open_index import load_build
    from qa.search import dense
    from qa.search.engine import Engine

    monkeypatch.setattr(dense, "loaded_encoder", lambda: StandIn())
    one_index = load_build(store.current_build(work[0] / "one"))
    one = Engine(one_index, semantic=dense.stage(one_index, embed_up_to=10 ** 6, warn=print))
    sharded = on_cluster()
    sharded.semantic = dense.stage(sharded.index, embed_up_to=10 ** 6, warn=print)
    assert one.semantic is not None and sharded.semantic is not None
    for i, line in enumerate(QUESTIONS[:30]):
        q = json.loads(line)
        a = one.ask(q["text"], k=10, qid=str(i), per_document=i % 2 == 1)
        assert a == sharded.ask(q["text"], k=10, qid=str(i), per_document=i % 2 == 1), q["_id"]
        assert a["hits"][0]["dense"] is not None  # the stage was on
