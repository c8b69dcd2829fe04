"""The indexes kept under $QA_HOME/indexes: where an index lives, its last use, listing and pruning.

Indexes are keyed by corpus paths and settings, so a new --corpus, --bm25 or qa version makes a
new one and the old ones stay. Each index directory holds CURRENT, its build-* directories and
a `last-used` file whose mtime opening the index refreshes (at most once a minute).

Pruning never removes the index in use (the one the command's corpus and settings would open)
nor one being built (a temporary build whose writer is alive, or the directory's writers' lock
held). It removes the unusable ones: a corpus path is gone, the index was made by another index
format (an older qa), or it has no complete build; optionally those not used for some days, then
the least recently used until the total fits a size. An index is removed by renaming it out of
the way first (one atomic step), then deleting the files.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa import files, home, locking

LAST_USED = "last-used"  # an empty file in an index directory; its mtime is when it was last opened
LAST_USED_EVERY = 60.0  # seconds: opening an index rewrites the mark at most this often
DAY = 86400.0


def index_key(corpus_paths: list[str], settings) -> str:
    """The cache key: which corpus paths, which settings, which format."""
    from qa.index.layout import FORMAT_VERSION

    resolved = [str(Path(p).expanduser().resolve()) for p in corpus_paths]
    blob = json.dumps([FORMAT_VERSION, resolved, dataclasses.asdict(settings)])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def index_dir_for(corpus_paths: list[str], settings, index_dir: str | None) -> Path:
    if index_dir:
        return Path(index_dir).expanduser()
    return home.indexes_dir() / index_key(corpus_paths, settings)


def mark_used(directory: Path, now: float | None = None) -> None:
    """Record that the index in `directory` was opened (for `qa cache list|prune`).

    One stat per open; the file is touched only when its mark is older than a minute, and a
    location that cannot be written is left alone.
    """
    marker = directory / LAST_USED
    now = time.time() if now is None else now
    try:
        if now - marker.stat().st_mtime < LAST_USED_EVERY:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    try:
        marker.touch()
        os.utime(marker, (now, now))
    except OSError:
        pass


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


@dataclass
class Entry:
    key: str
    path: Path
    size: int
    last_used: float
    corpus: list[str] = field(default_factory=list)
    settings: dict | None = None
    format: int | None = None
    built_at: str | None = None
    documents: int | None = None
    passages: int | None = None
    in_use: bool = False
    building: bool = False
    unusable: str | None = None  # why it can never be opened again, if so

    @property
    def bm25(self) -> str:
        s = self.settings or {}
        text = s.get("bm25") or "?"
        from qa.index.layout import Settings

        defaults = Settings()
        if s and (s.get("k1") != defaults.k1 or s.get("b") != defaults.b):
            text += f" k1={s.get('k1')} b={s.get('b')}"
        return text

    def as_json(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        d["bm25"] = (self.settings or {}).get("bm25")
        d["last_used"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_used))
        return d


def being_built(directory: Path) -> bool:
    """A temporary build whose writer is alive, or the directory's writers' lock held elsewhere."""
    return bool(files.live_temporaries(directory)) or locking.held_elsewhere(directory)


def disk_usage(directory: Path) -> int:
    """Bytes the files under `directory` take on disk (allocated blocks where the OS says)."""
    total = 0
    stack = [directory]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(Path(e.path))
                            continue
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    blocks = getattr(st, "st_blocks", None)
                    total += blocks * 512 if blocks is not None else st.st_size
        except OSError:
            continue
    return total


def _last_used(directory: Path) -> float:
    """The mtime of `last-used`; for an index never opened since it was listed, when it was made current."""
    for name in (LAST_USED, "CURRENT"):
        try:
            return (directory / name).stat().st_mtime
        except OSError:
            pass
    try:
        return directory.stat().st_mtime
    except OSError:
        return 0.0


def same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def scan(root: Path, in_use: Path | None = None) -> list[Entry]:
    """Every index directory under `root`, oldest use first."""
    from qa.index import store
    from qa.index.layout import FORMAT_VERSION

    entries = []
    try:
        dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    dirs = [d for d in dirs if store.is_index_folder(d)]  # never list, nor prune, a folder qa did not make
    for d in dirs:
        entry = Entry(key=d.name, path=d, size=disk_usage(d), last_used=_last_used(d),
                      in_use=in_use is not None and same_path(d, in_use), building=being_built(d))
        build = store.current_build(d)
        manifest = store.read_manifest(build) if build is not None else None
        if manifest is None:
            entry.unusable = "no complete build"
        else:
            entry.corpus = list(manifest.get("corpus") or [])
            entry.settings = manifest.get("settings")
            entry.format = manifest.get("format")
            entry.built_at = manifest.get("built_at")
            stats = manifest.get("stats") or {}
            entry.documents, entry.passages = stats.get("documents"), stats.get("passages")
            missing = [p for p in entry.corpus if not os.path.exists(p)]
            if entry.format != FORMAT_VERSION:
                entry.unusable = f"made by another version of qa (index format {entry.format})"
            elif missing:
                entry.unusable = f"corpus missing: {missing[0]}" + (f" (+{len(missing) - 1})" if len(missing) > 1 else "")
        entries.append(entry)
    entries.sort(key=lambda e: (e.last_used, e.key))
    return entries


def plan(entries: list[Entry], max_size: int | None = None, older_than: float | None = None,
         now: float | None = None) -> list[tuple[Entry, str]]:
    """What prune removes, with why: unusable ones, then unused for `older_than` days, then the
    least recently used until the total is at most `max_size`. Never the in-use or a building one."""
    now = time.time() if now is None else now
    chosen: dict[str, str] = {}
    kept = lambda e: e.in_use or e.building  # noqa: E731
    for e in entries:
        if kept(e):
            continue
        if e.unusable:
            chosen[e.key] = e.unusable
        elif older_than is not None and now - e.last_used > older_than * DAY:
            chosen[e.key] = f"not used for {int((now - e.last_used) // DAY)} days"
    if max_size is not None:
        total = sum(e.size for e in entries if e.key not in chosen)
        for e in sorted(entries, key=lambda e: (e.last_used, e.key)):
            if total <= max_size:
                break
            if kept(e) or e.key in chosen:
                continue
            chosen[e.key] = f"least recently used; the total was over {human_size(max_size)}"
            total -= e.size
    return [(e, chosen[e.key]) for e in entries if e.key in chosen]


def remove(entry: Entry) -> None:
    """Rename the index out of the way (so nothing opens half of it), then delete it."""
    if being_built(entry.path):  # started since the scan
        raise OSError(f"{entry.path}: a build started meanwhile")
    doomed = entry.path.with_name(f".removing-{entry.key}-{os.getpid()}")
    os.rename(entry.path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


