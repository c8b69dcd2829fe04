"""A sharded index: the corpus split by document id into shards, each an index in the usual
format, plus the statistics of the whole corpus that make every shard score exactly as one index.

Layout of a sharded build (published like any build: written under a temporary name, fsynced,
renamed, then named in CURRENT, qa/index/store.py):

    build-<time>-<pid>/
        manifest.json   format, settings, corpus, fingerprint, stats of the whole corpus,
                        "shards": [{name, first_id, documents, passages, manifest: [size, crc32]}],
                        and the files below with their checksums
        terms.* terms.content.npy spacing.*   the vocabulary of all shards (sorted), its content
                        flags and its hyphenation table
        bm25.indptr.npy cumulative passage frequencies: term t is in indptr[t+1] - indptr[t] passages
        terms.best.npy  each term's best BM25 impact over the corpus (confidence)
        terms.docdf.npy documents whose own text holds each term (whole-document BM25)
        tfidf.*         features, document frequencies and idf of the corpus (no rows)
        words.* abbrev.* journals.*   spelling vocabulary, abbreviation pairs, journal names
        shard-0/ ...    a build in the usual format: the documents of one id range

Shard i holds the documents whose ids sort (by UTF-8 bytes, as the id table) from its first id
up to the next shard's, so the shards laid end to end number documents and passages exactly as
one index does: passage p of shard i is passage offset[i] + p of the whole, and every tie broken
by passage number breaks the same way.

Each shard keeps its own counts (postings with term counts, its passages' document frequencies,
its TF-IDF rows as counts), so `qa/index/update.py` extends it like any index; its BM25 impacts
and its TF-IDF idf are those of the whole corpus (its N, document frequencies, average length),
so a shard's scores are the one index's. An addition changes N, and with it every impact and
idf: every shard is weighed again from its stored counts (`globalized`), the files that do not
change being linked from the previous build.

Building a shard, and weighing it, are functions of one shard's files (`build_part`,
`extend_part`, `shard_stats`, `globalized`): a runner calls them in this process, or as Ray tasks
on the nodes that hold the shards (qa/index/cluster.py); only the statistics are reduced here.
"""
from __future__ import annotations

import bisect
import shutil
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.index import bm25 as bm25_formula, store, tfidf
from qa.index.checksums import raw
from qa.index.layout import KINDS, FORMAT_VERSION, Abbreviations, Settings, Tfidf, Words, index_data
from qa.models import Document
from qa.text import abbreviations, spacing

SHARD = "shard-{}"
LOCAL = "{}.local"  # a shard weighed with its own statistics only, before `globalized`
REFERENCE = KINDS.index("reference")
BLOCK = 1 << 22  # postings per step of the whole-corpus weighing


# ---------------------------------------------------------------- splitting

def key(doc_id: str) -> bytes:
    """The order of document ids: that of the id table (UTF-8 bytes), which is also Python's."""
    return doc_id.encode("utf-8")


def split(docs: list[Document], n: int) -> list[list[Document]]:
    """Documents in id order, cut into n runs of (nearly) equal counts."""
    docs = sorted(docs, key=lambda d: d.doc_id)
    if n > len(docs):
        raise ValueError(f"cannot split {len(docs)} documents into {n} shards")
    bounds = [round(i * len(docs) / n) for i in range(n + 1)]
    return [docs[bounds[i]:bounds[i + 1]] for i in range(n)]


def shard_for(doc_id: str, first_ids: list[str]) -> int:
    """The shard a document belongs in: the last one whose first id sorts at or before its id
    (shard 0 for an id before every other), so that the shards stay runs of the id order."""
    return max(bisect.bisect_right([key(f) for f in first_ids], key(doc_id)) - 1, 0)


# ---------------------------------------------------------------- one shard's statistics

