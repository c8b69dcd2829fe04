"""Add documents to a built index without rebuilding it: the result equals a full build.

A full build numbers documents and passages in id order, terms in byte order, and weighs every
BM25 posting with the corpus's N, document frequencies and average length. An update keeps
all of that: the new documents' passages are analysed alone, their postings are inserted into
each term's list where they belong, the old passages and terms are renumbered (a shift, computed
as arrays), and every impact is recomputed from the stored term counts and lengths.

What stays as it was is not rewritten: the large string tables (documents, passages) and the
TF-IDF rows get one more part holding only the new entries, and the earlier parts are linked
from the previous build. TF-IDF features keep their ids; new terms and bigrams get new ids and
their idf is computed exactly, as is every other feature's, from the stored document frequencies.

Not handled here (the caller rebuilds instead): a new document whose id is already indexed.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from qa.index import bm25 as bm25_formula, checksums, tfidf
from qa.index.build import abbreviation_tables, abbreviation_texts, author_keys, journal_key, passage_hashes
from qa.index.layout import (KINDS, Authors, Documents, IndexData, Passages, Postings, Terms, Tfidf, Words)
from qa.index.parts import MAX_PARTS, part_name
from qa.index.reader import Index
from qa.index.strings import spans_of
from qa.models import Document
from qa.readers.records import document_to_json
from qa.text import abbreviations, chunk, spacing
from qa.text.analyze import analyze, words as surface_words


class NeedsRebuild(Exception):
    """The update cannot be made exactly; build the index from scratch instead."""


def _insert_positions(old_sorted_table, keys: list[str]) -> np.ndarray:
    """For keys sorted by UTF-8 bytes and absent from the table: how many table entries precede each."""
    return np.asarray([old_sorted_table.lower_bound(k.encode("utf-8")) for k in keys], dtype=np.int64)


def _shift(before: np.ndarray, n_old: int) -> np.ndarray:
    """New position of each old entry when entries are inserted before positions `before` (sorted)."""
    return np.arange(n_old, dtype=np.int64) + np.searchsorted(before, np.arange(n_old), side="right")


@dataclass
class _Placement:
    """Where the new documents and passages go among the old ones, and where the old ones move."""
    docs: list[Document]  # the new documents, by id
    passages: list  # their passages, in final order
    counts: np.ndarray  # passages of each new document
    doc_before: np.ndarray  # old documents before each new one
    old_doc_pos: np.ndarray  # final position of each old document
    passage_before: np.ndarray  # old passages before each new passage
    old_passage_pos: np.ndarray  # final position of each old passage

    @property
    def new_doc_pos(self) -> np.ndarray:
        return self.doc_before + np.arange(len(self.docs))

    @property
    def new_passage_pos(self) -> np.ndarray:
        return self.passage_before + np.arange(len(self.passages))


@dataclass
class _Vocabulary:
    """The vocabulary grown by the new passages' terms (kept sorted: ids are positions)."""
    fresh: list[str]  # new terms, sorted by UTF-8 bytes
    before: np.ndarray  # old terms before each new one
    old_pos: np.ndarray  # final id of each old term
    ids: dict[str, int]  # final id of every term of the new passages
    find: object  # old term -> old id, or -1

    def __len__(self) -> int:
        return len(self.old_pos) + len(self.fresh)

    def id_of(self, term: str) -> int | None:
        """Final id of any term, None when it is not indexed."""
        i = self.ids.get(term)
        if i is None:
            old = self.find(term)
            i = int(self.old_pos[old]) if old >= 0 else None
        return i


@dataclass
class Extension:
    """An index with documents added, as qa/index/store.py saves it. `data` leaves out what is
    kept in parts (passage texts, document ids and records, TF-IDF entries: None there); `arrays`
    holds their new spans and parts by file stem, `blobs` the new string parts, `linked` the
    earlier parts' files; `parts` counts the parts of each."""

    data: IndexData
    arrays: dict
    blobs: dict
    linked: dict
    parts: dict
    stats: dict


