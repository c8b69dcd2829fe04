"""Checksums of an index's large files, checked block by block as the blocks are first read.

Small files are checksummed whole at every load (qa/index/core.py). Reading a large file whole at
every start would cost more than answering, so each is also checksummed in blocks, and
a block is checked the first time anything in it is read, then marked good for the life of the
process (16 KiB: checking reads the whole block). A flipped byte is thus caught before any answer depends on it, at a cost that follows
what a query reads (a few blocks per query term), never the size of the index.
On a mismatch the build is marked damaged (so the next open rebuilds it) and DamagedIndex is raised.
"""
from __future__ import annotations

import mmap
import zlib
from pathlib import Path

import numpy as np

from qa.errors import DamagedIndex

BLOCK = 1 << 14  # small: checking a block reads all of it, pages a query may not need
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

    def __init__(self, path: Path, crcs: np.ndarray, size: int, block: int = BLOCK):
        self.path, self.crcs, self.block = path, crcs, block
        self.ok = np.zeros(len(crcs), dtype=bool)
        self.size = size
        self._map = None  # the file's bytes from offset 0: the reader's own mapping when it has one

    def use(self, mapping) -> None:
        """Read blocks through `mapping` (the whole file, as mapped by its reader): pages the
        check reads are then the reader's, not a second mapping's."""
        if mapping is not None and len(mapping) == self.size:
            self._map = mapping

    def check(self, lo: int, hi: int) -> None:
        """Bytes [lo, hi) of the file."""
        if hi <= lo:
            return
        j0, j1 = lo // self.block, (hi - 1) // self.block + 1
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
            b = self.block
            if j >= len(self.crcs) or zlib.crc32(self._map[j * b:(j + 1) * b]) != int(self.crcs[j]):
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
        self.checker = checker
        self.offset = int(raw.offset)
        if self.offset < mmap.ALLOCATIONGRANULARITY:  # numpy mapped the file from byte 0
            checker.use(getattr(raw, "_mmap", None))
        self.raw = np.asarray(raw)  # the same mapping, without np.memmap's Python __getitem__
        self._checked: set[tuple[int, int]] = set()  # row ranges known good
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
        """Rows [starts[i], ends[i]) for every i, in one vectorised pass over their blocks."""
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        if len(starts) <= self.REMEMBERED_BATCH:  # the posting lists of a question's terms: asked again and again
            pairs = list(zip(starts.tolist(), ends.tolist()))
            if self._checked.issuperset(pairs):
                return
            self._check_ranges(starts, ends)
            if len(self._checked) > self.REMEMBERED:
                self._checked.clear()
            self._checked.update(pairs)
            return
        self._check_ranges(starts, ends)

    REMEMBERED = 100_000  # ranges remembered as checked, at most
    REMEMBERED_BATCH = 64  # calls with more ranges are not remembered

    def _check_ranges(self, starts: np.ndarray, ends: np.ndarray) -> None:
        keep = ends > starts
        if not keep.any():
            return
        block = self.checker.block
        first = (self.offset + starts[keep] * self.row) // block
        last = (self.offset + ends[keep] * self.row - 1) // block
        span = last - first
        if span.max() <= 1:  # the usual case: each range within one block or across one boundary
            blocks = np.unique(np.concatenate([first, last]))
        else:
            blocks = np.unique(np.repeat(first, span + 1) + (np.arange(int((span + 1).sum()))
                                                            - np.repeat(np.cumsum(span + 1) - (span + 1), span + 1)))
        todo = blocks[~self.checker.ok[blocks]]
        if len(todo):
            self.checker.check_blocks(todo)

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
                positions = positions[(positions >= 0) & (positions < n)]  # numpy says what is out of range
                self.check_ranges(positions, positions + 1)
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
