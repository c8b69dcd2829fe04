"""Where indexes live and when they are rebuilt: keyed by corpus paths + settings, checked by fingerprint."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from qa import locking
from qa.index import core as ix
from qa.errors import QAError
from qa.readers.corpus import corpus_files, fingerprint, read_documents


def qa_home() -> Path:
    """QA_HOME when set: the single root of everything qa writes; else the user's cache directory."""
    home = os.environ.get("QA_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa", appauthor=False))


def index_dir_for(corpus_paths: list[str], settings: ix.Settings, index_dir: str | None) -> Path:
    if index_dir:
        return Path(index_dir).expanduser()
    return qa_home() / "indexes" / ix.index_key(corpus_paths, settings)


LAST_USED = "last-used"  # an empty file in an index directory; its mtime is when it was last opened
LAST_USED_EVERY = 60.0  # seconds: opening an index rewrites the mark at most this often


def mark_used(directory: Path, now: float | None = None) -> None:
    """Record that the index in `directory` was opened (for `qa cache list|prune`).

    One stat per open; the file is touched only when its mark is older than a minute, and a
    location that cannot be written is left alone.
    """
    marker = directory / LAST_USED
    now = time.time() if now is None else now
    try:
        if now - marker.stat().st_mtime < LAST_USED_EVERY:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    try:
        marker.touch()
        os.utime(marker, (now, now))
    except OSError:
        pass


def _manifest(settings: ix.Settings, files_fp, corpus_paths, stats, seconds) -> dict:
    return {"format": ix.FORMAT_VERSION, "settings": settings.__dict__, "corpus": corpus_paths,
            "fingerprint": files_fp, "stats": stats, "build_seconds": round(seconds, 3),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _is_usable(manifest: dict | None, settings: ix.Settings, files_fp) -> bool:
    return (manifest is not None and manifest.get("format") == ix.FORMAT_VERSION
            and manifest.get("settings") == settings.__dict__ and manifest.get("fingerprint") == files_fp)


def open_index(corpus_paths: list[str], settings: ix.Settings, index_dir: str | None = None,
               rebuild: bool = False, warn=None, progress=None) -> tuple[ix.Index, bool]:
    """The index for this corpus, built or rebuilt when missing or stale. Returns (index, built now).

    The freshness check stats the corpus files only; nothing is parsed unless a build is needed.
    If the index location cannot be written, the index is built in memory (with one warning).
    """
    warn = warn or (lambda msg: print(f"qa: {msg}", file=sys.stderr))
    files = corpus_files(corpus_paths)
    files_fp = fingerprint(files)
    directory = index_dir_for(corpus_paths, settings, index_dir)
    if not rebuild:
        index = _load_fresh(directory, settings, files_fp, warn)
        if index is not None:
            return index, False
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(locking.exclusive(directory, "building this index", warn=warn))
            writable = True
        except OSError:  # the location cannot be written: build in memory below
            writable = False
        if writable and not rebuild:  # another process may have built it while we waited
            index = _load_fresh(directory, settings, files_fp, warn, quiet=True)
            if index is not None:
                return index, False
            index = _update(directory, settings, files, files_fp, warn)
            if index is not None:
                return index, True
        started = time.perf_counter()
        docs = read_documents(files, warn=warn)
        if not docs:
            raise QAError(f"no documents in {', '.join(corpus_paths)}")
        arrays, tables, stats = ix.build(docs, settings, progress=progress)
        manifest = _manifest(settings, files_fp, [str(Path(p).expanduser().resolve()) for p in corpus_paths],
                             stats, time.perf_counter() - started)
        try:
            if not writable:
                raise OSError("the index location cannot be written")
            final = ix.save(directory, arrays, tables, manifest)
        except OSError as e:
            warn(f"cannot write the index in {directory} ({e.strerror or e}); using an in-memory index this time")
            return ix.Index.from_memory(arrays, tables, manifest), True
        mark_used(directory)
        return ix.Index.load(final), True  # load reads the saved manifest, with its file checksums


def _update(directory: Path, settings: ix.Settings, files, files_fp, warn):
    """When the corpus only gained files since the current build, that build with their documents
    added (qa/index/update.py), saved as the new current build; else None (a full build follows)."""
    build_dir = ix.current_build(directory)
    manifest = ix.read_manifest(build_dir) if build_dir else None
    if manifest is None or manifest.get("format") != ix.FORMAT_VERSION or manifest.get("settings") != settings.__dict__:
        return None
    before = {tuple(entry) for entry in manifest.get("fingerprint") or []}
    now = [tuple(entry) for entry in files_fp]
    if not before or not before <= set(now) or len(before) == len(now):
        return None  # a file changed or went away: only a full build is exact
    from qa.index.update import NeedsRebuild, extend

    started = time.perf_counter()
    added = [f for f, entry in zip(files, now) if entry not in before]
    warnings: list[str] = []
    try:
        old = ix.Index.load(build_dir, manifest)
        docs = read_documents(added, warn=warnings.append)
        arrays, tables, blobs, linked, parts, stats = extend(old, docs)
    except (NeedsRebuild, ValueError, QAError):
        return None  # the full build that follows reads everything again and says what it finds
    for message in warnings:
        warn(message)
    new_manifest = {**_manifest(settings, files_fp, manifest["corpus"], stats, time.perf_counter() - started),
                    "parts": parts, "updates": int(manifest.get("updates", 0)) + 1, "added_files": len(added)}
    final = ix.save(directory, arrays, tables, new_manifest, blobs=blobs, linked=linked)
    mark_used(directory)
    return ix.Index.load(final)


def _load_fresh(directory: Path, settings: ix.Settings, files_fp, warn, quiet: bool = False):
    """The current build if it is fresh for these files and settings and intact; else None."""
    build_dir = ix.current_build(directory)
    if build_dir is None:
        return None
    manifest = ix.read_manifest(build_dir)
    if manifest is None:
        if not quiet:
            warn(f"the index manifest in {build_dir} is unreadable; rebuilding the index")
        return None
    if manifest.get("format") != ix.FORMAT_VERSION:
        if not quiet:
            warn(f"the index in {directory} has format {manifest.get('format')}, this qa reads "
                 f"{ix.FORMAT_VERSION}; rebuilding it")
        return None
    if not _is_usable(manifest, settings, files_fp):
        return None  # the corpus changed: rebuilding is the normal course
    try:
        index = ix.Index.load(build_dir, manifest)
    except (OSError, ValueError) as e:
        if not quiet:
            warn(f"the index in {build_dir} is damaged ({e}); rebuilding it")
        return None
    mark_used(directory)
    return index
