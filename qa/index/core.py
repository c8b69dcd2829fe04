"""Build, store and load the index: plain .npy arrays and string tables, written atomically.

Layout of an index directory (one per corpus + settings):
    CURRENT                 name of the build in use, replaced atomically (os.replace)
    build-<time>-<pid>/     one complete build: manifest.json, *.npy, *.txt
A build is written under .tmp-*, fsynced and renamed, and only then named in CURRENT, so an
interrupted or failed build leaves the previous one in use.
"""
from __future__ import annotations

import dataclasses
import hashlib
from array import array
from collections.abc import Sequence
import json
import os
import shutil
import time
import zlib
from pathlib import Path

import numpy as np

from qa.text import abbreviations
from qa.index import bm25 as bm25_formula
from qa.index import checksums
from qa.text import chunk
from qa.text import spacing
from qa.index import tfidf
from qa.text.analyze import _TERMS, analyze, words as surface_words
from qa.models import Document, Passage
from qa.index.parts import PartArray, part_name
from qa.readers.records import document_from_json, document_to_json
from qa.index.strings import StringTable, write_blob, write_table

FORMAT_VERSION = 9  # 6: abbreviation tables; 7: spelling variants; 8: TF-IDF counts, parts;
# 9: hyphenation and spacing variants (qa/text/spacing.py)
KINDS = ("body", "reference", "metadata")
ARRAYS = ("doc.year", "doc.journal", "surname.indptr", "surname.docs", "words.count", "bm25.indptr",
          "bm25.indices", "bm25.impacts", "bm25.tf", "terms.content", "passage.length", "passage.doc", "passage.n", "passage.kind", "passage.section", "passage.ref",
          "tfidf.term_feature", "tfidf.bigrams", "tfidf.bigram_feature", "tfidf.df", "tfidf.idf", "tfidf.rows")
PART_ARRAYS = ("tfidf.features", "tfidf.counts")  # rows' entries: an update appends a part
TABLES = ("journals", "surnames", "words", "terms", "passages", "sections", "docs", "doc_ids",
          "abbrev.short", "abbrev.long", "abbrev.defs", "spacing")
PART_TABLES = ("passages", "docs", "doc_ids")  # an update appends a blob part to each


@dataclasses.dataclass(frozen=True)
class Settings:
    bm25: str = "lucene"
    k1: float = bm25_formula.K1
    b: float = bm25_formula.B


# ---------------------------------------------------------------- building

