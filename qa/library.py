"""The user's library: files added with `qa add`, stored as parsed records plus the original file.

Layout of a library directory:
    originals/<name>        the file as the user gave it (provenance, and what a damaged records
                            file is rebuilt from)
    records/<name>.jsonl    the documents parsed from it that were added (duplicates left out),
                            one JSON line each, each line with its checksum
    keys/<name>.keys.npy    the duplicate-detection keys and the ids of those documents, hashed: an
                            add checks a new document against them without parsing the library
    damaged/<name>.jsonl    a records file found damaged, kept as it was when it was rebuilt
    removed.jsonl           the ids `qa remove` took out (a rerun knows them; a rebuild leaves them out)
The records directory is what the index reads. Each file is written under a temporary name and
renamed into place, records last: a file is in the library completely or not at all. A keys file
is only a cache of its records file: missing or stale, it is made again from the records.

Every document of the library has its own id: a different document whose id is taken (two
Markdown notes with the same first heading) is added under the id with a suffix, "-2", "-3", ...

A change (add, remove, rebuilding a damaged records file) holds the library's lock and first
clears what a killed change left: temporaries of dead processes, and originals or keys files
whose records file was never written or was removed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from qa import errors, files, home, locking, phases
from qa.errors import DamagedRecord, InputError, QAError
from qa.readers.corpus import read_file
from qa.models import Document
from qa.readers.records import read_records, write_records

RECORDS = ".jsonl"
KEYS = ".keys.npy"
_NAME_BYTES = 120  # of a stored name's stem: with the digest and a temporary's prefix, far below 255
_DIGEST = re.compile(r"\.[0-9a-f]{10}$")  # the end of a stored name (qa/library.py: _stored_name)


def library_dir(option: str | None) -> Path:
    return Path(option).expanduser() if option else home.default_library()


def records_dir(library: Path) -> Path:
    return library / "records"


def _names(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []


def record_files(library: Path) -> list[Path]:
    """The records files, in the order the index reads them: a hidden name (a temporary,
    `.tmp-<pid>-…`) is never one."""
    folder = records_dir(library)
    return [folder / n for n in _names(folder) if n.endswith(RECORDS) and not n.startswith(".")]


def _stem(records: Path) -> str:
    return records.name[: -len(RECORDS)]


def _original_of(records: Path) -> Path:
    return records.parent.parent / "originals" / _stem(records)


def _text_key(doc: Document) -> str:
    text = " ".join([doc.title or ""] + [s.text for s in doc.sections])
    return hashlib.sha1(re.sub(r"\W+", " ", text.casefold()).strip().encode()).hexdigest()


def _keys(doc: Document) -> list[str]:
    """What makes a document a duplicate of another: the same text, PMID or DOI."""
    keys = [f"text:{_text_key(doc)}"]
    if doc.pmid:
        keys.append(f"pmid:{doc.pmid}")
    if doc.doi:
        keys.append(f"doi:{doc.doi.casefold()}")
    return keys


def _id_key(doc_id: str) -> str:
    return f"id:{doc_id}"


def _all_keys(doc: Document) -> list[str]:
    return _keys(doc) + [_id_key(doc.doc_id)]


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "little", signed=True)


def _keys_path(records: Path) -> Path:
    """Beside the records directory, not in it: that directory is the index's corpus."""
    return records.parent.parent / "keys" / (_stem(records) + KEYS)


def _key_table(docs: list[Document]):
    """(hash, document number, 1 for the id's key) of each key of each document, as an n × 3 int64
    array (keys files of older versions have no ids, and two columns: they are made again)."""
    import numpy as np

    rows = [(_hash(k), i, k.startswith("id:")) for i, d in enumerate(docs) for k in _all_keys(d)]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def _write_keys(records: Path, docs: list[Document]) -> None:
    import numpy as np

    table = _key_table(docs)
    _keys_path(records).parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, table)

    files.write_atomically(_keys_path(records), write, "keys")


