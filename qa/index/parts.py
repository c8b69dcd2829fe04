"""Arrays stored in parts: part 0 is `<name>.npy`, part k is `<name>.<k>.npy`.

An index update appends a part holding only what is new; the earlier parts are the previous
build's files, linked, not copied. Readers address the parts as one array: position p of the
whole lies in the part whose range [base, base + size) holds it.
"""
from __future__ import annotations

import numpy as np

MAX_PARTS = 8  # beyond this an update merges the parts after the first into one


def part_name(name: str, k: int, suffix: str = ".npy") -> str:
    return f"{name}{suffix}" if k == 0 else f"{name}.{k}{suffix}"


class PartArray:
    """Read-only view of an array's parts, indexable by an array of positions."""

    def __init__(self, parts: list[np.ndarray]):
        self.parts = parts
        sizes = [len(p) for p in parts]
        self.bases = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.dtype = parts[0].dtype

    def __len__(self) -> int:
        return int(self.bases[-1])

    def __getitem__(self, positions):
        positions = np.asarray(positions, dtype=np.int64)
        if len(self.parts) == 1:
            return self.parts[0][positions]
        out = np.empty(positions.shape, dtype=self.dtype)
        part = np.searchsorted(self.bases, positions, side="right") - 1
        for k in np.unique(part).tolist():
            sel = part == k
            out[sel] = self.parts[k][positions[sel] - self.bases[k]]
        return out

    def take(self, starts: np.ndarray, ends: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """self[positions], where the positions are the ranges [starts[i], ends[i]): checked
        range by range (qa/index/checksums.py) before the plain arrays are read."""
        from qa.index.checksums import CheckedArray

        plain = []
        for part, base in zip(self.parts, self.bases[:-1].tolist()):
            if isinstance(part, CheckedArray):
                inside = (starts >= base) & (starts < base + len(part))
                part.check_ranges(starts[inside] - base, ends[inside] - base)
                part = part.raw
            plain.append(part)
        return PartArray(plain)[positions]

    def __array__(self, dtype=None, copy=None):
        whole = np.concatenate(self.parts) if len(self.parts) > 1 else np.asarray(self.parts[0])
        return whole if dtype is None else whole.astype(dtype)