def build(docs: list[Document], settings: Settings, progress=None, whole_documents: bool = False,
          timings: dict | None = None):
    """Everything an index holds, in memory: (arrays, string lists, statistics).

    whole_documents: each document is one passage as it is (no windows, no metadata or
    reference passages), for corpora that come already cut into passages.
    timings: if given, gets the seconds spent up to the BM25 impacts (chunking, analysis,
    postings; what a BM25 library does) as "bm25_s", and in all as "total_s".
    """
    started = time.perf_counter()
    docs = sorted(docs, key=lambda d: d.doc_id)  # passage order = id order: ties break by id
    passages: list[Passage] = []
    passage_doc: list[int] = []
    for i, doc in enumerate(docs):
        ps = chunk.whole(doc) if whole_documents else chunk.passages(doc)
        passages.extend(ps)
        passage_doc.extend([i] * len(ps))
    n = len(passages)

    # Each distinct surface word is analysed once; passages become arrays of word ids, then
    # of term ids, and everything after is array algebra, block by block to bound memory.
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
    word_terms = [[term_ids[t] for t in _TERMS[w]] for w in word_list]
    vocabulary = sorted(term_ids, key=lambda t: t.encode("utf-8"))
    sorted_id = np.empty(len(vocabulary), dtype=np.int32)
    sorted_id[[term_ids[t] for t in vocabulary]] = np.arange(len(vocabulary), dtype=np.int32)
    n_terms = len(vocabulary)
    flat_words_a = np.frombuffer(flat_words, dtype=np.int32)
    flat, starts = _terms_of_tokens(flat_words_a, np.frombuffer(word_starts, dtype=np.int64), word_terms, sorted_id)
    lengths = np.diff(starts).astype(np.int32)

    # content terms: all terms of body text; of labelled passages only their values
    content = np.zeros(n_terms, dtype=bool)
    body = np.asarray([p.content is None for p in passages], dtype=bool)
    content[flat[np.repeat(body, lengths)]] = True
    for p in passages:
        if p.content is not None:
            content[[sorted_id[term_ids[t]] for t in analyze(p.content) if t in term_ids]] = True

    # BM25 postings grouped by term (CSC): a term's postings are contiguous, sorted by passage
    postings_term, indices, tf = _postings(flat, starts, n_terms)
    df = np.bincount(postings_term, minlength=n_terms)
    del postings_term  # one posting-sized array less from here on
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    avgdl = float(lengths.mean()) if n else 1.0
    impacts = bm25_formula.posting_impacts(tf, indices, lengths, df, n, avgdl or 1.0, settings.bm25,
                                           settings.k1, settings.b)
    if timings is not None:
        timings["bm25_s"] = time.perf_counter() - started
    word_count = np.bincount(flat_words_a, minlength=len(word_list))
    del flat_words_a, flat_words  # the word ids are done with before TF-IDF's temporaries

    tfidf_arrays = tfidf.fit(flat, starts, n_terms)

    # surface words (not stems): what spelling correction and completion offer the user
    keep = [i for i, w in enumerate(word_list) if len(w) >= 4 and w.isalpha()]
    keep.sort(key=lambda i: word_list[i].encode("utf-8"))
    word_counts = {word_list[i]: int(word_count[i]) for i in keep}
    word_list = [word_list[i] for i in keep]
    sections = sorted({p.section for p in passages if p.section})
    journals, doc_journal, surnames, surname_indptr, surname_docs = _document_columns(docs)
    section_id = {s: i for i, s in enumerate(sections)}
    arrays = {
        "doc.year": np.asarray([int(d.year) if d.year else 0 for d in docs], dtype=np.int32),
        "doc.journal": doc_journal, "surname.indptr": surname_indptr, "surname.docs": surname_docs,
        "words.count": np.asarray([word_counts[w] for w in word_list], dtype=np.int64),
        "bm25.indptr": indptr, "bm25.indices": indices, "bm25.impacts": impacts, "bm25.tf": tf,
        "terms.content": content,
        "passage.length": lengths,
        "passage.doc": np.asarray(passage_doc, dtype=np.int32),
        "passage.n": np.asarray([p.n for p in passages], dtype=np.int32),
        "passage.kind": np.asarray([KINDS.index(p.kind) for p in passages], dtype=np.int8),
        "passage.section": np.asarray([section_id.get(p.section, -1) for p in passages], dtype=np.int32),
        "passage.ref": np.asarray([p.reference_number or 0 for p in passages], dtype=np.int32),
        **tfidf_arrays,
    }
    # abbreviation definitions (qa/text/abbreviations.py): each title and section read once, not per
    # overlapping passage window, so a pair's count is how many times the corpus defines it
    definitions = abbreviations.definitions(abbreviation_texts(docs))
    abbrev_short, abbrev_long = abbreviations.tables_of(definitions)
    tables = {
        "journals": journals, "surnames": surnames, "words": word_list, "terms": vocabulary,
        "passages": [p.text for p in passages],
        "sections": sections, "docs": _JsonRecords(docs),
        "doc_ids": [d.doc_id for d in docs],
        "abbrev.short": abbrev_short, "abbrev.long": abbrev_long,
        "abbrev.defs": abbreviations.definition_rows(definitions),
        "spacing": spacing.table_of(vocabulary),  # hyphenated terms by joined key
    }
    stats = {"documents": len(docs), "passages": n, "terms": len(vocabulary),
             "features": len(tfidf_arrays["tfidf.idf"]), "avgdl": avgdl, "abbreviations": len(abbrev_short),
             "whole_documents": whole_documents}
    if timings is not None:
        timings["total_s"] = time.perf_counter() - started
    return arrays, tables, stats


