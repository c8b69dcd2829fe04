"""`qa cache list|prune`: the indexes kept under $QA_HOME/indexes, their size and last use.

Indexes are keyed by corpus paths and settings, so a new --corpus, --bm25 or qa version makes a
new one and the old ones stay. Each index directory holds CURRENT, its build-* directories and
a `last-used` file whose mtime `open_index` refreshes (at most once a minute).

`prune` never removes the index in use (the one the command's corpus and settings would open:
--corpus / --library / --index / --bm25, or the default corpus) nor one being built (a `.tmp-*`
build directory whose process is alive). Without options it removes the unusable ones: a corpus
path is gone, the index was made by another index format (an older qa), or it has no complete
build. --older-than DAYS also removes those not used for DAYS days; --max-size SIZE then removes
the least recently used until the total fits. An index is removed by renaming it out of the way
first (one atomic step), then deleting the files.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
DAY = 86400.0


def parse_size(text: str) -> int:
    """'500K', '500M', '2G', '1.5G', '123456' (bytes) -> bytes; K, M, G, T are powers of 1024."""
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 500K, 500M, 2G or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if days < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return days


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
        defaults = _ix().Settings()
        if s and (s.get("k1") != defaults.k1 or s.get("b") != defaults.b):
            text += f" k1={s.get('k1')} b={s.get('b')}"
        return text

    def as_json(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        d["bm25"] = (self.settings or {}).get("bm25")
        d["last_used"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_used))
        return d


def _ix():
    from qa.index import core as index  # numpy and the index code: only when a command runs

    return index


def _cache():
    from qa.index import open_index as cache

    return cache


def indexes_root() -> Path:
    return _cache().qa_home() / "indexes"


def in_use_dir(args) -> Path:
    """The index directory this command's corpus and settings would open (built or not)."""
    from qa.cli.library import corpus_paths

    settings = _ix().Settings(bm25=getattr(args, "bm25", None) or "lucene")
    return _cache().index_dir_for(corpus_paths(args), settings, getattr(args, "index", None))


