"""Corpus paths -> files -> documents: format detection, reading, de-duplication, fingerprints."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import InputError
from .models import Document
from . import records
from .readers import beir, pubmed_page


def bundled_corpus() -> Path:
    """The seed corpus: packaged as qa/corpus in the wheel, corpus/ beside qa/ in a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "corpus"
    return packaged if packaged.is_dir() else here.parent / "corpus"


def corpus_files(paths: list[str]) -> list[Path]:
    """Every file the corpus paths name, in a stable order. A BEIR dataset folder means its corpus.jsonl."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_file():
            files.append(path.resolve())
        elif path.is_dir():
            if (path / "corpus.jsonl").is_file():
                files.append((path / "corpus.jsonl").resolve())
                continue
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(Path(root, n).resolve() for n in sorted(names) if not n.startswith("."))
        else:
            raise InputError(raw, "no such file or directory")
    seen, unique = set(), []
    for f in files:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def fingerprint(files: list[Path]) -> list[list]:
    """[path, size, mtime_ns] per file: cheap to recompute, changes when a file does."""
    out = []
    for f in files:
        st = f.stat()
        out.append([str(f), st.st_size, st.st_mtime_ns])
    return out


def detect_format(path: Path) -> str:
    """'beir' or 'pubmed-page', from the content (extensions are ambiguous: .txt may be anything)."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as e:
        raise InputError(str(path), e.strerror or str(e)) from None
    text = head.decode("utf-8-sig", errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{") and records.looks_like_records(first):
        return "qa-records"
    if first.lstrip().startswith("{") and beir.looks_like_beir(first):
        return "beir"
    if pubmed_page.looks_like_pubmed_page(text):
        return "pubmed-page"
    raise InputError(str(path), "unrecognised format (this version reads PubMed page text and BEIR corpus.jsonl)")


READERS = {"beir": beir.read_beir, "pubmed-page": pubmed_page.read_pubmed_page,
           "qa-records": records.read_records}


def read_file(path: Path) -> list[Document]:
    """All documents of one file, parsed completely (InputError on the first problem)."""
    return READERS[detect_format(path)](path)


def read_documents(files: list[Path], warn=None) -> list[Document]:
    """All documents, each file read completely before any is kept; duplicates of a doc_id skipped."""
    warn = warn or (lambda msg: print(f"qa: {msg}", file=sys.stderr))
    docs: dict[str, Document] = {}
    for f in files:
        for doc in read_file(f):
            if doc.doc_id in docs:
                warn(f"{f}: document {doc.doc_id} is already in the corpus "
                     f"(from {docs[doc.doc_id].source_path}); skipped")
                continue
            docs[doc.doc_id] = doc
    return list(docs.values())
