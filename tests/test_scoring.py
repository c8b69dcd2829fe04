"""Scores checked against independent implementations: rank-bm25 (okapi), bm25s (lucene), scikit-learn (TF-IDF)."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from qa.index import bm25
from qa.index import tfidf
from qa.text.analyze import analyze, with_bigrams
from qa.search.engine import Engine
from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.readers.corpus import read_documents
from qa.models import Document, Section
from qa.search.rank import bm25_scores, query_terms, rank

from conftest import BEIR, ROOT, SEED, run_subprocess

QUESTIONS = [
    "Does the in-flight environment impair endotracheal intubation by flight nurses?",
    "Is amoxapine an atypical antipsychotic with high 5-HT2 occupancy?",
    "lower limb compartment syndrome after pelvic surgery in the lithotomy position",
    "Can a urology nurse practitioner detect bladder tumours during flexible cystoscopy?",
    "abdominal injury in alcohol-intoxicated blunt trauma patients",
    "antiphospholipid antibodies and avascular necrosis in SLE patients",
    "folic acid supplementation methotrexate toxicity nausea",
    "fatigue and fibromyalgia in primary Sjögren's syndrome",
    "treatment of refractory polymyositis and dermatomyositis with rituximab",
    "patients patients patients treatment",  # repeated query terms count, as in rank-bm25
]


def memory_index(docs, settings=Settings()) -> Index:
    built = build(docs, settings)
    return Index.from_data(built.data, {"settings": settings.__dict__, "stats": built.stats})


@pytest.fixture(scope="module")
def docs():
    return read_documents([BEIR, SEED])


@pytest.fixture(scope="module")
def lucene(docs):
    return memory_index(docs)


@pytest.fixture(scope="module")
def okapi(docs):
    return memory_index(docs, Settings(bm25="okapi"))


def passage_terms(index: Index) -> list[list[str]]:
    return [analyze(index.passages.text[i]) for i in range(index.n_passages)]


def qa_scores(index: Index, question: str) -> np.ndarray:
    """qa's BM25 score of every passage (0 where untouched)."""
    ids, weights = query_terms(index, analyze(question))
    touched, scores = bm25_scores(index, ids, weights)
    full = np.zeros(index.n_passages)
    full[touched] = scores
    return full


def ranking(scores: np.ndarray) -> list[int]:
    """Passages with a positive score, best first, ties by passage order (= doc_id order)."""
    hit = np.flatnonzero(scores > 0)
    return hit[np.lexsort((hit, -scores[hit]))].tolist()


def bm25_order(index: Index, question: str) -> list[int]:
    """qa's own ranking with the TF-IDF rerank turned off."""
    return rank(index, question, weight=0.0, document_weight=0.0).passages.tolist()


# ---------------------------------------------------------------- BM25 okapi == rank_bm25.BM25Okapi


def test_index_covers_both_corpora(okapi):
    docs = {okapi.documents.ids[i] for i in range(okapi.n_documents)}
    assert len(docs) == 9  # 8 BEIR abstracts + the seed
    assert okapi.n_passages > 20


@pytest.mark.parametrize("question", QUESTIONS)
def test_okapi_scores_equal_rank_bm25(okapi, question):
    from rank_bm25 import BM25Okapi

    oracle = BM25Okapi(passage_terms(okapi)).get_scores(analyze(question))
    ours = qa_scores(okapi, question)
    assert oracle.max() > 0
    np.testing.assert_allclose(ours, oracle, rtol=1e-5, atol=1e-6)
    assert bm25_order(okapi, question) == ranking(oracle)


# ---------------------------------------------------------------- BM25 lucene == bm25s lucene


def bm25s_scores(token_lists, question, k1=1.5, b=0.75) -> np.ndarray:
    import bm25s

    retriever = bm25s.BM25(method="lucene", k1=k1, b=b, dtype="float64")
    retriever.index(token_lists, show_progress=False)
    return np.asarray(retriever.get_scores(analyze(question)), dtype=np.float64)


