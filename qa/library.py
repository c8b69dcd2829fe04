"""The user's library: files added with `qa add`, stored as parsed records plus the original file.

Layout of a library directory:
    originals/<name>     the file as the user gave it (provenance)
    records/<name>.jsonl the documents parsed from it that were added (duplicates left out)
The records directory is what the index reads. Each file is written under a temporary name and
renamed into place, records last: a file is in the library completely or not at all.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import locking
from .errors import InputError, QAError
from .ingest import read_file
from .models import Document
from .records import read_records, write_records


def default_library() -> Path:
    home = os.environ.get("QA_HOME")
    if home:
        return Path(home).expanduser() / "library"
    import platformdirs

    return Path(platformdirs.user_data_dir("qa", appauthor=False)) / "library"


def library_dir(option: str | None) -> Path:
    return Path(option).expanduser() if option else default_library()


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


def _write_atomically(target: Path, write) -> None:
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


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
    report = AddReport()
    known: dict[str, str] = {}
    for _, doc in library_documents(library):
        for key in _keys(doc):
            known[key] = doc.doc_id
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            if not path.is_file():
                raise InputError(raw, "no such file" if not path.exists() else "not a file")
            docs = read_file(path)
        except InputError as e:
            report.rejected.append(str(e))
            continue
        fresh = []
        for doc in docs:
            seen = next((known[k] for k in _keys(doc) if k in known), None)
            if seen is not None:
                report.duplicates.append(f"{raw}: {doc.doc_id} is already in the library (as {seen}); skipped")
                continue
            fresh.append(doc)
            for key in _keys(doc):
                known[key] = doc.doc_id
        if not fresh:
            continue
        (library / "originals").mkdir(parents=True, exist_ok=True)
        records_dir(library).mkdir(parents=True, exist_ok=True)
        name = _stored_name(path, library)
        _write_atomically(library / "originals" / name, lambda tmp: shutil.copyfile(path, tmp))
        _write_atomically(records_dir(library) / f"{name}.jsonl", lambda tmp: write_records(tmp, fresh))
        report.added.append((raw, len(fresh)))
    return report


def remove(ids: list[str], library: Path) -> list[str]:
    """Take documents out of the library; returns the ids removed. Unknown ids raise QAError."""
    with locking.exclusive(library, "changing this library"):
        return _remove(ids, library)


def _remove(ids: list[str], library: Path) -> list[str]:
    by_file: dict[Path, list[Document]] = {}
    for f, doc in library_documents(library):
        by_file.setdefault(f, []).append(doc)
    present = {d.doc_id for docs in by_file.values() for d in docs}
    missing = [i for i in ids if i not in present]
    if missing:
        raise QAError(f"not in the library {library}: {', '.join(missing)}")
    wanted = set(ids)
    for f, docs in by_file.items():
        keep = [d for d in docs if d.doc_id not in wanted]
        if len(keep) == len(docs):
            continue
        if keep:
            _write_atomically(f, lambda tmp, keep=keep: write_records(tmp, keep))
        else:
            f.unlink()
            original = library / "originals" / f.name[: -len(".jsonl")]
            if original.exists():
                original.unlink()
    return [i for i in ids if i in present]
