"""Scale benchmark: qa's index and query path against bm25s and rank-bm25 at 10k, 100k and 1M passages.

Corpus: synthetic, deterministic, built from the sentences of PubMedQA's 1,000 abstracts
(../shared/data/pubmedqa/corpus.jsonl; Jin et al., EMNLP 2019, MIT licence). The title and text of
each abstract are split with qa.text.sentences.split_sentences, whitespace-normalised and de-duplicated
(11,445 distinct sentences); each passage is 1-3 distinct sentences drawn by a seeded generator
(numpy default_rng(SEED), fixed batches, so the corpus of n passages is the first n of one stream)
and no passage occurs twice. A passage already drawn is redrawn whole, so single-sentence
passages (at most one per distinct sentence) thin out at 1M and the mean length rises a little.
Sentences and passage recipes are cached in bench/.cache/ (git-ignored; --cache DIR elsewhere),
keyed by the SHA-1 of corpus.jsonl, the seed and the recipe version; indexes are rebuilt on every
run under bench/.cache/indexes/<system>-<n>/.

Systems:
    qa BM25          qa.index.build.build(..., whole_documents=True), saved with qa.index.store.save, opened with
                     qa.index.store.load (memory-mapped .npy); qa.search.rank.rank(index, q, weight=0.0, document_weight=0.0)
    qa BM25+TF-IDF   the same index; qa.search.rank.rank(index, q) (BM25 candidates, TF-IDF fusion), top 10
    bm25s            BM25(method="lucene"), bm25s.tokenize(stopwords="en", PyStemmer English stemmer),
                     saved with .save, loaded with BM25.load (default: read into memory, no mmap);
                     queries tokenised the same way, the Tokenized object passed to retrieve(k=10)
    rank-bm25        BM25Okapi over lower-cased whitespace tokens (as bench/pubmedqa.py), pickled to
                     disk and unpickled; top 10 by argpartition of get_scores. Above 100k passages only
                     20 questions are timed and its rates are estimates (marked so).

Measurements, each system in its own subprocesses (`--worker build|query|check`):
    build s        analysis + index construction in memory (texts already in memory)
    save s         writing the index to disk
    peak build MB  ru_maxrss of the build process at its end (includes the corpus texts and saving)
    disk MB        bytes of the saved index directory
    load s         opening the saved index in a fresh process
    RSS MB         /proc/self/statm resident size after load, and after the timed questions
                   (for qa this counts the pages of the memory-mapped files that queries touched)
    p50/p95, q/s   per-question wall time of the query call, tokenisation included, one process,
                   one thread; q/s = questions / sum of their times
Questions: the 500 PubMedQA dev questions (queries-dev.jsonl), repeated in order up to --queries
(default 1,000, i.e. each asked twice). The whole-process figure is the wall time of the 100k
query worker as the parent sees it: interpreter start, imports, load, 1,000 questions, exit.

Check: qa's BM25 top 10 against bm25s's lucene top 10 on the same tokens: bm25s indexes the token
lists of qa's analyzer (qa.text.analyze.analyze of each passage), k1=1.5, b=0.75, and gets
analyze(question) as its query. Per question the two top-10 sets must agree, except for passages
scoring (within 1e-5 relative) the same as the 10th place.

Usage (from the repo root):
    python bench/scale.py [--sizes 10k,100k,1M] [--systems qa,bm25s,rank-bm25] [--queries N]
                          [--skip-check] [--cache DIR] [--data DIR] [--timeout SECONDS]
Progress goes to stderr, the report (markdown) to stdout.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pubmedqa"
DEFAULT_CACHE = ROOT / "bench" / ".cache"
SEED = 20240601
RECIPE = 1  # bump when the way passages are drawn changes: it is part of the cache key
BATCH = 1 << 16  # draws per generator call; fixed, so that corpora are prefixes of one stream
SYSTEMS = ("qa", "bm25s", "rank-bm25")
RANK_BM25_FULL_LIMIT = 100_000  # above this, rank-bm25 answers only a few questions ...
RANK_BM25_ESTIMATE_QUERIES = 20  # ... and its rates are estimates from these
WHOLE_PROCESS_SIZE = 100_000
TOP_K = 10
TIE_TOLERANCE = 1e-5  # relative: float32 impacts summed in different orders differ by ~1e-7
NA = "—"


# ---------------------------------------------------------------- small helpers

def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    value = float(text[:-1] if scale > 1 else text)
    return int(round(value * scale))


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def rss_mb() -> float:
    """Current resident set size (MiB), from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """Peak resident set size of this process so far (MiB); ru_maxrss is in KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def read_questions(data: Path) -> list[str]:
    with open(data / "queries-dev.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def repeated(questions: list[str], n: int) -> list[str]:
    """The questions in order, repeated until there are n."""
    return [questions[i % len(questions)] for i in range(n)]


# ---------------------------------------------------------------- the synthetic corpus

def corpus_key(data: Path) -> str:
    h = hashlib.sha1((data / "corpus.jsonl").read_bytes())
    h.update(f"seed={SEED};recipe={RECIPE};batch={BATCH}".encode())
    return h.hexdigest()[:12]


def _write_atomically(path: Path, write) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def sentences(data: Path, cache: Path) -> list[str]:
    """Distinct sentences of the PubMedQA abstracts (title + text), in order of first appearance."""
    path = cache / f"sentences-{corpus_key(data)}.json"
    if path.exists():
        return json.loads(path.read_text("utf-8"))
    from qa.text.sentences import split_sentences

    seen: dict[str, None] = {}
    with open(data / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            for field in (doc.get("title") or "", doc.get("text") or ""):
                for s in split_sentences(field):
                    s = " ".join(s.split())
                    if s:
                        seen.setdefault(s, None)
    out = list(seen)
    cache.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, lambda p: p.write_text(json.dumps(out), "utf-8"))
    return out


def _draw_passages(n: int, n_sentences: int):
    """(indptr, sentence ids) of n distinct passages of 1-3 distinct sentences each."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    seen: set[tuple[int, ...]] = set()
    ids: list[int] = []
    indptr = [0]
    while len(indptr) <= n:
        counts = rng.integers(1, 4, size=BATCH).tolist()
        picks = rng.integers(0, n_sentences, size=(BATCH, 3)).tolist()
        for count, row in zip(counts, picks):
            key = tuple(row[:count])
            if len(set(key)) < count or key in seen:
                continue  # a sentence twice in one passage, or a passage drawn before: draw again
            seen.add(key)
            ids.extend(key)
            indptr.append(len(ids))
            if len(indptr) > n:
                break
    return np.asarray(indptr, dtype=np.int64), np.asarray(ids, dtype=np.int32)


