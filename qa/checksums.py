"""Checksums of an index's large files, checked block by block as the blocks are first read.

Small files are checksummed whole at every load (qa/index.py). Reading a large file whole at
every start would cost more than answering, so each is also checksummed in blocks of 64 KiB, and
a block is checked the first time anything in it is read, then marked good for the life of the
process. A flipped byte is thus caught before any answer depends on it, at a cost that follows
what a query reads (a few blocks per query term), never the size of the index.
On a mismatch the build is marked damaged (so the next open rebuilds it) and DamagedIndex is raised.
"""
from __future__ import annotations

import mmap
import zlib
from pathlib import Path

import numpy as np

from .errors import DamagedIndex

BLOCK = 1 << 16
DAMAGED = "DAMAGED"  # a marker file in a build found damaged while in use


def file_checksums(path: Path) -> tuple[int, np.ndarray]:
    """(CRC-32 of the whole file, CRC-32 of each BLOCK-byte block) in one read."""
    whole, blocks = 0, []
    with open(path, "rb") as f:
        while chunk := f.read(BLOCK):
            whole = zlib.crc32(chunk, whole)
            blocks.append(zlib.crc32(chunk))
    return whole, np.asarray(blocks, dtype=np.uint32)


class FileChecker:
    """The blocks of one file: checks a byte range against the stored CRCs, each block once."""

    def __init__(self, path: Path, crcs: np.ndarray, size: int):
        self.path, self.crcs = path, crcs
        self.ok = np.zeros(len(crcs), dtype=bool)
        self.size = size
        self._map = None

    def check(self, lo: int, hi: int) -> None:
        """Bytes [lo, hi) of the file."""
        if hi <= lo:
            return
        j0, j1 = lo // BLOCK, (hi - 1) // BLOCK + 1
        if self.ok[j0:j1].all():
            return
        self.check_blocks(np.flatnonzero(~self.ok[j0:j1]) + j0)

    def check_blocks(self, blocks: np.ndarray) -> None:
        for j in blocks.tolist():
            if self.ok[j]:
                continue
            if self._map is None:
                with open(self.path, "rb") as f:
                    self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            if j >= len(self.crcs) or zlib.crc32(self._map[j * BLOCK:(j + 1) * BLOCK]) != int(self.crcs[j]):
                reason = f"{self.path.name} does not match its checksum in block {j}"
                mark_damaged(self.path.parent, reason)
                raise DamagedIndex(f"the index in {self.path.parent} is damaged ({reason}); "
                                   "it will be rebuilt on the next run")
            self.ok[j] = True

    def check_all(self) -> None:
        self.check(0, self.size)


def mark_damaged(build_dir: Path, reason: str) -> None:
    """Leave a note in the build, so the next open rebuilds it and says why."""
    try:
        (build_dir / DAMAGED).write_text(reason, "utf-8")
    except OSError:
        pass


def damage_noted(build_dir: Path) -> str | None:
    try:
        return (build_dir / DAMAGED).read_text("utf-8").strip() or "found damaged while in use"
    except FileNotFoundError:
        return None
    except OSError:
        return "found damaged while in use"


class CheckedArray:
    """A memory-mapped array whose reads are checked first, block by block (see the module doc).

    Indexing with an int, a slice or an array of positions (along the first axis) checks what it
    reads; anything else (np.asarray, methods) checks the whole file first. Hot paths that know
    their ranges check them with check_rows and then index .raw."""

    def __init__(self, raw: np.memmap, checker: FileChecker):
        self.raw, self.checker = raw, checker
        self.offset = int(raw.offset)
        self.row = int(raw.strides[0]) if raw.ndim else raw.itemsize

    shape = property(lambda self: self.raw.shape)
    dtype = property(lambda self: self.raw.dtype)
    ndim = property(lambda self: self.raw.ndim)
    size = property(lambda self: self.raw.size)

    def __len__(self) -> int:
        return len(self.raw)

    def check_rows(self, lo: int, hi: int) -> None:
        self.checker.check(self.offset + lo * self.row, self.offset + hi * self.row)

    def check_ranges(self, starts: np.ndarray, ends: np.ndarray) -> None:
        for lo, hi in zip(np.asarray(starts).tolist(), np.asarray(ends).tolist()):
            self.check_rows(lo, hi)

    def __getitem__(self, key):
        first = key[0] if isinstance(key, tuple) else key
        n = len(self.raw)
        if isinstance(first, slice):
            lo, hi, step = first.indices(n)
            if step == 1:
                self.check_rows(lo, max(lo, hi))
            else:
                self.checker.check_all()
        elif isinstance(first, (int, np.integer)):
            i = int(first) + (n if int(first) < 0 else 0)
            self.check_rows(i, i + 1)
        else:
            positions = np.asarray(first)
            if positions.dtype == bool or positions.dtype.kind not in "iu":
                self.checker.check_all()
            elif positions.size:
                positions = np.where(positions < 0, positions + n, positions).astype(np.int64).ravel()
                starts = self.offset + positions * self.row
                blocks = np.unique(np.concatenate([starts // BLOCK, (starts + self.row - 1) // BLOCK]))
                blocks = blocks[(blocks >= 0) & (blocks < len(self.checker.ok))]
                todo = blocks[~self.checker.ok[blocks]]
                if len(todo):
                    self.checker.check_blocks(todo)
        return self.raw[key]

    def __array__(self, dtype=None, copy=None):
        self.checker.check_all()
        return np.asarray(self.raw) if dtype is None else np.asarray(self.raw, dtype=dtype)

    def __getattr__(self, name):  # tolist, max, ...: they read everything
        self.checker.check_all()
        return getattr(self.raw, name)


def raw(array, starts=None, ends=None):
    """The plain array behind `array`, its rows [starts[i], ends[i]) checked first when it is checked."""
    if isinstance(array, CheckedArray):
        if starts is None:
            array.checker.check_all()
        else:
            array.check_ranges(starts, ends)
        return array.raw
    return array
