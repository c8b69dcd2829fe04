"""Fit qa's confidence model (qa/search/confidence.py) on the tune half of PubMedQA dev.

Each tune question is asked twice: against the full corpus (label 1 when the top document is the
relevant one) and with its own abstract left out (label 0: the answer is not in the corpus).
A logistic regression on the three features gives the coefficients to paste into
qa/search/confidence.py. Then, on the held-out half, it prints the share of confident answers
(confidence >= 0.5) in both settings: high with the abstract, low without.

    python bench/calibrate.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pubmedqa import is_tune  # noqa: E402
from qa.search import confidence
from qa.search import rank as search  # noqa: E402
from qa.index.open_index import open_index  # noqa: E402
from qa.search.engine import Engine  # noqa: E402
from qa.search.evaluate import read_qrels, read_queries, relevant  # noqa: E402
from qa.search.filters import Filters, passage_mask  # noqa: E402
from qa.index.layout import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "pubmedqa"


def examples(engine: Engine, questions, qrels):
    """(features, label, confidence) for each question, with and without its own abstract."""
    rows = []
    for qid, text in questions:
        rel = relevant(qrels.get(qid, {}))
        for exclude in (False, True):
            mask = passage_mask(engine.index, Filters(excluded=tuple(rel))) if exclude else None
            ranked = search.rank(engine.index, text, engine.candidates, engine.fusion_weight, mask)
            if len(ranked.passages) == 0:
                rows.append(((0.0, 0.0, 0.0), 0, exclude))
                continue
            top_doc = engine.index.documents.ids[engine.index.passage_doc(ranked.passages[0])]
            rows.append((engine.confidence_features(ranked), int(not exclude and top_doc in rel), exclude))
    return rows


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    index, _ = open_index([str(DATA / "corpus.jsonl")], Settings(), index_dir=tempfile.mkdtemp())
    engine = Engine(index)
    qrels = read_qrels(DATA / "qrels-dev.tsv")
    queries = read_queries(DATA / "queries-dev.jsonl")
    tune = [q for q in queries if is_tune(q[0])]
    held = [q for q in queries if not is_tune(q[0])]
    rows = examples(engine, tune, qrels)
    model = LogisticRegression(C=10.0).fit([r[0][1:] for r in rows], [r[1] for r in rows])
    coefficients = (float(model.intercept_[0]), *map(float, model.coef_[0]))
    print("COEFFICIENTS =", tuple(round(c, 4) for c in coefficients), " # intercept, cosine, BM25 ratio")
    print(f"fitted on {len(rows)} examples from the tune half ({len(tune)} questions, each with and without its abstract)")
    print()
    print("| held-out half | questions | confident (>= 0.5) | mean confidence |")
    print("|---|---|---|---|")
    for exclude in (False, True):
        scores = [confidence.score(f, coefficients) for f, _, ex in examples(engine, held, qrels) if ex == exclude]
        name = "corpus without the question's own abstract" if exclude else "full corpus"
        share = sum(s >= confidence.LOW for s in scores) / len(scores)
        print(f"| {name} | {len(scores)} | {share:.3f} | {sum(scores) / len(scores):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
