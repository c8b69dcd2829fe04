"""Corpus paths -> files -> documents: format detection, reading, de-duplication, fingerprints."""
from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

from qa import errors
from qa.errors import InputError
from qa.models import Document
from qa.readers import records
from qa.readers import beir


def bundled_corpus() -> Path:
    """The seed corpus: packaged as qa/corpus in the wheel, corpus/ beside qa/ in a checkout."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "corpus"
    return packaged if packaged.is_dir() else package.parent / "corpus"


def corpus_files(paths: list[str], warn=None) -> list[Path]:
    """Every file the corpus paths name, in a stable order. A BEIR dataset folder means its corpus.jsonl.

    Only regular files are read: in a folder, a FIFO or device (reading it could block forever or
    never end), a dangling symbolic link or a loop of them is skipped with a warning naming it."""
    warn = warn or errors.warn
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
                for name in sorted(n for n in names if not n.startswith(".")):
                    why = _not_regular(Path(root, name))
                    if why:
                        warn(f"{Path(root, name)}: {why}; skipped")
                    else:
                        files.append(Path(root, name).resolve())
        else:
            raise InputError(raw, _not_regular(path) or "no such file or directory")
    seen, unique = set(), []
    for f in files:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def _not_regular(path: Path) -> str | None:
    """Why `path` is not a regular file to read (None when it is one)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a loop of symbolic links"
        if os.path.islink(path):
            return "a symbolic link to nothing"
        return "no such file or directory" if e.errno == errno.ENOENT else e.strerror or str(e)
    if stat.S_ISREG(mode):
        return None
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
    return f"not a regular file ({kind})" if kind != "not a file" else kind


def fingerprint(files: list[Path]) -> list[list]:
    """[path, size, mtime_ns] per file: cheap to recompute, changes when a file does."""
    out = []
    for f in files:
        st = f.stat()
        out.append([str(f), st.st_size, st.st_mtime_ns])
    return out


TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".mdown", ".mkd")
FORMATS = "PubMed page text, MEDLINE/.nbib, PubMed XML, RIS, BibTeX, BEIR corpus.jsonl, PDF, text or Markdown"


def detect_format(path: Path) -> str:
    """The reader for a file, from its content; extensions only decide plain text vs Markdown.

    Readers are imported here, not at module level: the query path never pays for them.
    """
    from qa.readers import bibtex, medline, pdf, pubmed_page, pubmed_xml, ris

    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as e:
        raise InputError(str(path), e.strerror or str(e)) from None
    if pdf.looks_like_pdf(head):
        return "pdf"
    text = head.decode("utf-8-sig", errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{"):
        if records.looks_like_records(first):
            return "qa-records"
        if beir.looks_like_beir(first):
            return "beir"
    for name, looks_like in (("pubmed-xml", pubmed_xml.looks_like_pubmed_xml), ("ris", ris.looks_like_ris),
                             ("medline", medline.looks_like_medline), ("bibtex", bibtex.looks_like_bibtex),
                             ("pubmed-page", pubmed_page.looks_like_pubmed_page)):
        if looks_like(text):
            return name
    if path.suffix.lower() in TEXT_SUFFIXES:
        return "text"
    raise InputError(str(path), f"unrecognised format (qa reads {FORMATS})")


def _reader(fmt: str):
    from qa.readers import bibtex, medline, pdf, pubmed_page, pubmed_xml, ris, text

    return {"beir": beir.read_beir, "pubmed-page": pubmed_page.read_pubmed_page,
            "qa-records": records.read_records, "medline": medline.read_medline,
            "pubmed-xml": pubmed_xml.read_pubmed_xml, "ris": ris.read_ris, "bibtex": bibtex.read_bibtex,
            "pdf": pdf.read_pdf, "text": text.read_plain}[fmt]


def read_file(path: Path) -> list[Document]:
    """All documents of one file, parsed completely (InputError on the first problem). A line of a
    text format longer than common.LINE_MAX_BYTES is refused before parsing (not in qa's own
    records, which hold a whole document a line)."""
    from qa.readers.common import check_line_lengths

    fmt = detect_format(path)
    if fmt not in ("pdf", "qa-records"):
        check_line_lengths(path)
    return _reader(fmt)(path)


def read_documents(files: list[Path], warn=None) -> list[Document]:
    """All documents, each file read completely before any is kept; duplicates of a doc_id skipped."""
    warn = warn or errors.warn
    docs: dict[str, Document] = {}
    for f in files:
        for doc in read_file(f):
            if doc.doc_id in docs:
                warn(f"{f}: document {doc.doc_id} is already in the corpus "
                     f"(from {docs[doc.doc_id].source_path}); skipped")
                continue
            docs[doc.doc_id] = doc
    return list(docs.values())
