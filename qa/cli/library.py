"""Library and document commands: `qa add`, `sources`, `show`, `cite`, `remove`."""
from __future__ import annotations

import json
import sys

from qa.cli.options import add_library_option, corpus_options, engine_for, open_index_for
from qa.errors import QAError, UsageError


def cmd_add(args) -> int:
    from qa.library import add, library_dir
    from qa.cli.terminal import counted, one_line

    library = library_dir(args.library)
    report = add(args.paths, library)
    for line in report.rejected:
        print(f"qa: error: {one_line(line)}", file=sys.stderr)
    for line in report.skipped:
        print(f"qa: skipped {one_line(line)}", file=sys.stderr)
    for line in report.duplicates:
        print(f"qa: {one_line(line)}", file=sys.stderr)
    for path, count in report.added:
        print(f"added {counted(count, 'document')} from {one_line(path)}")
    for path, count in report.unchanged:
        what = "its one document is" if count == 1 else f"all its {count} documents are"
        print(f"nothing added from {one_line(path)}: {what} already in the library")
    empty = []
    for folder, (read, skipped) in report.folders.items():
        print(f"{one_line(folder)}: {counted(read, 'file')} read, {counted(skipped, 'file')} skipped"
              + (" (named above)" if skipped else ""))
        if not read:
            empty.append(folder)
    for folder in empty:
        print(f"qa: error: {one_line(folder)}: no file in this folder is in a format qa reads", file=sys.stderr)
    if report.added:
        args.corpus = None  # refresh the default corpus: seed + library
        index, _ = open_index_for(args)
        stats = index.manifest["stats"]
        print(one_line(f"library: {library} — index now {counted(stats['documents'], 'document')}, "
                       f"{counted(stats['passages'], 'passage')}"))
        from qa.cli.indexes import added_to_line, semantic_line

        if index.manifest.get("shards") and index.manifest.get("added"):
            print(added_to_line(index.manifest))
        print(semantic_line(args, index))
    return 1 if report.rejected or empty else 0


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
    from qa.cite import people, short_author
    from qa.cli.terminal import clean, clean_json, counted

    engine = engine_for(args)
    rows = list(_source_rows(engine))
    if args.json:
        print(clean_json(json.dumps([row for _, row in rows], ensure_ascii=False, indent=2)))
        return 0
    for doc, row in rows:
        author = short_author(*people(doc)[0]) if doc.authors else "—"
        flag = " RETRACTED" if doc.retracted else ""
        print(clean(f"{doc.doc_id}  {author}  {doc.year or '—'}  {doc.title or '[no title]'}  "
                    f"{doc.journal or doc.journal_full or '—'}  ({counted(row['passages'], 'passage')}){flag}"))
    print(counted(len(rows), "document"))
    return 0


def find_document(engine, text: str):
    """The document of the corpus `text` names, in any form qa.search.lookup accepts."""
    from qa.search import lookup

    return lookup.find(lookup.index_catalogue(engine.index), text)


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
    print(clean(render_document(find_document(engine, args.id))).replace(" \n", "\n"))
    return 0


def _documents_to_cite(args) -> list:
    """The documents `qa cite` prints: those named, or with --all the whole library (the whole
    corpus with --corpus)."""
    from qa.cli.terminal import one_line
    from qa.library import library_dir, library_documents

    if args.all and args.ids:
        raise UsageError("give document ids or --all, not both")
    if not args.all and not args.ids:
        raise UsageError("which documents? give their ids (`qa sources` lists them), or --all")
    if args.all and not args.corpus:
        library = library_dir(args.library)
        docs = [doc for _, doc in library_documents(library)]
        if not docs:
            raise QAError(f"the library {library} is empty: `qa add FILE` adds papers to it")
        return docs
    engine = engine_for(args)
    if args.all:
        return [engine.index.document(i) for i in range(engine.index.n_documents)]
    docs, failed = [], []
    for text in args.ids:
        try:
            docs.append(find_document(engine, text))
        except QAError as e:
            failed.append(str(e))
    if failed:
        for line in failed[:-1]:
            print(f"qa: error: {one_line(line)}", file=sys.stderr)
        raise QAError(failed[-1])  # nothing is printed when any id is unknown
    return docs


