"""confidence: high when the corpus holds the answer, low when it does not, 0 when nothing matches."""
from __future__ import annotations

import pytest

from conftest import BEIR, beir_records
from qa.search.engine import Engine
from qa.search.filters import Filters
from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.readers.beir import read_beir


@pytest.fixture(scope="module")
def engine():
    built = build(read_beir(BEIR), Settings())
    return Engine(Index.from_data(built.data, {"stats": built.stats, "settings": Settings().__dict__}))


def conclusion_question(record) -> str:
    conclusion = record["text"].rsplit("CONCLUSION", 1)[-1].split(":", 1)[-1]
    return " ".join(w for w in conclusion.split() if len(w) > 5)[:200]


def test_answer_in_the_corpus_is_confident_and_without_it_is_not(engine):
    confident, removed = [], []
    for record in beir_records(BEIR):
        question = conclusion_question(record)
        confident.append(engine.ask(question)["confidence"])
        removed.append(engine.ask(question, filters=Filters(excluded=(record["_id"],)))["confidence"])
    assert sum(c >= 0.5 for c in confident) >= 0.75 * len(confident)
    assert sum(c >= 0.5 for c in removed) <= 0.25 * len(removed)
    assert all(a >= b for a, b in zip(confident, removed))


def test_nothing_matches_gives_no_answer_and_confidence_zero(engine):
    r = engine.ask("What is the capital of France?")
    assert r["answer"] is None and r["hits"] == [] and r["confidence"] == 0.0


def test_mostly_unknown_words_are_never_confident(engine):
    record = beir_records(BEIR)[0]
    known = conclusion_question(record).split()[:2]
    question = " ".join(known + ["quarkonium", "chromodynamics", "footballers", "sonatas", "glaciers"])
    assert engine.ask(question)["confidence"] < 0.5


def test_the_dense_signal_counts_from_the_corpus_s_noise_line():
    # the best of 6,788 passages is nearer any question than the best of 9: a cosine counts by how
    # far it stands above the line everyday off-topic questions reach on the same corpus
    import numpy as np

    from qa.search import confidence
    from qa.search.rank import Ranked

    class Index:
        postings = None

        def term_id(self, term):
            return -1

        def cosine(self, passages, ids, weights):
            return np.zeros(len(passages))

    ranked = Ranked("q", [], passages=np.array([0]), bm25=np.array([0.0]), dense=np.array([0.45]))
    small = confidence.features(Index(), ranked, [], 1.0, admit=0.25)[3]
    large = confidence.features(Index(), ranked, [], 1.0, admit=0.6)[3]
    assert small == pytest.approx(0.2) and large == pytest.approx(-0.15)
    assert confidence.features(Index(), ranked, [], 1.0, admit=1.0)[3] == pytest.approx(0.45 - confidence.NOISE)
    assert confidence.score((1.0, 0.1, 0.5, small), confidence.SEMANTIC) > \
        confidence.score((1.0, 0.1, 0.5, large), confidence.SEMANTIC)
