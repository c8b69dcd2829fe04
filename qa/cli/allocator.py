"""Freed memory kept for the next question instead of handed back to the kernel (glibc only).

glibc serves an allocation above its threshold (128 KB at first) by mapping fresh pages and gives
them back when it is freed; its heap also returns its top once more than the trim threshold is
free. A batch allocates and frees arrays of the same sizes for every question (the TF-IDF rows
of the candidates, the answer's sentences, the semantic stage's token matrices), so each
question had them mapped again: 60,000-100,000 page faults a 1,000-question batch where bm25s
has 15,000. With both thresholds raised the heap keeps what it freed and the next question
reuses it; the memory is given back when the process ends. Elsewhere (not glibc) nothing changes.
"""
from __future__ import annotations

import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20  # allocations below this come from the heap and go back to it
TRIM_THRESHOLD = 128 << 20  # free memory at the heap's top kept up to this


def keep_freed_memory() -> bool:
    """Raise glibc's thresholds for this process (and the workers it forks); whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is None:  # not glibc (musl has none)
            return False
        return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError, TypeError):
        return False
