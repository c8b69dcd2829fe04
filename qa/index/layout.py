"""What an index holds: its arrays and string tables, grouped by what they describe.

Every field names the file it is stored in (`<file>.npy` for an array; `<file>.txt` plus
`<file>.offsets.npy` for a string table, qa/index/strings.py). Code reads an index through these
names (`index.passages.doc`, `index.postings.impacts`), never through file names; the storage
layer (qa/index/store.py) maps one to the other with `stored_fields`.

Some arrays and tables are stored in parts (qa/index/parts.py): an update appends a part holding
only what is new, the earlier parts being the previous build's files.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterator

from qa.index import bm25 as bm25_formula

FORMAT_VERSION = 10  # 6: abbreviation tables; 7: spelling variants; 8: TF-IDF counts, parts;
# 9: hyphenation and spacing variants (qa/text/spacing.py); 10: adjectives in -ful and "effective"
# keep terms of their own (qa/text/analyze.py): an index's terms change with the analyzer; passage
# text hashes, the keys of the passage embeddings (qa/index/embeddings.py)
KINDS = ("body", "reference", "metadata")  # passage.kind holds a position in this tuple


@dataclass(frozen=True)
class Settings:
    bm25: str = "lucene"
    k1: float = bm25_formula.K1
    b: float = bm25_formula.B


def text_hash(text: str) -> int:
    """A passage text's 64-bit key (BLAKE2b): equal texts, equal keys, in any index."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _array(file: str, parts: bool = False) -> Any:
    return field(metadata={"file": file, "table": False, "parts": parts})


def _table(file: str, parts: bool = False) -> Any:
    return field(metadata={"file": file, "table": True, "parts": parts})


@dataclass
class Passages:
    """One row per passage; passages are numbered documents by id, then in document order."""

    text: Any = _table("passages", parts=True)
    doc: Any = _array("passage.doc")  # the document's number
    n: Any = _array("passage.n")  # its number within the document (the n of "<doc_id>#<n>")
    kind: Any = _array("passage.kind")  # position in KINDS
    section: Any = _array("passage.section")  # position in section_names, -1 for none
    ref: Any = _array("passage.ref")  # number of the reference a reference passage is, else 0
    length: Any = _array("passage.length")  # terms, as BM25 counts them
    hash: Any = _array("passage.hash")  # of the text (text_hash): the key of its embedding
    section_names: Any = _table("sections")  # sorted


@dataclass
class Documents:
    """One row per document, in id order."""

    ids: Any = _table("doc_ids", parts=True)
    records: Any = _table("docs", parts=True)  # the Document as a JSON line (qa/readers/records.py)
    year: Any = _array("doc.year")  # 0 when unknown
    journal: Any = _array("doc.journal")  # position in journal_names, -1 for none
    journal_names: Any = _table("journals")  # case- and accent-folded "abbreviation | full title"


@dataclass
class Authors:
    """The documents of each author's surname (case- and accent-folded), for the author filter."""

    surnames: Any = _table("surnames")  # sorted by UTF-8 bytes
    indptr: Any = _array("surname.indptr")
    docs: Any = _array("surname.docs")


@dataclass
class Postings:
    """BM25 postings grouped by term: term t owns positions indptr[t]..indptr[t + 1]."""

    indptr: Any = _array("bm25.indptr")
    indices: Any = _array("bm25.indices")  # passage of each posting, ascending within a term
    impacts: Any = _array("bm25.impacts")  # its BM25 score contribution (qa/index/bm25.py)
    tf: Any = _array("bm25.tf")  # the term's count in the passage (impacts are recomputed from it)


@dataclass
class Terms:
    """The analyzer's terms of all passages: a term's id is its position in `names`."""

    names: Any = _table("terms")  # sorted by UTF-8 bytes
    content: Any = _array("terms.content")  # whether a term is content, not only a field label
    hyphenated: Any = _table("spacing")  # hyphenated terms by joined form (qa/text/spacing.py)


@dataclass
class Tfidf:
    """TF-IDF features and stored rows (qa/index/tfidf.py)."""

    term_feature: Any = _array("tfidf.term_feature")
    bigrams: Any = _array("tfidf.bigrams")  # sorted bigram keys
    bigram_feature: Any = _array("tfidf.bigram_feature")
    df: Any = _array("tfidf.df")
    idf: Any = _array("tfidf.idf")
    rows: Any = _array("tfidf.rows")  # N x 2 spans into features / counts
    features: Any = _array("tfidf.features", parts=True)
    counts: Any = _array("tfidf.counts", parts=True)


@dataclass
class Words:
    """Surface words (not stems) of four letters or more: what spelling correction offers."""

    names: Any = _table("words")  # sorted by UTF-8 bytes
    count: Any = _array("words.count")


@dataclass
class Abbreviations:
    """Definition pairs found in the corpus (qa/text/abbreviations.py)."""

    short: Any = _table("abbrev.short")
    long: Any = _table("abbrev.long")
    definitions: Any = _table("abbrev.defs")


@dataclass
class IndexData:
    """Everything an index holds. Built in memory as arrays and lists of strings; loaded from
    disk as memory-mapped arrays and string tables."""

    passages: Passages
    documents: Documents
    authors: Authors
    postings: Postings
    terms: Terms
    tfidf: Tfidf
    words: Words
    abbreviations: Abbreviations


@dataclass(frozen=True)
class StoredField:
    group: str  # the IndexData field
    name: str  # the field of that group
    file: str  # file stem on disk
    table: bool  # a string table (else an array)
    parts: bool  # stored in parts


_GROUPS = {"passages": Passages, "documents": Documents, "authors": Authors, "postings": Postings,
           "terms": Terms, "tfidf": Tfidf, "words": Words, "abbreviations": Abbreviations}


def stored_fields() -> list[StoredField]:
    """Every stored field, in a fixed order."""
    return [StoredField(group, f.name, f.metadata["file"], f.metadata["table"], f.metadata["parts"])
            for group, cls in _GROUPS.items() for f in dataclasses.fields(cls)]


def index_data(value_of) -> IndexData:
    """An IndexData whose every field is value_of(StoredField)."""
    groups: dict[str, dict] = {name: {} for name in _GROUPS}
    for f in stored_fields():
        groups[f.group][f.name] = value_of(f)
    return IndexData(**{name: _GROUPS[name](**values) for name, values in groups.items()})


def items(data: IndexData) -> Iterator[tuple[StoredField, Any]]:
    """(stored field, value) of every field of `data`."""
    for f in stored_fields():
        yield f, getattr(getattr(data, f.group), f.name)
