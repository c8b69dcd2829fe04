"""Whole-document evidence: a document ranks by its best window plus what all its text says."""
from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest

from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.models import Document, Section
from qa.search import documents
from qa.search.engine import Engine
from qa.search.rank import query_terms, rank
from qa.text import chunk
from qa.text.analyze import analyze

from conftest import write_input

# "b-whole" opens with the very window that is all of "a-window"; the rest of b, in other windows,
# says the question's other words. Windows alone tie (a first, by id); the whole document decides.
OPENING = "Rituximab was given to adults with dermatomyositis. Twelve patients were treated. Infusions were well tolerated."
RECORDS = [{"_id": "a-window", "title": "", "text": OPENING},
           {"_id": "b-whole", "title": "", "text": OPENING + " All had refractory disease. Follow-up lasted a year. "
                                                  "Strength was recorded. Creatine kinase fell."},
           {"_id": "c-other", "title": "", "text": "Grip strength in the elderly."},
           {"_id": "d-other", "title": "", "text": "Refractory epilepsy in children."}]
QUESTION = "Is rituximab worth it for refractory dermatomyositis, for strength?"


def memory_engine(docs, **kw) -> Engine:
    built = build(docs, Settings())
    return Engine(Index.from_data(built.data, {"stats": built.stats, "settings": Settings().__dict__}), **kw)


def corpus_file(tmp_path):
    return write_input(tmp_path, "".join(json.dumps(d) + "\n" for d in RECORDS), "corpus.jsonl")


def test_the_document_that_says_more_of_the_question_outranks_an_equal_window(cli, tmp_path):
    corpus = corpus_file(tmp_path)
    result = cli("ask", QUESTION, "--json", "-k", "10", "--corpus", str(corpus)).json()
    assert [h["passage_id"] for h in result["hits"][:2]] == ["b-whole#0", "a-window#0"]
    assert result["hits"][0]["doc_score"] > result["hits"][1]["doc_score"]
    # by windows alone the two equal windows tie and a comes first: the whole document decides
    from qa.readers.beir import read_beir

    windows_only = memory_engine(read_beir(corpus), document_weight=0.0).ask(QUESTION, k=2)
    assert [h["passage_id"] for h in windows_only["hits"]] == ["a-window#0", "b-whole#0"]
    assert windows_only["hits"][0]["score"] == windows_only["hits"][1]["score"]


def test_every_hit_carries_its_documents_score_the_score_of_its_best_passage(cli, tmp_path):
    result = cli("ask", QUESTION, "--json", "-k", "10", "--corpus", str(corpus_file(tmp_path))).json()
    best = {}
    for hit in result["hits"]:  # hits come best first
        best.setdefault(hit["doc_id"], hit["score"])
    assert all(hit["doc_score"] == best[hit["doc_id"]] for hit in result["hits"])


def test_trec_ranks_documents_by_their_document_score(cli, tmp_path):
    corpus = corpus_file(tmp_path)
    questions = write_input(tmp_path, f"{QUESTION}\n", "q.txt")
    trec = cli("batch", str(questions), "--corpus", str(corpus), "-k", "5", "--format", "trec").out.splitlines()
    hits = cli("ask", QUESTION, "--json", "-k", "100", "--corpus", str(corpus)).json()["hits"]
    document_score = {h["doc_id"]: h["doc_score"] for h in hits}
    expected = sorted(document_score.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(row.split()[2], float(row.split()[4])) for row in trec] == expected
    assert expected[0][0] == "b-whole"


def _straightforward(docs: list[Document], question: str) -> dict[str, float]:
    """BM25 (Lucene idf over documents) of each document over its metadata and body passages."""
    counts, lengths = {}, {}
    for d in docs:
        terms = [t for p in chunk.passages(d) if p.kind != "reference" for t in analyze(p.text)]
        counts[d.doc_id], lengths[d.doc_id] = Counter(terms), len(terms)
    n, avgdl = len(docs), sum(lengths.values()) / len(docs)
    out = {}
    for d in docs:
        score = 0.0
        for term, weight in Counter(analyze(question)).items():
            df = sum(1 for c in counts.values() if c[term])
            tf = counts[d.doc_id][term]
            if tf:
                idf = np.log1p((n - df + 0.5) / (df + 0.5))
                score += weight * idf * tf / (tf + 1.5 * (1 - 0.75 + 0.75 * lengths[d.doc_id] / avgdl))
        out[d.doc_id] = score
    return out


@pytest.mark.parametrize("seed", range(8))
def test_document_scores_equal_the_straightforward_computation(seed):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(rng.randint(4, 25))]

    def sentence():
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) + "."

    docs = [Document(doc_id=f"d{i:03d}", title=sentence() if rng.random() < 0.5 else None,
                     sections=tuple(Section(rng.choice([None, "BACKGROUND", "RESULTS"]),
                                            " ".join(sentence() for _ in range(rng.randint(1, 7))))
                                    for _ in range(rng.randint(1, 3))))
            for i in range(rng.randint(2, 30))]
    engine = memory_engine(docs)
    index = engine.index
    for _ in range(5):
        question = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        ids, weights = query_terms(index, analyze(question))
        every = np.arange(index.n_documents)
        got = dict(zip([index.documents.ids[i] for i in every], documents.scores(index, ids, weights, every)))
        expected = _straightforward(docs, question)
        assert got.keys() == expected.keys()
        np.testing.assert_allclose([got[k] for k in sorted(got)], [expected[k] for k in sorted(got)], rtol=1e-9)


def test_reference_lines_are_no_evidence_of_what_the_citing_document_says():
    from qa.models import Reference

    review = Document(doc_id="review", title="A review of dermatomyositis treatment",
                      sections=(Section(None, "Treatment of dermatomyositis is reviewed."),),
                      references=(Reference(1, "Smith A. Rituximab in myositis. Lancet. 2003."),))
    trial = Document(doc_id="trial", title="Rituximab trial", sections=(Section(None, "Rituximab was given."),))
    index = memory_engine([review, trial]).index
    ids, weights = query_terms(index, analyze("rituximab"))
    review_score, trial_score = documents.scores(index, ids, weights, np.arange(2))
    assert review_score == 0.0 and trial_score > 0
    # the reference passage itself is still found, by its own window
    assert "review#" in " ".join(index.passage_id(p) for p in rank(index, "rituximab lancet").passages)