def abbreviation_texts(docs):
    return (t for d in docs for t in (d.title, *(s.text for s in d.sections)))


BLOCK = 1 << 16  # passages per block of array work: bounds the temporaries of a large build


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


def _document_columns(docs: list[Document]):
    """Per-document columns that filters read: journal ids, and surname -> documents postings."""
    from qa.search.filters import fold
    from qa.readers.ids import surname

    journal_keys = [fold(" | ".join(x for x in (d.journal, d.journal_full) if x)) for d in docs]
    journals = sorted({k for k in journal_keys if k})
    journal_id = {k: i for i, k in enumerate(journals)}
    doc_journal = np.asarray([journal_id.get(k, -1) for k in journal_keys], dtype=np.int32)
    by_surname: dict[str, set[int]] = {}
    for i, d in enumerate(docs):
        for name in d.authors:
            by_surname.setdefault(fold(surname(name)), set()).add(i)
    surnames = sorted(by_surname, key=lambda s: s.encode("utf-8"))
    lists = [sorted(by_surname[s]) for s in surnames]
    indptr = np.concatenate([[0], np.cumsum([len(x) for x in lists], dtype=np.int64)]).astype(np.int64)
    postings = np.asarray([i for x in lists for i in x], dtype=np.int32)
    return journals, doc_journal, surnames, indptr, postings