def extend(old: Index, new_docs: list[Document]) -> Extension:
    """The index `old` with new_docs added: equal to a full build of all the documents."""
    docs = sorted(new_docs, key=lambda d: d.doc_id)
    if not docs:
        raise NeedsRebuild("nothing to add")
    if old.manifest.get("block_size") != checksums.BLOCK:
        raise NeedsRebuild("the linked files' block checksums are of another block size")
    ids = [d.doc_id for d in docs]
    if len(set(ids)) != len(ids) or any(old.document_index(i) >= 0 for i in ids):
        raise NeedsRebuild("a new document has an id already in the index")

    place = _place(old, docs)
    terms_of = [analyze(p.text) for p in place.passages]
    vocab = _vocabulary(old, terms_of)
    n = old.n_passages + len(place.passages)
    postings, lengths = _bm25(old, place, vocab, terms_of)
    tfidf_data, new_entries = _tfidf(old, place, vocab, terms_of, n)
    passages, documents, authors, words = _columns(old, place, lengths)
    terms = Terms(names=_merged(old.terms.names, vocab.fresh, vocab.before),
                  content=_content(old, place, vocab, terms_of),
                  # the table is a function of the vocabulary, which only grows: old rows + new terms
                  hyphenated=spacing.merged(old.terms.hyphenated, vocab.fresh))
    definitions = abbreviations.definitions_from_rows(old.abbreviations.definitions[i]
                                                      for i in range(len(old.abbreviations.definitions)))
    definitions.update(abbreviations.definitions(abbreviation_texts(docs)))
    data = IndexData(passages=passages, documents=documents, authors=authors, postings=postings, terms=terms,
                     tfidf=tfidf_data, words=words, abbreviations=abbreviation_tables(definitions))
    arrays, blobs, linked, parts = _parts(old, place, new_entries)
    avgdl = float(lengths.mean()) if n else 1.0
    stats = {"documents": old.n_documents + len(docs), "passages": n, "terms": len(vocab),
             "features": len(tfidf_data.idf), "avgdl": avgdl, "abbreviations": len(data.abbreviations.short),
             "whole_documents": bool(old.manifest["stats"].get("whole_documents", False))}
    return Extension(data, arrays, blobs, linked, parts, stats)


def _place(old: Index, docs: list[Document]) -> _Placement:
    whole = bool(old.manifest["stats"].get("whole_documents", False))
    doc_before = _insert_positions(old.documents.ids, [d.doc_id for d in docs])
    per_doc = [chunk.whole(d) if whole else chunk.passages(d) for d in docs]
    counts = np.asarray([len(ps) for ps in per_doc], dtype=np.int64)
    first_of_doc = np.searchsorted(np.asarray(old.passages.doc), doc_before, side="left")
    passage_before = np.repeat(first_of_doc, counts)
    return _Placement(docs, [p for ps in per_doc for p in ps], counts, doc_before,
                      _shift(doc_before, old.n_documents), passage_before, _shift(passage_before, old.n_passages))


def _vocabulary(old: Index, terms_of: list[list[str]]) -> _Vocabulary:
    """The vocabulary is the terms of passage texts: those of the new ones join it."""
    find = old.terms.names.find
    known = {x: find(x) for x in {x for ts in terms_of for x in ts}}
    fresh = sorted((x for x, i in known.items() if i < 0), key=lambda s: s.encode("utf-8"))
    before = _insert_positions(old.terms.names, fresh)
    old_pos = _shift(before, len(old.terms.names))
    ids = {x: int(old_pos[i]) for x, i in known.items() if i >= 0}
    ids.update({x: int(before[k] + k) for k, x in enumerate(fresh)})
    return _Vocabulary(fresh, before, old_pos, ids, find)


