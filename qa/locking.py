"""Exclusive locks for writers (index builds, library adds), released by the kernel if a holder dies.

fcntl.flock locks belong to the open file: a process killed with -9 cannot leave a stale lock
behind. A second writer waits (saying so once) and gives up after a bounded time.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from qa.errors import QAError

WAIT_SECONDS = float(os.environ.get("QA_LOCK_WAIT", "60"))


@contextlib.contextmanager
def exclusive(directory: Path, what: str, wait: float | None = None, warn=None):
    """Hold `directory/.lock` while the block runs. QAError if another holder keeps it too long."""
    import fcntl

    wait = WAIT_SECONDS if wait is None else wait
    warn = warn or (lambda msg: print(f"qa: {msg}", file=sys.stderr))
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise QAError(f"another qa process is still {what} in {directory}; "
                                  f"gave up after {wait:.0f} s (try again when it has finished)") from None
                if not said:
                    warn(f"another qa process is {what} in {directory}; waiting up to {wait:.0f} s")
                    said = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
