"""The fast paths give what the full paths give, to the bit: a TREC run ranks documents without
making hits or answers, answer sentences are scored all at once, whole-document BM25 reads only
the candidates' postings, small tables are dicts, BM25 sums into reused buffers. Each test puts
the fast path next to the straightforward computation it replaces."""
from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from conftest import BEIR, BEIR_EXTRA, FIXTURES, SEED

QUESTIONS = [json.loads(line)["text"] for line in
             (FIXTURES / "pubmedqa-8.queries.jsonl").read_text("utf-8").splitlines() if line.strip()] + [
    "Is rituximab an option for refractory dermatomyositis?",
    "Which drugs give reason to be optimistic for nonresponding patients?",
    "is rituximba good for dermatomyosits",  # spelling corrected
    "Does IVIG help?", "what doses of methotrexate are used", "side effects of cyclosporine",
    "Lancet 2003", "Curr Rheumatol Rep year:2006", "who wrote the review?", "helicopter intubation",
    "amoxapine PET", "folic acid methotrexate", "anti Jo1 antibodies", "world cup football results",
    "methyl prednisolone pulses", "the", "",
]


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    import os

    from qa.index.layout import Settings
    from qa.index.open_index import open_index

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("QA_HOME")
    os.environ["QA_HOME"] = str(home)
    try:
        out = [open_index(paths, Settings(), warn=lambda m: None)[0]
               for paths in ([str(BEIR)], [str(SEED), str(BEIR), str(BEIR_EXTRA)])]
    finally:
        if old is None:
            os.environ.pop("QA_HOME", None)
        else:
            os.environ["QA_HOME"] = old
    return out


def trec_text(results) -> str:
    from qa.cli.batch_io import ResultWriter

    out = io.StringIO()
    writer = ResultWriter("trec", out)
    for result in results:
        writer.write(result)
    writer.close()
    return out.getvalue()


@pytest.mark.parametrize("k", [1, 3, 10])
def test_a_trec_run_ranks_the_documents_ask_ranks_with_their_scores(indexes, k):
    from qa.cli.batch_io import Question
    from qa.cli.workers import InProcess
    from qa.search.engine import Engine

    for index in indexes:
        engine = Engine(index)
        for question in QUESTIONS:
            if not question:
                continue
            hits = engine.ask(question, k=k, per_document=True)["hits"]
            assert engine.rank_documents(question, k=k) == [(h["doc_id"], h["doc_score"]) for h in hits], question
        questions = [Question(str(i), q, error=None if q else "empty question") for i, q in enumerate(QUESTIONS)]
        full = [engine.ask(q.question, k=k, qid=q.id, per_document=True) if not q.error else
                {"id": q.id, "hits": []} for q in questions]
        fast = [result for _, _, result in InProcess(engine, questions, k=k, per_document=True, filters=None,
                                                      fmt="trec")]
        assert trec_text(fast) == trec_text(full) and trec_text(full)


@pytest.mark.parametrize("weight,document_weight", [(0.5, 0.0), (0.9, 0.0), (0.5, 0.5), (0.3, 0.9), (1.0, 0.2)])
def test_leaving_out_candidates_out_of_reach_keeps_the_first_documents(indexes, weight, document_weight):
    # with little weight on the documents, the cosine decides: only what can reach may be left out
    from qa.search import rank as search

    for index in indexes:
        for question in QUESTIONS:
            if not question:
                continue
            full = search.rank(index, question, weight=weight, document_weight=document_weight)
            for k in (1, 2, 4):
                fast = search.rank(index, question, weight=weight, document_weight=document_weight, documents_wanted=k)
                expected = [(int(full.passages[p]), float(full.final[p])) for p in search.best_per_document(index, full, k)]
                got = [(int(fast.passages[p]), float(fast.final[p])) for p in search.best_per_document(index, fast, k)]
                assert got == expected, (question, k)


def test_with_the_semantic_stage_too_a_trec_run_ranks_as_ask(indexes, tmp_path, monkeypatch):
    from qa.search import dense
    from qa.search.engine import Engine
    from qa.text.encoder import Encoder

    if Encoder.unavailable() is not None:
        pytest.skip(Encoder.unavailable())
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    index = indexes[1]
    engine = Engine(index, semantic=dense.stage(index, embed_up_to=10_000, warn=lambda m: None))
    assert engine.semantic is not None
    questions = [q for q in QUESTIONS if q] + ["kids with muscle weakness", "what helps when steroids fail"]
    engine.prepare(questions)  # embedded together, as a batch does
    for k in (1, 5):
        for question in questions:
            hits = engine.ask(question, k=k, per_document=True)["hits"]
            assert engine.rank_documents(question, k=k) == [(h["doc_id"], h["doc_score"]) for h in hits], question


