"""Passage embeddings of an index: one vector a passage text, kept beside the builds, memory-mapped.

A passage's vector depends only on its text (qa/text/encoder.py embeds one text at a time), so
vectors are kept by text hash (`passage.hash`) rather than by position: a full build, an update
and a rebuild of the same corpus find the same vectors, and only passages never seen before are
embedded. Layout, under the index directory, per model and settings:

    embeddings/<key>/settings.json        what made the vectors (the encoder's settings)
    embeddings/<key>/CURRENT              name of the current base, replaced atomically
    embeddings/<key>/base-<id>.npy        float16 vectors, one row a passage
    embeddings/<key>/base-<id>.keys.npy   their text hashes
    embeddings/<key>/part-<pid>-<n>.npy   vectors embedded since the base (and .keys.npy)

Embedding is resumable: parts are written (atomically) every CHUNK passages, so an interrupted
run keeps what it did. Once every passage of a build has a vector, the base is rewritten in the
build's passage order and the parts are dropped: a complete index then maps its base as it is.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import files, locking

CHUNK = 256  # passages embedded between two saves: what an interruption can lose at most
DTYPE = np.float16  # half the size of float32; a cosine loses nothing that ranks
CURRENT = "CURRENT"
SETTINGS = "settings.json"
FOLDER = "embeddings"  # in the index directory, beside the builds


def directory(index_dir: Path, settings: dict) -> Path:
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return index_dir / FOLDER / key


@dataclass
class Vectors:
    """The vectors of every passage of an index (rows in passage order), or of some of them."""

    matrix: np.ndarray  # (n_passages, dim), float16; rows of missing passages are zero
    missing: np.ndarray  # positions of the passages without a vector

    @property
    def complete(self) -> bool:
        return len(self.missing) == 0


class Store:
    """The vectors kept for one index directory and one encoder's settings."""

    def __init__(self, index_dir: Path, settings: dict):
        self.path = directory(index_dir, settings)
        self.settings = settings

    def _pieces(self) -> list[tuple[Path, Path]]:
        """(vectors, keys) files: the current base first, then the parts, oldest first."""
        out = []
        try:
            base = (self.path / CURRENT).read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            base = ""
        if base.startswith("base-") and (self.path / f"{base}.npy").is_file():
            out.append((self.path / f"{base}.npy", self.path / f"{base}.keys.npy"))
        parts = sorted(self.path.glob("part-*.keys.npy"), key=lambda p: p.stat().st_mtime_ns) if self.path.is_dir() else []
        out += [(p.with_name(p.name[: -len(".keys.npy")] + ".npy"), p) for p in parts]
        return out

    def vectors(self, hashes: np.ndarray, dim: int) -> Vectors:
        """The vectors of passages with these text hashes, in their order."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        pieces = []
        for vectors_file, keys_file in self._pieces():
            try:
                keys = np.load(keys_file, mmap_mode="r")
                rows = np.load(vectors_file, mmap_mode="r")
            except (OSError, ValueError):
                continue  # a piece being written or damaged: its passages are embedded again
            if rows.ndim == 2 and rows.shape == (len(keys), dim):
                pieces.append((keys, rows))
        if pieces and len(pieces[0][0]) == len(hashes) and np.array_equal(pieces[0][0], hashes):
            return Vectors(pieces[0][1], np.empty(0, np.int64))  # a base in this order: no copy
        matrix = np.zeros((len(hashes), dim), dtype=DTYPE)
        found = np.zeros(len(hashes), dtype=bool)
        for keys, rows in pieces:
            order = np.argsort(keys, kind="stable")
            sorted_keys = np.asarray(keys)[order]
            at = np.minimum(np.searchsorted(sorted_keys, hashes), max(len(keys) - 1, 0))
            hit = (sorted_keys[at] == hashes) & ~found if len(keys) else np.zeros(len(hashes), bool)
            matrix[hit] = np.asarray(rows)[order[at[hit]]]
            found |= hit
        return Vectors(matrix, np.flatnonzero(~found))

    def embed(self, texts, hashes: np.ndarray, encoder, progress=None, warn=None) -> Vectors:
        """Embed the passages that have no vector yet (saving every CHUNK), then make the base
        these passages in order. texts(i): the text of passage i. KeyboardInterrupt keeps what
        was saved; the next run goes on from there."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        self.path.mkdir(parents=True, exist_ok=True)
        with locking.exclusive(self.path, "embedding passages", warn=warn):
            files.remove_dead_temporaries(self.path)
            (self.path / SETTINGS).write_text(json.dumps(self.settings, indent=1, sort_keys=True), "utf-8")
            have = self.vectors(hashes, encoder.dim)
            todo = have.missing
            done = 0
            for lo in range(0, len(todo), CHUNK):
                chunk = todo[lo:lo + CHUNK]
                rows = encoder.embed_many([texts(int(i)) for i in chunk],
                                          progress=(lambda d, _t, base=done: progress(base + d, len(todo)))
                                          if progress else None).astype(DTYPE)
                self._write(f"part-{os.getpid()}-{time.time_ns()}", rows, hashes[chunk])
                have.matrix[chunk] = rows
                done += len(chunk)
            if len(todo) or not self._base_matches(hashes):
                self._rebase(have.matrix, hashes)
        return Vectors(have.matrix, np.empty(0, np.int64))

    def remembered(self, name: str, compute):
        """A value derived from the current base (computed once per base, kept beside it)."""
        try:
            base = (self.path / CURRENT).read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return compute()
        path = self.path / f"{base}.{name}.json"
        try:
            return json.loads(path.read_text("utf-8"))["value"]
        except (OSError, ValueError, KeyError, TypeError):
            value = compute()
            try:
                files.write_atomically(path, lambda tmp: tmp.write_text(json.dumps({"value": value}), "utf-8"))
            except OSError:
                pass
            return value

    def _base_matches(self, hashes: np.ndarray) -> bool:
        pieces = self._pieces()
        if len(pieces) != 1:
            return False
        try:
            return np.array_equal(np.load(pieces[0][1], mmap_mode="r"), hashes)
        except (OSError, ValueError):
            return False

    def _write(self, name: str, rows: np.ndarray, keys: np.ndarray) -> None:
        """Vectors first, keys last: a piece counts only once its keys are there."""
        def save(array):
            def write(tmp: Path) -> None:
                with open(tmp, "wb") as f:
                    np.save(f, array)
            return write

        files.write_atomically(self.path / f"{name}.npy", save(np.ascontiguousarray(rows, dtype=DTYPE)))
        files.write_atomically(self.path / f"{name}.keys.npy", save(np.asarray(keys, dtype=np.uint64)))

    def _rebase(self, matrix: np.ndarray, hashes: np.ndarray) -> None:
        """These vectors in this order become the base; parts and older bases go."""
        name = f"base-{os.getpid()}-{time.time_ns()}"
        before = self._pieces()
        self._write(name, matrix, hashes)
        files.write_atomically(self.path / CURRENT, lambda tmp: tmp.write_text(name, "utf-8"))
        for vectors_file, keys_file in before:
            keys_file.unlink(missing_ok=True)
            vectors_file.unlink(missing_ok=True)
            for derived in self.path.glob(vectors_file.name[: -len(".npy")] + ".*.json"):
                derived.unlink(missing_ok=True)