class Index:
    """A built index, from disk (memory-mapped) or from memory; read-only."""

    def __init__(self, arrays: dict, tables: dict, manifest: dict, path: Path | None = None):
        self.a = arrays
        self.t = tables
        self.manifest = manifest
        self.path = path
        self.n_passages = int(manifest["stats"]["passages"])
        self._docs: dict[int, Document] = {}
        self._term_cache: dict[str, int] = {}
        self.block_crcs = lambda file_name: None  # block checksums of a large file (saved indexes)

    @classmethod
    def from_memory(cls, arrays, tables, manifest) -> "Index":
        arrays = {k: PartArray([v]) if k in PART_ARRAYS else v for k, v in arrays.items()}
        return cls(arrays, {k: StringTable.from_list(list(v)) for k, v in tables.items()}, manifest)

    @classmethod
    def load(cls, build_dir: Path, manifest: dict | None = None) -> "Index":
        manifest = manifest or json.loads((build_dir / "manifest.json").read_text("utf-8"))
        check_files(build_dir, manifest, full=False)
        noted = checksums.damage_noted(build_dir)
        if noted:
            raise ValueError(noted)
        block = manifest.get("block_size")
        if not isinstance(block, int) or block <= 0 or "blocks" not in manifest:
            raise ValueError("the manifest lists no block checksums")
        crcs = np.load(build_dir / BLOCKS)
        checkers = {f: checksums.FileChecker(build_dir / f, crcs[lo:lo + n], manifest["files"][f][0], block)
                    for f, (lo, n) in manifest["blocks"].items()}

        def load(file_name: str):
            array = np.load(build_dir / file_name, mmap_mode="r")
            checker = checkers.get(file_name)
            return checksums.CheckedArray(array, checker) if checker else array

        parts = manifest.get("parts", {})
        arrays = {name: load(f"{name}.npy") for name in ARRAYS}
        arrays.update({name: PartArray([load(part_name(name, k)) for k in range(parts.get(name, 1))])
                       for name in PART_ARRAYS})
        tables = {name: StringTable(build_dir, name, parts.get(name, 1), load, checkers.get) for name in TABLES}
        index = cls(arrays, tables, manifest, build_dir)
        index.block_crcs = lambda f: checkers[f].crcs if f in checkers else None
        index.validate()
        return index

    def validate(self) -> None:
        """Cheap consistency checks of array shapes against the manifest; ValueError if broken."""
        a, stats = self.a, self.manifest["stats"]
        n, terms, features = stats["passages"], stats["terms"], stats["features"]
        expected = {"words.count": len(self.t["words"]), "bm25.indptr": terms + 1, "terms.content": terms,
                    "tfidf.idf": features, "tfidf.df": features, "tfidf.term_feature": terms,
                    "tfidf.bigram_feature": len(a["tfidf.bigrams"]), "tfidf.rows": n, "passage.doc": n, "passage.n": n, "passage.kind": n,
                    "passage.section": n, "passage.ref": n, "passage.length": n}
        for name, length in expected.items():
            if len(a[name]) != length:
                raise ValueError(f"{name} has {len(a[name])} entries, expected {length}")
        postings = int(a["bm25.indptr"][-1]) if terms else 0
        for name in ("bm25.indices", "bm25.impacts", "bm25.tf"):
            if len(a[name]) != postings:
                raise ValueError(f"{name} has {len(a[name])} entries, expected {postings}")
        if len(a["tfidf.features"]) != len(a["tfidf.counts"]):
            raise ValueError("the TF-IDF rows do not match their entries")
        if len(self.t["passages"]) != n or len(self.t["terms"]) != terms or len(self.t["docs"]) != stats["documents"]:
            raise ValueError("string tables do not match the manifest")

    @property
    def settings(self) -> Settings:
        return Settings(**self.manifest["settings"])

    def document(self, doc_index: int) -> Document:
        if doc_index not in self._docs:
            self._docs[doc_index] = document_from_json(self.t["docs"][doc_index])
        return self._docs[doc_index]

    TERM_CACHE = 100_000  # remembered look-ups: a question's terms are looked up several times

    def term_id(self, term: str) -> int:
        """Id of an analysed term in the vocabulary, -1 if unknown (a binary search, remembered)."""
        i = self._term_cache.get(term)
        if i is None:
            if len(self._term_cache) >= self.TERM_CACHE:
                self._term_cache.clear()
            i = self._term_cache[term] = self.t["terms"].find(term)
        return i

    def term_ids(self, terms: list[str]) -> list[int]:
        """Ids of analysed terms in the vocabulary, -1 for unknown ones."""
        return [self.term_id(t) for t in terms]

    def term_features(self, term_ids: list[int]) -> list[int]:
        """TF-IDF feature of each term id, -1 for -1."""
        table = self.a["tfidf.term_feature"]
        return [int(table[i]) if i >= 0 else -1 for i in term_ids]

    def tfidf_vector(self, terms: list[str]):
        """The TF-IDF vector of analysed terms, as the reranker and the answer scorer use it."""
        return self.tfidf_vector_of_ids(self.term_ids(terms))

    def tfidf_vector_of_ids(self, term_ids: list[int]):
        a = self.a
        return tfidf.transform(self.term_features(term_ids), a["tfidf.bigrams"], a["tfidf.bigram_feature"],
                               a["tfidf.idf"])

    def cosine(self, passages, q_ids, q_weights):
        """TF-IDF cosine of stored passages with a query vector."""
        a = self.a
        return tfidf.cosine_rows(a["tfidf.rows"], a["tfidf.features"], a["tfidf.counts"], a["tfidf.idf"],
                                 passages, q_ids, q_weights)

    def passage_id(self, i: int) -> str:
        return f"{self.t['doc_ids'][int(self.a['passage.doc'][i])]}#{int(self.a['passage.n'][i])}"

    def section(self, i: int) -> str | None:
        s = int(self.a["passage.section"][i])
        return self.t["sections"][s] if s >= 0 else None

    def kind(self, i: int) -> str:
        return KINDS[int(self.a["passage.kind"][i])]


# ---------------------------------------------------------------- storage

