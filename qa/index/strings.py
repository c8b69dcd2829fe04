"""A table of strings on disk: UTF-8 blobs plus an offsets array, all memory-mapped.

Reading string i touches only its bytes; a sorted table finds a string by binary search,
so a vocabulary of millions of terms loads in no time and costs memory only where read.

A freshly built table is one blob, `<name>.txt`, with N + 1 cumulative offsets. An index update
appends a blob part (`<name>.<k>.txt`) with the new strings and rewrites the offsets as N × 2
spans (start, end) over the parts laid end to end, so strings may be inserted in any position
while the earlier blobs are kept as they are.
"""
from __future__ import annotations

import bisect
import mmap
import os
from pathlib import Path

import numpy as np

from qa.index.parts import part_name


def write_table(directory: Path, name: str, items) -> int:
    """Write <name>.txt (the blob) and <name>.offsets.npy; returns the number of strings."""
    ends = write_blob(directory / f"{name}.txt", items)
    np.save(directory / f"{name}.offsets.npy", np.asarray([0, *ends], dtype=np.int64))
    return len(ends)


def write_blob(path: Path, items) -> list[int]:
    """Write the strings (str, or bytes written as they are) to one blob; returns where each ends."""
    ends = []
    with open(path, "wb") as blob:
        position = 0
        for item in items:
            data = item.encode("utf-8") if isinstance(item, str) else item
            blob.write(data)
            position += len(data)
            ends.append(position)
    return ends


def spans_of(offsets: np.ndarray) -> np.ndarray:
    """Offsets of either layout as N × 2 spans."""
    offsets = np.asarray(offsets)
    return offsets if offsets.ndim == 2 else np.stack([offsets[:-1], offsets[1:]], axis=1)


def _map(path: Path):
    if os.path.getsize(path) == 0:
        return b""
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


class StringTable:
    def __init__(self, directory: Path, name: str, parts: int = 1, load=None, checker=None):
        """load(file name): the offsets array (checked when large); checker(file name): the
        block checker of a large blob, or None (qa/index/checksums.py)."""
        self.offsets = load(f"{name}.offsets.npy") if load else np.load(directory / f"{name}.offsets.npy", mmap_mode="r")
        names = [part_name(name, k, ".txt") for k in range(parts)]
        blobs = [_map(directory / n) for n in names]
        self._checkers = [checker(n) if checker else None for n in names]
        for c, blob in zip(self._checkers, blobs):
            if c is not None and blob:
                c.use(blob)
        self.part_sizes = [len(b) for b in blobs]
        if self.offsets.ndim == 1:
            self._blob: bytes | mmap.mmap = blobs[0]
            self._spans = None
        else:
            self._blobs = blobs
            self._bases = [0]
            for size in self.part_sizes:
                self._bases.append(self._bases[-1] + size)
            self._spans = self.offsets

    @classmethod
    def from_list(cls, items: list[str]) -> "StringTable":
        """An in-memory table with the same interface (for indexes built without a disk)."""
        table = cls.__new__(cls)
        encoded = [s.encode("utf-8") for s in items]
        table.offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded], dtype=np.int64)])
        table._blob = b"".join(encoded)
        table._spans = None
        table._checkers = [None]
        table.part_sizes = [len(table._blob)]
        return table

    def __len__(self) -> int:
        return len(self.offsets) - (1 if self._spans is None else 0)

    def part(self, k: int):
        """The bytes of blob part k (checked first when checked)."""
        if self._checkers[k] is not None:
            self._checkers[k].check_all()
        return self._blob if self._spans is None else self._blobs[k]

    def raw(self, i: int) -> bytes:
        if self._spans is None:
            start, end = int(self.offsets[i]), int(self.offsets[i + 1])
            if self._checkers[0] is not None:
                self._checkers[0].check(start, end)
            return self._blob[start:end]
        start, end = int(self._spans[i, 0]), int(self._spans[i, 1])
        k = bisect.bisect_right(self._bases, start) - 1
        base = self._bases[k]
        if self._checkers[k] is not None:
            self._checkers[k].check(start - base, end - base)
        return self._blobs[k][start - base : end - base]

    def __getitem__(self, i: int) -> str:
        return self.raw(i).decode("utf-8")

    def lower_bound(self, key: bytes) -> int:
        """First position whose string is >= key, in a table sorted by UTF-8 bytes."""
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.raw(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def find(self, s: str) -> int:
        """Index of s in a sorted table, or -1."""
        key = s.encode("utf-8")
        i = self.lower_bound(key)
        return i if i < len(self) and self.raw(i) == key else -1

    def prefix_range(self, prefix: str) -> range:
        """Positions of the strings that start with `prefix`, in a sorted table."""
        key = prefix.encode("utf-8")
        start = end = self.lower_bound(key)
        while end < len(self) and self.raw(end).startswith(key):
            end += 1
        return range(start, end)
