"""Exclusive locks for writers (index builds, library adds), released by the kernel if a holder dies.

fcntl.flock locks belong to the open file: a process killed with -9 cannot leave a stale lock
behind. A second writer waits (saying so once) and gives up after a bounded time.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from qa import errors
from qa.errors import QAError

WAIT_SECONDS = float(os.environ.get("QA_LOCK_WAIT", "60"))
LOCK = ".lock"


@contextlib.contextmanager
def exclusive(directory: Path, what: str, wait: float | None = None, warn=None):
    """Hold `directory/.lock` while the block runs. QAError if another holder keeps it too long."""
    import fcntl

    wait = WAIT_SECONDS if wait is None else wait
    warn = warn or errors.warn
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
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


def held_elsewhere(directory: Path) -> bool:
    """Whether another process holds the writers' lock of `directory` (a probe: never waits)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locks to see
        return False
    try:
        fd = os.open(directory / LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False
