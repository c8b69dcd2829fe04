"""Writing files so that a crash leaves the old version or the new one, never half of either.

A file or build being written has a temporary name that starts with `.tmp-<pid>-` (the writer's
process id), is flushed to disk, then renamed over its final name; the directory is flushed too,
so the rename itself survives a power cut. Temporaries whose writer is no longer alive are
leftovers of a crash and may be removed.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

PREFIX = ".tmp-"


def temporary(target: Path) -> Path:
    """The temporary name under which `target` is written by this process."""
    return target.with_name(f"{PREFIX}{os.getpid()}-{target.name}")


def writer_pid(name: str) -> int | None:
    """The process id a temporary's name carries, or None when it carries none.

    `.tmp-<pid>-<name>`; builds of older versions of qa were named `.tmp-build-<time>-<pid>`."""
    if not name.startswith(PREFIX):
        return None
    fields = name[len(PREFIX):].split("-")
    for candidate in (fields[0], fields[-1]):
        if candidate.isdigit():
            return int(candidate)
    return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def live_temporaries(directory: Path) -> list[Path]:
    """Temporaries in `directory` whose writer still runs (a build or write in progress)."""
    out = []
    for tmp in directory.glob(PREFIX + "*"):
        pid = writer_pid(tmp.name)
        if pid is not None and pid_alive(pid):
            out.append(tmp)
    return out


def remove_dead_temporaries(directory: Path) -> None:
    """Remove the temporaries of writers that died (files or whole build directories)."""
    for tmp in directory.glob(PREFIX + "*"):
        pid = writer_pid(tmp.name)
        if pid is not None and pid_alive(pid):
            continue
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, write) -> None:
    """write(tmp) writes the new content to a temporary path; it then replaces `target` in one step."""
    tmp = temporary(target)
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