def _lock_held(directory: Path) -> bool:
    """Another process holds the writers' lock of the directory (`.lock`, flock; see qa/locking.py)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return False
    try:
        fd = os.open(directory / ".lock", os.O_RDONLY)
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


def being_built(directory: Path) -> bool:
    """A `.tmp-*` build directory whose process (the pid ending its name) is alive, or the
    directory's writers' lock held by another process."""
    for tmp in directory.glob(".tmp-*"):
        try:
            pid = int(tmp.name.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            continue
        if _ix().pid_alive(pid):
            return True
    return _lock_held(directory)


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
    for name in (_cache().LAST_USED, "CURRENT"):
        try:
            return (directory / name).stat().st_mtime
        except OSError:
            pass
    try:
        return directory.stat().st_mtime
    except OSError:
        return 0.0


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def scan(root: Path, in_use: Path | None = None) -> list[Entry]:
    """Every index directory under `root`, oldest use first."""
    ix = _ix()
    entries = []
    try:
        dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    for d in dirs:
        entry = Entry(key=d.name, path=d, size=disk_usage(d), last_used=_last_used(d),
                      in_use=in_use is not None and _same(d, in_use), building=being_built(d))
        build = ix.current_build(d)
        manifest = ix.read_manifest(build) if build is not None else None
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
            if entry.format != ix.FORMAT_VERSION:
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


# ---------------------------------------------------------------- the command

def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _flags(e: Entry) -> list[str]:
    flags = ["in use"] if e.in_use else []
    if e.building:
        flags.append("being built")
    if e.unusable:
        flags.append(e.unusable)
    return flags


def cmd_list(args) -> int:
    from qa.cli.terminal import clean

    root = indexes_root()
    use = in_use_dir(args)
    entries = scan(root, use)
    if args.json:
        print(json.dumps([e.as_json() for e in entries], ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print(clean(f"no indexes in {root}"))
        return 0
    print(f"{'KEY':<16}  {'BM25':<8}  {'SIZE':>9}  {'LAST USED':<16}  DOCS/PASSAGES")
    for e in sorted(entries, key=lambda e: (-e.last_used, e.key)):
        counts = f"{e.documents}/{e.passages}" if e.documents is not None else "—"
        flags = _flags(e)
        print(clean(f"{e.key:<16}  {e.bm25:<8}  {human_size(e.size):>9}  {_when(e.last_used):<16}  {counts}"
                    + (f"  ({'; '.join(flags)})" if flags else "")))
        for i, p in enumerate(e.corpus or ["—"]):
            print(clean(f"    {'corpus:' if i == 0 else '':<7} {p}"))
    total = sum(e.size for e in entries)
    print(clean(f"{len(entries)} index{'es' * (len(entries) != 1)}, {human_size(total)}, in {root}"))
    if not any(e.in_use for e in entries):
        print(clean(f"in use: {use} ({'not built yet' if _same(use.parent, root) else 'outside the cache'})"))
    return 0


def cmd_prune(args) -> int:
    from qa.cli.terminal import clean

    root = indexes_root()
    entries = scan(root, in_use_dir(args))
    verb = "would remove" if args.dry_run else "removed"
    gone, failed = set(), 0
    for e, why in plan(entries, args.max_size, args.older_than):
        if not args.dry_run:
            try:
                remove(e)
            except OSError as err:
                failed += 1
                print(clean(f"qa: cannot remove {e.path}: {err.strerror or err}"), file=sys.stderr)
                continue
        gone.add(e.key)
        print(clean(f"{verb} {e.key}  {human_size(e.size)}  last used {_when(e.last_used)}  ({why})"))
        for p in e.corpus:
            print(clean(f"    corpus: {p}"))
    freed = sum(e.size for e in entries if e.key in gone)
    left = [e for e in entries if e.key not in gone]
    remaining = sum(e.size for e in left)
    rest = f"{human_size(remaining)} in {len(left)} index{'es' * (len(left) != 1)}"
    remain = "would remain" if args.dry_run else "remains" if len(left) == 1 else "remain"
    if gone:
        print(f"{'would free' if args.dry_run else 'freed'} {human_size(freed)} ({len(gone)} "
              f"index{'es' * (len(gone) != 1)}); {rest} {remain}")
    else:
        print(f"nothing to remove; {rest}")
    if args.max_size is not None and remaining > args.max_size:
        kept = [f"{e.key} ({'in use' if e.in_use else 'being built'}, {human_size(e.size)})"
                for e in left if e.in_use or e.building]
        print(f"still over {human_size(args.max_size)}" + (f": kept {', '.join(kept)}" if kept else ""))
    return 1 if failed else 0


def add_parser(sub, fmt, corpus_options) -> None:
    p = sub.add_parser("cache", help="list or prune the cached indexes", formatter_class=fmt,
                       description="Indexes are kept per corpus and settings under $QA_HOME/indexes. "
                       "`list` shows them with size and last use; `prune` removes unusable ones (corpus "
                       "gone, older qa) and, with options, old or least recently used ones. The index "
                       "the given corpus options would use (default: the default corpus) is never removed.",
                       epilog="examples:\n  qa cache list\n  qa cache list --json\n  qa cache prune --dry-run\n"
                              "  qa cache prune --max-size 500M\n  qa cache prune --older-than 30")
    actions = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="the indexes: key, corpus, settings, size, last use",
                            formatter_class=fmt)
    ls.add_argument("--json", action="store_true", help="a JSON list of the indexes")
    corpus_options(ls)
    prune = actions.add_parser("prune", help="remove unusable, old or least recently used indexes",
                               formatter_class=fmt)
    prune.add_argument("--max-size", type=parse_size, metavar="SIZE",
                       help="then remove the least recently used until the total fits (500K, 500M, 2G, bytes)")
    prune.add_argument("--older-than", type=_days, metavar="DAYS", help="also remove those not used for DAYS days")
    prune.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    corpus_options(prune)


def cmd_cache(args) -> int:
    return cmd_list(args) if args.cache_command == "list" else cmd_prune(args)
