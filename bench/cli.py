"""The commands users run, timed as whole processes side by side with bm25s and tantivy-py.

Each figure is the wall time of a fresh process as its parent sees it (interpreter start,
imports, index load, the questions, writing the output, exit), measured in rounds: every round
runs each command once, in an order rotated from round to round (A B C, B C A, ...), so that
commands compared are always measured close together in time. A ratio is the median over rounds
of the ratio within each round (paired); page faults (minor) and peak RSS come from the kernel's
accounting of each child (os.wait4). The machine is shared: medians of paired ratios are what to
read, single timings are noisy.

    python bench/cli.py                     # 10k and 100k passages, 5 rounds (about 12 min
                                            # the first time: builds, and 10k passages embedded)
    python bench/cli.py --sizes 1M          # opt-in: about 1 GB of corpus and indexes, 10+ min
    python bench/cli.py --venv /path/venv   # time another installation of qa (e.g. `pip install .`)

Jobs, each over the same synthetic corpus (bench/scale.py's passages of 1-3 PubMedQA sentences,
written as a BEIR corpus.jsonl of one passage a document) and the same 1,000 questions (the 500
PubMedQA dev questions twice), indexes built beforehand (not timed):
    qa trec     qa batch Q --corpus C --format trec -k 10 -o run.trec --no-semantic
    qa jsonl    qa batch Q --corpus C --format jsonl -k 10 -o out.jsonl --no-semantic   (answers too)
    bm25s       a script: bm25s.BM25.load(mmap=True), bm25s.tokenize (English stop words, Snowball
                stemmer: PyStemmer), retrieve(k=10), the same TREC lines written
    tantivy     a script: tantivy-py index (simple tokenizer, lower case, English stop words,
                Snowball English), opened, each question analysed and searched as a disjunction
                of its terms (BM25), top 10, the same TREC lines written
At 10k passages also the semantic stage: qa jsonl with it (the passages embedded beforehand) paired
with qa jsonl without it; the difference over 1,000 questions is its cost per question.
Cold start: `qa ask "Is rituximab an option?"` on the bundled record (its index built, with and
without the semantic stage) paired with `python -c "import numpy"`, 20 rounds.

Progress goes to stderr, the report (markdown) to stdout; results also in bench/.cache/cli/last-run.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pubmedqa"
DEFAULT_CACHE = ROOT / "bench" / ".cache"
QUESTIONS = 1000
TOP_K = 10
ASK = "Is rituximab an option?"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the peers (run as their own processes)

def bm25s_build(corpus: Path, directory: Path) -> None:
    import bm25s
    import Stemmer

    ids, texts = [], []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            ids.append(doc["_id"])
            texts.append(doc["text"])
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)
    retriever = bm25s.BM25(method="lucene")
    retriever.index(tokens, show_progress=False)
    retriever.save(str(directory))
    (directory / "ids.json").write_text(json.dumps(ids), "utf-8")


def bm25s_search(directory: Path, questions: Path, out: Path) -> None:
    import bm25s
    import Stemmer

    retriever = bm25s.BM25.load(str(directory), mmap=True)
    ids = json.loads((directory / "ids.json").read_text("utf-8"))
    qs = [json.loads(line) for line in open(questions, encoding="utf-8") if line.strip()]
    tokens = bm25s.tokenize([q["question"] for q in qs], stopwords="en", stemmer=Stemmer.Stemmer("english"),
                            show_progress=False)
    found, scores = retriever.retrieve(tokens, k=TOP_K, show_progress=False, n_threads=1)
    with open(out, "w", encoding="utf-8") as f:
        for q, docs, values in zip(qs, found.tolist(), scores.tolist()):
            for rank, (d, s) in enumerate(zip(docs, values), 1):
                if s > 0:
                    f.write(f"{q['id']} Q0 {ids[d]} {rank} {s!r} bm25s\n")


def _tantivy_analyzer():
    import tantivy

    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stopword("english"))
            .filter(tantivy.Filter.stemmer("english")).build())


def _tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("text", stored=False, tokenizer_name="en_bench", index_option="freq")
    return builder.build()


def tantivy_build(corpus: Path, directory: Path) -> None:
    import tantivy

    directory.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_tantivy_schema(), path=str(directory))
    index.register_tokenizer("en_bench", _tantivy_analyzer())
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            writer.add_document(tantivy.Document(id=doc["_id"], text=doc["text"]))
    writer.commit()
    writer.wait_merging_threads()


def tantivy_search(directory: Path, questions: Path, out: Path) -> None:
    import tantivy

    index = tantivy.Index.open(str(directory))
    analyzer = _tantivy_analyzer()
    index.register_tokenizer("en_bench", analyzer)
    schema = index.schema
    searcher = index.searcher()
    with open(out, "w", encoding="utf-8") as f:
        for line in open(questions, encoding="utf-8"):
            if not line.strip():
                continue
            q = json.loads(line)
            terms = list(dict.fromkeys(analyzer.analyze(q["question"])))
            if not terms:
                continue
            query = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, "text", t))
                                                 for t in terms])
            for rank, (score, address) in enumerate(searcher.search(query, TOP_K).hits, 1):
                f.write(f"{q['id']} Q0 {searcher.doc(address)['id'][0]} {rank} {score!r} tantivy\n")


def stages(corpus: Path, questions: Path, home: Path) -> dict[str, float]:
    """Where a TREC run's time goes, in this process (an inner-loop breakdown, labelled as such):
    milliseconds a question in each stage, the functions timed by wrapping them."""
    os.environ["QA_HOME"] = str(home)
    from qa.index.layout import Settings
    from qa.index.open_index import open_index
    from qa.search import documents, engine as engine_module, rank
    from qa.search.engine import Engine

    index, _ = open_index([str(corpus)], Settings(), warn=lambda m: None)
    engine = Engine(index)
    spent: dict[str, float] = {}

    def timed_function(owner, name: str, label: str):
        inner = getattr(owner, name)

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
        setattr(owner, name, wrapper)

    timed_function(rank, "bm25_scores", "BM25 over the postings (numpy)")
    timed_function(documents, "scores", "whole-document BM25 of the candidates")
    timed_function(index, "cosine", "TF-IDF cosine of the candidates that may still rank")
    timed_function(engine, "expand", "abbreviations, spacing, journal names")
    timed_function(engine_module.coverage, "key_terms", "key terms (facets)")
    qs = [json.loads(line)["question"] for line in open(questions, encoding="utf-8") if line.strip()]
    for q in qs[:50]:  # warm: first look-ups of terms and tables
        engine.rank_documents(q, k=TOP_K)
    spent.clear()
    started = time.perf_counter()
    for q in qs:
        engine.rank_documents(q, k=TOP_K)
    total = time.perf_counter() - started
    out = {label: seconds / len(qs) * 1000 for label, seconds in spent.items()}
    out["everything else (analysis, spelling, fusion, sorting, Python)"] = (total - sum(spent.values())) / len(qs) * 1000
    out["total"] = total / len(qs) * 1000
    out["MaxScore: share of the postings it would read"] = maxscore_share(index, qs)
    return out


def maxscore_share(index, questions: list[str], candidates: int = 100) -> float:
    """The share of the query terms' postings that MaxScore pruning (Turtle & Flood 1995) would
    still read for the top `candidates`: with the final threshold known from the start (its best
    case), a term whose maximum contribution, added to those of the terms rarer in impact, stays
    below the threshold is only probed for candidates, never read through."""
    import numpy as np

    from qa.search import rank
    from qa.text.analyze import analyze

    read = total = 0
    postings = index.postings
    for q in questions:
        ids, weights = rank.query_terms(index, analyze(q))
        if not len(ids):
            continue
        _, scores = rank.bm25_scores(index, ids, weights)
        threshold = np.sort(scores)[-candidates] if len(scores) >= candidates else 0.0
        starts, ends = postings.indptr[ids], postings.indptr[ids + 1]
        best = np.asarray([float(np.max(postings.impacts[a:b])) if b > a else 0.0
                           for a, b in zip(starts.tolist(), ends.tolist())]) * weights
        order = np.argsort(best)
        prefix = np.cumsum(best[order])
        skipped = order[prefix < threshold]  # together they cannot reach the threshold
        sizes = (ends - starts).astype(np.int64)
        total += int(sizes.sum())
        read += int(sizes.sum() - sizes[skipped].sum())
    return read / max(total, 1)


PEERS = {("bm25s", "build"): bm25s_build, ("bm25s", "search"): bm25s_search,
         ("tantivy", "build"): tantivy_build, ("tantivy", "search"): tantivy_search}


# ---------------------------------------------------------------- corpora and indexes

def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n % 1000 == 0 else str(n))


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def prepare_corpus(n: int, data: Path, cache: Path) -> Path:
    """A BEIR corpus.jsonl of bench/scale.py's first n synthetic passages, one a document."""
    path = cache / "cli" / f"synth-{size_label(n)}" / "corpus.jsonl"
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT / "bench"))
    import scale

    log(f"writing the {size_label(n)}-passage corpus -> {path}")
    texts = scale.corpus_texts(n, data, cache)
    width = len(str(n - 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"_id": f"p{i:0{width}d}", "title": "", "text": text}) + "\n")
    os.replace(tmp, path)
    return path


