"""Options every corpus-reading command shares, and how they choose the corpus and open its index.

Without --corpus the corpus is the bundled seed plus the user's library; with --corpus, exactly
the paths given (plus --library if also given).
"""
from __future__ import annotations

import argparse


def corpus_options(p: argparse.ArgumentParser, bm25: bool = True, corpus: bool = True,
                   filters: bool = False) -> None:
    if corpus:
        p.add_argument("--corpus", action="append", metavar="PATH",
                       help="file or directory to search (repeatable; default: the bundled corpus "
                       "plus your library)")
        add_library_option(p)
    p.add_argument("--index", metavar="DIR", help="keep the index in DIR instead of the cache")
    if filters:
        add_filter_options(p)
    if bm25:
        p.add_argument("--bm25", choices=("lucene", "okapi"), default="lucene",
                       help="BM25 variant, an index-time setting (default: lucene)")
    p.add_argument("--no-semantic", action="store_true",
                   help="lexical ranking only: leave out the sentence-embedding stage")


def cluster_options(p: argparse.ArgumentParser, serve: bool = True) -> None:
    """--cluster (and, for commands that answer, --allow-partial): a sharded index on Ray."""
    g = p.add_argument_group("cluster (a sharded index on a Ray cluster; pip install '.[cluster]')")
    g.add_argument("--cluster", metavar="HOST:PORT",
                   help="the Ray cluster's address (`ray start --head --port PORT` prints it; default: "
                        "$QA_CLUSTER): " + ("one actor per shard answers, this process merges"
                                            if serve else "each shard is built by a Ray task"))
    if serve:
        g.add_argument("--allow-partial", action="store_true",
                       help="when a shard stays unavailable, answer from the others (and say which answered) "
                            "instead of failing")


def cluster_address(args) -> str | None:
    """The cluster a command runs on: --cluster, else $QA_CLUSTER (commands that take --cluster)."""
    import os

    from qa.index.cluster import ENV

    if not hasattr(args, "cluster"):
        return None
    return args.cluster or os.environ.get(ENV) or None


def bounded(convert, minimum, what: str, too_small: str):
    """An argparse type: convert(text), refused with one line when not `what` or below `minimum`."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(too_small)
        return value

    return parse


positive_int = bounded(int, 1, "a whole number", "must be at least 1")
days = bounded(float, 0, "a number of days", "must not be negative")


def add_library_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--library", metavar="DIR", help="the library folder (default: under $QA_HOME or "
                   "the user's data directory)")


def add_filter_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters (repeat a key for OR; different keys combine with AND; also "
                             "inline in a question: year:2005..2010 author:NAME journal:TEXT "
                             "section:NAME source:ID)")
    g.add_argument("--year", action="append", default=[], metavar="RANGE", help="2000-2010, 2005-, -2010 or 2005")
    g.add_argument("--journal", action="append", default=[], metavar="TEXT",
                   help="part of the journal abbreviation or full title (case-insensitive)")
    g.add_argument("--author", action="append", default=[], metavar="NAME",
                   help="an author's surname (case- and accent-insensitive)")
    g.add_argument("--section", action="append", default=[], metavar="NAME", help="e.g. conclusions")
    g.add_argument("--source", action="append", default=[], metavar="ID", help="a document id")


def filters_from(args):
    from qa.search import filters

    return filters.build(getattr(args, "year", ()), getattr(args, "journal", ()), getattr(args, "author", ()),
                         getattr(args, "section", ()), getattr(args, "source", ()))


def corpus_paths(args) -> list[str]:
    from qa.readers.corpus import bundled_corpus
    from qa.library import library_dir, record_files, records_dir

    library = getattr(args, "library", None)
    if args.corpus:
        paths = list(args.corpus)
        if library:
            paths.append(str(records_dir(library_dir(library))))
        return paths
    paths = [str(bundled_corpus())]
    if record_files(library_dir(library)):
        paths.append(str(records_dir(library_dir(library))))
    return paths


def open_index_for(args, rebuild: bool = False):
    """The index of the command's corpus and settings (built or refreshed as needed, with a
    progress bar on a terminal); returns (index, built now)."""
    from pathlib import Path

    from qa.cli.terminal import Progress
    from qa.errors import DamagedRecord
    from qa.index.layout import Settings
    from qa.index.open_index import open_index
    from qa.library import library_dir, rebuild_damaged

    corpus = corpus_paths(args)
    address = cluster_address(args)
    serve = runner = None
    if address:
        from qa.index.cluster import RayRunner
        from qa.search.cluster import serving

        runner = RayRunner(address)
        serve = serving(address, getattr(args, "allow_partial", False))
    rebuilt = set()
    while True:
        bar = Progress(1, "indexing")
        try:
            index, built = open_index(corpus, Settings(bm25=args.bm25), args.index, rebuild=rebuild,
                                      progress=bar.update, n_shards=getattr(args, "shards", None),
                                      runner=runner, serve=serve)
            if address and not index.sharded:
                from qa.errors import QAError

                raise QAError("--cluster serves a sharded index, and this corpus's index is not sharded: "
                              "build one with `qa index --shards N` (N of 2 or more)")
            return index, built
        except DamagedRecord as e:
            # a records file of the library that does not read back: rebuilt (one warning line), then again
            if e.path in rebuilt or not rebuild_damaged(library_dir(getattr(args, "library", None)), Path(e.path)):
                raise
            rebuilt.add(e.path)
        finally:
            bar.close()


def semantic_for(args, index, opt_in: bool = False, embed_up_to: int | None = None):
    """The index's semantic stage (qa/search/dense.py), or None with --no-semantic, without the
    model, or when its passages are not embedded; embedding shows progress on a terminal."""
    if getattr(args, "no_semantic", False):
        return None
    from qa.cli.terminal import Progress
    from qa.search import dense

    bar = Progress(1, "embedding")
    try:
        return dense.stage(index, opt_in=opt_in, progress=bar.update,
                           embed_up_to=dense.EMBED_INLINE if embed_up_to is None else embed_up_to)
    finally:
        bar.close()


def engine_for(args, index=None):
    """The engine of the command's corpus: its index, and its semantic stage where there is one."""
    from qa.search.engine import Engine

    if index is None:
        index, _ = open_index_for(args)
    if getattr(getattr(index, "shards", None), "allow_partial", False):  # on a cluster, --allow-partial
        from qa.search.cluster import PartialEngine as Engine
    return Engine(index, semantic=semantic_for(args, index))
