"""Index builds on disk: written completely, then published atomically; loaded by memory map.

Layout of an index directory (one per corpus + settings):
    .qa-index               marks the folder as qa's: qa deletes only what it made, and only here
    CURRENT                 name of the build in use, replaced atomically (os.replace)
    build-<time>-<pid>/     one complete build: manifest.json, *.npy, *.txt, blocks.npy
A build is written under a temporary name (qa/files.py), fsynced and renamed, and only then
named in CURRENT, so an interrupted or failed build leaves the previous one in use.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
import zlib
from pathlib import Path

import numpy as np

from qa import files, phases
from qa.errors import QAError
from qa.index import checksums, embeddings, layout
from qa.index.cache import LAST_USED
from qa.locking import LOCK
from qa.index.parts import PartArray, part_name
from qa.index.reader import Index
from qa.index.strings import StringTable, write_blob, write_table

CHECKSUM_ON_LOAD = 8 * 1024 * 1024  # files up to this size are checksummed whole at every load
BLOCKS = "blocks.npy"  # CRC-32 of each 16 KiB block of the larger files (qa/index/checksums.py)
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
MARKER = ".qa-index"
_BUILD = re.compile(r"^build-\d+-\d+$")
_OWN_FILES = {CURRENT, MARKER, LAST_USED, LOCK, embeddings.FOLDER}


# ---------------------------------------------------------------- the folder

def is_index_folder(index_dir: Path) -> bool:
    """Whether qa may write and delete in this folder: it carries qa's mark, or holds nothing but
    what qa writes in an index folder (so an empty folder, and one made before the mark, qualify)."""
    if (index_dir / MARKER).is_file():
        return True
    try:
        names = os.listdir(index_dir)
    except FileNotFoundError:
        return True
    return all(name in _OWN_FILES or files.writer_pid(name) is not None
               or (_BUILD.match(name) and (index_dir / name / MANIFEST).is_file()) for name in names)


def claim(index_dir: Path) -> None:
    """Make `index_dir` an index folder of qa (created when missing, then marked). QAError for a
    folder that holds anything else: qa never writes, nor deletes, among a user's files.
    OSError when it cannot be written."""
    if not is_index_folder(index_dir):
        raise QAError(f"{index_dir}: not an index folder of qa (it holds other files); "
                      f"give --index an empty or new folder")
    if not (index_dir / MARKER).is_file():
        index_dir.mkdir(parents=True, exist_ok=True)
        (index_dir / MARKER).write_text("an index folder of qa: qa deletes the builds it made here\n", "utf-8")


# ---------------------------------------------------------------- writing

def save(index_dir: Path, data: layout.IndexData, manifest: dict, arrays=None, blobs=None, linked=None) -> Path:
    """Write a complete build, then make it current; returns the build directory.

    data: what the index holds (a field that is None is not written: an update keeps it in parts);
    arrays: more arrays by file stem (<stem>.npy: an update's spans and parts);
    blobs: file name -> strings (a blob part alone, its spans being among the arrays);
    linked: file name -> (path in an earlier build, its [size, crc32], its block checksums or
    None): unchanged files of an update, hard-linked (copied where links are refused), not
    rewritten nor checksummed again."""
    tmp, name = new_build(index_dir)
    try:
        write_build(tmp, data, manifest, arrays, blobs, linked)
        return publish(index_dir, tmp, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def new_build(index_dir: Path) -> tuple[Path, str]:
    """A new, empty temporary build directory in index_dir, and the name it will be published under."""
    index_dir.mkdir(parents=True, exist_ok=True)
    files.remove_dead_temporaries(index_dir)
    name = f"build-{time.time_ns()}-{os.getpid()}"
    tmp = files.temporary(index_dir / name)
    tmp.mkdir()
    return tmp, name


def write_build(directory: Path, data: layout.IndexData | None, manifest: dict, arrays=None, blobs=None,
                linked=None) -> dict:
    """Write the files of a complete build into `directory` (existing, empty): what `data` holds,
    the extra arrays and blobs, the linked files, their checksums, then the manifest, all fsynced.
    Returns the manifest written. (save's arguments; a sharded build writes each shard so.)"""
    tables = {}
    arrays = dict(arrays or {})
    for f, value in (layout.items(data) if data is not None else ()):
        if value is not None:
            (tables if f.table else arrays)[f.file] = value
    written = _write_files(directory, arrays, tables, blobs or {})
    sums, blocks = _checksums(directory, written)
    _link(directory, linked or {}, sums, blocks)
    where = _write_block_table(directory, blocks, sums)
    phases.reach("build:before-fsync")
    for f in sums:
        files.fsync_file(directory / f)
    manifest = {**manifest, "files": dict(sorted(sums.items())), "blocks": where, "block_size": checksums.BLOCK}
    _write_manifest(directory, manifest)
    return manifest


def linked_files(build_dir: Path, manifest: dict, leave_out=()) -> dict:
    """Every file of a saved build but those left out, as `write_build` links them into a new one."""
    crcs = np.load(build_dir / BLOCKS)
    blocks = manifest.get("blocks", {})
    return {name: (build_dir / name, entry, crcs[blocks[name][0]:blocks[name][0] + blocks[name][1]]
                   if name in blocks else None)
            for name, entry in manifest["files"].items() if name != BLOCKS and name not in leave_out}


def publish(index_dir: Path, tmp: Path, name: str) -> Path:
    """Rename a finished build into place, name it in CURRENT, drop builds older than the one it
    replaced; returns the build directory."""
    previous = _publish(index_dir, tmp, name)
    phases.reach("build:published")
    _drop_old_builds(index_dir, keep={name, previous and previous.name})
    return index_dir / name


def _write_files(tmp: Path, arrays: dict, tables: dict, blobs: dict) -> list[str]:
    written = []
    for key, values in arrays.items():
        np.save(tmp / f"{key}.npy", np.ascontiguousarray(values))
        written.append(f"{key}.npy")
    for key, items in tables.items():
        write_table(tmp, key, items)
        written += [f"{key}.txt", f"{key}.offsets.npy"]
    for file_name, items in blobs.items():
        write_blob(tmp / file_name, items)
        written.append(file_name)
    return written


def _checksums(tmp: Path, written: list[str]) -> tuple[dict, dict]:
    """[size, crc32] of each file; block checksums of the large ones (checked as they are read)."""
    sums, blocks = {}, {}
    for f in written:
        size = (tmp / f).stat().st_size
        if size > CHECKSUM_ON_LOAD:
            crc, blocks[f] = checksums.file_checksums(tmp / f)
        else:
            crc = crc32(tmp / f)
        sums[f] = [size, crc]
    return sums, blocks


def _link(tmp: Path, linked: dict, sums: dict, blocks: dict) -> None:
    """Files an update keeps from the build before, with the checksums they already have."""
    for file_name, (source, entry, crcs) in linked.items():
        try:
            os.link(source, tmp / file_name)
        except OSError:
            shutil.copyfile(source, tmp / file_name)
        sums[file_name] = list(entry)
        if crcs is not None:
            blocks[file_name] = crcs


def _write_block_table(tmp: Path, blocks: dict, sums: dict) -> dict:
    """All block checksums in one file; returns where each file's run of them starts."""
    where, start = {}, 0
    for f in sorted(blocks):
        where[f] = [start, len(blocks[f])]
        start += len(blocks[f])
    np.save(tmp / BLOCKS, np.concatenate([blocks[f] for f in sorted(blocks)] or [np.empty(0, np.uint32)]))
    sums[BLOCKS] = [(tmp / BLOCKS).stat().st_size, crc32(tmp / BLOCKS)]
    return where


def _write_manifest(tmp: Path, manifest: dict) -> None:
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), "utf-8")
    files.fsync_file(tmp / MANIFEST)