def ensure_corpus(n: int, data: Path, cache: Path) -> Path:
    """Path of the cached recipe of the n-passage corpus, made when missing."""
    import numpy as np

    key = corpus_key(data)
    path = cache / f"corpus-{n}-{key}.npz"
    if not path.exists():
        log(f"drawing the {size_label(n)}-passage corpus -> {path}")
        sents = sentences(data, cache)
        indptr, ids = _draw_passages(n, len(sents))
        cache.mkdir(parents=True, exist_ok=True)

        def write(p: Path) -> None:
            with open(p, "wb") as f:
                np.savez(f, indptr=indptr, ids=ids)

        _write_atomically(path, write)
    return path


def corpus_texts(n: int, data: Path, cache: Path) -> list[str]:
    import numpy as np

    sents = sentences(data, cache)
    with np.load(ensure_corpus(n, data, cache)) as z:
        indptr, ids = z["indptr"].tolist(), z["ids"].tolist()
    return [" ".join(sents[j] for j in ids[indptr[i]:indptr[i + 1]]) for i in range(n)]


def corpus_stats(n: int, data: Path, cache: Path) -> dict:
    import numpy as np

    sents = sentences(data, cache)
    with np.load(ensure_corpus(n, data, cache)) as z:
        indptr = z["indptr"]
        ids = z["ids"]
    per = np.diff(indptr)
    chars = np.asarray([len(s) for s in sents])[ids]
    return {"passages": n, "sentences": len(sents), "mean_sentences": float(per.mean()),
            "single": int((per == 1).sum()), "mean_chars": float(chars.sum() / n + (per - 1).mean())}