def cmd_cite(args) -> int:
    from qa import cite
    from qa.cli.terminal import clean

    docs = _documents_to_cite(args)
    if args.format == "bibtex":
        keys = cite.unique_keys(docs)
        entries = [cite.bibtex(doc, key) for doc, key in zip(docs, keys)]
    else:
        entries = [cite.CITATION_FORMATS[args.format](doc) for doc in docs]
    print(clean(("\n" if args.format == "vancouver" else "\n\n").join(entries)))
    return 0


def cmd_remove(args) -> int:
    from qa.cli.terminal import counted
    from qa.library import library_dir, remove
    from qa.cli.terminal import one_line

    library = library_dir(args.library)
    removed = remove(args.ids, library)
    print(one_line(f"removed {counted(len(removed), 'document')} from {library}: {', '.join(removed)}"))
    args.corpus = None
    open_index_for(args)
    return 0


ID_HELP = ("a document id as `qa sources` prints it, a passage id (<doc_id>#<n>), a DOI (any case, "
           "doi:… or https://doi.org/…) or a PMID (also PMID:123)")


def add_parsers(sub, fmt) -> None:
    add = sub.add_parser("add", help="add files or folders to your library", formatter_class=fmt,
                         description="Parse each file completely, then copy what it holds into the library. "
                         "A file that fails is not added at all; records already in the library are skipped. "
                         "A folder adds the files in it that qa can read (recursively) and names the others.",
                         epilog="examples:\n  qa add pubmed-export.nbib zotero.ris notes.md paper.pdf\n"
                                "  qa add ~/papers\n"
                                "  qa add efetch.xml --library ~/review-library")
    add.add_argument("paths", nargs="+", metavar="PATH", help="a file, or a folder of files")
    add_library_option(add)
    corpus_options(add, corpus=False)

    sources = sub.add_parser("sources", help="list the documents of the corpus", formatter_class=fmt,
                             description="List the documents of the corpus, one a line: id, first author, "
                             "year, title, journal, passages.",
                             epilog="examples:\n  qa sources\n  qa sources --json | jq '.[].title'")
    sources.add_argument("--json", action="store_true", help="JSON list of source objects plus passages")
    corpus_options(sources)

    show = sub.add_parser("show", help="print a whole document", formatter_class=fmt,
                          description="Print a whole document: its citation, metadata, sections and references.",
                          epilog="examples:\n  qa show 10.1007/s11926-996-0021-7\n"
                                 "  qa show 10.1007/s11926-996-0021-7#3")
    show.add_argument("id", metavar="ID", help=ID_HELP)
    corpus_options(show)

    cite = sub.add_parser("cite", help="print citations of documents (Vancouver, BibTeX, RIS)", formatter_class=fmt,
                          description="Print the citation of each document named, or of the whole library with "
                          "--all, in Vancouver style, BibTeX or RIS.",
                          epilog="examples:\n  qa cite 10.1007/s11926-996-0021-7\n"
                                 "  qa cite https://doi.org/10.1007/S11926-996-0021-7 --format bibtex >> refs.bib\n"
                                 "  qa cite --all --format ris > library.ris")
    cite.add_argument("ids", nargs="*", metavar="ID", help=ID_HELP)
    cite.add_argument("--all", action="store_true",
                      help="every document of your library (of the corpus, with --corpus)")
    cite.add_argument("--format", choices=("vancouver", "bibtex", "ris"), default="vancouver")
    corpus_options(cite)

    rm = sub.add_parser("remove", help="take documents out of your library", formatter_class=fmt,
                        description="Take documents out of your library (and its index); the other "
                        "documents of their files stay.",
                        epilog="examples:\n  qa remove 14871861\n  qa remove PMID:16377612 10.1186/1471-2105-7-10")
    rm.add_argument("ids", nargs="+", metavar="ID", help=ID_HELP)
    add_library_option(rm)
    corpus_options(rm, corpus=False)


COMMANDS = {"add": cmd_add, "sources": cmd_sources, "show": cmd_show, "cite": cmd_cite, "remove": cmd_remove}