def test_answer_sentences_scored_together_score_as_one_by_one(indexes):
    from qa.search import answer
    from qa.search import rank as search
    from qa.text.analyze import analyze
    from qa.text.sentences import split_sentences

    for index in indexes:
        texts = [index.passages.text[p] for p in range(index.n_passages)]
        for question in QUESTIONS[:12]:
            ranked = search.rank(index, question)
            if not len(ranked.q_ids):
                continue
            q = dict(zip(ranked.q_ids.tolist(), ranked.q_weights.tolist()))
            sentences = [s for t in texts[:60] for s in split_sentences(t)] + ["", "the of and", "Lancet. 2003"]
            scorer = answer.SentenceScorer(index, ranked.q_ids, ranked.q_weights)
            scorer.score(sentences)
            for s in sentences:
                ids, weights = index.tfidf_vector_of_ids(index.term_ids(analyze(s)))
                alone = math.fsum(q.get(i, 0.0) * w for i, w in zip(ids.tolist(), weights.tolist()))
                assert scorer.cosine(s) == alone, s


def test_vectors_of_several_texts_equal_each_text_alone(indexes):
    from qa.text.analyze import analyze

    index = indexes[1]
    texts = [index.passages.text[p] for p in range(0, index.n_passages, 3)] + ["", "unknownword xyzzy", "the"]
    ids_lists = [index.term_ids(analyze(t)) for t in texts]
    owner, ids, weights = index.tfidf_vectors_of_ids(ids_lists)
    for j, term_ids in enumerate(ids_lists):
        alone_ids, alone_weights = index.tfidf_vector_of_ids(term_ids)
        assert ids[owner == j].tolist() == alone_ids.tolist()
        assert weights[owner == j].tobytes() == alone_weights.tobytes()


def test_row_sums_of_grouped_rows_equal_the_sorted_sums():
    from qa.index import tfidf

    rng = np.random.default_rng(3)
    for _ in range(50):
        lengths = rng.integers(0, 40, size=rng.integers(1, 30))
        owner = np.repeat(np.arange(len(lengths)), lengths)
        values = rng.random(len(owner)) ** 3
        order = np.lexsort((values, owner))  # the definition: each row's values added in ascending order
        expected = np.zeros(len(lengths))
        for row in range(len(lengths)):
            mine = values[order][owner[order] == row]
            if len(mine):
                expected[row] = np.add.reduceat(mine, [0])[0]
        assert tfidf.row_sums(owner, values, len(lengths)).tobytes() == expected.tobytes()
        shuffled = rng.permutation(len(owner))  # not grouped: the general path
        assert tfidf.row_sums(owner[shuffled], values[shuffled], len(lengths)).tobytes() == expected.tobytes()


def document_scores_from_all_postings(index, ids, weights, docs):
    """Whole-document BM25 as first written: every posting of the question's terms, cells by
    (term, document), df over all documents."""
    from qa.index import bm25
    from qa.search.documents import REFERENCE, lengths

    docs = np.asarray(docs, dtype=np.int64)
    out = np.zeros(len(docs))
    p = index.postings
    starts, ends = p.indptr[ids], p.indptr[np.asarray(ids) + 1]
    sizes = ends - starts
    total = int(sizes.sum())
    if total == 0 or len(docs) == 0:
        return out
    offsets = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(total)
    passages = np.asarray(p.indices)[offsets]
    tf = np.asarray(p.tf)[offsets].astype(np.float64)
    term = np.repeat(np.arange(len(ids)), sizes)
    own = np.asarray(index.passages.kind)[passages] != REFERENCE
    if not own.any():
        return out
    passages, tf, term = passages[own], tf[own], term[own]
    doc = np.asarray(index.passages.doc)[passages].astype(np.int64)
    first = np.flatnonzero(np.concatenate([[True], (term[1:] != term[:-1]) | (doc[1:] != doc[:-1])]))
    cell_tf, cell_term, cell_doc = np.add.reduceat(tf, first), term[first], doc[first]
    df = np.bincount(cell_term, minlength=len(ids))
    idf = np.log1p((index.n_documents - df + 0.5) / (df + 0.5))
    length = lengths(index)
    norm = bm25.K1 * (1.0 - bm25.B + bm25.B * length[cell_doc] / (float(length.mean()) or 1.0))
    contribution = np.asarray(weights, dtype=np.float64)[cell_term] * idf[cell_term] * cell_tf / (cell_tf + norm)
    at = np.minimum(np.searchsorted(docs, cell_doc), len(docs) - 1)
    wanted = docs[at] == cell_doc
    return np.bincount(at[wanted], weights=contribution[wanted], minlength=len(docs))