def _bm25(old: Index, place: _Placement, vocab: _Vocabulary, terms_of) -> tuple[Postings, np.ndarray]:
    """Postings with the new ones inserted in each term's list (sorted by passage), and every
    impact recomputed for the new N, document frequencies and average length. Also the passages'
    lengths."""
    v, v0 = len(vocab), len(vocab.old_pos)
    cells = Counter()
    for k, ts in enumerate(terms_of):
        for x, c in Counter(ts).items():
            cells[(vocab.ids[x], k)] = c
    keys = sorted(cells)
    new_term = np.asarray([x for x, _ in keys], dtype=np.int64)
    new_local = np.asarray([k for _, k in keys], dtype=np.int64)
    new_tf = np.asarray([cells[key] for key in keys], dtype=np.int32)
    indptr0, indices0 = old.postings.indptr, old.postings.indices
    old_id_of = np.full(v, -1, dtype=np.int64)  # a fresh term has no old postings
    old_id_of[vocab.old_pos] = np.arange(v0)
    fresh_index = {int(vocab.before[k] + k): k for k in range(len(vocab.fresh))}
    # where, in the old postings array, each new posting goes: after the old postings of its
    # term whose passages come before its own
    where = np.empty(len(keys), dtype=np.int64)
    q = place.passage_before[new_local]
    for sel in np.split(np.arange(len(keys)), np.flatnonzero(np.diff(new_term)) + 1) if len(keys) else []:
        term = int(new_term[sel[0]])
        o = int(old_id_of[term])
        if o >= 0:
            lo, hi = int(indptr0[o]), int(indptr0[o + 1])
            where[sel] = lo + np.searchsorted(indices0[lo:hi], q[sel], side="left")
        else:  # a fresh term: its postings go where its (empty) list sits among the old ones
            where[sel] = int(indptr0[int(vocab.before[fresh_index[term]])])
    indices = np.insert(place.old_passage_pos[np.asarray(indices0)].astype(np.int32), where,
                        place.new_passage_pos[new_local].astype(np.int32))
    tf = np.insert(np.asarray(old.postings.tf), where, new_tf)
    df = np.zeros(v, dtype=np.int64)
    df[vocab.old_pos] = np.diff(np.asarray(indptr0))
    df += np.bincount(new_term, minlength=v)
    lengths = np.insert(np.asarray(old.passages.length), place.passage_before,
                        np.asarray([len(ts) for ts in terms_of], dtype=np.int32))
    n = len(lengths)
    avgdl = float(lengths.mean()) if n else 1.0
    settings = old.settings
    impacts = bm25_formula.posting_impacts(tf, indices, lengths, df, n, avgdl or 1.0, settings.bm25,
                                           settings.k1, settings.b)
    return Postings(indptr=np.concatenate([[0], np.cumsum(df)]).astype(np.int64), indices=indices,
                    impacts=impacts, tf=tf), lengths


def _content(old: Index, place: _Placement, vocab: _Vocabulary, terms_of) -> np.ndarray:
    """Content terms: all terms of body text; of labelled passages only their values."""
    content = np.insert(np.asarray(old.terms.content), vocab.before, False)
    for p, ts in zip(place.passages, terms_of):
        for x in (ts if p.content is None else analyze(p.content)):
            i = vocab.id_of(x)  # a labelled value's term outside all texts is not indexed
            if i is not None:
                content[i] = True
    return content


def _tfidf(old: Index, place: _Placement, vocab: _Vocabulary, terms_of, n: int):
    """TF-IDF arrays with the new rows; features keep their ids, new terms and bigrams get the
    next ones, every idf is recomputed. Also (features, counts) of the new rows' entries."""
    t = old.tfidf
    f0 = len(t.idf)
    term_feature = np.insert(np.asarray(t.term_feature), vocab.before,
                             np.arange(f0, f0 + len(vocab.fresh), dtype=np.int32))
    flat = term_feature[np.asarray([vocab.ids[x] for ts in terms_of for x in ts], dtype=np.int64)].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum([len(ts) for ts in terms_of], dtype=np.int64)])
    bigrams0 = np.asarray(t.bigrams)
    keys_new = np.unique(tfidf.bigram_keys(flat, starts)[0])
    fresh_keys = keys_new[~tfidf.find_keys(bigrams0, keys_new)[1]]
    f_terms = f0 + len(vocab.fresh)
    fresh_key_pos = np.searchsorted(bigrams0, fresh_keys)
    bigrams = np.insert(bigrams0, fresh_key_pos, fresh_keys)
    bigram_feature = np.insert(np.asarray(t.bigram_feature), fresh_key_pos,
                               np.arange(f_terms, f_terms + len(fresh_keys), dtype=np.int32))
    n_features = f_terms + len(fresh_keys)
    sizes, features, counts = tfidf.rows_of(flat, starts, bigrams, bigram_feature, n_features, 0, len(terms_of))
    df = np.concatenate([np.asarray(t.df), np.zeros(n_features - f0, np.int64)])
    df += np.bincount(features, minlength=n_features)
    ends = np.cumsum(sizes, dtype=np.int64)
    new_rows = np.stack([ends - sizes, ends], axis=1) + len(t.features)  # after every old entry
    rows = np.insert(np.asarray(t.rows), place.passage_before, new_rows, axis=0)
    return (Tfidf(term_feature=term_feature, bigrams=bigrams, bigram_feature=bigram_feature, df=df,
                  idf=tfidf.idf_of(df, n), rows=rows, features=None, counts=None), (features, counts))