class _KnownKeys:
    """The keys of the documents in the library, read from the keys files (made where missing).

    A damaged records file raises DamagedRecord (the change rebuilds it, then looks again); with
    tolerant=True its documents are left out instead (while another one is being rebuilt)."""

    def __init__(self, library: Path, skip: Path | None = None, tolerant: bool = False):
        import numpy as np

        self.tolerant = tolerant
        self.files = [f for f in record_files(library) if f != skip]
        tables = []
        for k, f in enumerate(self.files):
            table = self._table(f)
            tables.append(np.column_stack([table[:, :2], np.full(len(table), k, dtype=np.int64)]))
        whole = np.concatenate(tables) if tables else np.empty((0, 3), np.int64)
        self.table = whole[np.argsort(whole[:, 0], kind="stable")]
        self._docs: dict[int, list[Document]] = {}

    def _table(self, records: Path):
        import numpy as np

        keys = _keys_path(records)
        try:
            if keys.stat().st_mtime_ns >= records.stat().st_mtime_ns:
                table = np.load(keys)
                if table.ndim == 2 and table.shape[1] == 3 and table.dtype == np.int64:
                    return table
        except (OSError, ValueError):
            pass
        docs = self._read(records)
        try:
            _write_keys(records, docs)
        except OSError:
            pass
        return _key_table(docs)

    def _read(self, records: Path) -> list[Document]:
        try:
            return read_records(records)
        except DamagedRecord:
            if self.tolerant:
                return []
            raise

    def find(self, key: str) -> str | None:
        """doc_id of a library document with this key, or None."""
        import numpy as np

        h = _hash(key)
        lo = int(np.searchsorted(self.table[:, 0], h, side="left"))
        hi = int(np.searchsorted(self.table[:, 0], h, side="right"))
        for _, doc, file in self.table[lo:hi].tolist():
            if file not in self._docs:
                self._docs[file] = self._read(self.files[file])
            if doc >= len(self._docs[file]):
                continue
            candidate = self._docs[file][doc]
            if key in _all_keys(candidate):  # a hash collision is not a duplicate
                return candidate.doc_id
        return None


def _duplicate_of(doc: Document, known: dict[str, str], in_library: _KnownKeys) -> str | None:
    for key in _keys(doc):
        seen = known.get(key) or in_library.find(key)
        if seen is not None:
            return seen
    return None


def _id_taken(doc_id: str, known: dict[str, str], in_library: _KnownKeys) -> bool:
    return _id_key(doc_id) in known or in_library.find(_id_key(doc_id)) is not None


def _new_documents(docs: list[Document], label: str, known: dict[str, str], in_library: _KnownKeys,
                   notes: list[str]) -> list[Document]:
    """The documents not already in the library nor among `known` (the keys of those this change
    added), each under an id no other document has; a line for each one skipped or renamed goes
    to `notes`. Their keys are added to `known`."""
    fresh = []
    for doc in docs:
        seen = _duplicate_of(doc, known, in_library)
        if seen is not None:
            notes.append(f"{label}: {doc.doc_id} is already in the library (as {seen}); skipped")
            continue
        if _id_taken(doc.doc_id, known, in_library):
            n = 2
            while _id_taken(f"{doc.doc_id}-{n}", known, in_library):
                n += 1
            notes.append(f"{label}: another document in the library has the id {doc.doc_id}; "
                         f"added this one as {doc.doc_id}-{n}")
            doc = dataclasses.replace(doc, doc_id=f"{doc.doc_id}-{n}")
        fresh.append(doc)
        for key in _all_keys(doc):
            known[key] = doc.doc_id
    return fresh


def library_documents(library: Path) -> list[tuple[Path, Document]]:
    return [(f, d) for f in record_files(library) for d in read_records(f)]


@dataclass
class AddReport:
    added: list[tuple[str, int]] = field(default_factory=list)  # (file, documents added)
    duplicates: list[str] = field(default_factory=list)  # one line each: skipped, or added under another id
    rejected: list[str] = field(default_factory=list)  # one line each (the parse error)
    unchanged: list[tuple[str, int]] = field(default_factory=list)  # (file, documents): all already there
    skipped: list[str] = field(default_factory=list)  # files of a folder qa cannot read: one line each
    folders: dict[str, list[int]] = field(default_factory=dict)  # folder -> [files read, files skipped]
    unchanged: list[tuple[str, int]] = field(default_factory=list)  # (file, documents): all already there
    skipped: list[str] = field(default_factory=list)  # files of a folder qa cannot read: one line each
    folders: dict[str, list[int]] = field(default_factory=dict)  # folder -> [files read, files skipped]