def test_whole_document_scores_from_the_candidates_postings_equal_those_from_all(indexes):
    from qa.search import documents
    from qa.search import rank as search
    from qa.text.analyze import analyze

    for index in indexes:
        for question in QUESTIONS:
            ids, weights = search.query_terms(index, analyze(question))
            if not len(ids):
                continue
            touched, _ = search.bm25_scores(index, ids, weights)
            for docs in (np.unique(np.asarray(index.passages.doc)[touched]), np.arange(index.n_documents),
                         np.unique(np.asarray(index.passages.doc)[touched])[::2]):
                fast = documents.scores(index, ids, weights, docs)
                assert fast.tobytes() == document_scores_from_all_postings(index, ids, weights, docs).tobytes()


def test_bm25_sums_in_reused_buffers_as_in_fresh_arrays():
    from qa.index import bm25

    rng = np.random.default_rng(5)
    n = 5000
    buffers = bm25.Buffers(n)
    for _ in range(30):
        terms = rng.integers(1, 6)
        lists = [np.unique(rng.integers(0, n, size=rng.integers(1, 3000))) for _ in range(terms)]
        indptr = np.concatenate([[0], np.cumsum([len(x) for x in lists])])
        indices = np.concatenate(lists)
        data = rng.random(len(indices)).astype(np.float32)
        ids, weights = np.arange(terms), rng.random(terms) + 0.25
        fresh = bm25.accumulate(indptr, indices, data, ids, weights, n)
        reused = bm25.accumulate(indptr, indices, data, ids, weights, n, buffers)
        assert fresh[0].tolist() == reused[0].tolist() and fresh[1].tobytes() == reused[1].tobytes()
        assert not buffers.scores.any() and not buffers.seen.any()  # left clean for the next question


def test_abbreviations_and_spacing_read_as_dicts_expand_as_searched_tables(indexes, monkeypatch):
    from qa.search.engine import Engine
    from qa.text import abbreviations, spacing

    words = QUESTIONS + ["CPAP or continuous positive airway pressure?", "IVIg for kids", "ivig", "MR imaging",
                         "pre operative care", "anti-jo-1", "methylprednisolone", "intravenous immunoglobulin"]
    for index in indexes:
        as_dicts = [Engine(index).expand(q) for q in words]
        monkeypatch.setattr(abbreviations, "DICT_ROWS", -1)
        monkeypatch.setattr(spacing.Corpus, "DICT_ROWS", -1)
        searched = [Engine(index).expand(q) for q in words]
        monkeypatch.undo()
        assert [(e.text, e.expansions, e.added) for e in as_dicts] == [(e.text, e.expansions, e.added) for e in searched]


def test_the_first_terms_of_words_stemmed_together_are_those_analyze_gives():
    from qa.text.analyze import analyze, first_terms
    from qa.text.spelling import word_ranks

    words = list(word_ranks())[:8000] + ["haemoglobin", "effective", "useful", "careful", "what's", "IL-6", "the",
                                         "Tumour", "naïve", "fulness", "x"]
    assert first_terms(words) == [(analyze(w)[:1] or [None])[0] for w in words]


def test_batch_processes_keep_freed_memory_where_glibc_allows(tmp_path):
    import subprocess
    import sys

    code = "from qa.cli.allocator import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    import platform

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert out == ("True" if glibc else out)  # glibc: the thresholds were raised; elsewhere a no-op


def test_the_common_words_as_sorted_arrays_rank_as_the_list_does(tmp_path, monkeypatch):
    from qa.text import spelling

    monkeypatch.setenv("QA_HOME", str(tmp_path))
    expected = spelling._read_word_ranks()
    for _ in range(2):  # made, then read back from the cache
        spelling.word_ranks.cache_clear()
        ranks = spelling.word_ranks()
        assert list(ranks.items()) == list(expected.items())
        for word in ["the", "pregnancy", "rituximab", "", "The", "naïve", "x" * 40, "a\0", "world"]:
            assert ranks.get(word) == expected.get(word) and (word in ranks) == (word in expected), word
    spelling.word_ranks.cache_clear()
