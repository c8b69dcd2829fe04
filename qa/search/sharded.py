"""A sharded index read as one (qa/index/shards.py): the engine asks it what it asks any index,
and it asks the shards.

The client side, `ShardedIndex`, holds the statistics of the whole corpus (vocabulary, document
frequencies, TF-IDF features and idf, spelling words, abbreviations, journal names): a question
is corrected, expanded and analysed here as on one index, and the answer is composed here. What
reads postings and rows goes to the shards, one request to each that has a part in it
(`scatter`), and comes back merged:

- BM25 candidates: each shard's n best (its impacts are the corpus's), merged into the n best of
  all; a passage among the n best of the whole is among the n best of its shard;
- TF-IDF cosines: the question's vector, weighed with the corpus's idf, goes to each candidate's
  shard as the terms of its features, and the shard finds its own feature ids;
- whole-document BM25: each shard scores its documents with the corpus's document frequencies,
  number of documents and average document length;
- filters: each shard's mask of its passages, laid end to end;
- what an answer shows and reads (texts, ids, records, sections) is fetched a document at a time
  and kept (`_Bundle`).

Passage p of shard i is passage offsets[i] + p of the whole, documents likewise: the numbering,
and so every tie broken by it, is the one index's.

`ShardServer` is one shard's side. `LocalShards` serves the shards in this process (a sharded
index without a cluster); qa/search/cluster.py serves the same ShardServer from Ray actors.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import ShardUnavailable
from qa.index import tfidf
from qa.index.layout import Authors, Documents, IndexData, Passages, Postings, Terms
from qa.index.reader import Index
from qa.index.shards import GlobalFiles, load_shard, shard_for

COLUMNS = ("n", "kind", "section", "ref", "length", "hash")  # per-passage columns a bundle carries


class ShardServer:
    """One shard's side of a sharded index: the searches that read its postings and rows, in
    its own numbering. Arguments and results are plain values (they may cross to another node)."""

    def __init__(self, shard_dir: str, expected: list | None = None):
        self.shard_dir = shard_dir
        self.index = load_shard(Path(shard_dir), expected)

    def describe(self) -> dict:
        return {"passages": self.index.n_passages, "documents": self.index.n_documents, "pid": os.getpid()}

    def _ids(self, terms: list[str]) -> np.ndarray:
        return np.fromiter((self.index.term_id(t) for t in terms), dtype=np.int64, count=len(terms))

    def bm25_candidates(self, terms: list[str], weights: np.ndarray, n: int, mask_bits):
        """This shard's n best passages for the terms (in the question's order) and weights: their
        numbers, scores and documents."""
        from qa.search import rank

        ids = self._ids(terms)
        known = ids >= 0
        if not known.any():
            return np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)
        mask = None if mask_bits is None else np.unpackbits(mask_bits, count=self.index.n_passages).astype(bool)
        passages, scores = rank.bm25_candidates(self.index, ids[known], np.asarray(weights)[known], n, mask)
        return passages.astype(np.int64), scores, self.index.passage_docs(passages).astype(np.int64)

    def cosine(self, passages: np.ndarray, features: list[tuple[str, str | None]], weights: np.ndarray):
        """TF-IDF cosines of passages with a question vector given as its features' terms (a term,
        or a bigram's two) and weights; a feature this shard lacks is in none of its rows."""
        index, t = self.index, self.index.tfidf
        ids, kept = [], []
        for k, (a, b) in enumerate(features):
            ta = index.term_id(a)
            tb = index.term_id(b) if b is not None else 0
            if ta < 0 or tb < 0:
                continue
            f = int(t.term_feature[ta])
            if b is not None:
                pair = np.asarray([f * int(tfidf.KEY) + int(t.term_feature[tb])], dtype=np.int64)
                pos, found = tfidf.find_keys(t.bigrams, pair)
                if not found[0]:
                    continue
                f = int(t.bigram_feature[int(pos[0])])
            ids.append(f)
            kept.append(k)
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids)
        return index.cosine(np.asarray(passages, dtype=np.int64), ids[order],
                            np.asarray(weights, dtype=np.float64)[np.asarray(kept, dtype=np.int64)][order])

    def document_scores(self, terms, weights, docs, n_docs: int, df: np.ndarray, avgdl: float) -> np.ndarray:
        from qa.search import documents

        return documents.scores_with(self.index, self._ids(terms), weights, docs, n_docs, df, avgdl)

    def reference_holds(self, terms: list[str]) -> bool:
        from qa.search import rank

        return rank.reference_holds(self.index, terms)

    def holds_kind(self, kind: str) -> bool:
        return self.index.holds_kind(kind)

    def term_contributions(self, terms, passage: int, extra, extra_weight: float):
        from qa.search import rank

        return rank.term_contributions(self.index, terms, passage, extra, extra_weight)

    def passage_mask(self, filters) -> np.ndarray:
        from qa.search.filters import passage_mask

        return np.packbits(passage_mask(self.index, filters))

    def docs_of(self, passages: np.ndarray) -> np.ndarray:
        return self.index.passage_docs(np.asarray(passages, dtype=np.int64)).astype(np.int64)

    def bundle(self, passage: int | None = None, doc: int | None = None) -> dict:
        """A document (the one holding `passage`, or `doc`): its id and record, and the texts and
        columns of all its passages."""
        index = self.index
        d = index.passage_doc(passage) if passage is not None else doc
        r = index.document_passages(d)
        p = index.passages
        names = p.section_names
        section = np.asarray(p.section[r.start:r.stop])
        after = index.passage_doc(r.stop) if r.stop < index.n_passages else -1  # the next passage's document
        return {"doc": int(d), "first": r.start, "after": after, "id": index.documents.ids[d],
                "record": index.documents.records[d],
                "text": [p.text[i] for i in r], "section_name": [names[s] if s >= 0 else None for s in section.tolist()],
                **{c: np.asarray(getattr(p, c)[r.start:r.stop]) for c in COLUMNS}}

    def bundles(self, passages: np.ndarray) -> list[dict]:
        """The bundles of the documents of these passages, each once."""
        docs = dict.fromkeys(self.index.passage_docs(np.asarray(passages, dtype=np.int64)).tolist())
        return [self.bundle(doc=d) for d in docs]

    def document(self, doc: int) -> tuple[str, str]:
        return self.index.documents.ids[doc], self.index.documents.records[doc]

    def find(self, doc_id: str) -> int:
        return self.index.document_index(doc_id)

    def lower_bound(self, key: bytes) -> int:
        return self.index.documents.ids.lower_bound(key)

    def column(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self.index.passages, name))


