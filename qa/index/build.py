"""Documents -> everything an index holds (qa/index/layout.py), in memory, one stage a function.

Passages are numbered in document-id order (ties between equal scores break by id); each
distinct surface word is analysed once and passages become arrays of word ids, then of term
ids; everything after is array algebra, block by block to bound the memory of a large build.
"""
from __future__ import annotations

import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.index import bm25 as bm25_formula, tfidf
from qa.index.layout import (KINDS, Abbreviations, Authors, Documents, IndexData, Passages, Postings, Settings,
                             Terms, Tfidf, Words, text_hash)
from qa.models import Document, Passage
from qa.readers.ids import surname
from qa.readers.records import document_to_json
from qa.text import abbreviations, chunk, spacing
from qa.text.analyze import analyze, fold, terms_of_word, words as surface_words

BLOCK = 1 << 16  # passages per block of array work: bounds the temporaries of a large build
MIN_SPELLING_WORD = 4  # shorter words are never offered as spelling corrections


@dataclass
class Built:
    """A build's data and the statistics its manifest records."""

    data: IndexData
    stats: dict


@dataclass
class _Analysis:
    """The passages' terms: flat term ids in passage order, and where each passage starts."""

    flat: np.ndarray  # term ids (positions in vocabulary), int32
    starts: np.ndarray  # offsets of each passage's terms, len N + 1
    vocabulary: list[str]  # sorted by UTF-8 bytes
    word_list: list[str]  # distinct surface words, in order of first appearance
    word_count: np.ndarray  # occurrences of each surface word
    term_id: dict[str, int]  # term -> position in vocabulary

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts).astype(np.int32)


def build(docs: list[Document], settings: Settings, progress=None, whole_documents: bool = False,
          timings: dict | None = None) -> Built:
    """Everything an index of `docs` holds.

    whole_documents: each document is one passage as it is (no windows, no metadata or
    reference passages), for corpora that come already cut into passages.
    timings: if given, gets the seconds spent up to the BM25 impacts (chunking, analysis,
    postings; what a BM25 library does) as "bm25_s", and in all as "total_s".
    """
    started = time.perf_counter()
    docs = sorted(docs, key=lambda d: d.doc_id)  # passage order = id order: ties break by id
    passages, passage_doc = passages_of(docs, whole_documents)
    analysis = analyse(passages, progress)
    postings, avgdl = bm25_postings(analysis, settings)
    if timings is not None:
        timings["bm25_s"] = time.perf_counter() - started
    content = content_terms(passages, analysis)
    words = spelling_words(analysis)
    tfidf_data = Tfidf(**{k.removeprefix("tfidf."): v for k, v in
                          tfidf.fit(analysis.flat, analysis.starts, len(analysis.vocabulary)).items()})
    documents, authors = document_columns(docs)
    definitions = abbreviations.definitions(abbreviation_texts(docs))
    data = IndexData(
        passages=passage_columns(passages, passage_doc, analysis.lengths),
        documents=documents, authors=authors, postings=postings,
        terms=Terms(names=analysis.vocabulary, content=content, hyphenated=spacing.table_of(analysis.vocabulary)),
        tfidf=tfidf_data, words=words, abbreviations=abbreviation_tables(definitions))
    stats = {"documents": len(docs), "passages": len(passages), "terms": len(analysis.vocabulary),
             "features": len(tfidf_data.idf), "avgdl": avgdl, "abbreviations": len(data.abbreviations.short),
             "whole_documents": whole_documents}
    if timings is not None:
        timings["total_s"] = time.perf_counter() - started
    return Built(data, stats)


def passages_of(docs: list[Document], whole_documents: bool) -> tuple[list[Passage], list[int]]:
    """The passages of documents in order, and the document number of each."""
    passages: list[Passage] = []
    passage_doc: list[int] = []
    for i, doc in enumerate(docs):
        ps = chunk.whole(doc) if whole_documents else chunk.passages(doc)
        passages.extend(ps)
        passage_doc.extend([i] * len(ps))
    return passages, passage_doc


