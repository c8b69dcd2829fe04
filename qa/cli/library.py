"""Library and document commands of the CLI: `qa add`, `sources`, `show`, `remove`, `cite`.

Also the options every corpus-reading command shares (`--library`, filters) and how the corpus
is chosen: without --corpus it is the bundled seed plus the user's library; with --corpus,
exactly the paths given (plus --library if also given).
"""
from __future__ import annotations

import argparse
import json
import sys

from qa.errors import QAError


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
    from qa.library import library_dir, records_dir

    library = getattr(args, "library", None)
    if args.corpus:
        paths = list(args.corpus)
        if library:
            paths.append(str(records_dir(library_dir(library))))
        return paths
    paths = [str(bundled_corpus())]
    records = records_dir(library_dir(library))
    if records.is_dir() and any(records.glob("*.jsonl")):
        paths.append(str(records))
    return paths


def _engine(args, open_index):
    from qa.search.engine import Engine

    index, _ = open_index(args)
    return Engine(index)


def cmd_add(args, open_index) -> int:
    from qa.library import add, library_dir
    from qa.cli.terminal import one_line

    library = library_dir(args.library)
    report = add(args.paths, library)
    for line in report.rejected:
        print(f"qa: error: {one_line(line)}", file=sys.stderr)
    for line in report.duplicates:
        print(f"qa: {line}", file=sys.stderr)
    for path, count in report.added:
        print(f"added {count} document{'s' * (count != 1)} from {path}")
    if report.added:
        args.corpus = None  # refresh the default corpus: seed + library
        index, _ = open_index(args)
        stats = index.manifest["stats"]
        print(f"library: {library} — index now {stats['documents']} documents, {stats['passages']} passages")
    return 1 if report.rejected else 0


def _source_rows(engine):
    from qa import cite

    index = engine.index
    counts = {}
    for d in index.a["passage.doc"].tolist():
        counts[d] = counts.get(d, 0) + 1
    for i in range(len(index.t["doc_ids"])):
        doc = index.document(i)
        yield doc, {**cite.source(doc), "passages": counts.get(i, 0)}


def cmd_sources(args, open_index) -> int:
    from qa.cite import short_author
    from qa.cli.terminal import clean

    engine = _engine(args, open_index)
    rows = list(_source_rows(engine))
    if args.json:
        print(json.dumps([row for _, row in rows], ensure_ascii=False, indent=2))
        return 0
    for doc, row in rows:
        author = short_author(doc.authors[0]) if doc.authors else "—"
        flag = " RETRACTED" if doc.retracted else ""
        print(clean(f"{doc.doc_id}  {author}  {doc.year or '—'}  {doc.title or '[no title]'}  "
                    f"{doc.journal or doc.journal_full or '—'}  ({row['passages']} passages){flag}"))
    print(f"{len(rows)} documents")
    return 0


def _document_or_fail(engine, doc_id):
    doc = engine.document(doc_id)
    if doc is None:
        raise QAError(f"no document {doc_id!r} in the corpus (`qa sources` lists them)")
    return doc


def render_document(doc) -> str:
    from qa import cite
    from qa.text.chunk import metadata_fields

    lines = [cite.vancouver(doc), ""]
    lines += [f"{label}: {value}" for label, value in metadata_fields(doc)]
    if doc.retracted:
        lines.append("RETRACTED: the source flags this publication as retracted.")
    for section in doc.sections:
        lines += ["", f"{section.label}:" if section.label else "Abstract:", section.text]
    if doc.references:
        lines += ["", "References:"] + [f"  {r.number}. {r.text}" for r in doc.references]
    return "\n".join(lines)


def cmd_show(args, open_index) -> int:
    from qa.cli.terminal import clean

    engine = _engine(args, open_index)
    print(clean(render_document(_document_or_fail(engine, args.id))).replace(" \n", "\n"))
    return 0


def cmd_cite(args, open_index) -> int:
    from qa.cite import CITATION_FORMATS

    engine = _engine(args, open_index)
    print(CITATION_FORMATS[args.format](_document_or_fail(engine, args.id)))
    return 0


def cmd_remove(args, open_index) -> int:
    from qa.library import library_dir, remove

    library = library_dir(args.library)
    removed = remove(args.ids, library)
    print(f"removed {len(removed)} document{'s' * (len(removed) != 1)} from {library}")
    args.corpus = None
    open_index(args)
    return 0


def add_parsers(sub, fmt, corpus_options) -> None:
    add = sub.add_parser("add", help="add files to your library", formatter_class=fmt,
                         description="Parse each file completely, then copy what it holds into the library. "
                         "A file that fails is not added at all; records already in the library are skipped.",
                         epilog="examples:\n  qa add pubmed-export.nbib zotero.ris notes.md paper.pdf\n"
                                "  qa add efetch.xml --library ~/review-library")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add_library_option(add)
    corpus_options(add, corpus=False)

    sources = sub.add_parser("sources", help="list the documents of the corpus", formatter_class=fmt,
                             epilog="examples:\n  qa sources\n  qa sources --json | jq '.[].title'")
    sources.add_argument("--json", action="store_true", help="JSON list of source objects plus passages")
    corpus_options(sources)

    show = sub.add_parser("show", help="print a whole document", formatter_class=fmt,
                          epilog="example:\n  qa show 10.1007/s11926-996-0021-7")
    show.add_argument("id", metavar="ID")
    corpus_options(show)

    cite = sub.add_parser("cite", help="print a citation of a document", formatter_class=fmt,
                          epilog="examples:\n  qa cite 10.1007/s11926-996-0021-7\n"
                                 "  qa cite 16901073 --format bibtex >> refs.bib")
    cite.add_argument("id", metavar="ID")
    cite.add_argument("--format", choices=("vancouver", "bibtex", "ris"), default="vancouver")
    corpus_options(cite)

    rm = sub.add_parser("remove", help="take documents out of your library", formatter_class=fmt,
                        epilog="example:\n  qa remove 16901073")
    rm.add_argument("ids", nargs="+", metavar="ID")
    add_library_option(rm)
    corpus_options(rm, corpus=False)


COMMANDS = {"add": cmd_add, "sources": cmd_sources, "show": cmd_show, "cite": cmd_cite, "remove": cmd_remove}