class LocalShards:
    """The shards of a sharded build served in this process (no cluster): the same requests, answered
    by direct calls."""

    def __init__(self, build_dir: Path, manifest: dict):
        self.entries = manifest["shards"]
        self.where = [build_dir / e["name"] for e in self.entries]
        self.servers = []
        for e, path in zip(self.entries, self.where):
            try:
                self.servers.append(ShardServer(str(path), e.get("manifest")))
            except (OSError, ValueError) as err:
                raise ValueError(f"{e['name']}: {err}") from None

    def __len__(self) -> int:
        return len(self.entries)

    def scatter(self, requests: dict[int, tuple]) -> dict[int, object]:
        """{shard: (method, args)} -> {shard: result}."""
        return {s: getattr(self.servers[s], method)(*args) for s, (method, args) in requests.items()}

    def close(self) -> None:
        pass


@dataclass
class _Bundle:
    """A document fetched from its shard, in the numbering of the whole."""

    doc: int
    first: int  # its first passage
    id: str
    record: str
    columns: dict  # name -> values of its passages (text, section_name and COLUMNS)

    @property
    def passages(self) -> range:
        return range(self.first, self.first + len(self.columns["text"]))


class _Column:
    """A per-passage column of the whole corpus, read from the shards as needed."""

    def __init__(self, owner: "ShardedIndex", name: str):
        self.owner, self.name = owner, name

    def __len__(self) -> int:
        return self.owner.n_passages

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self.owner.passage_value(int(key), self.name)
        if isinstance(key, slice):
            return np.asarray(self)[key]
        positions = np.asarray(key)
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        if self.name == "doc":
            return self.owner.passage_docs(positions)
        values = [self.owner.passage_value(int(p), self.name) for p in positions.ravel().tolist()]
        return values if self.name == "text" else np.asarray(values).reshape(positions.shape)

    def __array__(self, dtype=None, copy=None):
        whole = self.owner.whole_column(self.name)
        return whole if dtype is None else whole.astype(dtype)

    def tolist(self) -> list:
        return np.asarray(self).tolist()