def analyse(passages: list[Passage], progress=None) -> _Analysis:
    """Each distinct surface word analysed once; passages as term ids of a sorted vocabulary."""
    n = len(passages)
    word_ids = _Ids()
    flat_words = array("i")
    word_starts = array("q", [0])
    for i, p in enumerate(passages):
        flat_words.extend([word_ids[w] for w in surface_words(p.text)])
        word_starts.append(len(flat_words))
        if progress and i % 20000 == 0:
            progress(i, n)
    word_list = list(word_ids)
    term_ids = _Ids()
    word_terms = [[term_ids[t] for t in terms_of_word(w)] for w in word_list]
    vocabulary = sorted(term_ids, key=lambda t: t.encode("utf-8"))
    sorted_id = np.empty(len(vocabulary), dtype=np.int32)
    sorted_id[[term_ids[t] for t in vocabulary]] = np.arange(len(vocabulary), dtype=np.int32)
    flat_words_a = np.frombuffer(flat_words, dtype=np.int32)
    flat, starts = _terms_of_tokens(flat_words_a, np.frombuffer(word_starts, dtype=np.int64), word_terms,
                                    sorted_id)
    word_count = np.bincount(flat_words_a, minlength=len(word_list))
    term_id = {t: int(sorted_id[i]) for t, i in term_ids.items()}
    return _Analysis(flat, starts, vocabulary, word_list, word_count, term_id)


def content_terms(passages: list[Passage], analysis: _Analysis) -> np.ndarray:
    """Content terms: all terms of body text; of labelled passages only their values."""
    content = np.zeros(len(analysis.vocabulary), dtype=bool)
    body = np.asarray([p.content is None for p in passages], dtype=bool)
    content[analysis.flat[np.repeat(body, analysis.lengths)]] = True
    for p in passages:
        if p.content is not None:
            content[[analysis.term_id[t] for t in analyze(p.content) if t in analysis.term_id]] = True
    return content


def bm25_postings(analysis: _Analysis, settings: Settings) -> tuple[Postings, float]:
    """BM25 postings grouped by term (CSC), each weighed; and the average passage length."""
    n_terms = len(analysis.vocabulary)
    postings_term, indices, tf = _postings(analysis.flat, analysis.starts, n_terms)
    df = np.bincount(postings_term, minlength=n_terms)
    del postings_term  # one posting-sized array less from here on
    lengths = analysis.lengths
    n = len(lengths)
    avgdl = float(lengths.mean()) if n else 1.0
    impacts = bm25_formula.posting_impacts(tf, indices, lengths, df, n, avgdl or 1.0, settings.bm25,
                                           settings.k1, settings.b)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    return Postings(indptr=indptr, indices=indices, impacts=impacts, tf=tf), avgdl


def spelling_words(analysis: _Analysis) -> Words:
    """Surface words (not stems) and their counts: what spelling correction and completion offer."""
    words = analysis.word_list
    keep = [i for i, w in enumerate(words) if len(w) >= MIN_SPELLING_WORD and w.isalpha()]
    keep.sort(key=lambda i: words[i].encode("utf-8"))
    return Words(names=[words[i] for i in keep],
                 count=np.asarray([int(analysis.word_count[i]) for i in keep], dtype=np.int64))


def passage_columns(passages: list[Passage], passage_doc: list[int], lengths: np.ndarray) -> Passages:
    sections = sorted({p.section for p in passages if p.section})
    section_id = {s: i for i, s in enumerate(sections)}
    return Passages(
        text=[p.text for p in passages],
        doc=np.asarray(passage_doc, dtype=np.int32),
        n=np.asarray([p.n for p in passages], dtype=np.int32),
        kind=np.asarray([KINDS.index(p.kind) for p in passages], dtype=np.int8),
        section=np.asarray([section_id.get(p.section, -1) for p in passages], dtype=np.int32),
        ref=np.asarray([p.reference_number or 0 for p in passages], dtype=np.int32),
        length=lengths, hash=passage_hashes(passages), section_names=sections)


def passage_hashes(passages: list[Passage]) -> np.ndarray:
    return np.fromiter((text_hash(p.text) for p in passages), dtype=np.uint64, count=len(passages))


def journal_key(doc: Document) -> str:
    """What the journal filter matches: the folded abbreviation and full title."""
    return fold(" | ".join(x for x in (doc.journal, doc.journal_full) if x))


def author_keys(doc: Document) -> list[str]:
    """What the author filter matches: the folded surname of each author."""
    return [fold(surname(name)) for name in doc.authors]


def document_columns(docs: list[Document]) -> tuple[Documents, Authors]:
    """Per-document columns that filters read: journal ids, and surname -> documents postings."""
    journal_keys = [journal_key(d) for d in docs]
    journals = sorted({k for k in journal_keys if k})
    journal_id = {k: i for i, k in enumerate(journals)}
    by_surname: dict[str, set[int]] = {}
    for i, d in enumerate(docs):
        for key in author_keys(d):
            by_surname.setdefault(key, set()).add(i)
    surnames = sorted(by_surname, key=lambda s: s.encode("utf-8"))
    lists = [sorted(by_surname[s]) for s in surnames]
    indptr = np.concatenate([[0], np.cumsum([len(x) for x in lists], dtype=np.int64)]).astype(np.int64)
    documents = Documents(
        ids=[d.doc_id for d in docs], records=_JsonRecords(docs),
        year=np.asarray([int(d.year) if d.year else 0 for d in docs], dtype=np.int32),
        journal=np.asarray([journal_id.get(k, -1) for k in journal_keys], dtype=np.int32),
        journal_names=journals)
    authors = Authors(surnames=surnames, indptr=indptr,
                      docs=np.asarray([i for x in lists for i in x], dtype=np.int32))
    return documents, authors


