"""`qa batch --workers N` on a synthetic 100k-passage corpus: wall time and speedup against 1 worker.

Corpus: sentences of PubMedQA's corpus.jsonl (../shared/data/pubmedqa, 1,000 abstracts), mixed
by a seeded RNG into passages of 1-3 sentences, written once as a BEIR corpus.jsonl (no titles,
so each document is exactly one passage) under the cache directory. Questions: the 500 PubMedQA
dev questions twice (1,000; ids made unique). Every run is `python cli.py batch ... -o FILE` in
a fresh process with QA_HOME in the cache directory; the index is built once beforehand (timed
separately), so the wall times cover process start, index load, worker start and answering.
The outputs of all runs are compared byte for byte.

Usage (from the repo root):  python bench/workers.py [--passages 100000] [--workers 1 2]
                                 [--repeat 1] [--seed 7] [--cache DIR] [--data DIR]
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.text.sentences import split_sentences  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pubmedqa"


def make_corpus(data: Path, out: Path, passages: int, seed: int) -> Path:
    if out.exists():
        return out
    sentences = []
    with open(data / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                sentences.extend(split_sentences(json.loads(line)["text"]))
    rng = random.Random(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(passages):
            text = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 3)))
            f.write(json.dumps({"_id": f"syn{i:06d}", "title": "", "text": text}) + "\n")
    os.replace(tmp, out)
    return out


def make_questions(data: Path, out: Path, times: int) -> int:
    queries = [json.loads(line) for line in open(data / "queries-dev.jsonl", encoding="utf-8") if line.strip()]
    with open(out, "w", encoding="utf-8") as f:
        for r in range(times):
            for q in queries:
                f.write(json.dumps({"id": f"{q['_id']}-{r + 1}", "question": q["text"]}) + "\n")
    return len(queries) * times


def run(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], env=env, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"qa {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--passages", type=int, default=100_000)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeat", type=int, default=1, help="runs of each setting; the best is reported")
    p.add_argument("--times", type=int, default=2, help="how often the 500 dev questions are asked")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "qa-bench-workers")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    a = p.parse_args()

    corpus = make_corpus(a.data, a.cache / f"synthetic-{a.passages}-seed{a.seed}" / "corpus.jsonl",
                         a.passages, a.seed)
    questions = a.cache / "questions.jsonl"
    n = make_questions(a.data, questions, a.times)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", QA_KILL)}
    env["QA_HOME"] = str(a.cache / "home")
    build = run(["index", "--corpus", str(corpus)], env)
    print(f"corpus: {corpus} ({a.passages:,} passages); index ready in {build:.1f} s")
    print(f"questions: {n:,}; cores (os.cpu_count()): {os.cpu_count()}; "
          f"usable (sched_getaffinity): {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}")
    times: dict[int, float] = {}
    outputs: dict[int, Path] = {}
    for w in a.workers:
        out = a.cache / f"out-{w}.jsonl"
        best = min(run(["batch", str(questions), "--corpus", str(corpus), "--workers", str(w), "-o", str(out)], env)
                   for _ in range(a.repeat))
        times[w], outputs[w] = best, out
        print(f"--workers {w}: {best:.2f} s wall, {n / best:.1f} questions/s")
    base = min(a.workers)
    for w in a.workers:
        if w != base:
            same = filecmp.cmp(outputs[base], outputs[w], shallow=False)
            print(f"speedup {w} vs {base} worker{'s' * (base != 1)}: {times[base] / times[w]:.2f}x "
                  f"(output {'identical' if same else 'DIFFERENT'})")


QA_KILL = "QA_TEST_KILL_WORKER_AFTER"

if __name__ == "__main__":
    main()