def _stored_name(path: Path) -> str:
    """The file's name in the library: never hidden (the index skips hidden files), short enough
    for any file system with a temporary's prefix, its suffix kept (it tells Markdown from text),
    and a digest of the content, so different files never share one."""
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:10]
    name = re.sub(r"[^\w.-]+", "_", path.name).lstrip(".") or "file"
    stem, suffix = os.path.splitext(name)
    if len(suffix.encode("utf-8")) > 16:
        stem, suffix = name, ""
    stem = stem.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore") or "file"
    return f"{stem}{suffix}.{digest}"


def _write_file(library: Path, name: str, docs: list[Document], source: Path | None) -> None:
    """The original (copied from `source`; None: it is there already), keys and records of one
    file, each written whole and renamed into place, the records last."""
    if source is not None:
        (library / "originals").mkdir(parents=True, exist_ok=True)
        files.write_atomically(library / "originals" / name, lambda tmp: shutil.copyfile(source, tmp), "original")
    records = records_dir(library) / f"{name}{RECORDS}"
    records.parent.mkdir(parents=True, exist_ok=True)
    _write_keys(records, docs)
    files.write_atomically(records, lambda tmp: write_records(tmp, docs), "records")
    os.utime(_keys_path(records))  # not older than its records file


# ---------------------------------------------------------------- changes