def _publish(index_dir: Path, tmp: Path, name: str) -> Path | None:
    """Rename the finished build into place and name it in CURRENT; returns the build it replaced."""
    phases.reach("build:before-rename")
    os.rename(tmp, index_dir / name)
    previous = current_build(index_dir)
    files.write_atomically(index_dir / CURRENT, lambda path: path.write_text(name, "utf-8"), "current")
    return previous


def _drop_old_builds(index_dir: Path, keep: set) -> None:
    """Keep the build just replaced (a reader may still be opening it); drop older ones (only
    names qa gives its builds)."""
    for old in index_dir.glob("build-*"):
        if old.name not in keep and _BUILD.match(old.name):
            shutil.rmtree(old, ignore_errors=True)


def crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


# ---------------------------------------------------------------- reading

def check_files(build_dir: Path, manifest: dict, full: bool = False) -> None:
    """ValueError naming the first damaged file. Sizes are always compared (a truncated array is
    caught at once); checksums for small files, or for all with full=True (`qa index --verify`)."""
    listed = manifest.get("files")
    if not listed or not isinstance(listed, dict):
        raise ValueError("the manifest lists no files (an index from an older qa?)")
    for name, entry in listed.items():
        if (not isinstance(entry, list) or len(entry) != 2 or not all(isinstance(x, int) for x in entry)
                or "/" in name or name.startswith(".")):
            raise ValueError(f"the manifest's entry for {name!r} is damaged")
        size, crc = entry
        path = build_dir / name
        try:
            actual = path.stat().st_size
        except OSError:
            raise ValueError(f"{name} is missing") from None
        if actual != size:
            raise ValueError(f"{name} has {actual} bytes, expected {size}")
        if (full or size <= CHECKSUM_ON_LOAD) and crc32(path) != crc:
            raise ValueError(f"{name} does not match its checksum")


