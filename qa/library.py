"""The user's library: files added with `qa add`, stored as parsed records plus the original file.

Layout of a library directory:
    originals/<name>        the file as the user gave it (provenance)
    records/<name>.jsonl    the documents parsed from it that were added (duplicates left out)
    keys/<name>.keys.npy    the duplicate-detection keys of those documents, hashed: an add
                            checks a new document against them without parsing the library
The records directory is what the index reads. Each file is written under a temporary name and
renamed into place, records last: a file is in the library completely or not at all. A keys file
is only a cache of its records file: missing or stale, it is made again from the records.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from qa import files, home, locking
from qa.errors import InputError, QAError
from qa.readers.corpus import read_file
from qa.models import Document
from qa.readers.records import read_records, write_records


def library_dir(option: str | None) -> Path:
    return Path(option).expanduser() if option else home.default_library()


def records_dir(library: Path) -> Path:
    return library / "records"


def _text_key(doc: Document) -> str:
    text = " ".join([doc.title or ""] + [s.text for s in doc.sections])
    return hashlib.sha1(re.sub(r"\W+", " ", text.casefold()).strip().encode()).hexdigest()


def _keys(doc: Document) -> list[str]:
    keys = [f"text:{_text_key(doc)}"]
    if doc.pmid:
        keys.append(f"pmid:{doc.pmid}")
    if doc.doi:
        keys.append(f"doi:{doc.doi.casefold()}")
    return keys


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "little", signed=True)


def _keys_path(records: Path) -> Path:
    """Beside the records directory, not in it: that directory is the index's corpus."""
    return records.parent.parent / "keys" / (records.name[: -len(".jsonl")] + ".keys.npy")


def _key_table(docs: list[Document]):
    """(hash, document number) of each key of each document, as an n × 2 int64 array."""
    import numpy as np

    rows = [(_hash(k), i) for i, d in enumerate(docs) for k in _keys(d)]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def _write_keys(records: Path, docs: list[Document]) -> None:
    import numpy as np

    table = _key_table(docs)
    _keys_path(records).parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, table)

    files.write_atomically(_keys_path(records), write)


class _KnownKeys:
    """The keys of the documents in the library, read from the keys files (made where missing)."""

    def __init__(self, library: Path):
        import numpy as np

        self.files = sorted(records_dir(library).glob("*.jsonl")) if records_dir(library).is_dir() else []
        tables = []
        for k, f in enumerate(self.files):
            keys = _keys_path(f)
            table = None
            try:
                if keys.stat().st_mtime_ns >= f.stat().st_mtime_ns:
                    table = np.load(keys)
                    if table.ndim != 2 or table.shape[1] != 2 or table.dtype != np.int64:
                        table = None
            except (OSError, ValueError):
                table = None
            if table is None:
                docs = read_records(f)
                table = _key_table(docs)
                try:
                    _write_keys(f, docs)
                except OSError:
                    pass
            tables.append(np.column_stack([table, np.full(len(table), k, dtype=np.int64)]))
        whole = np.concatenate(tables) if tables else np.empty((0, 3), np.int64)
        self.table = whole[np.argsort(whole[:, 0], kind="stable")]
        self._docs: dict[int, list[Document]] = {}

    def find(self, key: str) -> str | None:
        """doc_id of a library document with this key, or None."""
        import numpy as np

        h = _hash(key)
        lo = int(np.searchsorted(self.table[:, 0], h, side="left"))
        hi = int(np.searchsorted(self.table[:, 0], h, side="right"))
        for _, doc, file in self.table[lo:hi].tolist():
            if file not in self._docs:
                self._docs[file] = read_records(self.files[file])
            candidate = self._docs[file][doc]
            if key in _keys(candidate):  # a hash collision is not a duplicate
                return candidate.doc_id
        return None


def _duplicate_of(doc: Document, known: dict[str, str], in_library: _KnownKeys) -> str | None:
    for key in _keys(doc):
        seen = known.get(key) or in_library.find(key)
        if seen is not None:
            return seen
    return None


def library_documents(library: Path) -> list[tuple[Path, Document]]:
    folder = records_dir(library)
    if not folder.is_dir():
        return []
    return [(f, d) for f in sorted(folder.glob("*.jsonl")) for d in read_records(f)]


@dataclass
class AddReport:
    added: list[tuple[str, int]] = field(default_factory=list)  # (file, documents added)
    duplicates: list[str] = field(default_factory=list)  # one line each
    rejected: list[str] = field(default_factory=list)  # one line each (the parse error)
    unchanged: list[tuple[str, int]] = field(default_factory=list)  # (file, documents): all already there
    skipped: list[str] = field(default_factory=list)  # files of a folder qa cannot read: one line each
    folders: dict[str, list[int]] = field(default_factory=dict)  # folder -> [files read, files skipped]


