"""Sharded index benchmark: build, query and add with 1, 2 and 3 shards, in this process and on Ray.

Corpus: the synthetic passages of bench/scale.py (same cache, same recipe: 1-3 sentences of
PubMedQA's abstracts each), written once as a BEIR corpus.jsonl of untitled records (one passage per
document, ids p0000000...) in bench/.cache/cluster/corpus-<n>/; or, with --sizes pubmedqa, the
PubMedQA corpus itself (1,000 abstracts): with --queries 500, every dev question's output on 2 and 3
shards, in the process and on the cluster, compared with one index's (the full comparison; CI's
cluster tests ask 100). Questions: the 500 PubMedQA dev questions, repeated in order to --queries
(default 1,000).

Every figure but the inner loop is the wall time of a whole `qa` process, as users run it
(`python cli.py ...`, --no-semantic, an index directory of its own per configuration):

    build     qa index --rebuild --shards N [--cluster ADDRESS]   (reading the corpus included)
    batch     qa batch QUESTIONS -k 10 -o OUT [--cluster ADDRESS]  (start, load, actors, all questions);
              runs of the configurations interleaved (--rounds, rotating order), median; the output of
              every configuration must equal one index's byte for byte
    add       one PubMedQA abstract (its id sorts after every synthetic id: the last shard) added to
              the corpus folder, then qa index [--cluster]: the update of a hard-linked copy of the index
    peak MB   ru_maxrss of the qa process (os.wait4, from bench/cli.py's launcher); on the cluster the
              shards' tasks and actors run in Ray's worker processes, not counted there

Inner loop (labelled so): in one process, Engine.ask(question, k=10) timed per question after 20
warm-up questions, on one index, on the shards served in the process, and on the cluster's actors;
the scatter-gather overhead per question is the difference of the medians, and the requests
(round trips, each to one or more shards at once) per question are counted.

The Ray rows need a cluster: run the script beside one, e.g. the two-node cluster on 127.0.0.1
that .ci/cluster starts in a network namespace of its own (head: shard 0; worker: shards 1, 2):

    bash .ci/cluster python bench/cluster.py --sizes 100k
    bash .ci/cluster python bench/cluster.py --sizes 1M --rounds 1
    bash .ci/cluster python bench/cluster.py --sizes pubmedqa --queries 500 --rounds 1

or --cluster HOST:PORT (default: $QA_TEST_CLUSTER, which .ci/cluster sets). Without one, the
in-process rows alone. The report (markdown) goes to stdout, progress to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402  (bench/scale.py: the synthetic corpus, sizes, logging)
from cli import timed as timed_process  # noqa: E402  (bench/cli.py: a whole process, from a small launcher)

ROOT = scale.ROOT
CLI = [sys.executable, str(ROOT / "cli.py")]
WARM_UP = 20


def corpus_folder(n: int, data: Path, cache: Path) -> Path:
    """The n-passage corpus as a BEIR corpus.jsonl (untitled records: one passage each)."""
    folder = cache / "cluster" / f"corpus-{n}-{scale.corpus_key(data)}"
    path = folder / "passages.jsonl"
    if not path.exists():
        scale.log(f"writing the {scale.size_label(n)}-passage corpus -> {path}")
        texts = scale.corpus_texts(n, data, cache)
        width = max(7, len(str(n - 1)))
        folder.mkdir(parents=True, exist_ok=True)

        def write(p: Path) -> None:
            with open(p, "w", encoding="utf-8") as f:
                for i, t in enumerate(texts):
                    f.write(json.dumps({"_id": f"p{i:0{width}d}", "title": "", "text": t}) + "\n")

        scale._write_atomically(path, write)
    return folder


def run(args: list[str], env: dict | None = None) -> dict:
    """A qa process: its wall time and peak memory. bench/cli.py's launcher starts it, so that the
    peak is the process's own, not the memory of this bench (which holds the corpus) it was
    forked from."""
    r = timed_process(CLI + args, {**os.environ, **(env or {})})
    return {"wall_s": r["wall"], "peak_mb": r["rss_mb"]}


class Config:
    """One way of serving: one index, N shards in the process, N shards on the cluster."""

    def __init__(self, shards: int, cluster: str | None):
        self.shards, self.cluster = shards, cluster

    @property
    def label(self) -> str:
        if self.shards == 1:
            return "one index"
        return f"{self.shards} shards, " + ("Ray cluster" if self.cluster else "in process")

    def options(self, corpus: Path, index: Path) -> list[str]:
        return ["--corpus", str(corpus), "--index", str(index), "--no-semantic"] + \
            (["--cluster", self.cluster] if self.cluster else [])

    def index_dir(self, work: Path) -> Path:
        return work / f"index-{self.shards}{'-ray' if self.cluster else ''}"


# ---------------------------------------------------------------- the inner loop (a worker process)

def worker_inner(corpus: str, index: str, questions: str, cluster: str | None, out: str) -> int:
    sys.path.insert(0, str(ROOT))
    from qa.index import store
    from qa.index.open_index import load_build
    from qa.search.engine import Engine

    started = time.perf_counter()
    serve = None
    if cluster:
        from qa.search.cluster import serving

        serve = serving(cluster)
    index_obj = load_build(store.current_build(Path(index)), serve=serve)
    requests = {"calls": 0, "shard_requests": 0}
    shards = getattr(index_obj, "shards", None)
    if shards is not None:
        scatter = shards.scatter

        def counted(batch):
            requests["calls"] += 1
            requests["shard_requests"] += len(batch)
            return scatter(batch)

        shards.scatter = counted
    engine = Engine(index_obj)
    texts = [json.loads(line)["question"] for line in Path(questions).read_text("utf-8").splitlines()]
    first = time.perf_counter()
    engine.ask(texts[0], k=10)  # the actors' first answer: they load their shard
    ready = time.perf_counter()
    for t in texts[1:WARM_UP]:
        engine.ask(t, k=10)
    requests = {"calls": 0, "shard_requests": 0}
    times = []
    for t in texts[WARM_UP:]:
        a = time.perf_counter()
        engine.ask(t, k=10)
        times.append(time.perf_counter() - a)
    n = len(times)
    Path(out).write_text(json.dumps({
        "open_s": first - started, "first_answer_s": ready - first, "questions": n,
        "p50_ms": 1000 * statistics.median(times), "mean_ms": 1000 * sum(times) / n,
        "p95_ms": 1000 * sorted(times)[int(0.95 * (n - 1))],
        "calls_per_question": requests["calls"] / n, "shard_requests_per_question": requests["shard_requests"] / n}))
    if shards is not None:
        index_obj.close()
    return 0


def inner(config: Config, corpus: Path, work: Path, questions: Path) -> dict:
    out = work / f"inner-{config.shards}{'-ray' if config.cluster else ''}.json"
    args = [sys.executable, __file__, "--worker", str(corpus), str(config.index_dir(work)), str(questions),
            config.cluster or "-", str(out)]
    subprocess.run(args, check=True, cwd=ROOT)
    return json.loads(out.read_text())


# ---------------------------------------------------------------- one size

def abstract_file(data: Path, folder: Path) -> Path:
    """One PubMedQA abstract, as a file the corpus folder gains (its id, a PMID, sorts after 'p…')."""
    line = (data / "corpus.jsonl").read_text("utf-8").splitlines()[0]
    record = json.loads(line)
    record["_id"] = "q" + record["_id"]  # after every synthetic id: PubMed's newest go last
    path = folder / "added.jsonl"
    path.write_text(json.dumps(record) + "\n", "utf-8")
    return path


def pubmedqa_folder(data: Path, cache: Path) -> Path:
    """The PubMedQA corpus itself (1,000 abstracts), copied into a folder of its own (the add step
    writes a file beside it)."""
    folder = cache / "cluster" / "corpus-pubmedqa"
    path = folder / "pubmedqa.jsonl"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(data / "corpus.jsonl", path)
    return folder


def measure(label: str, corpus: Path, configs: list[Config], args, data: Path, cache: Path) -> dict:
    work = cache / "cluster" / f"work-{label}"
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    env = {"QA_HOME": str(home)}
    questions = work / "questions.jsonl"
    dev = scale.read_questions(data)
    questions.write_text("".join(json.dumps({"id": str(i + 1), "question": q}) + "\n"
                                 for i, q in enumerate(scale.repeated(dev, args.queries))), "utf-8")
    out: dict = {"corpus": str(corpus), "configs": {}}
    for c in configs:
        scale.log(f"{label}: build, {c.label}")
        r = run(["index", "--rebuild", "--shards", str(c.shards), *c.options(corpus, c.index_dir(work))], env)
        out["configs"][c.label] = {"build_s": r["wall_s"], "build_peak_mb": r["peak_mb"], "batch_s": []}
    expected = None
    for k in range(args.rounds):
        order = configs[k % len(configs):] + configs[:k % len(configs)]
        for c in order:
            scale.log(f"{label}: batch of {args.queries}, {c.label} (round {k + 1})")
            target = work / f"batch-{c.shards}{'-ray' if c.cluster else ''}.jsonl"
            r = run(["batch", str(questions), "-k", "10", "-o", str(target), *c.options(corpus, c.index_dir(work))], env)
            out["configs"][c.label]["batch_s"].append(r["wall_s"])
            out["configs"][c.label]["batch_peak_mb"] = r["peak_mb"]
            if c.shards == 1:
                expected = target.read_bytes()
    for c in configs:
        target = work / f"batch-{c.shards}{'-ray' if c.cluster else ''}.jsonl"
        out["configs"][c.label]["same_output"] = target.read_bytes() == expected
    for c in configs:
        scale.log(f"{label}: inner loop, {c.label}")
        out["configs"][c.label]["inner"] = inner(c, corpus, work, questions)
    for c in configs:
        if c.shards == 2:
            continue
        scale.log(f"{label}: add one abstract, {c.label}")
        copy = work / "add-copy"
        shutil.rmtree(copy, ignore_errors=True)
        subprocess.run(["cp", "-al", str(c.index_dir(work)), str(copy)], check=True)
        added = abstract_file(data, corpus)
        try:
            r = run(["index", *c.options(corpus, copy)], env)
            out["configs"][c.label]["add_s"] = r["wall_s"]
            out["configs"][c.label]["add_peak_mb"] = r["peak_mb"]
        finally:
            added.unlink()
            shutil.rmtree(copy, ignore_errors=True)
    return out


# ---------------------------------------------------------------- report

def table(result: dict) -> str:
    configs = result["configs"]
    one = configs["one index"]
    one_batch = statistics.median(one["batch_s"])
    one_inner = one["inner"]["p50_ms"]
    rows = ["| configuration | build s | build peak MB | batch s (median) | batch / one index | batch peak MB | "
            "same output | add s | inner p50 ms | inner p95 ms | overhead p50 ms | requests per question |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, c in configs.items():
        batch = statistics.median(c["batch_s"])
        i = c["inner"]
        requests = f"{i['calls_per_question']:.1f} ({i['shard_requests_per_question']:.1f} shard requests)" \
            if i["calls_per_question"] else "—"
        add = f"{c['add_s']:.2f}" if "add_s" in c else "—"
        rows.append(f"| {label} | {c['build_s']:.1f} | {c['build_peak_mb']:,.0f} | {batch:.2f} | "
                    f"{batch / one_batch:.2f} | {c['batch_peak_mb']:,.0f} | {'yes' if c['same_output'] else 'NO'} | "
                    f"{add} | {i['p50_ms']:.2f} | {i['p95_ms']:.2f} | {i['p50_ms'] - one_inner:+.2f} | {requests} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        corpus, index, questions, cluster, out = argv[1:6]
        return worker_inner(corpus, index, questions, None if cluster == "-" else cluster, out)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100k", help="passage counts, e.g. 100k,1M, or pubmedqa: the PubMedQA corpus "
                   "itself (default: %(default)s)")
    p.add_argument("--shards", default="2,3", help="shard counts besides one index (default: %(default)s)")
    p.add_argument("--queries", type=int, default=1000, help="questions per batch (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved batch runs per configuration (default: %(default)s)")
    p.add_argument("--cluster", default=os.environ.get("QA_TEST_CLUSTER"),
                   help="a Ray cluster's HOST:PORT for the Ray rows (default: $QA_TEST_CLUSTER)")
    p.add_argument("--data", default=str(scale.DEFAULT_DATA), help="PubMedQA in BEIR layout (default: %(default)s)")
    p.add_argument("--cache", default=str(scale.DEFAULT_CACHE), help="corpora and indexes (default: %(default)s)")
    args = p.parse_args(argv)
    data, cache = Path(args.data), Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / ".gitignore").exists():
        (cache / ".gitignore").write_text("*\n", "utf-8")
    shard_counts = [int(s) for s in args.shards.split(",") if s.strip()]
    configs = [Config(1, None)] + [Config(n, None) for n in shard_counts]
    if args.cluster:
        configs += [Config(n, args.cluster) for n in shard_counts]
    command = "python bench/cluster.py" + ("" if not argv else " " + shlex.join(argv))
    print("# Sharded index benchmark\n")
    print("\n".join(line + "  " for line in scale.environment(command)))
    print(f"Ray: {'cluster at ' + args.cluster if args.cluster else 'no cluster given (in-process rows only)'}; "
          f"{args.queries} questions a batch, {args.rounds} interleaved rounds.\n", flush=True)
    results = {"command": command, "sizes": {}}
    for size in (s.strip() for s in args.sizes.split(",") if s.strip()):
        if size == "pubmedqa":  # every dev question on the corpus they were asked of
            label, corpus, title = size, pubmedqa_folder(data, cache), "PubMedQA corpus (1,000 abstracts)"
        else:
            n = scale.parse_size(size)
            label, corpus = scale.size_label(n), corpus_folder(n, data, cache)
            title = f"{label} passages"
        result = measure(label, corpus, configs, args, data, cache)
        results["sizes"][label] = result
        print(f"## {title}\n\n{table(result)}\n", flush=True)
    (cache / "cluster" / "last-run.json").write_text(json.dumps(results, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