# ---------------------------------------------------------------- the systems (run in workers)

class QA:
    name = "qa"

    def __init__(self, mode: str = "bm25"):
        self.weight = 0.0 if mode == "bm25" else None

    def build(self, texts: list[str], directory: Path) -> dict:
        from qa.index import store
        from qa.index.build import build
        from qa.index.layout import FORMAT_VERSION, Settings
        from qa.models import Document, Section

        width = max(7, len(str(len(texts) - 1)))  # ids sort as numbers: passage i = index i
        docs = [Document(doc_id=f"p{i:0{width}d}", sections=(Section(None, t),)) for i, t in enumerate(texts)]
        settings = Settings()
        started = time.perf_counter()
        timings = {}
        built_index = build(docs, settings, whole_documents=True, timings=timings)
        stats = built_index.stats
        built = time.perf_counter()
        # the shape of qa.index.open_index._manifest, for a corpus that is no file
        manifest = {"format": FORMAT_VERSION, "settings": settings.__dict__,
                    "corpus": [f"synthetic PubMedQA sentences, {len(texts)} passages"], "fingerprint": [],
                    "stats": stats, "build_seconds": round(built - started, 3),
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        peak_before_save = peak_mb()
        store.save(directory, built_index.data, manifest)
        return {"build_s": built - started, "save_s": time.perf_counter() - built,
                "peak_before_save_mb": peak_before_save, "stats": stats, "bm25_s": timings["bm25_s"]}

    def load(self, directory: Path):
        from qa.index import store

        build_dir = store.current_build(directory)
        if build_dir is None:
            raise RuntimeError(f"no qa index in {directory}")
        return store.load(build_dir)

    def query(self, index, question: str) -> list[int]:
        from qa.search import rank as search

        if self.weight is None:
            ranked = search.rank(index, question)
        else:
            ranked = search.rank(index, question, weight=self.weight)
        return ranked.passages[:TOP_K].tolist()


class BM25S:
    name = "bm25s"

    def __init__(self, mode: str = ""):
        import Stemmer

        self.stemmer = Stemmer.Stemmer("english")

    def build(self, texts: list[str], directory: Path) -> dict:
        import bm25s

        started = time.perf_counter()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        retriever = bm25s.BM25(method="lucene")
        retriever.index(tokens, show_progress=False)
        built = time.perf_counter()
        peak_before_save = peak_mb()
        directory.mkdir(parents=True, exist_ok=True)
        retriever.save(str(directory))
        return {"build_s": built - started, "save_s": time.perf_counter() - built,
                "peak_before_save_mb": peak_before_save,
                "stats": {"passages": len(texts), "terms": len(retriever.vocab_dict)}}

    def load(self, directory: Path):
        import bm25s

        return bm25s.BM25.load(str(directory))

    def query(self, retriever, question: str) -> list[int]:
        import bm25s

        # The Tokenized object, not its .ids: those index the query's own vocabulary.
        tokens = bm25s.tokenize(question, stopwords="en", stemmer=self.stemmer, show_progress=False)
        k = min(TOP_K, int(retriever.scores["num_docs"]))
        found, _ = retriever.retrieve(tokens, k=k, show_progress=False)
        return found[0].tolist()


class RankBM25:
    name = "rank-bm25"
    FILE = "bm25okapi.pickle"

    def __init__(self, mode: str = ""):
        pass

    @staticmethod
    def tokens(text: str) -> list[str]:
        return text.lower().split()

    def build(self, texts: list[str], directory: Path) -> dict:
        import pickle

        from rank_bm25 import BM25Okapi

        started = time.perf_counter()
        bm25 = BM25Okapi([self.tokens(t) for t in texts])
        built = time.perf_counter()
        peak_before_save = peak_mb()
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / self.FILE, "wb") as f:
            pickle.dump(bm25, f, protocol=pickle.HIGHEST_PROTOCOL)
        return {"build_s": built - started, "save_s": time.perf_counter() - built,
                "peak_before_save_mb": peak_before_save,
                "stats": {"passages": len(texts), "terms": len(bm25.idf)}}

    def load(self, directory: Path):
        import pickle

        with open(directory / self.FILE, "rb") as f:
            return pickle.load(f)

    def query(self, bm25, question: str) -> list[int]:
        import numpy as np

        scores = bm25.get_scores(self.tokens(question))
        k = min(TOP_K, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        return top[np.lexsort((top, -scores[top]))].tolist()


IMPLEMENTATIONS = {"qa": QA, "bm25s": BM25S, "rank-bm25": RankBM25}


def index_dir(cache: Path, system: str, n: int) -> Path:
    return cache / "indexes" / f"{system}-{n}"


def worker_build(args) -> dict:
    system, n = args.worker_args[0], int(args.worker_args[1])
    data, cache = Path(args.data), Path(args.cache)
    impl = IMPLEMENTATIONS[system]()
    directory = index_dir(cache, system, n)
    shutil.rmtree(directory, ignore_errors=True)  # one build only, so its size is the index's
    texts = corpus_texts(n, data, cache)
    result = impl.build(texts, directory)
    files = sorted(((f.stat().st_size, f.name) for f in directory.rglob("*") if f.is_file()), reverse=True)
    result.update(peak_mb=peak_mb(), disk_bytes=sum(b for b, _ in files), disk_top=files[:4])
    return result


def worker_query(args) -> dict:
    system, n, mode = args.worker_args[0], int(args.worker_args[1]), args.worker_args[2]
    count = int(args.worker_args[3])
    questions = repeated(read_questions(Path(args.data)), count)
    impl = IMPLEMENTATIONS[system](mode)
    started = time.perf_counter()
    loaded = impl.load(index_dir(Path(args.cache), system, n))
    load_s = time.perf_counter() - started
    rss_load = rss_mb()
    times = []
    for q in questions:
        t = time.perf_counter()
        impl.query(loaded, q)
        times.append(time.perf_counter() - t)
    return {"load_s": load_s, "rss_load_mb": rss_load, "rss_after_mb": rss_mb(), "peak_mb": peak_mb(),
            "times": times, "queries_s": sum(times)}


def worker_check(args) -> dict:
    """qa BM25 top 10 against bm25s lucene top 10, bm25s indexing qa's analyzer tokens."""
    import bm25s

    from qa.search import rank as search
    from qa.text.analyze import analyze

    n = int(args.worker_args[0])
    data, cache = Path(args.data), Path(args.cache)
    directory = index_dir(cache, "qa", n)
    index = None
    if directory.exists():
        try:
            index = QA().load(directory)
        except Exception as e:  # noqa: BLE001 - rebuild below
            log(f"check: cannot load {directory} ({e}); building qa's index again")
    if index is None:
        QA().build(corpus_texts(n, data, cache), directory)
        index = QA().load(directory)
    passages = index.passages.text
    tokens = [analyze(passages[i]) for i in range(index.n_passages)]
    retriever = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    retriever.index(tokens, show_progress=False)
    del tokens

    questions = list(dict.fromkeys(read_questions(data)))
    k = min(TOP_K, index.n_passages)
    same = tie_only = 0
    differ: list[dict] = []
    max_rel = 0.0
    for q in questions:
        ranked = search.rank(index, q, weight=0.0, document_weight=0.0)
        qa_top = ranked.passages[:k].tolist()
        qa_scores = ranked.bm25[:k].tolist()
        found, scores = retriever.retrieve([analyze(q)], k=k, show_progress=False)
        pairs = [(int(p), float(s)) for p, s in zip(found[0], scores[0]) if s > 0]
        b_top = [p for p, _ in pairs]
        b_scores = [s for _, s in pairs]
        qa_score_of = dict(zip(qa_top, qa_scores))
        for p, s in pairs:
            if p in qa_score_of:
                max_rel = max(max_rel, abs(qa_score_of[p] - s) / max(abs(s), 1e-12))
        if set(qa_top) == set(b_top):
            same += 1
            continue
        ok = len(qa_top) == len(b_top) and len(qa_top) == k
        if ok:
            cut_q, cut_b = qa_scores[-1], min(b_scores)
            cut = max(cut_q, cut_b)
            ok = abs(cut_q - cut_b) <= TIE_TOLERANCE * cut
            above_q = {p for p, s in zip(qa_top, qa_scores) if s > cut * (1 + TIE_TOLERANCE)}
            above_b = {p for p, s in pairs if s > cut * (1 + TIE_TOLERANCE)}
            ok = ok and above_q == above_b
        if ok:
            tie_only += 1
        else:
            differ.append({"question": q, "qa": list(zip(qa_top, qa_scores)), "bm25s": pairs})
    return {"questions": len(questions), "same": same, "tie_only": tie_only, "differ": len(differ),
            "examples": differ[:3], "max_rel_score_diff": max_rel, "peak_mb": peak_mb(),
            "bm25s_terms": len(retriever.vocab_dict), "qa_terms": int(index.manifest["stats"]["terms"])}


WORKERS = {"build": worker_build, "query": worker_query, "check": worker_check}


def run_worker(args) -> int:
    out = Path(args.out)
    try:
        result = WORKERS[args.worker](args)
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which carries on
        import traceback

        traceback.print_exc()
        result = {"error": f"{type(e).__name__}: {e}"}
    _write_atomically(out, lambda p: p.write_text(json.dumps(result), "utf-8"))
    return 0 if "error" not in result else 1


# ---------------------------------------------------------------- the parent

class Runner:
    def __init__(self, args):
        self.args = args
        self.cache = Path(args.cache)
        self.logs = self.cache / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def __call__(self, kind: str, *worker_args) -> dict:
        """Run one worker in a fresh interpreter; its result, with wall_s, or {'error': ...}."""
        name = "-".join([kind, *map(str, worker_args)])
        out = self.logs / f"{name}.json"
        out.unlink(missing_ok=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--data", self.args.data, "--cache",
               str(self.cache), "--out", str(out), "--worker", kind, *map(str, worker_args)]
        log(f"worker {name} ...")
        started = time.perf_counter()
        with open(self.logs / f"{name}.log", "wb") as output:
            try:
                proc = subprocess.run(cmd, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
                                      timeout=self.args.timeout)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = None
        wall = time.perf_counter() - started
        try:
            result = json.loads(out.read_text("utf-8"))
        except (OSError, ValueError):
            if code is None:
                result = {"error": f"timed out after {self.args.timeout:g} s"}
            else:
                tail = (self.logs / f"{name}.log").read_text("utf-8", errors="replace").strip().splitlines()
                result = {"error": f"exit code {code}: {tail[-1] if tail else 'no output'}"}
        result["wall_s"] = wall
        log(f"worker {name}: {wall:.1f} s" + (f" — ERROR {result['error']}" if "error" in result else ""))
        return result


def fmt(value, spec: str = ".2f") -> str:
    if value is None:
        return NA
    return format(value, spec)


def cell_error(text: str) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= 160 else text[:157] + "..."


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


ROW_COLUMNS = ["system", "build s", "save s", "peak build MB", "disk MB", "load s", "RSS after load MB",
               "RSS after queries MB", "questions", "p50 ms", "p95 ms", "q/s"]


def summarise(build: dict, query: dict, estimate: bool) -> dict:
    row = {}
    if "error" not in build:
        row.update(build_s=build["build_s"], save_s=build["save_s"], peak_build_mb=build["peak_mb"],
                   disk_mb=build["disk_bytes"] / 2**20)
    if query and "error" not in query and query.get("times"):
        t = query["times"]
        row.update(load_s=query["load_s"], rss_load_mb=query["rss_load_mb"], rss_after_mb=query["rss_after_mb"],
                   questions=len(t), p50_ms=percentile(t, 50) * 1000, p95_ms=percentile(t, 95) * 1000,
                   qps=len(t) / sum(t) if sum(t) > 0 else float("inf"), estimate=estimate,
                   wall_s=query["wall_s"], query_peak_mb=query["peak_mb"])
    errors = [r["error"] for r in (build, query) if r and "error" in r]
    if errors:
        row["error"] = errors[0]
    return row


def row_cells(label: str, row: dict) -> list[str]:
    est = " (est.)" if row.get("estimate") else ""
    cells = [label, fmt(row.get("build_s")), fmt(row.get("save_s")), fmt(row.get("peak_build_mb"), ".0f"),
             fmt(row.get("disk_mb"), ".1f"), fmt(row.get("load_s"), ".3f"), fmt(row.get("rss_load_mb"), ".0f"),
             fmt(row.get("rss_after_mb"), ".0f"),
             (f"{row['questions']}{est}" if "questions" in row else NA),
             fmt(row.get("p50_ms"), ".2f"), fmt(row.get("p95_ms"), ".2f"),
             (fmt(row.get("qps"), ".1f" if row.get("qps", 0) >= 10 else ".2f") + est if "qps" in row else NA)]
    if "error" in row:
        # the error goes into the first column that has no value
        for i in range(1, len(cells)):
            if cells[i] == NA:
                cells[i] = "error: " + cell_error(row["error"])
                break
        else:
            cells[0] += " (error: " + cell_error(row["error"]) + ")"
    return cells


def markdown(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


RATIO_METRICS = [("build s", "build_s"), ("peak build MB", "peak_build_mb"), ("disk MB", "disk_mb"),
                 ("load s", "load_s"), ("RSS after load", "rss_load_mb"), ("RSS after queries", "rss_after_mb"),
                 ("p50", "p50_ms"), ("p95", "p95_ms"), ("q/s", "qps")]


def ratio_table(rows: dict[str, dict]) -> str | None:
    out = []
    for mine in ("qa BM25", "qa BM25+TF-IDF"):
        for peer in ("bm25s", "rank-bm25"):
            a, b = rows.get(mine), rows.get(peer)
            if not a or not b:
                continue
            cells = [f"{mine} ÷ {peer}"]
            for _, key in RATIO_METRICS:
                x, y = a.get(key), b.get(key)
                cells.append(f"{x / y:.2f}" + (" (est.)" if key in ("p50_ms", "p95_ms", "qps") and b.get("estimate") else "")
                             if x is not None and y else NA)
            out.append(cells)
    if not out:
        return None
    return markdown(["ratio"] + [c for c, _ in RATIO_METRICS], out)


def environment(command: str) -> list[str]:
    import platform

    versions = []
    for module in ("numpy", "bm25s", "rank_bm25", "Stemmer"):
        try:
            from importlib.metadata import version

            dist = {"rank_bm25": "rank-bm25", "Stemmer": "PyStemmer"}.get(module, module)
            versions.append(f"{dist} {version(dist)}")
        except Exception:  # noqa: BLE001
            versions.append(f"{module} not installed")
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qa"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        git = f"{head}{' + uncommitted changes in qa/' if dirty else ''}"
    except OSError:
        git = "unknown"
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return [f"Command: `{command}`",
            f"Machine: {os.cpu_count()} cores (os.cpu_count()), {mem} memory, {platform.platform()}, "
            f"Python {platform.python_version()}",
            f"Versions: qa at {git}; {', '.join(versions)}"]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10k,100k,1M", help="passage counts, e.g. 10k,100k (default: %(default)s)")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="subset of %(default)s")
    p.add_argument("--queries", type=int, default=1000,
                   help="questions timed per system and size (the 500 dev questions, repeated; default %(default)s)")
    p.add_argument("--skip-check", action="store_true", help="skip the qa = bm25s top-10 check")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="PubMedQA in BEIR layout (default: %(default)s)")
    p.add_argument("--cache", default=str(DEFAULT_CACHE),
                   help="corpora, indexes, worker logs (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per worker (default: %(default)s)")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("worker_args", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return run_worker(args)
    if args.worker_args:
        p.error(f"unexpected arguments: {' '.join(args.worker_args)}")

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown or not sizes or args.queries < 1:
        p.error(f"unknown systems {unknown}" if unknown else "need sizes and --queries >= 1")
    command = "python bench/scale.py" + ("" if not argv else " " + shlex.join(argv))
    data, cache = Path(args.data), Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / ".gitignore").exists():
        (cache / ".gitignore").write_text("*\n", "utf-8")
    run = Runner(args)
    started = time.perf_counter()

    print("# Scale benchmark: qa against bm25s and rank-bm25\n")
    print("\n".join(line + "  " for line in environment(command)))
    print(f"Corpus: synthetic passages of 1-3 distinct sentences drawn (seed {SEED}) from the sentences of "
          f"PubMedQA's abstracts ({data / 'corpus.jsonl'}), no passage twice; cached in {cache}.  ")
    print(f"Questions: PubMedQA dev ({data / 'queries-dev.jsonl'}), 500 distinct, repeated in order to "
          f"{args.queries} per system and size; one process, one thread.\n", flush=True)

    results: dict = {"command": command, "sizes": {}}
    whole: list[list[str]] = []
    checks: list[list[str]] = []
    for n in sizes:
        label = size_label(n)
        log(f"== {label} passages")
        try:
            ensure_corpus(n, data, cache)
            stats = corpus_stats(n, data, cache)
        except Exception as e:  # noqa: BLE001 - nothing to benchmark at this size
            print(f"## {label} passages\n\ncorpus: error: {cell_error(e)}\n")
            continue
        rows: dict[str, dict] = {}
        raw: dict[str, dict] = {}
        for system in systems:
            build = run("build", system, n)
            modes = [("qa BM25", "bm25"), ("qa BM25+TF-IDF", "rerank")] if system == "qa" else [(system, "-")]
            estimate = system == "rank-bm25" and n > RANK_BM25_FULL_LIMIT
            count = min(args.queries, RANK_BM25_ESTIMATE_QUERIES) if estimate else args.queries
            for row_label, mode in modes:
                query = run("query", system, n, mode, count) if "error" not in build else {}
                rows[row_label] = summarise(build, query, estimate)
                raw[row_label] = {"build": build, "query": {k: v for k, v in query.items() if k != "times"}}
                if n == WHOLE_PROCESS_SIZE and not estimate and query:
                    r = rows[row_label]
                    whole.append([row_label, str(count), label,
                                  fmt(query.get("wall_s"), ".2f"), fmt(r.get("load_s"), ".3f"),
                                  fmt(query.get("queries_s"), ".2f"), fmt(query.get("peak_mb"), ".0f")]
                                 if "error" not in query else
                                 [row_label, str(count), label, "error: " + cell_error(query["error"]), NA, NA, NA])
        check = None
        if not args.skip_check:
            check = run("check", n)
            if "error" in check:
                checks.append([label, "error: " + cell_error(check["error"]), NA, NA, NA, NA, NA])
            else:
                checks.append([label, str(check["questions"]), str(check["same"]), str(check["tie_only"]),
                               f"**{check['differ']}**", f"{check['max_rel_score_diff']:.1e}",
                               f"{check['qa_terms']} / {check['bm25s_terms'] - 1}"])
        results["sizes"][label] = {"corpus": stats, "rows": raw, "check": check}

        print(f"## {label} passages\n")
        print(f"{stats['passages']} passages from {stats['sentences']} distinct sentences; "
              f"{stats['mean_sentences']:.2f} sentences and ~{stats['mean_chars']:.0f} characters a passage on "
              f"average; {stats['single']} single-sentence passages.\n")
        print(markdown(ROW_COLUMNS, [row_cells(k, v) for k, v in rows.items()]))
        largest = [f"{system}: " + ", ".join(f"{name} {size / 2**20:.1f}" for size, name in r["build"]["disk_top"])
                   for system, r in ((s, raw.get("qa BM25" if s == "qa" else s)) for s in systems)
                   if r and r["build"].get("disk_top")]
        if largest:
            print("\nLargest files on disk (MB): " + "; ".join(largest) + ".")
        qa_build, peer_build = (raw.get("qa BM25") or {}).get("build", {}), (raw.get("bm25s") or {}).get("build", {})
        if "bm25_s" in qa_build:
            peer = (f" against bm25s's tokenise + index {peer_build['build_s']:.1f} s"
                    if "build_s" in peer_build else "")
            print(f"\nqa's build up to the BM25 impacts (chunking, analysis, postings): {qa_build['bm25_s']:.1f} s"
                  f"{peer}; the rest of its build (TF-IDF rows, tables, abbreviations): "
                  f"{qa_build['build_s'] - qa_build['bm25_s']:.1f} s.")
        if any(v.get("estimate") for v in rows.values()):
            print(f"\n(est.): rank-bm25 above {size_label(RANK_BM25_FULL_LIMIT)} passages answers only "
                  f"{RANK_BM25_ESTIMATE_QUERIES} questions; its latencies and q/s are estimates from those, "
                  f"and its RSS after queries is after those {RANK_BM25_ESTIMATE_QUERIES}.")
        ratios = ratio_table(rows)
        if ratios:
            print(f"\nqa ÷ peer at {label} (below 1: qa takes less time or memory; for q/s above 1: qa answers "
                  "faster; build, disk and load are of the one qa index both qa rows share):\n")
            print(ratios)
        print(flush=True)
        if check and "error" not in check and check["examples"]:
            print("First differing questions (passage, score):\n")
            for ex in check["examples"]:
                print(f"- {ex['question']}\n  - qa:    {ex['qa']}\n  - bm25s: {ex['bm25s']}")
            print(flush=True)

    if checks:
        print("## qa BM25 top 10 = bm25s lucene top 10 on the same tokens\n")
        print("bm25s (method=\"lucene\", k1=1.5, b=0.75) indexes the token lists of qa.text.analyze.analyze per passage "
              "and gets analyze(question); per distinct dev question, the sets of top-10 passages are compared; "
              f"a difference counts as a tie when every passage in it scores within {TIE_TOLERANCE:g} (relative) "
              "of the 10th place.\n")
        print(markdown(["passages", "questions", "same top 10", "differ only at a tie", "differ (expected 0)",
                        "max relative score difference", "terms qa / bm25s"], checks))
        print()
    print(f"## Whole process: {args.queries} questions over {size_label(WHOLE_PROCESS_SIZE)} passages, "
          "including load\n")
    if whole:
        print("Wall time of a fresh process as its parent sees it: interpreter start, imports, loading the "
              "saved index, the questions, exit (the query workers above; the index files were just written, "
              "so they are in the page cache).\n")
        print(markdown(["system", "questions", "passages", "wall s", "of which load s", "of which questions s",
                        "peak RSS MB"], whole))
    else:
        print(f"Not measured: {size_label(WHOLE_PROCESS_SIZE)} is not among --sizes.")
    total = time.perf_counter() - started
    print(f"\nTotal benchmark time: {total / 60:.1f} min.")
    results["seconds"] = total
    (cache / "last-run.json").write_text(json.dumps(results, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
