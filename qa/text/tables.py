"""Tables qa derives from its data files when it runs (the journal-word abbreviations of the LTWA,
the framing stems and the ranks of the common English words, the clinicians' words), kept in the
cache as marshal files: a process loads one in a millisecond instead of building it again (5-15 ms
each, at every `qa ask`).

A table's file is named by a digest of what makes it: its name, qa's version, the Python version
(marshal's format) and the size and modification time of each source, its data file and the
modules whose code builds it; a change to any of them names another file, and the older files of
that table are removed when the new one is written. Where the cache cannot be written the table
is built and used all the same.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path

FOLDER = "tables"


def derived(name: str, build, sources: list[str | Path]):
    """The table `name`, as build() makes it from `sources` (files): from the cache when it holds
    it, else built and kept there."""
    from qa import __version__, home

    key = [name, __version__, sys.version_info[:2]]
    for source in sources:
        try:
            stat = os.stat(source)
            key.append((str(source), stat.st_size, stat.st_mtime_ns))
        except OSError:
            return build()  # a source that cannot be looked at: no cache
    digest = hashlib.sha1(repr(key).encode()).hexdigest()[:16]
    folder = home.cache_dir() / FOLDER
    path = folder / f"{name}-{digest}.marshal"
    try:
        return marshal.loads(path.read_bytes())  # marshal.load of the file object reads it piecemeal: slower
    except (OSError, EOFError, ValueError, TypeError):
        pass
    value = build()
    tmp = folder / f".tmp-{os.getpid()}-{path.name}"
    try:  # a cache: written whole under another name and renamed, never fsynced
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps(value))
        os.replace(tmp, path)
        for old in folder.glob(f"{name}-*.marshal"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return value