@contextlib.contextmanager
def _changing(library: Path):
    """The library's lock held, and what killed changes left cleared."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(locking.exclusive(library, "changing this library"))
        except OSError as e:
            raise QAError(f"{library}: cannot change the library ({e.strerror or e})") from None
        _clear_leftovers(library)
        yield


def _clear_leftovers(library: Path) -> None:
    """Temporaries of dead processes; records files an older qa stored under a hidden name (the
    index never read them) made visible; originals and keys files without records."""
    for folder in ("originals", "records", "keys", "damaged"):
        files.remove_dead_temporaries(library / folder)
    records, originals = records_dir(library), library / "originals"
    for name in _names(records):  # records first: an original is only kept beside its records
        if name.startswith(".") and name.endswith(RECORDS) and files.writer_pid(name) is None:
            if not (records / name[1:]).exists():
                os.replace(records / name, records / name[1:])
    stems = {_stem(f) for f in record_files(library)}
    for name in _names(originals):
        if files.writer_pid(name) is not None:
            continue
        if name.startswith(".") and name[1:] in stems and not (originals / name[1:]).exists():
            os.replace(originals / name, originals / name[1:])
        elif not name.startswith(".") and name not in stems:
            (originals / name).unlink()
    for name in _names(library / "keys"):
        if name.endswith(KEYS) and name[: -len(KEYS)] not in stems and files.writer_pid(name) is None:
            (library / "keys" / name).unlink()


def _rebuilding_damaged(library: Path, change, warn):
    """change(), with each damaged records file it meets rebuilt (once) and the change resumed.
    A change must raise DamagedRecord only before it writes, or say where to resume."""
    rebuilt: set[Path] = set()
    while True:
        try:
            return change()
        except DamagedRecord as e:
            path = Path(e.path)
            if path in rebuilt or path.parent != records_dir(library):
                raise
            _rebuild(library, path, e, warn)
            rebuilt.add(path)


def add(paths: list[str], library: Path, warn=None) -> AddReport:
    """Parse each file completely; add the records that are new; report the rest.

    One writer at a time: a second `qa add` or `qa remove` waits for the library lock."""
    warn = warn or errors.warn
    report = AddReport(folders={raw: [0, 0] for raw in paths if Path(raw).expanduser().is_dir()})
    pending = list(_files(paths))
    known: dict[str, str] = {}  # keys of the documents added by this call

    def add_pending() -> AddReport:
        in_library = _KnownKeys(library)
        while pending:
            _add_one(*pending[0], library, in_library, known, report)
            pending.pop(0)
        return report

    with _changing(library):
        return _rebuilding_damaged(library, add_pending, warn)


def _add_one(raw: str, path: Path, folder: str | None, library: Path, in_library: _KnownKeys,
             known: dict[str, str], report: AddReport) -> None:
    try:
        if not path.is_file():
            raise InputError(raw, "no such file" if not path.exists() else "not a regular file")
        docs = read_file(path)
    except InputError as e:
        if folder is None:
            report.rejected.append(str(e))
        else:  # a folder holds other files too (notes, images): they are passed over, and named
            report.skipped.append(str(e))
            report.folders[folder][1] += 1
        return
    if folder is not None:
        report.folders[folder][0] += 1
    phases.reach("add:parsed")
    notes: list[str] = []
    mine = dict(known)  # known grows only once the file is written: a damaged records file met
    fresh = _new_documents(docs, raw, mine, in_library, notes)  # here makes the file start again
    if fresh:
        name = _stored_name(path)
        records = records_dir(library) / f"{name}{RECORDS}"
        # the same file added before and some of its documents removed since: the records of the
        # others are kept, the new ones join them (they are stored under the same name)
        kept = read_records(records) if records.exists() else []
        _write_file(library, name, kept + fresh, path)
        report.added.append((raw, len(fresh)))
    else:
        report.unchanged.append((raw, len(docs)))
    known.update(mine)
    report.duplicates += notes


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


def remove(ids: list[str], library: Path, warn=None) -> list[str]:
    """Take documents out of the library; returns the ids removed. An id may be written in any
    form qa.search.lookup accepts (a passage id, a DOI, "PMID: 123"). An id this library removed before
    (a rerun of an interrupted remove) is a notice; one it never held is a notice when others are
    removed, else a QAError."""
    warn = warn or errors.warn
    with _changing(library):
        return _rebuilding_damaged(library, lambda: _remove(ids, library, warn), warn)


def _remove(ids: list[str], library: Path, warn) -> list[str]:
    from qa.search import lookup

    by_file: dict[Path, list[Document]] = {}
    for f, doc in library_documents(library):  # every file read before anything changes
        by_file.setdefault(f, []).append(doc)
    catalogue = lookup.documents_catalogue([d for docs in by_file.values() for d in docs])
    found = {text: lookup.locate(catalogue, text) for text in dict.fromkeys(ids)}
    missing = [text for text, position in found.items() if position < 0]
    gone = [text for text in missing if text.strip() in removed_before(library)]
    unknown = [lookup.not_found(catalogue, text, f"in the library {library}", "`qa sources` lists the documents")
               for text in missing if text not in gone]
    if unknown and len(missing) == len(found):
        raise QAError("; ".join(unknown))
    if gone:
        warn(f"already removed from the library {library}: {', '.join(gone)}")
    for line in unknown:
        warn(line)
    removing = list(dict.fromkeys(catalogue.id_at(position) for position in found.values() if position >= 0))
    if removing:
        _log_removed(library, removing)  # first: a rerun after a kill knows them as removed
    phases.reach("remove:logged")
    left = set(removing)  # each id removes one document: the one the corpus shows
    for f, docs in by_file.items():
        keep = []
        for d in docs:
            if d.doc_id in left:
                left.discard(d.doc_id)
            else:
                keep.append(d)
        if len(keep) == len(docs):
            continue
        _keys_path(f).unlink(missing_ok=True)  # made again from the records when next needed
        if keep:
            files.write_atomically(f, lambda tmp, keep=keep: write_records(tmp, keep), "remove-records")
        else:
            f.unlink()
            phases.reach("remove:records-unlinked")
            _original_of(f).unlink(missing_ok=True)
    return removing


REMOVED = "removed.jsonl"  # the ids removed from the library, one JSON string a line


def removed_before(library: Path) -> set[str]:
    """The ids `qa remove` took out of this library (a line cut short by a crash is skipped)."""
    import json

    out = set()
    try:
        with open(library / REMOVED, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, str):
                    out.add(value)
    except FileNotFoundError:
        pass
    return out


def _log_removed(library: Path, ids: list[str]) -> None:
    import json

    path = library / REMOVED
    with open(path, "ab") as f:
        start = b"" if f.tell() == 0 or _ends_a_line(path) else b"\n"  # after a line cut short
        f.write(start + "".join(json.dumps(i) + "\n" for i in ids).encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())


def _ends_a_line(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


# ---------------------------------------------------------------- damaged records files


def rebuild_damaged(library: Path, records: Path, warn=None) -> bool:
    """Rebuild a damaged records file of `library` (see _rebuild), under the library's lock;
    False when `records` is not one of its records files."""
    warn = warn or errors.warn
    if records.parent.resolve() != records_dir(library).resolve() or not records.name.endswith(RECORDS):
        return False
    with _changing(library):
        records = records_dir(library) / records.name
        try:
            read_records(records)
        except DamagedRecord as e:
            _rebuild(library, records, e, warn)
        except InputError:  # gone meanwhile (another process rebuilt or removed it)
            pass
    return True


_ID_OF_LINE = re.compile(r'^\{"doc_id":("(?:[^"\\]|\\.)*")')


def _damaged_ids(records: Path, lines: list[int]) -> set[str] | None:
    """The ids the damaged lines still show (damage rarely hits the id at the start of a line);
    None when one of them shows none."""
    import json

    wanted = set()
    with open(records, "rb") as f:
        for number, raw in enumerate(f, 1):
            if number in lines:
                m = _ID_OF_LINE.match(raw.decode("utf-8", "replace"))
                try:
                    wanted.add(json.loads(m.group(1)))
                except (AttributeError, ValueError):
                    return None
    return wanted


def _parse_original(original: Path) -> list[Document]:
    """An original's documents, read as the file the user gave: under its own name again (its
    suffix tells Markdown from text), through a temporary link."""
    link = files.temporary(original.with_name(_DIGEST.sub("", original.name)))
    try:
        try:
            os.link(original, link)
        except OSError:
            shutil.copyfile(original, link)
        return [dataclasses.replace(d, source_path=str(original)) for d in read_file(link)]
    finally:
        link.unlink(missing_ok=True)


def _rebuild(library: Path, records: Path, damage: DamagedRecord, warn) -> None:
    """A damaged records file, made whole again: its good lines kept, the documents of its damaged
    lines read again from its original (when a damaged line no longer shows its id: all the
    original's documents that are neither in the library nor removed from it), the damaged file
    kept in damaged/. Without a readable original only the good lines are kept. One warning line
    says what was done."""
    lines: list = []
    good = read_records(records, lines)
    aside = library / "damaged" / records.name
    aside.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(aside, lambda tmp: shutil.copyfile(records, tmp), "damaged")
    what = f"library records file {records} is damaged (line {damage.line}: {damage.message})"
    original = _original_of(records)
    try:
        parsed = _parse_original(original)
    except (InputError, OSError) as e:
        reason = "it is missing" if not original.exists() else str(getattr(e, "message", e))
        if good:
            _write_file(library, _stem(records), good, None)
        else:  # nothing left to index: the file goes, its original (if any) beside the damaged copy
            if original.exists():
                os.replace(original, aside.with_name(original.name))
            records.unlink()
        warn(f"{what}; its original cannot be read ({reason}): kept its {len(good)} good documents, "
             f"the damaged file is kept in {aside}")
        return
    wanted = _damaged_ids(records, [n for n, _ in lines])
    if wanted is not None:
        parsed = [d for d in parsed if d.doc_id in wanted or any(w.startswith(d.doc_id + "-") for w in wanted)]
    else:  # what `qa remove` took out stays out
        removed = removed_before(library)
        parsed = [d for d in parsed if d.doc_id not in removed]
    known: dict[str, str] = {}
    for doc in good:
        for key in _all_keys(doc):
            known[key] = doc.doc_id
    others = _KnownKeys(library, skip=records, tolerant=True)
    recovered = _new_documents(parsed, str(original), known, others, [])
    if good or recovered:
        _write_file(library, _stem(records), good + recovered, None)
    else:  # all it held is elsewhere in the library: nothing to index here
        records.unlink()
        original.unlink()
    warn(f"{what}; rebuilt: {len(good)} documents kept, {len(recovered)} read again from its original "
         f"{original} (the damaged file is kept in {aside})")