def _stored_name(path: Path, folder: Path) -> str:
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:10]
    stem = re.sub(r"[^\w.-]+", "_", path.name)
    return f"{stem}.{digest}"


def add(paths: list[str], library: Path) -> AddReport:
    """Parse each file completely; add the records that are new; report the rest.

    One writer at a time: a second `qa add` or `qa remove` waits for the library lock."""
    with locking.exclusive(library, "changing this library"):
        return _add(paths, library)


def _add(paths: list[str], library: Path) -> AddReport:
    report = AddReport(folders={raw: [0, 0] for raw in paths if Path(raw).expanduser().is_dir()})
    in_library = _KnownKeys(library)
    known: dict[str, str] = {}  # keys of the documents added by this call
    for raw, path, folder in _files(paths):
        try:
            if not path.is_file():
                raise InputError(raw, "no such file" if not path.exists() else "not a file")
            docs = read_file(path)
        except InputError as e:
            if folder is None:
                report.rejected.append(str(e))
            else:  # a folder holds other files too (notes, images): they are passed over, and named
                report.skipped.append(str(e))
                report.folders[folder][1] += 1
            continue
        if folder is not None:
            report.folders[folder][0] += 1
        fresh = []
        for doc in docs:
            seen = _duplicate_of(doc, known, in_library)
            if seen is not None:
                report.duplicates.append(f"{raw}: {doc.doc_id} is already in the library (as {seen}); skipped")
                continue
            fresh.append(doc)
            for key in _keys(doc):
                known[key] = doc.doc_id
        if not fresh:
            report.unchanged.append((raw, len(docs)))
            continue
        (library / "originals").mkdir(parents=True, exist_ok=True)
        records_dir(library).mkdir(parents=True, exist_ok=True)
        name = _stored_name(path, library)
        files.write_atomically(library / "originals" / name, lambda tmp: shutil.copyfile(path, tmp))
        records = records_dir(library) / f"{name}.jsonl"
        # the same file added before and some of its documents removed since: the records of the
        # others are kept, the new ones join them (they are stored under the same name)
        kept = read_records(records) if records.exists() else []
        _write_keys(records, kept + fresh)
        files.write_atomically(records, lambda tmp: write_records(tmp, kept + fresh))
        os.utime(_keys_path(records))  # not older than its records file
        report.added.append((raw, len(fresh)))
    return report


def _files(paths: list[str]):
    """(name to show, path, the folder named on the command line or None) of each file to add.
    A folder's files are found as `--corpus FOLDER` finds them: recursively, hidden ones left out."""
    from qa.readers.corpus import corpus_files

    for raw in paths:
        path = Path(raw).expanduser()
        if not path.is_dir():
            yield raw, path, None
            continue
        top = path.resolve()
        for f in corpus_files([raw]):
            yield os.path.join(raw, str(f.relative_to(top))) if f.is_relative_to(top) else str(f), f, raw


def remove(ids: list[str], library: Path) -> list[str]:
    """Take documents out of the library; returns the ids removed. An id may be written in any
    form qa.lookup accepts (a passage id, a DOI, "PMID: 123"); unknown ids raise QAError."""
    with locking.exclusive(library, "changing this library"):
        return _remove(ids, library)


def _remove(ids: list[str], library: Path) -> list[str]:
    from qa import lookup

    by_file: dict[Path, list[Document]] = {}
    for f, doc in library_documents(library):
        by_file.setdefault(f, []).append(doc)
    catalogue = lookup.documents_catalogue([d for docs in by_file.values() for d in docs])
    found = {text: lookup.locate(catalogue, text) for text in ids}
    missing = [text for text, position in found.items() if position < 0]
    if missing:
        raise QAError("; ".join(lookup.not_found(catalogue, text, f"in the library {library}",
                                                 "`qa sources` lists the documents")
                                for text in missing))
    removed = list(dict.fromkeys(catalogue.id_at(position) for position in found.values()))
    wanted = set(removed)
    for f, docs in by_file.items():
        keep = [d for d in docs if d.doc_id not in wanted]
        if len(keep) == len(docs):
            continue
        _keys_path(f).unlink(missing_ok=True)  # made again from the records when next needed
        if keep:
            files.write_atomically(f, lambda tmp, keep=keep: write_records(tmp, keep))
        else:
            f.unlink()
            original = library / "originals" / f.name[: -len(".jsonl")]
            if original.exists():
                original.unlink()
    return removed
