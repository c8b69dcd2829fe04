"""Writing files so that a crash leaves the old version or the new one, never half of either.

A file or build being written has a temporary name that starts with `.tmp-<pid>-` (the writer's
process id), is flushed to disk, then renamed over its final name; the directory is flushed too,
so the rename itself survives a power cut. Temporaries whose writer is no longer alive are
leftovers of a crash and may be removed: only names of exactly that form (and the forms older
versions of qa wrote), so a user's `.tmp-backup-2023` is never taken for one.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from qa import phases

PREFIX = ".tmp-"
# .tmp-<pid>-<name>; and as older versions of qa named them: .tmp-build-<time>-<pid> (a build),
# .CURRENT-<pid> (the CURRENT pointer)
_TEMPORARY = re.compile(r"^\.tmp-(\d+)-.|^\.tmp-build-\d+-(\d+)$|^\.CURRENT-(\d+)$")


def temporary(target: Path) -> Path:
    """The temporary name under which `target` is written by this process."""
    return target.with_name(f"{PREFIX}{os.getpid()}-{target.name}")


def writer_pid(name: str) -> int | None:
    """The process id a temporary's name carries, or None when the name is not a temporary's."""
    m = _TEMPORARY.match(name)
    if m is None:
        return None
    return int(next(g for g in m.groups() if g is not None))


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
    for tmp in _candidates(directory):
        pid = writer_pid(tmp.name)
        if pid is not None and pid_alive(pid):
            out.append(tmp)
    return out


def _candidates(directory: Path) -> list[Path]:
    try:
        return [directory / name for name in os.listdir(directory) if writer_pid(name) is not None]
    except OSError:  # gone, or not a directory: nothing of ours in it
        return []


def remove_dead_temporaries(directory: Path) -> None:
    """Remove the temporaries of writers that died (files or whole build directories)."""
    for tmp in _candidates(directory):
        pid = writer_pid(tmp.name)
        if pid is None or pid_alive(pid):
            continue
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:  # a read-only location: the leftover is harmless, only space
                pass


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


def write_atomically(target: Path, write, phase: str = "file") -> None:
    """write(tmp) writes the new content to a temporary path; it then replaces `target` in one step.

    `phase` names the file in qa/phases.py (e.g. "records": records:before-rename)."""
    tmp = temporary(target)
    try:
        write(tmp)
        phases.reach(f"{phase}:before-fsync")
        fsync_file(tmp)
        phases.reach(f"{phase}:before-rename")
        os.replace(tmp, target)
        phases.reach(f"{phase}:before-dir-fsync")
        fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