def current_build(index_dir: Path) -> Path | None:
    """The build CURRENT names; None when there is none, or CURRENT is damaged (not UTF-8, not
    a build's name)."""
    try:
        name = (index_dir / CURRENT).read_text("utf-8").strip()
    except (OSError, ValueError):
        return None
    build_dir = index_dir / name
    return build_dir if _BUILD.match(name) and build_dir.is_dir() else None


# what the code reads from a manifest, and the type it must have
_MANIFEST_TYPES = {"format": int, "settings": dict, "fingerprint": list, "stats": dict, "files": dict,
                   "corpus": list, "blocks": dict, "parts": dict}


def read_manifest(build_dir: Path) -> dict | None:
    """The build's manifest; None when it is unreadable or damaged (not a JSON object, nested
    too deeply, a field of the wrong type)."""
    try:
        manifest = json.loads((build_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(manifest, dict):
        return None
    for key, kind in _MANIFEST_TYPES.items():
        if key in manifest and not isinstance(manifest[key], kind):
            return None
    if not all(isinstance(entry, list) for entry in manifest.get("fingerprint") or []):
        return None
    return manifest


def load(build_dir: Path, manifest: dict | None = None) -> Index:
    """A saved build, memory-mapped; sizes and small files' checksums are checked first, the large
    files' blocks as they are read (qa/index/checksums.py). ValueError when it is damaged."""
    manifest = manifest or read_manifest(build_dir)
    if manifest is None:
        raise ValueError("the manifest is unreadable")
    files_of = BuildFiles(build_dir, manifest)
    parts = manifest.get("parts", {})

    def value(f: layout.StoredField):
        count = parts.get(f.file, 1)
        if f.table:
            return files_of.table(f.file, count)
        if f.parts:
            return PartArray([files_of.array(part_name(f.file, k)) for k in range(count)])
        return files_of.array(f"{f.file}.npy")

    index = Index(layout.index_data(value), manifest, build_dir)
    index.block_crcs = files_of.block_crcs
    index.validate()
    return index


class BuildFiles:
    """The files of a saved build, memory-mapped and checked: sizes and small files' checksums at
    once, the large files' blocks as they are read. ValueError when the build is damaged."""

    def __init__(self, build_dir: Path, manifest: dict):
        check_files(build_dir, manifest, full=False)
        noted = checksums.damage_noted(build_dir)
        if noted:
            raise ValueError(noted)
        block = manifest.get("block_size")
        if not isinstance(block, int) or block <= 0 or "blocks" not in manifest:
            raise ValueError("the manifest lists no block checksums")
        crcs = np.load(build_dir / BLOCKS)
        try:
            self.checkers = {f: checksums.FileChecker(build_dir / f, crcs[lo:lo + n], manifest["files"][f][0], block)
                             for f, (lo, n) in manifest["blocks"].items()}
        except (TypeError, KeyError, ValueError):
            raise ValueError("the manifest's list of block checksums is damaged") from None
        self.build_dir = build_dir

    def array(self, file_name: str):
        values = np.load(self.build_dir / file_name, mmap_mode="r")
        checker = self.checkers.get(file_name)
        # a plain ndarray over the mapping: np.memmap's Python __getitem__ costs a microsecond a read
        return checksums.CheckedArray(values, checker) if checker else np.asarray(values)

    def table(self, stem: str, parts: int = 1) -> StringTable:
        return StringTable(self.build_dir, stem, parts, self.array, self.checkers.get)

    def block_crcs(self, file_name: str):
        return self.checkers[file_name].crcs if file_name in self.checkers else None