def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (a build's temporary directory names its writer)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _remove_stale_temporaries(index_dir: Path) -> None:
    for tmp in index_dir.glob(".tmp-*"):
        try:
            pid = int(tmp.name.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            pid = -1
        if not pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


def save(index_dir: Path, arrays, tables, manifest, blobs=None, linked=None) -> Path:
    """Write a complete build, then make it current; returns the build directory.

    arrays: file stem -> array (<stem>.npy); tables: name -> strings (a contiguous table);
    blobs: file name -> strings (a blob part alone, its spans being among the arrays);
    linked: file name -> (path in an earlier build, its [size, crc32], its block checksums or
    None): unchanged files of an update, hard-linked (copied where links are refused), not
    rewritten nor checksummed again."""
    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(index_dir)
    name = f"build-{time.time_ns()}-{os.getpid()}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        written = []
        for key, values in arrays.items():
            np.save(tmp / f"{key}.npy", np.ascontiguousarray(values))
            written.append(f"{key}.npy")
        for key, items in tables.items():
            write_table(tmp, key, items)
            written += [f"{key}.txt", f"{key}.offsets.npy"]
        for file_name, items in (blobs or {}).items():
            write_blob(tmp / file_name, items)
            written.append(file_name)
        files, blocks = {}, {}
        for f in written:
            size = (tmp / f).stat().st_size
            if size > CHECKSUM_ON_LOAD:  # large: checked block by block as it is read
                crc, blocks[f] = checksums.file_checksums(tmp / f)
            else:
                crc = _crc32(tmp / f)
            files[f] = [size, crc]
        for file_name, (source, entry, crcs) in (linked or {}).items():
            try:
                os.link(source, tmp / file_name)
            except OSError:
                shutil.copyfile(source, tmp / file_name)
            files[file_name] = list(entry)
            if crcs is not None:
                blocks[file_name] = crcs
        where, start = {}, 0
        for f in sorted(blocks):
            where[f] = [start, len(blocks[f])]
            start += len(blocks[f])
        np.save(tmp / BLOCKS, np.concatenate([blocks[f] for f in sorted(blocks)] or [np.empty(0, np.uint32)]))
        files[BLOCKS] = [(tmp / BLOCKS).stat().st_size, _crc32(tmp / BLOCKS)]
        for f in [*files]:
            with open(tmp / f, "rb") as fh:
                os.fsync(fh.fileno())
        manifest = {**manifest, "files": dict(sorted(files.items())), "blocks": where,
                    "block_size": checksums.BLOCK}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")
        with open(tmp / "manifest.json", "rb") as fh:
            os.fsync(fh.fileno())
        final = index_dir / name
        os.rename(tmp, final)
        pointer = index_dir / f".CURRENT-{os.getpid()}"
        pointer.write_text(name, "utf-8")
        with open(pointer, "rb") as fh:
            os.fsync(fh.fileno())
        previous = current_build(index_dir)
        os.replace(pointer, index_dir / "CURRENT")
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # keep the build just replaced (a reader may still be opening it); drop older ones
    for old in index_dir.glob("build-*"):
        if old.name not in (name, previous and previous.name):
            shutil.rmtree(old, ignore_errors=True)
    return final


CHECKSUM_ON_LOAD = 8 * 1024 * 1024  # files up to this size are checksummed whole at every load
BLOCKS = "blocks.npy"  # CRC-32 of each 16 KiB block of the larger files (qa/index/checksums.py)


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def check_files(build_dir: Path, manifest: dict, full: bool = False) -> None:
    """ValueError naming the first damaged file. Sizes are always compared (a truncated array is
    caught at once); checksums for small files, or for all with full=True (`qa index --verify`)."""
    files = manifest.get("files")
    if not files:
        raise ValueError("the manifest lists no files (an index from an older qa?)")
    for name, (size, crc) in files.items():
        path = build_dir / name
        try:
            actual = path.stat().st_size
        except OSError:
            raise ValueError(f"{name} is missing") from None
        if actual != size:
            raise ValueError(f"{name} has {actual} bytes, expected {size}")
        if (full or size <= CHECKSUM_ON_LOAD) and _crc32(path) != crc:
            raise ValueError(f"{name} does not match its checksum")


def current_build(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / "CURRENT").read_text("utf-8").strip()
    except OSError:
        return None
    build_dir = index_dir / name
    return build_dir if name.startswith("build-") and build_dir.is_dir() else None


def read_manifest(build_dir: Path) -> dict | None:
    try:
        return json.loads((build_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def index_key(corpus_paths: list[str], settings: Settings) -> str:
    """The cache key: which corpus paths, which settings, which format."""
    resolved = [str(Path(p).expanduser().resolve()) for p in corpus_paths]
    blob = json.dumps([FORMAT_VERSION, resolved, dataclasses.asdict(settings)])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
