"""Character n-gram similarity (qa/search/chargrams.py): scikit-learn's char_wb 3-5, at query time.

Tried for issue 6 and left off by default (search.CHAR_WEIGHT = 0): see the README figures.
"""
from __future__ import annotations

import numpy as np
import pytest

from qa.search import chargrams
from qa.search import rank as search
from qa.index import core as ix
from qa.models import Document, Section

TEXTS = [
    "Is gammaglobulin useful?",
    "a ab abc abcd abcde  Immunoglobulin\tIgG,\n x",
    "",
    "TNF-α İstanbul 25.9% (n=12)",
]


def vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer  # the oracle, in tests only
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5))


@pytest.mark.parametrize("text", TEXTS)
def test_ngrams_are_scikit_learns_char_wb(text):
    assert chargrams.ngrams(text) == vectorizer().build_analyzer()(text)


def test_similarity_is_the_cosine_of_a_vectorizer_fitted_on_the_candidates():
    question = "Does intravenous gammaglobulin help in Kawasaki disease?"
    passages = ["Intravenous immunoglobulin in Kawasaki disease.", "The cat sat on the mat.",
                "Gamma rays and globulins", "", "kawasaki", "a", "Kawasaki Kawasaki disease disease"]
    v = vectorizer().fit(passages)
    expected = (v.transform(passages) @ v.transform([question]).T).toarray().ravel()
    np.testing.assert_allclose(chargrams.similarity(question, passages), expected, rtol=1e-12, atol=1e-15)
    assert chargrams.similarity("zzzzqqq", passages).tolist() == [0.0] * len(passages)
    assert chargrams.similarity("anything", []).tolist() == []


def test_same_input_same_output_whatever_was_asked_before():
    question, passages = "gammaglobulin dose", ["immunoglobulin dosing", "dose of globulin", "other words"]
    chargrams._clear()
    first = chargrams.similarity(question, passages)
    chargrams.similarity("unrelated words first seen now", ["more new vocabulary here", "zygomatic"])
    chargrams._clear()
    chargrams.similarity("zygomatic globulin", ["rays", "mmuno"])  # other n-gram ids this time
    assert chargrams.similarity(question, passages).tolist() == first.tolist()


def doc(doc_id, text):
    return Document(doc_id=doc_id, sections=(Section(None, text),))


def test_partial_word_overlap_lifts_a_passage():
    docs = [doc("plain", "Kawasaki disease in children: aspirin and coronary outcomes."),
            doc("globulin", "Intravenous immunoglobulin for Kawasaki disease in children treated early with aspirin.")]
    arrays, tables, stats = ix.build(docs, ix.Settings())
    index = ix.Index.from_memory(arrays, tables, {"settings": ix.Settings().__dict__, "stats": stats})
    question = "Is gammaglobulin effective in Kawasaki disease?"

    def first(char_weight):
        ranked = search.rank(index, question, char_weight=char_weight)
        return tables["doc_ids"][int(index.a["passage.doc"][ranked.passages[0]])]

    assert search.CHAR_WEIGHT == 0.0  # off by default
    assert first(0.0) == "plain"  # shorter; "gammaglobulin" matches no term of either
    assert first(0.6) == "globulin"  # the n-grams of "globulin" are shared with "immunoglobulin"
