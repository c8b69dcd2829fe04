"""Commands about indexes: `qa index` (build, refresh, verify) and `qa cache list|prune` (the
indexes kept under $QA_HOME/indexes, qa/index/cache.py).

`prune` never removes the index in use (the one the command's corpus and settings would open:
--corpus / --library / --index / --bm25, or the default corpus) nor one being built. Without
options it removes the unusable ones; --older-than DAYS also those not used for DAYS days;
--max-size SIZE then the least recently used until the total fits.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from qa.cli.options import cluster_address, cluster_options, corpus_options, days, open_index_for, positive_int, semantic_for

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'500K', '500M', '2G', '1.5G', '123456' (bytes) -> bytes; K, M, G, T are powers of 1024."""
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 500K, 500M, 2G or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def in_use_dir(args) -> Path:
    """The index directory this command's corpus and settings would open (built or not)."""
    from qa.cli.options import corpus_paths
    from qa.index.cache import index_dir_for
    from qa.index.layout import Settings

    settings = Settings(bm25=getattr(args, "bm25", None) or "lucene")
    return index_dir_for(corpus_paths(args), settings, getattr(args, "index", None))


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
    from qa import home
    from qa.cli.terminal import clean, clean_json
    from qa.index.cache import human_size, same_path, scan

    root = home.indexes_dir()
    use = in_use_dir(args)
    entries = scan(root, use)
    if args.json:
        print(clean_json(json.dumps([e.as_json() for e in entries], ensure_ascii=False, indent=2)))
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
        print(clean(f"in use: {use} ({'not built yet' if same_path(use.parent, root) else 'outside the cache'})"))
    return 0


def cmd_prune(args) -> int:
    from qa import home
    from qa.cli.terminal import clean
    from qa.index.cache import human_size, plan, remove, scan

    root = home.indexes_dir()
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


def cmd_index(args) -> int:
    from qa.cli.terminal import counted, one_line

    index, built = open_index_for(args, rebuild=args.rebuild)
    if args.verify and not built and index.path is not None:
        from qa.index.store import check_files, read_manifest

        try:
            check_files(index.path, index.manifest, full=True)
            for shard in index.manifest.get("shards") or []:  # a sharded index: each shard's files too
                check_files(index.path / shard["name"], read_manifest(index.path / shard["name"]) or {}, full=True)
        except ValueError as e:
            print(one_line(f"qa: the index in {index.path} is damaged ({e}); rebuilding it"), file=sys.stderr)
            index, built = open_index_for(args, rebuild=True)
        else:
            print("verified: every file matches its checksum")
    m = index.manifest
    s = m["stats"]
    where = index.path or "memory (not saved)"
    if built and m.get("updates"):  # the corpus gained files: the previous build was extended
        added = m.get("added_files", 0)
        state = (f"updated in {m['build_seconds']:.2f} s ({added} file{'s' * (added != 1)} added; "
                 f"{m['updates']} update{'s' * (m['updates'] != 1)} since the last full build)")
    elif built:
        state = f"built in {m['build_seconds']:.2f} s"
    else:
        state = f"up to date (built {m['built_at']})"
    print(f"index: {one_line(str(where))}\n{state}\n"
          f"documents: {s['documents']}  passages: {s['passages']}  terms: {s['terms']}  "
          f"tf-idf features: {s['features']}\nbm25: {m['settings']['bm25']} "
          f"(k1={m['settings']['k1']}, b={m['settings']['b']})\ncorpus files: {len(m['fingerprint'])}")
    if m.get("shards"):
        if built and cluster_address(args):
            print(f"shards built by Ray tasks on the cluster at {cluster_address(args)}")
        print(f"shards: {len(m['shards'])}, by document id (" + "; ".join(
            f"{e['name']}: {counted(e['documents'], 'document')}, {counted(e['passages'], 'passage')}"
            for e in m["shards"]) + ")")
        if built and m.get("added"):
            print(added_to_line(m))
    print(semantic_line(args, index, opt_in=args.semantic))
    return 0


def added_to_line(manifest: dict) -> str:
    """Which shards the documents of the last update went to (each document to the shard of its
    id range); every shard was weighed again with the corpus's new statistics."""
    return "added to: " + ", ".join(f"{name} ({n} document{'s' * (n != 1)})" for name, n in manifest["added"].items()) + \
        f" of {len(manifest['shards'])} shards; all {len(manifest['shards'])} weighed again with the new corpus statistics"


def semantic_line(args, index, opt_in: bool = False) -> str:
    """Embed the passages that need it (all of them, with progress; Ctrl-C keeps what is done),
    and say in one line where the semantic stage stands."""
    from qa.search import dense

    if args.no_semantic:
        return "semantic stage: off (--no-semantic)"
    if index.n_passages > dense.DEFAULT_LIMIT and not opt_in:
        return (f"semantic stage: off above {dense.DEFAULT_LIMIT:,} passages (`qa index --semantic` embeds them, "
                "about 30 passages a second)")
    semantic = semantic_for(args, index, opt_in=True, embed_up_to=index.n_passages)
    if semantic is None:
        return "semantic stage: off (the model is not installed)"
    return f"semantic stage: {semantic.encoder.name}, {len(semantic.matrix)} passages embedded"


def add_parsers(sub, fmt) -> None:
    index = sub.add_parser("index", help="build or refresh the index and print statistics",
                           formatter_class=fmt, description="Build the index now (queries build it "
                           "on demand too); rebuilds only when the corpus changed unless --rebuild.",
                           epilog="examples:\n  qa index --corpus data/corpus.jsonl --bm25 okapi\n"
                                  "  qa index --corpus data/corpus.jsonl --shards 3")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if the index is fresh")
    index.add_argument("--shards", type=positive_int, metavar="N",
                       help="split the index by document id into N shards that score as one index (served "
                            "in this process, or by a Ray cluster with --cluster); 1: one index (default: as "
                            "the current index is)")
    index.add_argument("--semantic", action="store_true",
                       help="embed the passages for the semantic stage even above its default size")
    index.add_argument("--verify", action="store_true",
                       help="check every file of the index against its checksum (loading checks sizes, and "
                            "checksums of files up to 8 MB); rebuild it if any is damaged")
    corpus_options(index)
    cluster_options(index, serve=False)

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
    prune.add_argument("--older-than", type=days, metavar="DAYS", help="also remove those not used for DAYS days")
    prune.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    corpus_options(prune)


def cmd_cache(args) -> int:
    return cmd_list(args) if args.cache_command == "list" else cmd_prune(args)


COMMANDS = {"index": cmd_index, "cache": cmd_cache}