def lucene_formula(token_lists, question, k1=1.5, b=0.75) -> np.ndarray:
    """The Lucene BM25 written out in the test, as a second oracle."""
    n = len(token_lists)
    lengths = np.array([len(t) for t in token_lists], dtype=float)
    avgdl = lengths.mean()
    out = np.zeros(n)
    for term in analyze(question):
        tf = np.array([t.count(term) for t in token_lists], dtype=float)
        df = np.count_nonzero(tf)
        if df == 0:
            continue
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        out += idf * tf / (tf + k1 * (1 - b + b * lengths / avgdl))
    return out


@pytest.mark.parametrize("question", QUESTIONS)
def test_lucene_scores_equal_bm25s_and_the_formula(lucene, question):
    terms = passage_terms(lucene)
    ours = qa_scores(lucene, question)
    oracle = bm25s_scores(terms, question)
    assert oracle.max() > 0
    np.testing.assert_allclose(ours, oracle, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours, lucene_formula(terms, question), rtol=1e-5, atol=1e-6)
    assert bm25_order(lucene, question) == ranking(oracle)


def test_custom_k1_and_b_are_used(docs):
    settings = Settings(k1=1.2, b=0.5)
    index = memory_index(docs, settings)
    question = QUESTIONS[6]
    oracle = bm25s_scores(passage_terms(index), question, k1=1.2, b=0.5)
    np.testing.assert_allclose(qa_scores(index, question), oracle, rtol=1e-5, atol=1e-6)
    # and they matter: the default settings give other scores
    assert not np.allclose(oracle, bm25s_scores(passage_terms(index), question), rtol=1e-3)


def test_lucene_and_okapi_differ(lucene, okapi):
    question = QUESTIONS[1]
    assert not np.allclose(qa_scores(lucene, question), qa_scores(okapi, question), rtol=1e-3)


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError):
        bm25.idf(np.array([1, 2]), 10, "bm42")


# ---------------------------------------------------------------- TF-IDF == scikit-learn


@pytest.fixture(scope="module")
def vectorizer(lucene):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=with_bigrams, sublinear_tf=True)
    matrix = vec.fit_transform(passage_terms(lucene))
    return vec, matrix


def feature_names(index) -> list[str]:
    """qa's features spelt as scikit-learn spells them ('term' / 'term term'), in qa's id order."""
    terms, t = index.terms.names, index.tfidf
    return tfidf.feature_names(len(t.idf), t.term_feature, t.bigrams, t.bigram_feature, lambda i: terms[i])


def to_sklearn_order(index, vec):
    """Map from qa feature id to scikit-learn's column, for the same feature."""
    column = vec.vocabulary_
    return np.asarray([column[name] for name in feature_names(index)])


def test_tfidf_features_and_idf_are_scikit_learns(lucene, vectorizer):
    vec, _ = vectorizer
    assert sorted(feature_names(lucene)) == vec.get_feature_names_out().tolist()
    np.testing.assert_allclose(lucene.tfidf.idf, vec.idf_[to_sklearn_order(lucene, vec)], rtol=1e-12)


