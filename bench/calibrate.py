"""Fit qa's confidence model (qa/search/confidence.py): one set of coefficients without the semantic
stage, one with it.

Each question of the tune half of PubMedQA dev, as written and in a clinician's words
(../shared/data/clinician), is asked twice: against the full corpus (label 1 when there is an
answer and the top document is the relevant one) and with its own abstract left out (label 0: the
answer is not in the corpus). A logistic regression on the features gives the coefficients to
paste into qa/search/confidence.py. Then, on the held-out half, it prints the share of confident
answers (confidence >= 0.5) in both settings: high with the abstract, low without.

    python bench/calibrate.py          (the semantic runs need the vectors: bench/.cache, as bench/pubmedqa.py)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pubmedqa import CACHE, embedding_progress, is_tune  # noqa: E402
from qa.index.layout import Settings  # noqa: E402
from qa.index.open_index import open_index  # noqa: E402
from qa.search import confidence, dense  # noqa: E402
from qa.search.engine import Engine  # noqa: E402
from qa.search.evaluate import read_jsonl, read_qrels, read_queries, relevant  # noqa: E402
from qa.search.filters import Filters  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def examples(engine: Engine, questions, qrels):
    """(features, label, left out) for each question, with and without its own abstract."""
    rows = []
    for qid, text in questions:
        rel = relevant(qrels.get(qid, {}))
        for exclude in (False, True):
            result = engine.ask(text, filters=Filters(excluded=tuple(rel)) if exclude else None)
            if not result["hits"]:
                rows.append(((0.0, 0.0, 0.0, 0.0), 0, exclude))
                continue
            right = result["answer"] is not None and result["hits"][0]["doc_id"] in rel
            rows.append((engine.last_features, int(not exclude and right), exclude))
    return rows


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    os.environ["QA_HOME"] = str(CACHE)
    index, _ = open_index([str(DATA / "pubmedqa" / "corpus.jsonl")], Settings())
    qrels = read_qrels(DATA / "pubmedqa" / "qrels-dev.tsv")
    queries = read_queries(DATA / "pubmedqa" / "queries-dev.jsonl")
    paraphrases = [(r["_id"], r["text"]) for r in read_jsonl(DATA / "clinician" / "pubmedqa-paraphrase-dev.jsonl")]
    tune = [q for q in queries + paraphrases if is_tune(q[0])]
    held = [q for q in queries if not is_tune(q[0])]
    held_paraphrased = [q for q in paraphrases if not is_tune(q[0])]
    semantic = dense.stage(index, opt_in=True, embed_up_to=index.n_passages, progress=embedding_progress)
    modes = [("LEXICAL", Engine(index))] + ([("SEMANTIC", Engine(index, semantic=semantic))] if semantic else [])
    for name, engine in modes:
        rows = examples(engine, tune, qrels)
        model = LogisticRegression(C=10.0).fit([r[0] for r in rows], [r[1] for r in rows])
        coefficients = (float(model.intercept_[0]), *map(float, model.coef_[0]))
        print(f"{name} = {tuple(round(c, 4) for c in coefficients)}  # intercept, key coverage, cosine, BM25 ratio, dense")
        print(f"fitted on {len(rows)} examples from the tune half ({len(tune)} questions as written and paraphrased, "
              "each with and without its abstract)\n")
        print(f"| held-out half, {name.lower()} | questions | confident (>= 0.5) | mean confidence |")
        print("|---|---|---|---|")
        for label, questions in (("as written", held), ("paraphrased", held_paraphrased)):
            rows = examples(engine, questions, qrels)
            for exclude in (False, True):
                scores = [confidence.score(f, coefficients) for f, _, ex in rows if ex == exclude]
                corpus = "corpus without the question's own abstract" if exclude else "full corpus"
                share = sum(s >= confidence.LOW for s in scores) / len(scores)
                print(f"| {label}, {corpus} | {len(scores)} | {share:.3f} | {sum(scores) / len(scores):.3f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