def prepare_questions(data: Path, cache: Path) -> Path:
    path = cache / "cli" / "questions.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(data / "queries-dev.jsonl", encoding="utf-8") as f:
            dev = [json.loads(line)["text"] for line in f if line.strip()]
        with open(path, "w", encoding="utf-8") as f:
            for i in range(QUESTIONS):
                f.write(json.dumps({"id": str(i), "question": dev[i % len(dev)]}) + "\n")
    return path


# ---------------------------------------------------------------- timing

def timed(argv: list[str], env: dict | None = None) -> dict:
    """Run a command to its end: wall seconds, minor page faults, peak RSS (MB) of that child.

    The command is started by a small launcher process, not by this one: Linux counts in a
    child's peak RSS the memory of the process it was forked from (exec keeps the old image's
    high-water mark), and this bench grows to hold corpora and results."""
    launcher = _launcher()
    launcher.stdin.write(json.dumps({"argv": argv, "env": env}) + "\n")
    launcher.stdin.flush()
    result = json.loads(launcher.stdout.readline())
    if result["returncode"] != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({result['returncode']}): {result['stderr'][-500:]}")
    return {"wall": result["wall"], "faults": result["faults"], "rss_mb": result["rss_kb"] / 1024}


LAUNCHER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    started = time.perf_counter()
    proc = subprocess.Popen(job["argv"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=job["env"])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode("utf-8", "replace").strip()
    proc.stderr.close()
    print(json.dumps({"wall": wall, "faults": usage.ru_minflt, "rss_kb": usage.ru_maxrss,
                      "returncode": os.waitstatus_to_exitcode(status), "stderr": stderr}), flush=True)
"""
_LAUNCHED: list = []


def _launcher() -> subprocess.Popen:
    """The launcher, started once (a bare interpreter: about 10 MB)."""
    if not _LAUNCHED:
        _LAUNCHED.append(subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True))
    return _LAUNCHED[0]


def rounds(jobs: dict[str, tuple[list[str], dict]], n_rounds: int) -> dict[str, list[dict]]:
    """Each job once a round, the order rotated every round."""
    names = list(jobs)
    out: dict[str, list[dict]] = {name: [] for name in names}
    for r in range(n_rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            argv, env = jobs[name]
            out[name].append(timed(argv, env))
        log(f"round {r + 1}/{n_rounds}: " + ", ".join(f"{n} {out[n][-1]['wall']:.2f} s" for n in names))
    return out


def paired(times: dict[str, list[dict]], a: str, b: str) -> float:
    return statistics.median(x["wall"] / y["wall"] for x, y in zip(times[a], times[b]))


def median(times: dict[str, list[dict]], name: str, key: str = "wall") -> float:
    return statistics.median(x[key] for x in times[name])


# ---------------------------------------------------------------- the parent

class Bench:
    def __init__(self, args):
        self.args = args
        self.data, self.cache = Path(args.data), Path(args.cache)
        venv = Path(args.venv) if args.venv else Path(sys.executable).parent.parent
        self.python = str(venv / "bin" / "python")
        self.qa = [str(venv / "bin" / "qa")]
        self.home = self.cache / "cli" / "qa-home"
        self.env = dict(os.environ, QA_HOME=str(self.home), NO_COLOR="1")
        # as users run it: Python keeps the bytecode it compiles (with this set, every module changed
        # since its last .pyc is compiled again at each start of an editable install)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.bench_python = sys.executable  # the peers run in this environment (bm25s, tantivy)
        self.out = self.cache / "cli" / "out"
        self.out.mkdir(parents=True, exist_ok=True)

    def peer(self, name: str, action: str, *paths) -> list[str]:
        return [self.bench_python, str(Path(__file__).resolve()), "--peer", name, action, *map(str, paths)]

    def build(self, n: int, corpus: Path, semantic: bool) -> None:
        where = corpus.parent
        for name in ("bm25s", "tantivy"):
            directory = where / name
            if not (directory / ".done").exists():
                log(f"building the {name} index of {size_label(n)} passages")
                subprocess.run(self.peer(name, "build", corpus, directory), check=True)
                (directory / ".done").touch()
        command = [*self.qa, "index", "--corpus", str(corpus)] + ([] if semantic else ["--no-semantic"])
        log(f"qa index of {size_label(n)} passages{' (embedding them: minutes)' if semantic else ''}")
        subprocess.run(command, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def batch_jobs(self, corpus: Path, questions: Path, n: int) -> dict:
        label = size_label(n)
        qa = [*self.qa, "batch", str(questions), "--corpus", str(corpus), "-k", str(TOP_K), "--no-semantic"]
        where = corpus.parent
        return {"qa trec": (qa + ["--format", "trec", "-o", str(self.out / f"qa-{label}.trec")], self.env),
                "qa jsonl": (qa + ["--format", "jsonl", "-o", str(self.out / f"qa-{label}.jsonl")], self.env),
                "bm25s": (self.peer("bm25s", "search", where / "bm25s", questions, self.out / f"bm25s-{label}.trec"),
                          None),
                "tantivy": (self.peer("tantivy", "search", where / "tantivy", questions,
                                      self.out / f"tantivy-{label}.trec"), None)}

    def semantic_jobs(self, corpus: Path, questions: Path, n: int) -> dict:
        qa = [*self.qa, "batch", str(questions), "--corpus", str(corpus), "-k", str(TOP_K), "--format", "jsonl"]
        label = size_label(n)
        return {"qa jsonl semantic": (qa + ["-o", str(self.out / f"qa-{label}-semantic.jsonl")], self.env),
                "qa jsonl lexical": (qa + ["--no-semantic", "-o", str(self.out / f"qa-{label}-lexical.jsonl")],
                                     self.env)}

    def ask_jobs(self) -> dict:
        env = dict(self.env, QA_HOME=str(self.cache / "cli" / "ask-home"))
        ask = [*self.qa, "ask", ASK]
        for argv in (ask, ask + ["--no-semantic"]):  # the seed's index and vectors, built before timing
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return {"qa ask": (ask + ["--no-semantic"], env), "qa ask semantic": (ask, env),
                "import numpy": ([self.python, "-c", "import numpy"], env)}


def table(rows: list[list[str]], columns: list[str]) -> str:
    return "\n".join(["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
                     + ["| " + " | ".join(r) + " |" for r in rows])


def describe(times: dict[str, list[dict]]) -> str:
    return table([[name, f"{median(times, name):.3f}", f"{min(x['wall'] for x in runs):.3f}",
                   f"{median(times, name, 'faults'):,.0f}", f"{max(x['rss_mb'] for x in runs):.0f}"]
                  for name, runs in times.items()],
                 ["command", "median s", "best s", "minor page faults (median)", "peak RSS MB"])


def environment(command: str, qa: list[str]) -> str:
    import platform
    from importlib.metadata import version

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "qa"], cwd=ROOT, capture_output=True, text=True).stdout
    versions = []
    for dist in ("numpy", "bm25s", "tantivy", "PyStemmer"):
        try:
            versions.append(f"{dist} {version(dist)}")
        except Exception:  # noqa: BLE001
            versions.append(f"{dist} not installed")
    return (f"Command: `{command}`  \nqa: `{' '.join(qa)}` at {head.strip()}{' + changes in qa/' if dirty else ''}; "
            f"{', '.join(versions)}  \nMachine: {os.cpu_count()} cores, {platform.platform()}, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start\n")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10k,100k", help="passages (default: %(default)s; 1M is opt-in)")
    p.add_argument("--rounds", type=int, default=5, help="rounds of the batch jobs (default: %(default)s)")
    p.add_argument("--ask-rounds", type=int, default=20, help="rounds of the cold-start jobs (default: %(default)s)")
    p.add_argument("--no-semantic", action="store_true", help="leave out the semantic stage's cost at 10k")
    p.add_argument("--no-ask", action="store_true", help="leave out the cold start of qa ask")
    p.add_argument("--only-ask", action="store_true", help="only the cold start of qa ask")
    p.add_argument("--venv", help="time the qa of this virtual environment (its bin/qa and bin/python)")
    p.add_argument("--data", default=str(DEFAULT_DATA))
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    p.add_argument("--stages", metavar="SIZE", help="only: where a TREC run's time goes at SIZE passages, in-process")
    p.add_argument("--peer", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.stages:
        n = parse_size(args.stages)
        corpus = prepare_corpus(n, Path(args.data), Path(args.cache))
        breakdown = stages(corpus, prepare_questions(Path(args.data), Path(args.cache)),
                           Path(args.cache) / "cli" / "qa-home")
        print(f"In-process breakdown of `qa batch --format trec` at {size_label(n)} passages (an inner loop, "
              f"not the whole process), ms a question, {QUESTIONS:,} questions:\n")
        share = breakdown.pop("MaxScore: share of the postings it would read")
        total = breakdown["total"]
        print(table([[label, f"{ms:.3f}", f"{ms / total:.0%}"] for label, ms in breakdown.items()],
                    ["stage", "ms a question", "share"]))
        print(f"\nMaxScore pruning for the top 100 (its best case: the final threshold known from the start) "
              f"would read {share:.0%} of the query terms' postings.")
        return 0
    if args.peer:
        name, action, *paths = args.peer
        PEERS[(name, action)](*map(Path, paths))
        return 0
    bench = Bench(args)
    command = "python bench/cli.py" + ("" if not argv else " " + shlex.join(argv))
    print("# qa as users run it: whole processes, side by side\n")
    print(environment(command, bench.qa))
    results: dict = {"command": command}
    data, cache = bench.data, bench.cache
    questions = prepare_questions(data, cache)
    sizes = [] if args.only_ask else [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    for n in sizes:
        label = size_label(n)
        corpus = prepare_corpus(n, data, cache)
        semantic = n == 10_000 and not args.no_semantic
        bench.build(n, corpus, semantic)
        log(f"== {label} passages: {args.rounds} rounds")
        times = rounds(bench.batch_jobs(corpus, questions, n), args.rounds)
        results[label] = times
        print(f"## {QUESTIONS:,} questions over {label} passages, index built\n")
        print(describe(times))
        print()
        pairs = [("qa trec", "bm25s"), ("qa trec", "tantivy"), ("qa jsonl", "bm25s"), ("tantivy", "bm25s")]
        print(table([[f"{a} ÷ {b}", f"{paired(times, a, b):.2f}",
                      f"{median(times, a, 'faults') / max(1, median(times, b, 'faults')):.1f}"] for a, b in pairs],
                    ["ratio (median of paired rounds)", "wall time", "page faults"]))
        print(flush=True)
        if semantic:
            log(f"== semantic stage at {label}: {args.rounds} rounds")
            sem = rounds(bench.semantic_jobs(corpus, questions, n), args.rounds)
            results[f"{label} semantic"] = sem
            added = statistics.median((x["wall"] - y["wall"]) / QUESTIONS * 1000
                                      for x, y in zip(sem["qa jsonl semantic"], sem["qa jsonl lexical"]))
            print(f"### The semantic stage at {label} passages (vectors built)\n")
            print(describe(sem))
            print(f"\nAdded per question (median over rounds of the paired difference ÷ {QUESTIONS:,}): "
                  f"**{added:.1f} ms**\n", flush=True)
            results[f"{label} semantic ms"] = added
    if not args.no_ask:
        log(f"== qa ask, cold: {args.ask_rounds} rounds")
        times = rounds(bench.ask_jobs(), args.ask_rounds)
        results["ask"] = times
        print(f"## `qa ask \"{ASK}\"` cold, the bundled record (index built)\n")
        print(describe(times))
        print()
        print(table([[f"{a} ÷ import numpy", f"{paired(times, a, 'import numpy'):.2f}"]
                     for a in ("qa ask", "qa ask semantic")], ["ratio (median of paired rounds)", "wall time"]))
        print(flush=True)
    (cache / "cli" / "last-run.json").write_text(json.dumps(results, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
