"""A table of strings on disk: one UTF-8 blob plus an offsets array, both memory-mapped.

Reading string i touches only its bytes; a sorted table finds a string by binary search,
so a vocabulary of millions of terms loads in no time and costs memory only where read.
"""
from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np


def write_table(directory: Path, name: str, items) -> int:
    """Write <name>.txt (the blob) and <name>.offsets.npy; returns the number of strings."""
    offsets = [0]
    with open(directory / f"{name}.txt", "wb") as blob:
        position = 0
        for item in items:
            data = item.encode("utf-8")
            blob.write(data)
            position += len(data)
            offsets.append(position)
    np.save(directory / f"{name}.offsets.npy", np.asarray(offsets, dtype=np.int64))
    return len(offsets) - 1


class StringTable:
    def __init__(self, directory: Path, name: str):
        self.offsets = np.load(directory / f"{name}.offsets.npy", mmap_mode="r")
        path = directory / f"{name}.txt"
        if os.path.getsize(path) == 0:
            self._blob: bytes | mmap.mmap = b""
        else:
            with open(path, "rb") as f:
                self._blob = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    @classmethod
    def from_list(cls, items: list[str]) -> "StringTable":
        """An in-memory table with the same interface (for indexes built without a disk)."""
        table = cls.__new__(cls)
        encoded = [s.encode("utf-8") for s in items]
        table.offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded], dtype=np.int64)])
        table._blob = b"".join(encoded)
        return table

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def raw(self, i: int) -> bytes:
        return self._blob[int(self.offsets[i]) : int(self.offsets[i + 1])]

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
