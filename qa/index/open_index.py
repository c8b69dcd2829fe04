"""The index of a corpus: loaded when fresh, updated when the corpus only gained files, else built.

Freshness is checked by the corpus files' fingerprint (paths, sizes, modification times) against
the current build's manifest; settings and the index format must match too."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path

from qa import errors, locking
from qa.files import remove_dead_temporaries
from qa.errors import QAError
from qa.index import shards, store
from qa.index.cache import index_dir_for, mark_used
from qa.index.layout import FORMAT_VERSION, Settings
from qa.index.reader import Index
from qa.readers.corpus import corpus_files, fingerprint, read_documents


def _manifest(settings: Settings, files_fp, corpus_paths, stats, seconds) -> dict:
    return {"format": FORMAT_VERSION, "settings": settings.__dict__, "corpus": corpus_paths,
            "fingerprint": files_fp, "stats": stats, "build_seconds": round(seconds, 3),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _is_usable(manifest: dict | None, settings: Settings, files_fp) -> bool:
    return (manifest is not None and manifest.get("format") == FORMAT_VERSION
            and manifest.get("settings") == settings.__dict__ and manifest.get("fingerprint") == files_fp)


def load_build(build_dir: Path, manifest: dict | None = None, serve=None) -> Index:
    """A saved build: an index, or a sharded index (qa/index/shards.py) whose shards are served in
    this process or by serve(build_dir, manifest) (a cluster, qa/search/cluster.py)."""
    manifest = manifest or store.read_manifest(build_dir)
    if shards.is_sharded(manifest):
        from qa.search.sharded import load

        return load(build_dir, manifest, serve)
    return store.load(build_dir, manifest)


def open_index(corpus_paths: list[str], settings: Settings, index_dir: str | None = None,
               rebuild: bool = False, warn=None, progress=None, n_shards: int | None = None,
               runner=None, serve=None) -> tuple[Index, bool]:
    """The index for this corpus, built or rebuilt when missing or stale. Returns (index, built now).

    The freshness check stats the corpus files only; nothing is parsed unless a build is needed.
    If the index location cannot be written, the index is built in memory (with one warning).
    n_shards: the shards wanted (1: one index; None: as the current build has them); a build
    with another number is made again. runner: how a sharded build runs each shard's task
    (qa/index/shards.py; a Ray cluster: qa/index/cluster.py). serve: how a sharded index's shards
    are served (default: in this process).
    """
    warn = warn or errors.warn
    files = corpus_files(corpus_paths, warn=warn)
    files_fp = fingerprint(files)
    directory = index_dir_for(corpus_paths, settings, index_dir)
    wanted = n_shards or _current_shards(directory)
    if not rebuild and wanted == _current_shards(directory):
        index = _load_fresh(directory, settings, files_fp, warn, serve=serve)
        if index is not None:
            return index, False
    unwritable = None  # why the index cannot be saved, once that is known
    with contextlib.ExitStack() as held:
        try:
            store.claim(directory)  # QAError for a folder of the user's: nothing is written there
            held.enter_context(locking.exclusive(directory, "building this index", warn=warn))
        except OSError as e:  # the location cannot be written: build in memory below
            unwritable = e
        if unwritable is None and not rebuild and _current_shards(directory) == wanted:  # another process may have built it while we waited
            index = _load_fresh(directory, settings, files_fp, warn, quiet=True, serve=serve)
            if index is not None:
                return index, False
            try:
                index = _update(directory, settings, files, files_fp, warn, runner, serve)
            except OSError as e:  # the update could not be saved (a full disk): build in memory
                unwritable = e
            if index is not None:
                return index, True
        started = time.perf_counter()
        docs = read_documents(files, warn=warn)
        if not docs:
            raise QAError(f"no documents in {', '.join(corpus_paths)}")
        corpus = [str(Path(p).expanduser().resolve()) for p in corpus_paths]
        if wanted > 1 and unwritable is None:
            if wanted > len(docs):
                raise QAError(f"cannot split {len(docs)} documents into {wanted} shards")
            try:
                final = shards.build_sharded(directory, docs, settings, wanted,
                                             _manifest(settings, files_fp, corpus, {}, 0.0), runner, started=started)
                mark_used(directory)
                return load_build(final, serve=serve), True
            except OSError as e:
                unwritable = e
        from qa.index.build import build  # only when building: a question on a built index never needs it

        built = build(docs, settings, progress=progress)
        manifest = _manifest(settings, files_fp, corpus, built.stats, time.perf_counter() - started)
        try:
            if unwritable is not None:
                raise unwritable
            final = store.save(directory, built.data, manifest)
        except OSError as e:
            warn(f"cannot write the index in {directory} ({e.strerror or e}); using an in-memory index this time")
            return Index.from_data(built.data, manifest), True
        mark_used(directory)
        return store.load(final), True  # load reads the saved manifest, with its file checksums


def _current_shards(directory: Path) -> int:
    """Shards of the current build (1 when it is not sharded, or there is none)."""
    build_dir = store.current_build(directory)
    return shards.count(store.read_manifest(build_dir)) if build_dir else 1


def _update(directory: Path, settings: Settings, files, files_fp, warn, runner=None, serve=None):
    """When the corpus only gained files since the current build, that build with their documents
    added (qa/index/update.py; a sharded build: qa/index/shards.py), saved as the new current
    build; else None (a full build follows). OSError when the new build cannot be saved."""
    build_dir = store.current_build(directory)
    manifest = store.read_manifest(build_dir) if build_dir else None
    if manifest is None or manifest.get("format") != FORMAT_VERSION or manifest.get("settings") != settings.__dict__:
        return None
    before = {tuple(entry) for entry in manifest.get("fingerprint") or []}
    now = [tuple(entry) for entry in files_fp]
    if not before or not before <= set(now) or len(before) == len(now):
        return None  # a file changed or went away: only a full build is exact
    from qa.index.update import NeedsRebuild, extend

    started = time.perf_counter()
    added = [f for f, entry in zip(files, now) if entry not in before]
    warnings: list[str] = []
    if shards.is_sharded(manifest):
        try:
            docs = read_documents(added, warn=warnings.append)
            base = {**_manifest(settings, files_fp, manifest["corpus"], {}, 0.0),
                    "updates": int(manifest.get("updates", 0)) + 1, "added_files": len(added)}
            final = shards.extend_sharded(directory, build_dir, manifest, docs, base, runner, started=started)
        except (NeedsRebuild, ValueError, QAError):
            return None
        for message in warnings:
            warn(message)
        mark_used(directory)
        return load_build(final, serve=serve)
    try:
        old = store.load(build_dir, manifest)
        docs = read_documents(added, warn=warnings.append)
        extension = extend(old, docs)
    except (NeedsRebuild, ValueError, QAError, OSError):
        return None  # the full build that follows reads everything again and says what it finds
    for message in warnings:
        warn(message)
    new_manifest = {**_manifest(settings, files_fp, manifest["corpus"], extension.stats,
                                time.perf_counter() - started),
                    "parts": extension.parts, "updates": int(manifest.get("updates", 0)) + 1,
                    "added_files": len(added)}
    final = store.save(directory, extension.data, new_manifest, arrays=extension.arrays, blobs=extension.blobs,
                       linked=extension.linked)
    mark_used(directory)
    return store.load(final)


def _load_fresh(directory: Path, settings: Settings, files_fp, warn, quiet: bool = False, serve=None):
    """The current build if it is fresh for these files and settings and intact; else None."""
    build_dir = store.current_build(directory)
    if build_dir is None:
        return None
    manifest = store.read_manifest(build_dir)
    if manifest is None:
        if not quiet:
            warn(f"the index manifest in {build_dir} is unreadable; rebuilding the index")
        return None
    if manifest.get("format") != FORMAT_VERSION:
        if not quiet:
            warn(f"the index in {directory} has format {manifest.get('format')}, this qa reads "
                 f"{FORMAT_VERSION}; rebuilding it")
        return None
    if not _is_usable(manifest, settings, files_fp):
        return None  # the corpus changed: rebuilding is the normal course
    try:
        index = load_build(build_dir, manifest, serve)
    except (OSError, ValueError) as e:
        if not quiet:
            warn(f"the index in {build_dir} is damaged ({e}); rebuilding it")
        return None
    mark_used(directory)
    if (directory / store.MARKER).is_file():  # leftovers of killed writers, as a build clears them
        remove_dead_temporaries(directory)
    return index