def abbreviation_texts(docs):
    """Each title and section read once, not per overlapping passage window, so a definition
    pair's count is how many times the corpus defines it."""
    return (t for d in docs for t in (d.title, *(s.text for s in d.sections)))


def abbreviation_tables(definitions) -> Abbreviations:
    short, long = abbreviations.tables_of(definitions)
    return Abbreviations(short=short, long=long, definitions=abbreviations.definition_rows(definitions))


def _blocks(n: int):
    return [(lo, min(lo + BLOCK, n)) for lo in range(0, n, BLOCK)] or [(0, 0)]


def _terms_of_tokens(flat_words, word_starts, word_terms, sorted_id):
    """Expand word ids into term ids (a stop word gives none, a compound several).

    Returns (term ids of all passages in order, int32; offsets of each passage's terms)."""
    per_word = np.asarray([len(t) for t in word_terms], dtype=np.int32)
    word_first = np.concatenate([[0], np.cumsum(per_word, dtype=np.int64)])
    word_term_flat = sorted_id[np.asarray([t for ts in word_terms for t in ts], dtype=np.int64)]
    pieces, starts = [], [np.zeros(1, np.int64)]
    done = 0
    for lo, hi in _blocks(len(word_starts) - 1):
        a, b = int(word_starts[lo]), int(word_starts[hi])
        words = flat_words[a:b]
        counts = per_word[words]
        first = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        local = np.arange(int(first[-1])) - np.repeat(first[:-1], counts)
        pieces.append(word_term_flat[np.repeat(word_first[words], counts) + local])
        starts.append(done + first[word_starts[lo + 1:hi + 1] - a])
        done += int(first[-1])
    flat = np.concatenate(pieces).astype(np.int32) if pieces else np.empty(0, np.int32)
    return flat, np.concatenate(starts)


def _postings(flat, starts, n_terms: int):
    """(term, passage, count) of every distinct term in every passage, ordered by term then passage.

    Each block's cells come sorted by term; the blocks are placed into their terms' slots by
    counting (df per term, then a cursor per term), so no sort over all postings is needed."""
    blocks = []
    df = np.zeros(n_terms, dtype=np.int64)
    for lo, hi in _blocks(len(starts) - 1):
        a, b = int(starts[lo]), int(starts[hi])
        owner = np.repeat(np.arange(hi - lo, dtype=np.int64), np.diff(starts[lo:hi + 1]))
        cells, tf = np.unique(flat[a:b].astype(np.int64) * BLOCK + owner, return_counts=True)
        term = (cells // BLOCK).astype(np.int32)
        df += np.bincount(term, minlength=n_terms)
        blocks.append((term, (cells % BLOCK + lo).astype(np.int32), tf.astype(np.int32)))
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    cursor = indptr[:-1].copy()
    passages = np.empty(int(indptr[-1]), dtype=np.int32)
    counts = np.empty(int(indptr[-1]), dtype=np.int32)
    while blocks:  # blocks come in passage order, so each term's postings stay sorted by passage
        term, passage, tf = blocks.pop(0)
        rank = np.arange(len(term)) - np.searchsorted(term, term)  # place within its term in this block
        where = cursor[term] + rank
        passages[where], counts[where] = passage, tf
        cursor += np.bincount(term, minlength=n_terms)
    terms = np.repeat(np.arange(n_terms, dtype=np.int32), df)
    return terms, passages, counts


class _JsonRecords(Sequence):
    """Documents as JSON lines, made one at a time as the table is written: a million records
    are never all held as strings at once."""

    def __init__(self, docs: list[Document]):
        self._docs = docs

    def __len__(self) -> int:
        return len(self._docs)

    def __getitem__(self, i):
        return document_to_json(self._docs[i])

    def __eq__(self, other) -> bool:
        return list(self) == list(other)


class _Ids(dict):
    """Assigns 0, 1, 2, ... to keys in order of first appearance."""

    def __missing__(self, key):
        i = self[key] = len(self)
        return i