class _Ids:
    """The document ids of the whole corpus (sorted by UTF-8 bytes, as one index's id table)."""

    def __init__(self, owner: "ShardedIndex", what: str = "id"):
        self.owner, self.what = owner, what

    def __len__(self) -> int:
        return self.owner.n_documents

    def __getitem__(self, d: int) -> str:
        return self.owner.document_value(int(d), self.what)

    def find(self, doc_id: str) -> int:
        s = shard_for(doc_id, self.owner.first_ids)
        local = self.owner.ask_one(s, "find", doc_id)
        return int(self.owner.doc_offsets[s]) + local if local >= 0 else -1

    def lower_bound(self, key: bytes) -> int:
        s = shard_for(key.decode("utf-8", "replace"), self.owner.first_ids)
        return int(self.owner.doc_offsets[s]) + self.owner.ask_one(s, "lower_bound", key)


class ShardedIndex(Index):
    """A sharded build read as one index (see the module docstring)."""

    sharded = True
    BUNDLES = 512  # documents kept
    DOCS_KEPT = 1 << 20  # passage -> document entries kept

    def __init__(self, build_dir: Path, manifest: dict, shards):
        g = GlobalFiles(build_dir, manifest)
        self.global_files = g
        entries = manifest["shards"]
        self.shards = shards
        self.first_ids = [e["first_id"] for e in entries]
        self.passage_offsets = np.concatenate([[0], np.cumsum([e["passages"] for e in entries])]).astype(np.int64)
        self.doc_offsets = np.concatenate([[0], np.cumsum([e["documents"] for e in entries])]).astype(np.int64)
        passages = Passages(**{name: _Column(self, name) for name in ("text", "doc", *COLUMNS)}, section_names=None)
        documents = Documents(ids=_Ids(self), records=_Ids(self, "record"), year=None, journal=None,
                              journal_names=g.journal_names)
        data = IndexData(passages=passages, documents=documents, authors=Authors(None, None, None),
                         postings=Postings(indptr=g.indptr, indices=None, impacts=None, tf=None),
                         terms=Terms(names=g.terms, content=g.content, hyphenated=g.hyphenated),
                         tfidf=g.tfidf, words=g.words, abbreviations=g.abbreviations)
        super().__init__(data, manifest, build_dir)
        self.n_docs = int(manifest["stats"]["documents"])
        self._doc_of: dict[int, int] = {}
        self._bundles: OrderedDict[int, _Bundle] = OrderedDict()
        self._doc_fields: dict[int, tuple[str, str]] = {}
        self._whole: dict[str, np.ndarray] = {}
        self._cosines: tuple[bytes, dict] = (b"", {})

    # ------------------------------------------------------------ the numbering

    @property
    def n_documents(self) -> int:
        return self.n_docs

    def validate(self) -> None:
        """The global files were checked against the manifest on load; each shard checks its own."""

    def _shard_of_passages(self, passages: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.passage_offsets, passages, side="right") - 1

    def _by_shard(self, shard_of: np.ndarray):
        """(shard, positions) of each shard that has some of the items."""
        for s in np.unique(shard_of).tolist():
            yield s, np.flatnonzero(shard_of == s)

    def scatter(self, requests: dict[int, tuple]) -> dict[int, object]:
        return self.shards.scatter(requests)

    def ask_one(self, shard: int, method: str, *args):
        found = self.shards.scatter({shard: (method, args)})
        if shard not in found:
            raise ShardUnavailable(f"{self.shards.entries[shard]['name']} did not answer")
        return found[shard]

    # ------------------------------------------------------------ searches the shards answer

    def bm25_candidates(self, ids: np.ndarray, weights: np.ndarray, n: int, mask: np.ndarray | None):
        from qa.search import rank

        terms = [self.terms.names[int(i)] for i in ids]
        weights = np.asarray(weights, dtype=np.float64)
        requests = {}
        for s in range(len(self.shards)):
            lo, hi = int(self.passage_offsets[s]), int(self.passage_offsets[s + 1])
            bits = None if mask is None else np.packbits(np.asarray(mask[lo:hi], dtype=bool))
            requests[s] = ("bm25_candidates", (terms, weights, n, bits))
        found, scores = [], []
        for s, (passages, values, docs) in sorted(self.scatter(requests).items()):
            passages = passages + self.passage_offsets[s]
            self._remember_docs(passages, docs + self.doc_offsets[s])
            found.append(passages)
            scores.append(values)
        if not found:
            return np.empty(0, np.int64), np.empty(0)
        passages, scores = np.concatenate(found), np.concatenate(scores)
        keep = rank.top_by_score(passages, scores, n)
        return passages[keep], scores[keep]

    def _features(self, q_ids: np.ndarray) -> list[tuple[str, str | None]]:
        """The terms of each TF-IDF feature of the corpus: a term's own, or a bigram's two."""
        names, n_terms = self.terms.names, len(self.terms.names)
        out = []
        for f in np.asarray(q_ids).tolist():
            if f < n_terms:
                out.append((names[f], None))
            else:
                a, b = divmod(int(self.tfidf.bigrams[f - n_terms]), int(tfidf.KEY))
                out.append((names[a], names[b]))
        return out

    def cosine(self, passages, q_ids, q_weights):
        passages = np.asarray(passages, dtype=np.int64)
        out = np.zeros(len(passages))
        if len(passages) == 0 or len(q_ids) == 0:
            return out
        key = np.asarray(q_ids).tobytes() + b"|" + np.asarray(q_weights).tobytes()
        if self._cosines[0] != key:  # one question's cosines are kept: confidence asks again
            self._cosines = (key, {})
        known = self._cosines[1]
        todo = np.asarray([p for p in passages.tolist() if p not in known], dtype=np.int64)
        if len(todo):
            features = self._features(q_ids)
            weights = np.asarray(q_weights, dtype=np.float64)
            shard_of = self._shard_of_passages(todo)
            requests = {s: ("cosine", (todo[at] - self.passage_offsets[s], features, weights))
                        for s, at in self._by_shard(shard_of)}
            found = self.scatter(requests)
            for s, at in self._by_shard(shard_of):
                if s in found:
                    known.update(zip(todo[at].tolist(), np.asarray(found[s]).tolist()))
        return np.asarray([known.get(p, 0.0) for p in passages.tolist()], dtype=np.float64)

    def document_scores(self, ids, weights, docs) -> np.ndarray:
        docs = np.asarray(docs, dtype=np.int64)
        out = np.zeros(len(docs))
        if len(ids) == 0 or len(docs) == 0:
            return out
        terms = [self.terms.names[int(i)] for i in ids]
        df = np.asarray(self.global_files.docdf[np.asarray(ids, dtype=np.int64)], dtype=np.int64)
        avgdl = float(self.manifest["stats"]["document_avgdl"])
        shard_of = np.searchsorted(self.doc_offsets, docs, side="right") - 1
        requests = {s: ("document_scores", (terms, np.asarray(weights, dtype=np.float64), docs[at] - self.doc_offsets[s],
                                            self.n_docs, df, avgdl))
                    for s, at in self._by_shard(shard_of)}
        found = self.scatter(requests)
        for s, at in self._by_shard(shard_of):
            if s in found:
                out[at] = found[s]
        return out

    def reference_holds(self, terms: list[str]) -> bool:
        return any(self.scatter({s: ("reference_holds", (list(terms),)) for s in range(len(self.shards))}).values())

    def holds_kind(self, kind: str) -> bool:
        return any(self.scatter({s: ("holds_kind", (kind,)) for s in range(len(self.shards))}).values())

    def term_contributions(self, terms, passage: int, extra=(), extra_weight: float = 0.25):
        s = int(self._shard_of_passages(np.asarray([passage]))[0])
        return self.ask_one(s, "term_contributions", list(terms), int(passage - self.passage_offsets[s]),
                            list(extra), extra_weight)

    def passage_mask(self, filters) -> np.ndarray:
        found = self.scatter({s: ("passage_mask", (filters,)) for s in range(len(self.shards))})
        parts = []
        for s in range(len(self.shards)):
            size = int(self.passage_offsets[s + 1] - self.passage_offsets[s])
            bits = found.get(s)
            parts.append(np.unpackbits(bits, count=size).astype(bool) if bits is not None else np.zeros(size, bool))
        return np.concatenate(parts)

    def best_impact(self, term: int) -> float:
        return float(self.global_files.best[term])

    # ------------------------------------------------------------ rows, fetched as needed

    def _remember_docs(self, passages: np.ndarray, docs: np.ndarray) -> None:
        if len(self._doc_of) > self.DOCS_KEPT:
            self._doc_of.clear()
        self._doc_of.update(zip(passages.tolist(), docs.tolist()))

    def passage_doc(self, i: int) -> int:
        d = self._doc_of.get(int(i))
        return d if d is not None else int(self.passage_docs(np.asarray([i]))[0])

    def passage_docs(self, passages) -> np.ndarray:
        passages = np.asarray(passages, dtype=np.int64)
        missing = np.asarray([p for p in passages.ravel().tolist() if p not in self._doc_of], dtype=np.int64)
        if len(missing):
            shard_of = self._shard_of_passages(missing)
            requests = {s: ("docs_of", (missing[at] - self.passage_offsets[s],)) for s, at in self._by_shard(shard_of)}
            found = self.scatter(requests)
            for s, at in self._by_shard(shard_of):
                if s not in found:
                    raise ShardUnavailable(f"{self.shards.entries[s]['name']} did not answer")
                self._remember_docs(missing[at], found[s] + self.doc_offsets[s])
        return np.asarray([self._doc_of[p] for p in passages.ravel().tolist()], dtype=np.int64).reshape(passages.shape)

    def _keep(self, s: int, raw: dict) -> _Bundle:
        columns = {k: v for k, v in raw.items() if k not in ("doc", "first", "after", "id", "record")}
        bundle = _Bundle(doc=raw["doc"] + int(self.doc_offsets[s]), first=raw["first"] + int(self.passage_offsets[s]),
                         id=raw["id"], record=raw["record"], columns=columns)
        self._bundles[bundle.doc] = bundle
        if len(self._bundles) > self.BUNDLES:
            self._bundles.popitem(last=False)
        p = np.arange(bundle.first, bundle.first + len(columns["text"]), dtype=np.int64)
        # the passage after the document's last belongs to the next document of its shard, or is the
        # first of the next shard: known, so "is the next passage another document's" asks nothing
        end = bundle.first + len(columns["text"])
        if raw["after"] >= 0:
            p, docs = np.append(p, end), np.append(np.full(len(p), bundle.doc, dtype=np.int64),
                                                   raw["after"] + int(self.doc_offsets[s]))
        else:
            docs = np.full(len(p), bundle.doc, dtype=np.int64)
            if end < self.n_passages:
                p, docs = np.append(p, end), np.append(docs, int(self.doc_offsets[s + 1]))
        self._remember_docs(p, docs)
        return bundle

    def prefetch(self, passages) -> None:
        """The documents of these passages, fetched in one request to each shard holding some."""
        passages = np.asarray(passages, dtype=np.int64)
        wanted = [p for p in passages.tolist() if not (p in self._doc_of and self._doc_of[p] in self._bundles)]
        if not wanted:
            return
        wanted = np.asarray(wanted, dtype=np.int64)
        shard_of = self._shard_of_passages(wanted)
        requests = {s: ("bundles", (wanted[at] - self.passage_offsets[s],)) for s, at in self._by_shard(shard_of)}
        for s, found in self.scatter(requests).items():
            for raw in found:
                self._keep(s, raw)

    def bundle_of_doc(self, d: int) -> _Bundle:
        bundle = self._bundles.get(d)
        if bundle is not None:
            self._bundles.move_to_end(d)
            return bundle
        s = int(np.searchsorted(self.doc_offsets, d, side="right") - 1)
        return self._keep(s, self.ask_one(s, "bundle", None, int(d - self.doc_offsets[s])))

    def bundle_at(self, p: int) -> _Bundle:
        d = self._doc_of.get(p)
        if d is not None and d in self._bundles:
            return self.bundle_of_doc(d)
        s = int(self._shard_of_passages(np.asarray([p]))[0])
        return self._keep(s, self.ask_one(s, "bundle", int(p - self.passage_offsets[s]), None))

    def passage_value(self, p: int, name: str):
        if not 0 <= p < self.n_passages:
            raise IndexError(f"passage {p} out of range")
        if name == "doc":
            return self.passage_doc(p)
        bundle = self.bundle_at(p)
        return bundle.columns[name][p - bundle.first]

    def document_value(self, d: int, what: str) -> str:
        if not 0 <= d < self.n_docs:
            raise IndexError(f"document {d} out of range")
        bundle = self._bundles.get(d)
        if bundle is not None:
            return bundle.id if what == "id" else bundle.record
        fields = self._doc_fields.get(d)
        if fields is None:
            s = int(np.searchsorted(self.doc_offsets, d, side="right") - 1)
            fields = self._doc_fields[d] = tuple(self.ask_one(s, "document", int(d - self.doc_offsets[s])))
            if len(self._doc_fields) > self.DOCS_KEPT:
                self._doc_fields.clear()
        return fields[0] if what == "id" else fields[1]

    def whole_column(self, name: str) -> np.ndarray:
        """A column of every passage (the semantic stage's text hashes, the document of each):
        fetched once."""
        if name not in self._whole:
            found = self.scatter({s: ("column", (name,)) for s in range(len(self.shards))})
            parts = []
            for s in range(len(self.shards)):
                if s not in found:
                    raise ShardUnavailable(f"{self.shards.entries[s]['name']} did not answer")
                parts.append(found[s] + self.doc_offsets[s] if name == "doc" else found[s])
            self._whole[name] = np.concatenate(parts)
        return self._whole[name]

    def document_passages(self, doc: int) -> range:
        return self.bundle_of_doc(int(doc)).passages

    def section(self, i: int) -> str | None:
        return self.passage_value(int(i), "section_name")

    def close(self) -> None:
        self.shards.close()


def load(build_dir: Path, manifest: dict, serve=None) -> ShardedIndex:
    """A sharded build, its shards served in this process, or by serve(build_dir, manifest)."""
    shards = (serve or LocalShards)(build_dir, manifest)
    return ShardedIndex(build_dir, manifest, shards)
