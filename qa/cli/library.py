"""Library and document commands: `qa add`, `sources`, `show`, `cite`, `remove`."""
from __future__ import annotations

import json
import sys

from qa.cli.options import add_library_option, corpus_options, engine_for, open_index_for
from qa.errors import QAError


def cmd_add(args) -> int:
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
        index, _ = open_index_for(args)
        stats = index.manifest["stats"]
        print(f"library: {library} — index now {stats['documents']} documents, {stats['passages']} passages")
    return 1 if report.rejected else 0


def _source_rows(engine):
    from qa import cite

    index = engine.index
    counts = {}
    for d in index.passages.doc.tolist():
        counts[d] = counts.get(d, 0) + 1
    for i in range(index.n_documents):
        doc = index.document(i)
        yield doc, {**cite.source(doc), "passages": counts.get(i, 0)}


def cmd_sources(args) -> int:
    from qa.cite import short_author
    from qa.cli.terminal import clean

    engine = engine_for(args)
    rows = list(_source_rows(engine))
    if args.json:
        print(json.dumps([row for _, row in rows], ensure_ascii=False, indent=2))
        return 0
    for doc, row in rows:
        author = short_author(doc.authors[0], _family(doc, 0)) if doc.authors else "—"
        flag = " RETRACTED" if doc.retracted else ""
        print(clean(f"{doc.doc_id}  {author}  {doc.year or '—'}  {doc.title or '[no title]'}  "
                    f"{doc.journal or doc.journal_full or '—'}  ({row['passages']} passages){flag}"))
    print(f"{len(rows)} documents")
    return 0


def _family(doc, i: int) -> str | None:
    return doc.surnames[i] if i < len(doc.surnames) and doc.surnames[i] else None


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


def cmd_show(args) -> int:
    from qa.cli.terminal import clean

    engine = engine_for(args)
    print(clean(render_document(_document_or_fail(engine, args.id))).replace(" \n", "\n"))
    return 0


def cmd_cite(args) -> int:
    from qa.cite import CITATION_FORMATS

    engine = engine_for(args)
    print(CITATION_FORMATS[args.format](_document_or_fail(engine, args.id)))
    return 0


def cmd_remove(args) -> int:
    from qa.library import library_dir, remove

    library = library_dir(args.library)
    removed = remove(args.ids, library)
    print(f"removed {len(removed)} document{'s' * (len(removed) != 1)} from {library}")
    args.corpus = None
    open_index_for(args)
    return 0


def add_parsers(sub, fmt) -> None:
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