def _columns(old: Index, place: _Placement, lengths: np.ndarray) -> tuple[Passages, Documents, Authors, Words]:
    """Passage and document columns with the new rows inserted, and the small tables rewritten
    whole (sections, journals, surnames, words)."""
    passages, docs, before = place.passages, place.docs, place.passage_before
    old_p, old_d = old.passages, old.documents
    sections0 = [old_p.section_names[i] for i in range(len(old_p.section_names))]
    sections = sorted(set(sections0) | {p.section for p in passages if p.section})
    section_id = {s: i for i, s in enumerate(sections)}
    section_map = np.asarray([section_id[s] for s in sections0] + [-1], dtype=np.int32)  # -1 stays -1
    passage_columns = Passages(
        text=None,  # kept in parts (see _parts)
        doc=np.insert(place.old_doc_pos[np.asarray(old_p.doc)].astype(np.int32), before,
                      np.repeat(place.new_doc_pos, place.counts)),
        n=np.insert(np.asarray(old_p.n), before, [p.n for p in passages]),
        kind=np.insert(np.asarray(old_p.kind), before, [KINDS.index(p.kind) for p in passages]),
        section=np.insert(section_map[np.asarray(old_p.section)], before,
                          [section_id.get(p.section, -1) for p in passages]),
        ref=np.insert(np.asarray(old_p.ref), before, [p.reference_number or 0 for p in passages]),
        length=lengths, hash=np.insert(np.asarray(old_p.hash), before, passage_hashes(passages)),
        section_names=sections)
    documents, authors = _document_columns(old, docs, place.doc_before, place.old_doc_pos)
    documents.year = np.insert(np.asarray(old_d.year), place.doc_before, [int(d.year) if d.year else 0 for d in docs])
    return passage_columns, documents, authors, _words(old, passages)


def _parts(old: Index, place: _Placement, new_entries) -> tuple[dict, dict, dict, dict]:
    """New strings and TF-IDF entries as one more part of their tables; earlier parts linked
    (merged beyond MAX_PARTS). Returns (the tables' spans and the entries' new part by file stem,
    blobs, linked, parts) for qa/index/store.save."""
    parts0 = old.manifest.get("parts", {})
    arrays, parts, blobs, linked = {}, {}, {}, {}
    files0 = old.manifest["files"]

    def link(file_name):
        linked[file_name] = (old.path / file_name, files0[file_name], old.block_crcs(file_name))

    new_strings = [("docs", old.documents.records, [document_to_json(d) for d in place.docs], place.doc_before),
                   ("passages", old.passages.text, [p.text for p in place.passages], place.passage_before),
                   ("doc_ids", old.documents.ids, [d.doc_id for d in place.docs], place.doc_before)]
    for name, table, strings, before in new_strings:
        count = parts0.get(name, 1)
        items = [x.encode("utf-8") for x in strings]
        lengths = np.asarray([len(x) for x in items], dtype=np.int64)
        ends = np.cumsum(lengths) + sum(table.part_sizes)  # after all earlier parts
        spans = np.stack([ends - lengths, ends], axis=1).reshape(-1, 2)
        if count + 1 > MAX_PARTS:  # the parts after the first are merged with the new one
            items = [bytes(table.part(k)) for k in range(1, count)] + items
            count = 1
        blobs[part_name(name, count, ".txt")] = items
        for k in range(count):
            link(part_name(name, k, ".txt"))
        arrays[f"{name}.offsets"] = np.insert(spans_of(table.offsets), before, spans, axis=0)
        parts[name] = count + 1
    for name, array, values in (("tfidf.features", old.tfidf.features, new_entries[0]),
                                ("tfidf.counts", old.tfidf.counts, new_entries[1])):
        count = parts0.get(name, 1)
        if count + 1 > MAX_PARTS:
            values = np.concatenate([np.asarray(x) for x in array.parts[1:]] + [values])
            count = 1
        for k in range(count):
            link(part_name(name, k))
        arrays[part_name(name, count)[: -len(".npy")]] = values
        parts[name] = count + 1
    return arrays, blobs, linked, parts


