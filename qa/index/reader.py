"""A built index, read-only: its data under typed names (qa/index/layout.py) and the look-ups
every stage makes in it (terms, TF-IDF vectors, passages, documents)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.index import tfidf
from qa.index.layout import KINDS, IndexData, Settings, index_data
from qa.index.parts import PartArray
from qa.index.strings import StringTable
from qa.models import Document
from qa.readers.records import document_from_json


class Index:
    """A built index, from disk (memory-mapped; qa/index/store.py loads it) or from memory."""

    TERM_CACHE = 100_000  # remembered look-ups: a question's terms are looked up several times
    # A sharded index (qa/search/sharded.py) holds its postings and rows in shards: it answers the
    # searches that read them itself (BM25 candidates, document scores, filters' masks, ...).
    sharded = False

    def __init__(self, data: IndexData, manifest: dict, path: Path | None = None):
        self.passages = data.passages
        self.documents = data.documents
        self.authors = data.authors
        self.postings = data.postings
        self.terms = data.terms
        self.tfidf = data.tfidf
        self.words = data.words
        self.abbreviations = data.abbreviations
        self.manifest = manifest
        self.path = path
        self.n_passages = int(manifest["stats"]["passages"])
        self._docs: dict[int, Document] = {}
        self._term_cache: dict[str, int] = {}
        self.block_crcs = lambda file_name: None  # block checksums of a large file (saved indexes)

    @classmethod
    def from_data(cls, data: IndexData, manifest: dict) -> "Index":
        """An index held in memory (built where it could not be saved), read like a saved one."""
        def value(f):
            v = getattr(getattr(data, f.group), f.name)
            if f.table:
                return StringTable.from_list(list(v))
            return PartArray([v]) if f.parts else v

        return cls(index_data(value), manifest)

    def validate(self) -> None:
        """Cheap consistency checks of array shapes against the manifest; ValueError if broken."""
        stats = self.manifest["stats"]
        n, terms, features = stats["passages"], stats["terms"], stats["features"]
        p, tf = self.passages, self.tfidf
        expected = {"words.count": (self.words.count, len(self.words.names)),
                    "bm25.indptr": (self.postings.indptr, terms + 1), "terms.content": (self.terms.content, terms),
                    "tfidf.idf": (tf.idf, features), "tfidf.df": (tf.df, features),
                    "tfidf.term_feature": (tf.term_feature, terms),
                    "tfidf.bigram_feature": (tf.bigram_feature, len(tf.bigrams)), "tfidf.rows": (tf.rows, n),
                    "passage.doc": (p.doc, n), "passage.n": (p.n, n), "passage.kind": (p.kind, n),
                    "passage.section": (p.section, n), "passage.ref": (p.ref, n), "passage.length": (p.length, n),
                    "passage.hash": (p.hash, n)}
        for name, (array, length) in expected.items():
            if len(array) != length:
                raise ValueError(f"{name} has {len(array)} entries, expected {length}")
        postings = int(self.postings.indptr[-1]) if terms else 0
        for name, array in (("bm25.indices", self.postings.indices), ("bm25.impacts", self.postings.impacts),
                            ("bm25.tf", self.postings.tf)):
            if len(array) != postings:
                raise ValueError(f"{name} has {len(array)} entries, expected {postings}")
        if len(tf.features) != len(tf.counts):
            raise ValueError("the TF-IDF rows do not match their entries")
        if len(p.text) != n or len(self.terms.names) != terms or len(self.documents.records) != stats["documents"]:
            raise ValueError("string tables do not match the manifest")

    @property
    def score_buffers(self):
        """The BM25 score arrays every question of this index reuses (qa/index/bm25.py), made on first use."""
        if getattr(self, "_score_buffers", None) is None:
            from qa.index.bm25 import Buffers

            self._score_buffers = Buffers(self.n_passages)
        return self._score_buffers

    @property
    def settings(self) -> Settings:
        return Settings(**self.manifest["settings"])

    @property
    def n_documents(self) -> int:
        return len(self.documents.ids)

    def document(self, doc_index: int) -> Document:
        if doc_index not in self._docs:
            self._docs[doc_index] = document_from_json(self.documents.records[doc_index])
        return self._docs[doc_index]

    def document_index(self, doc_id: str) -> int:
        """Position of a document id, -1 when unknown."""
        return self.documents.ids.find(doc_id)

    def term_id(self, term: str) -> int:
        """Id of an analysed term in the vocabulary, -1 if unknown (a binary search, remembered)."""
        i = self._term_cache.get(term)
        if i is None:
            if len(self._term_cache) >= self.TERM_CACHE:
                self._term_cache.clear()
            i = self._term_cache[term] = self.terms.names.find(term)
        return i

    def term_ids(self, terms: list[str]) -> list[int]:
        """Ids of analysed terms in the vocabulary, -1 for unknown ones."""
        return [self.term_id(t) for t in terms]

    def is_content(self, term: str) -> bool:
        """Whether the corpus has this analysed term as content (not only as a field label)."""
        i = self.term_id(term)
        return i >= 0 and bool(self.terms.content[i])

    def term_features(self, term_ids: list[int]) -> list[int]:
        """TF-IDF feature of each term id, -1 for -1."""
        table = self.tfidf.term_feature
        return [int(table[i]) if i >= 0 else -1 for i in term_ids]

    def tfidf_vector(self, terms: list[str]):
        """The TF-IDF vector of analysed terms, as the reranker and the answer scorer use it."""
        return self.tfidf_vector_of_ids(self.term_ids(terms))

    def tfidf_vector_of_ids(self, term_ids: list[int]):
        t = self.tfidf
        return tfidf.transform(self.term_features(term_ids), t.bigrams, t.bigram_feature, t.idf)

    def tfidf_vectors_of_ids(self, texts: list[list[int]]):
        """The vectors of several texts' term ids at once: (text of each entry, feature ids, weights)."""
        t = self.tfidf
        return tfidf.transform_many([self.term_features(ids) for ids in texts], t.bigrams, t.bigram_feature, t.idf)

    def cosine(self, passages, q_ids, q_weights):
        """TF-IDF cosine of stored passages with a query vector."""
        t = self.tfidf
        return tfidf.cosine_rows(t.rows, t.features, t.counts, t.idf, passages, q_ids, q_weights)

    def passage_id(self, i: int) -> str:
        return f"{self.documents.ids[int(self.passages.doc[i])]}#{int(self.passages.n[i])}"

    def passage_doc(self, i: int) -> int:
        return int(self.passages.doc[i])

    def passage_docs(self, passages: np.ndarray) -> np.ndarray:
        """The document of each passage."""
        return np.asarray(self.passages.doc)[passages]

    def prefetch(self, passages) -> None:
        """The rows of these passages are about to be read (texts, documents): a sharded index
        fetches them in one request to each shard; here they are at hand."""

    def document_passages(self, doc: int) -> range:
        """The passages of a document (passages are numbered in document order)."""
        columns = self.passages.doc
        return range(int(np.searchsorted(columns, doc, side="left")), int(np.searchsorted(columns, doc, side="right")))

    def section(self, i: int) -> str | None:
        s = int(self.passages.section[i])
        return self.passages.section_names[s] if s >= 0 else None

    def kind(self, i: int) -> str:
        return KINDS[int(self.passages.kind[i])]

    def holds_kind(self, kind: str) -> bool:
        """Whether any passage is of this kind (a sharded index asks its shards)."""
        return bool((np.asarray(self.passages.kind) == KINDS.index(kind)).any())