def test_stored_passage_rows_equal_scikit_learn_fit_transform(lucene, vectorizer):
    vec, matrix = vectorizer
    t = lucene.tfidf
    order = to_sklearn_order(lucene, vec)
    dense = matrix.toarray()
    rows = np.arange(lucene.n_passages)
    owner, ids, counts = tfidf.gather_rows(t.rows, t.features, t.counts, rows)
    weights = tfidf.row_weights(owner, ids, counts, t.idf, len(rows))
    ours = np.zeros(dense.shape)
    ours[owner, order[ids]] = weights
    np.testing.assert_allclose(ours, dense, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("question", QUESTIONS + ["Is there reason to be optimistic for intravenous gammaglobulin?"])
def test_question_vector_equals_scikit_learn_transform(lucene, vectorizer, question):
    vec, _ = vectorizer
    terms = analyze(question)
    ids, weights = lucene.tfidf_vector(terms)
    row = vec.transform([terms]).tocsr()
    assert len(ids) > 0
    ours = dict(zip(to_sklearn_order(lucene, vec)[ids].tolist(), weights.tolist()))
    theirs = dict(zip(row.indices.tolist(), row.data.tolist()))
    assert ours.keys() == theirs.keys()  # same nonzero features
    np.testing.assert_allclose([ours[k] for k in sorted(ours)], [theirs[k] for k in sorted(ours)], rtol=1e-9)


@pytest.mark.parametrize("question", QUESTIONS[:4])
def test_passage_cosines_equal_scikit_learn(lucene, vectorizer, question):
    vec, matrix = vectorizer
    terms = analyze(question)
    q_ids, q_weights = lucene.tfidf_vector(terms)
    rows = np.arange(lucene.n_passages)
    ours = lucene.cosine(rows, q_ids, q_weights)
    oracle = (matrix @ vec.transform([terms]).T).toarray().ravel()
    assert oracle.max() > 0
    np.testing.assert_allclose(ours, oracle, rtol=1e-12, atol=1e-15)  # weighed in float64 when read


def test_unknown_words_give_an_empty_vector(lucene):
    ids, weights = lucene.tfidf_vector(analyze("zebra giraffe"))
    assert len(ids) == 0 and len(weights) == 0


def test_answering_imports_neither_scikit_learn_nor_scipy(tmp_path):
    home = tmp_path / "home"
    built = run_subprocess(["index"], home)
    assert built.returncode == 0, built.stderr.decode()
    code = (
        "import json, sys\n"
        "from qa.cli.main import main\n"
        "rc = main(['ask', 'Is rituximab used for nonresponding patients?', '--json'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy'))\n"
        "print(json.dumps({'rc': rc, 'heavy': heavy}), file=sys.stderr)\n"
    )
    env = {"QA_HOME": str(home), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=60)
    report = json.loads(proc.stderr.decode().strip().splitlines()[-1])
    result = json.loads(proc.stdout)
    assert report["rc"] == 0
    assert result["hits"], "the question should be answered from the existing index"
    assert report["heavy"] == []


# ---------------------------------------------------------------- query cost follows postings


def postings(index: Index, term_ids) -> set[int]:
    p = index.postings
    out = set()
    for t in term_ids:
        out.update(p.indices[p.indptr[t]:p.indptr[t + 1]].tolist())
    return out


@pytest.mark.parametrize("question", QUESTIONS[:5])
def test_accumulate_touches_only_the_postings_of_the_query_terms(lucene, question):
    p = lucene.postings
    ids, weights = query_terms(lucene, analyze(question))
    touched, scores = bm25.accumulate(p.indptr, p.indices, p.impacts, ids, weights,
                                      lucene.n_passages)
    assert set(touched.tolist()) == postings(lucene, ids.tolist())
    assert len(touched) < lucene.n_passages  # not a scan of every passage
    assert np.all(scores > 0)
    # the touched passages are exactly those whose text has a query term
    wanted = set(analyze(question))
    having = {i for i, terms in enumerate(passage_terms(lucene)) if wanted & set(terms)}
    assert set(touched.tolist()) == having

    # poison every posting that is not a query term's: reading one would show up as NaN or an error
    indptr = p.indptr
    mask = np.ones(len(p.indices), dtype=bool)
    for t in ids.tolist():
        mask[indptr[t]:indptr[t + 1]] = False
    indices = np.array(p.indices).copy()
    impacts = np.array(p.impacts).copy()
    indices[mask] = 2**30
    impacts[mask] = np.nan
    touched2, scores2 = bm25.accumulate(indptr, indices, impacts, ids, weights, lucene.n_passages)
    assert touched2.tolist() == touched.tolist()
    assert scores2.tolist() == scores.tolist()


def test_no_query_terms_touch_nothing(lucene):
    p = lucene.postings
    touched, scores = bm25.accumulate(p.indptr, p.indices, p.impacts,
                                      np.empty(0, np.int64), np.empty(0), lucene.n_passages)
    assert len(touched) == 0 and len(scores) == 0
    assert len(rank(lucene, "What is the capital of France?").passages) == 0


# ---------------------------------------------------------------- ties and determinism


def _doc(doc_id: str, text: str) -> Document:
    return Document(doc_id=doc_id, sections=(Section(None, text),))


TWIN = "Rituximab was given to patients with refractory dermatomyositis."


def test_identical_passages_tie_and_the_smaller_doc_id_ranks_first():
    docs = [_doc("doc-b", TWIN), _doc("doc-c", "Tacrolimus was given to patients with polymyositis."),
            _doc("doc-a", TWIN)]
    result = Engine(memory_index(docs)).ask("rituximab for refractory dermatomyositis", k=3)
    first, second = result["hits"][:2]
    assert (first["doc_id"], second["doc_id"]) == ("doc-a", "doc-b")
    assert first["score"] == second["score"] and first["bm25"] == second["bm25"]


def test_ties_beyond_the_candidate_cut_keep_the_smallest_doc_ids():
    # 120 identical passages, 5 better ones, but only 100 BM25 candidates: the 95 twins kept are
    # the ones with the smallest ids, whatever order the documents came in
    ids = [f"d{i:03d}" for i in range(120)]
    better = [f"e{i}" for i in range(5)]
    docs = [_doc(i, TWIN) for i in ids] + [_doc(i, "Rituximab in dermatomyositis.") for i in better]
    random.Random(7).shuffle(docs)
    docs.append(_doc("a-other", "Tacrolimus for polymyositis."))
    index = memory_index(docs)
    ranked = rank(index, "rituximab dermatomyositis")
    doc_of = [index.documents.ids[index.passage_doc(p)] for p in ranked.passages]
    assert doc_of == better + ids[:95]
    hits = Engine(index).ask("rituximab dermatomyositis", k=8)["hits"]
    assert [h["doc_id"] for h in hits] == better + ids[:3]


def test_same_question_gives_identical_json_every_time(docs):
    results = set()
    for _ in range(2):
        engine = Engine(memory_index(docs))  # a fresh build each time
        for question in QUESTIONS[:3]:
            results.add(json.dumps([question, engine.ask(question)], sort_keys=False))
    assert len(results) == 3


# ---------------------------------------------------------------- block-wise build == one block


def test_block_wise_build_equals_a_single_block(docs, monkeypatch):
    """Large builds work in blocks of passages; block edges must not change a single number."""
    from qa.index import build as build_module, layout

    whole = build(docs, Settings()).data
    monkeypatch.setattr(build_module, "BLOCK", 3)
    monkeypatch.setattr(tfidf, "BLOCK", 5)
    blocked = build(docs, Settings()).data
    assert len(docs) > 5 and whole.passages.doc.size > 10  # several blocks really happen
    for (field, value), (_, other) in zip(layout.items(whole), layout.items(blocked)):
        if field.table:
            assert list(other) == list(value), field.file
        else:
            np.testing.assert_array_equal(other, value, err_msg=field.file)


# ---------------------------------------------------------------- fast paths == straightforward BM25


@pytest.mark.parametrize("seed", range(12))
def test_ranking_equals_the_straightforward_computation_on_random_corpora(seed):
    """Sparse and dense accumulation, top-k selection and ties: the ranking equals a plain
    per-passage formula sorted by (score desc, passage asc), on random corpora."""
    import random

    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(rng.randint(3, 40))]
    n = rng.randint(5, 300)
    docs = [Document(doc_id=f"d{i:04d}", sections=(Section(None, " ".join(
        rng.choice(vocab[: rng.randint(1, len(vocab))]) for _ in range(rng.randint(1, 12)))),))
        for i in range(n)]
    built = build(docs, Settings(), whole_documents=True)
    index = Index.from_data(built.data, {"stats": built.stats, "settings": Settings().__dict__})
    token_lists = [analyze(t) for t in built.data.passages.text]
    for _ in range(5):
        question = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 4)))
        expected = lucene_formula(token_lists, question)
        matching = [i for i in range(n) if expected[i] > 0]
        k = rng.randint(1, n)
        got = rank(index, question, candidates=k, weight=0.0, document_weight=0.0).passages.tolist()
        assert len(got) == min(k, len(matching)) and set(got) <= set(matching)
        scores = expected[got]
        assert all(a >= b - 1e-5 for a, b in zip(scores, scores[1:])), "best first"
        rest = [expected[i] for i in matching if i not in got]
        assert not rest or max(rest) <= scores.min() + 1e-5, "the top k, not any k"
        for (i, a), (j, b) in zip(zip(got, scores), zip(got[1:], scores[1:])):
            if abs(a - b) < 1e-9:
                assert i < j, "ties broken by id"