@dataclass
class ShardStats:
    """What one shard contributes to the statistics of the whole corpus."""

    passages: int
    documents: int
    length: int  # the passages' lengths summed (BM25's average length)
    own_length: int  # the lengths of documents' own (not reference) passages summed
    first_id: str
    whole_documents: bool
    terms: list[str]  # its vocabulary, sorted by UTF-8 bytes
    df: np.ndarray  # passages holding each term
    docdf: np.ndarray  # documents whose own passages hold each term
    content: np.ndarray  # whether each term is content
    feature_terms: np.ndarray  # (features, 2): the terms of each TF-IDF feature; -1 second for a term's own
    feature_df: np.ndarray  # passages holding each feature
    words: list[str]
    word_count: np.ndarray
    definitions: list[str]  # abbreviation definition rows with their counts
    journals: list[str]


def shard_stats(build_dir: str) -> ShardStats:
    """The statistics of a saved shard (its own counts; its weights are not read)."""
    index = store.load(Path(build_dir))
    p, postings, t = index.passages, index.postings, index.tfidf
    indptr = np.asarray(postings.indptr)
    df = np.diff(indptr)
    kind = np.asarray(p.kind)
    length = np.asarray(p.length)
    n_terms = len(df)
    term_feature = np.asarray(t.term_feature, dtype=np.int64)
    term_of_feature = np.full(len(t.idf), -1, dtype=np.int64)
    term_of_feature[term_feature] = np.arange(n_terms)
    bigrams = np.asarray(t.bigrams)
    feature_terms = np.full((len(t.idf), 2), -1, dtype=np.int32)
    feature_terms[term_feature, 0] = np.arange(n_terms)
    bigram_feature = np.asarray(t.bigram_feature, dtype=np.int64)
    feature_terms[bigram_feature, 0] = term_of_feature[bigrams // tfidf.KEY]
    feature_terms[bigram_feature, 1] = term_of_feature[bigrams % tfidf.KEY]
    n_words = len(index.words.names)
    n_defs = len(index.abbreviations.definitions)
    return ShardStats(
        passages=index.n_passages, documents=index.n_documents, length=int(length.sum(dtype=np.int64)),
        own_length=int(length[kind != REFERENCE].sum(dtype=np.int64)), first_id=index.documents.ids[0],
        whole_documents=bool(index.manifest["stats"].get("whole_documents", False)),
        terms=[index.terms.names[i] for i in range(n_terms)], df=df.astype(np.int64),
        docdf=_document_frequencies(index, indptr), content=np.asarray(index.terms.content, dtype=bool),
        feature_terms=feature_terms, feature_df=np.asarray(t.df, dtype=np.int64),
        words=[index.words.names[i] for i in range(n_words)], word_count=np.asarray(index.words.count, np.int64),
        definitions=[index.abbreviations.definitions[i] for i in range(n_defs)],
        journals=[index.documents.journal_names[i] for i in range(len(index.documents.journal_names))])


def _document_frequencies(index, indptr: np.ndarray) -> np.ndarray:
    """For each term, the documents whose own (not reference) passages hold it. A term's postings
    are sorted by passage and passages by document: a document is counted where its run starts."""
    n_terms = len(indptr) - 1
    out = np.zeros(n_terms, dtype=np.int64)
    indices = raw(index.postings.indices)
    kind = np.asarray(index.passages.kind)
    doc = np.asarray(index.passages.doc)
    total = int(indptr[-1])
    last_term, last_doc = -1, -1
    for lo in range(0, total, BLOCK):
        hi = min(lo + BLOCK, total)
        term = np.searchsorted(indptr, np.arange(lo, hi), side="right") - 1
        passages = np.asarray(indices[lo:hi])
        own = kind[passages] != REFERENCE
        term, d = term[own], doc[passages[own]].astype(np.int64)
        if not len(term):
            continue
        starts = np.concatenate([[not (term[0] == last_term and d[0] == last_doc)],
                                 (term[1:] != term[:-1]) | (d[1:] != d[:-1])])
        out += np.bincount(term[starts], minlength=n_terms)
        last_term, last_doc = int(term[-1]), int(d[-1])
    return out


# ---------------------------------------------------------------- the whole corpus's statistics

@dataclass
class Reduced:
    """The statistics of the whole corpus, and where each shard's terms and features stand in them."""

    terms: list[str]
    df: np.ndarray
    docdf: np.ndarray
    content: np.ndarray
    bigrams: np.ndarray  # sorted keys of (term id, term id): feature T + k is bigrams[k]
    feature_df: np.ndarray
    idf: np.ndarray  # TF-IDF idf of each feature
    term_idf: np.ndarray  # BM25 idf of each term
    words: Words
    abbreviations: Abbreviations
    journals: list[str]
    stats: dict
    term_maps: list[np.ndarray]  # per shard: its term ids -> the corpus's
    feature_maps: list[np.ndarray]  # per shard: its feature ids -> the corpus's


def reduce(parts: list[ShardStats], settings: Settings) -> Reduced:
    """The statistics one index of all the shards' documents would have: the same vocabulary,
    features, frequencies, idf and averages, computed by the same formulas on the same arrays."""
    n = sum(s.passages for s in parts)
    n_docs = sum(s.documents for s in parts)
    terms = sorted(set().union(*(s.terms for s in parts)), key=lambda t: t.encode("utf-8"))
    position = {t: i for i, t in enumerate(terms)}
    term_maps = [np.fromiter((position[t] for t in s.terms), dtype=np.int64, count=len(s.terms)) for s in parts]
    n_terms = len(terms)
    df = np.zeros(n_terms, dtype=np.int64)
    docdf = np.zeros(n_terms, dtype=np.int64)
    content = np.zeros(n_terms, dtype=bool)
    for s, m in zip(parts, term_maps):
        df[m] += s.df
        docdf[m] += s.docdf
        content[m] |= s.content
    keys = []
    for s, m in zip(parts, term_maps):
        pairs = s.feature_terms[s.feature_terms[:, 1] >= 0].astype(np.int64)
        keys.append(m[pairs[:, 0]] * tfidf.KEY + m[pairs[:, 1]])
    bigrams = np.unique(np.concatenate(keys)) if keys else np.empty(0, np.int64)
    feature_maps = []
    feature_df = np.zeros(n_terms + len(bigrams), dtype=np.int64)
    for s, m, k in zip(parts, term_maps, keys):
        pairs = s.feature_terms.astype(np.int64)
        fmap = np.empty(len(pairs), dtype=np.int64)
        single = pairs[:, 1] < 0
        fmap[single] = m[pairs[single, 0]]
        fmap[~single] = n_terms + np.searchsorted(bigrams, k)
        feature_df[fmap] += s.feature_df
        feature_maps.append(fmap)
    words: dict[str, int] = {}
    for s in parts:
        for w, c in zip(s.words, s.word_count.tolist()):
            words[w] = words.get(w, 0) + c
    word_list = sorted(words, key=lambda w: w.encode("utf-8"))
    definitions = Counter()
    for s in parts:
        definitions.update(abbreviations.definitions_from_rows(s.definitions))
    from qa.index.build import abbreviation_tables  # the builder: only when building (qa ask never needs it)

    abbrev = abbreviation_tables(definitions)
    length = sum(s.length for s in parts)
    own = sum(s.own_length for s in parts)
    # as one index computes them: an exact integer sum over the count (numpy's mean of integers)
    avgdl = length / n if n else 1.0
    stats = {"documents": n_docs, "passages": n, "terms": n_terms, "features": len(feature_df), "avgdl": avgdl,
             "document_avgdl": own / n_docs if n_docs else 1.0, "abbreviations": len(abbrev.short),
             "whole_documents": any(s.whole_documents for s in parts)}
    return Reduced(terms=terms, df=df, docdf=docdf, content=content, bigrams=bigrams, feature_df=feature_df,
                   idf=tfidf.idf_of(feature_df, n), term_idf=bm25_formula.idf(df, n, settings.bm25),
                   words=Words(names=word_list, count=np.asarray([words[w] for w in word_list], dtype=np.int64)),
                   abbreviations=abbrev, journals=sorted(set().union(*(s.journals for s in parts))),
                   stats=stats, term_maps=term_maps, feature_maps=feature_maps)


# ---------------------------------------------------------------- one shard's work (runner tasks)

def _shard_manifest(manifest: dict, **more) -> dict:
    """A shard's own manifest: what describes its files (their list is written anew)."""
    kept = {k: v for k, v in manifest.items() if k not in ("files", "blocks", "block_size")}
    return {**kept, **more}


def build_part(docs: list[Document], settings: Settings, target: str, whole_documents: bool,
               number: int) -> ShardStats:
    """Build the index of one shard's documents (weighed with its own statistics) into `target`."""
    from qa.index.build import build

    started = time.perf_counter()
    built = build(docs, settings, whole_documents=whole_documents)
    manifest = {"format": FORMAT_VERSION, "settings": settings.__dict__, "stats": built.stats,
                "build_seconds": round(time.perf_counter() - started, 3), "shard": number}
    Path(target).mkdir()
    store.write_build(Path(target), built.data, manifest)
    return shard_stats(target)


def extend_part(source: str, docs: list[Document], target: str) -> ShardStats:
    """Add documents to a saved shard (qa/index/update.py), written into `target`."""
    from qa.index.update import extend

    old = store.load(Path(source))
    extension = extend(old, docs)
    manifest = _shard_manifest(old.manifest, stats=extension.stats, parts=extension.parts,
                               updates=int(old.manifest.get("updates", 0)) + 1)
    Path(target).mkdir()
    store.write_build(Path(target), extension.data, manifest, arrays=extension.arrays, blobs=extension.blobs,
                      linked=extension.linked)
    return shard_stats(target)


def globalized(source: str, target: str, term_idf: np.ndarray, feature_idf: np.ndarray, avgdl: float,
               number: int) -> np.ndarray:
    """The shard in `source` weighed with the whole corpus's statistics, written into `target`: every
    BM25 impact from its stored count and length with the corpus's idf and average length (the
    formula of a full build, term for term), its TF-IDF idf the corpus's; every other file linked.
    Returns each of its terms' best impact."""
    index = store.load(Path(source))
    s = index.settings
    postings = index.postings
    indptr = np.asarray(postings.indptr)
    tf, indices = raw(postings.tf), raw(postings.indices)
    lengths = np.asarray(index.passages.length)
    df = np.diff(indptr)
    term_of = np.repeat(np.arange(len(df), dtype=np.int32), df)
    impacts = np.empty(len(tf), dtype=np.float32)
    for lo in range(0, len(tf), bm25_formula.IMPACT_BLOCK):
        hi = min(lo + bm25_formula.IMPACT_BLOCK, len(tf))
        impacts[lo:hi] = bm25_formula.impacts(tf[lo:hi], lengths[indices[lo:hi]], term_idf[term_of[lo:hi]],
                                              avgdl or 1.0, s.bm25, s.k1, s.b)
    best = np.zeros(len(df), dtype=np.float32)
    held = df > 0
    if held.any():
        best[held] = np.maximum.reduceat(impacts, indptr[:-1][held])
    data = index_data(lambda f: None)
    data.postings.impacts = impacts
    data.tfidf.idf = np.asarray(feature_idf, dtype=np.float64)
    manifest = _shard_manifest(index.manifest, shard=number, weighed="corpus")
    Path(target).mkdir()
    store.write_build(Path(target), data, manifest,
                      linked=store.linked_files(Path(source), index.manifest,
                                                leave_out={"bm25.impacts.npy", "tfidf.idf.npy"}))
    return best


class InProcess:
    """Runs each shard's task in this process, one after the other."""

    def map(self, function, calls: list[tuple], shards: list[int]) -> list:
        return [function(*call) for call in calls]


# ---------------------------------------------------------------- building, updating, publishing

def build_sharded(index_dir: Path, docs: list[Document], settings: Settings, n: int, manifest: dict,
                  runner=None, whole_documents: bool = False, started: float | None = None) -> Path:
    """Build the sharded index of `docs` (n shards) and publish it in index_dir; returns the build.
    started: when the work began (time.perf_counter()), for the manifest's build_seconds."""
    started = time.perf_counter() if started is None else started
    runner = runner or InProcess()
    parts = split(docs, n)
    tmp, name = store.new_build(index_dir)
    try:
        locals_ = [str(tmp / LOCAL.format(SHARD.format(i))) for i in range(n)]
        stats = runner.map(build_part, [(part, settings, locals_[i], whole_documents, i)
                                        for i, part in enumerate(parts)], list(range(n)))
        return _finish(index_dir, tmp, name, locals_, stats, settings, manifest, runner, started)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def extend_sharded(index_dir: Path, build_dir: Path, old_manifest: dict, docs: list[Document],
                   manifest: dict, runner=None, started: float | None = None) -> Path:
    """Add documents to a sharded build: each goes to the shard of its id range (the shards stay
    runs of the id order; PubMed's growing PMIDs go to the last one); that shard is extended
    (qa/index/update.py), then every shard is weighed again with the new statistics."""
    from qa.index.update import NeedsRebuild

    started = time.perf_counter() if started is None else started
    runner = runner or InProcess()
    shards = old_manifest["shards"]
    first_ids = [s["first_id"] for s in shards]
    routed: list[list[Document]] = [[] for _ in shards]
    for d in sorted(docs, key=lambda d: d.doc_id):
        routed[shard_for(d.doc_id, first_ids)].append(d)
    if not docs:
        raise NeedsRebuild("nothing to add")
    tmp, name = store.new_build(index_dir)
    try:
        sources = [str(build_dir / s["name"]) for s in shards]
        grown = [i for i, part in enumerate(routed) if part]
        for i in grown:
            sources[i] = str(tmp / LOCAL.format(SHARD.format(i)))
        extended = runner.map(extend_part, [(str(build_dir / shards[i]["name"]), routed[i], sources[i])
                                            for i in grown], grown)
        kept = [i for i in range(len(shards)) if not routed[i]]
        counted = runner.map(shard_stats, [(sources[i],) for i in kept], kept)
        stats = [None] * len(shards)
        for i, s in zip(grown + kept, extended + counted):
            stats[i] = s
        manifest = {**manifest, "added": {SHARD.format(i): len(routed[i]) for i in grown}}
        return _finish(index_dir, tmp, name, sources, stats, Settings(**old_manifest["settings"]), manifest,
                       runner, started, temporary=[sources[i] for i in grown])
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


GLOBAL_FILES = {  # file stem -> how it is stored: "table" or an array
    "terms": "table", "terms.content": "array", "spacing": "table", "bm25.indptr": "array",
    "terms.best": "array", "terms.docdf": "array", "tfidf.term_feature": "array", "tfidf.bigrams": "array",
    "tfidf.bigram_feature": "array", "tfidf.df": "array", "tfidf.idf": "array", "words": "table",
    "words.count": "array", "abbrev.short": "table", "abbrev.long": "table", "abbrev.defs": "table",
    "journals": "table"}


def _finish(index_dir: Path, tmp: Path, name: str, sources: list[str], stats: list[ShardStats],
            settings: Settings, manifest: dict, runner, started: float, temporary: list[str] | None = None) -> Path:
    """Reduce the shards' statistics, weigh every shard with them, write the global files and the
    manifest, publish."""
    reduced = reduce(stats, settings)
    n = len(stats)
    targets = [str(tmp / SHARD.format(i)) for i in range(n)]
    best_parts = runner.map(globalized, [(sources[i], targets[i], reduced.term_idf[reduced.term_maps[i]],
                                          reduced.idf[reduced.feature_maps[i]], reduced.stats["avgdl"], i)
                                         for i in range(n)], list(range(n)))
    best = np.zeros(len(reduced.terms), dtype=np.float32)
    for m, part in zip(reduced.term_maps, best_parts):
        np.maximum.at(best, m, part)
    for path in (temporary if temporary is not None else sources):
        shutil.rmtree(path, ignore_errors=True)  # their files live on, linked into the shards
    n_terms = len(reduced.terms)
    arrays = {"terms.content": reduced.content, "bm25.indptr": np.concatenate([[0], np.cumsum(reduced.df)]).astype(np.int64),
              "terms.best": best, "terms.docdf": reduced.docdf,
              "tfidf.term_feature": np.arange(n_terms, dtype=np.int32), "tfidf.bigrams": reduced.bigrams,
              "tfidf.bigram_feature": np.arange(n_terms, n_terms + len(reduced.bigrams), dtype=np.int32),
              "tfidf.df": reduced.feature_df, "tfidf.idf": reduced.idf, "words.count": reduced.words.count}
    tables = {"terms": reduced.terms, "spacing": spacing.table_of(reduced.terms), "words": reduced.words.names,
              "abbrev.short": reduced.abbreviations.short, "abbrev.long": reduced.abbreviations.long,
              "abbrev.defs": reduced.abbreviations.definitions, "journals": reduced.journals}
    blobs = {}
    for stem, items in tables.items():
        encoded = [x.encode("utf-8") for x in items]
        blobs[f"{stem}.txt"] = encoded
        arrays[f"{stem}.offsets"] = np.concatenate([[0], np.cumsum([len(x) for x in encoded], dtype=np.int64)])
    shards = []
    for i, target in enumerate(targets):
        shard_manifest = Path(target) / store.MANIFEST
        text = shard_manifest.read_bytes()
        part = stats[i]
        shards.append({"name": SHARD.format(i), "first_id": part.first_id, "documents": part.documents,
                       "passages": part.passages, "manifest": [len(text), zlib.crc32(text)]})
    top = {**manifest, "format": FORMAT_VERSION, "settings": settings.__dict__, "stats": reduced.stats,
           "shards": shards, "build_seconds": round(time.perf_counter() - started, 3)}
    store.write_build(tmp, None, top, arrays=arrays, blobs=blobs)
    return store.publish(index_dir, tmp, name)


# ---------------------------------------------------------------- reading

class GlobalFiles:
    """The statistics of the whole corpus a sharded build holds, memory-mapped and checked."""

    def __init__(self, build_dir: Path, manifest: dict):
        files = store.BuildFiles(build_dir, manifest)
        self.terms = files.table("terms")
        self.content = files.array("terms.content.npy")
        self.hyphenated = files.table("spacing")
        self.indptr = files.array("bm25.indptr.npy")
        self.best = files.array("terms.best.npy")
        self.docdf = files.array("terms.docdf.npy")
        self.tfidf = Tfidf(**{f: files.array(f"tfidf.{f}.npy") for f in
                              ("term_feature", "bigrams", "bigram_feature", "df", "idf")},
                           rows=None, features=None, counts=None)
        self.words = Words(names=files.table("words"), count=files.array("words.count.npy"))
        self.abbreviations = Abbreviations(short=files.table("abbrev.short"), long=files.table("abbrev.long"),
                                           definitions=files.table("abbrev.defs"))
        self.journal_names = files.table("journals")
        stats = manifest["stats"]
        if len(self.terms) != stats["terms"] or len(self.indptr) != stats["terms"] + 1 \
                or len(self.tfidf.idf) != stats["features"]:
            raise ValueError("the statistics of the sharded index do not match its manifest")


def load_shard(shard_dir: Path, expected: list | None):
    """A shard's index, after checking that its manifest is the one the sharded build names
    (`expected`: its [size, crc32]); ValueError when it is missing, damaged or another build's."""
    try:
        text = (shard_dir / store.MANIFEST).read_bytes()
    except OSError:
        raise ValueError(f"{shard_dir} is missing") from None
    if expected is not None and [len(text), zlib.crc32(text)] != list(expected):
        raise ValueError(f"{shard_dir}: its manifest is not the one the sharded index names")
    return store.load(shard_dir)


def is_sharded(manifest: dict | None) -> bool:
    return bool(manifest and manifest.get("shards"))


def count(manifest: dict | None) -> int:
    """Shards of a build: 1 for an index that is not sharded."""
    return len(manifest["shards"]) if is_sharded(manifest) else 1