def _merged(table, fresh: list[str], before: np.ndarray) -> list[str]:
    out, k = [], 0
    for i in range(len(table)):
        while k < len(fresh) and before[k] == i:
            out.append(fresh[k])
            k += 1
        out.append(table[i])
    out.extend(fresh[k:])
    return out


def _words(old: Index, passages) -> Words:
    """Surface words offered by spelling correction, with their counts, the new ones added."""
    counts = Counter()
    for p in passages:
        counts.update(w for w in surface_words(p.text) if len(w) >= 4 and w.isalpha())
    table, count0 = old.words.names, old.words.count
    merged = {table[i]: int(count0[i]) for i in range(len(table))}
    for w, c in counts.items():
        merged[w] = merged.get(w, 0) + c
    words = sorted(merged, key=lambda s: s.encode("utf-8"))
    return Words(names=words, count=np.asarray([merged[w] for w in words], dtype=np.int64))


def _document_columns(old: Index, docs, doc_before, old_doc_pos) -> tuple[Documents, Authors]:
    """Journal ids and surname postings of all documents, the new ones merged in (the year and
    the part tables are the caller's)."""
    old_d, old_a = old.documents, old.authors
    journals0 = [old_d.journal_names[i] for i in range(len(old_d.journal_names))]
    keys = [journal_key(d) for d in docs]
    journals = sorted(set(journals0) | {k for k in keys if k})
    journal_id = {k: i for i, k in enumerate(journals)}
    journal_map = np.asarray([journal_id[k] for k in journals0] + [-1], dtype=np.int32)
    doc_journal = np.insert(journal_map[np.asarray(old_d.journal)], doc_before,
                            [journal_id.get(k, -1) for k in keys])

    surnames0 = [old_a.surnames[i] for i in range(len(old_a.surnames))]
    pairs = set()
    for d, pos in zip(docs, (doc_before + np.arange(len(docs))).tolist()):
        for key in author_keys(d):
            pairs.add((key, pos))
    surnames = sorted(set(surnames0) | {s for s, _ in pairs}, key=lambda s: s.encode("utf-8"))
    surname_id = {s: i for i, s in enumerate(surnames)}
    indptr0 = np.asarray(old_a.indptr)
    old_sid = np.repeat(np.asarray([surname_id[s] for s in surnames0], dtype=np.int64), np.diff(indptr0))
    old_docs = old_doc_pos[np.asarray(old_a.docs, dtype=np.int64)]
    new_sid = np.asarray([surname_id[s] for s, _ in pairs], dtype=np.int64)
    new_docs = np.asarray([p for _, p in pairs], dtype=np.int64)
    sid = np.concatenate([old_sid, new_sid])
    doc = np.concatenate([old_docs, new_docs])
    order = np.lexsort((doc, sid))
    sid, doc = sid[order], doc[order]
    counts = np.bincount(sid, minlength=len(surnames))
    documents = Documents(ids=None, records=None, year=None, journal=doc_journal, journal_names=journals)
    authors = Authors(surnames=surnames, indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                      docs=doc.astype(np.int32))
    return documents, authors
