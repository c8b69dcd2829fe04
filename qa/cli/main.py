"""The command line: `qa` / `qa chat`, `qa ask`, `qa batch`, `qa index`.

Exit codes: 0 ok, 1 bad input or data, 2 usage, 130 interrupted."""
from __future__ import annotations

import argparse
import os
import shutil
import stat
import sys
import time

from qa import __version__
from qa.cli import cache as cache_admin
from qa.cli import evaluation as cli_eval
from qa.cli import library as cli_library
from qa.errors import DamagedIndex, QAError

EXAMPLES = """\
examples:
  qa                                  (the chat: ask, follow up, /cite, /show; /help lists commands)
  qa chat --corpus data/corpus.jsonl
  echo "Is rituximab an option?" | qa
  qa ask "What treatments are there for refractory polymyositis?"
  qa ask "who wrote the review" --json
  qa ask "Is rituximab used for nonresponding patients?" -k 3
  qa batch questions.txt -o results.jsonl
  qa batch questions.csv --format csv -o results.csv
  qa batch queries.jsonl --format trec -k 10 --corpus data/corpus.jsonl > run.trec
  qa index --corpus ~/papers --corpus data/corpus.jsonl
  qa batch questions.txt --workers 2 -o results.jsonl
  qa cache list
  qa cache prune --max-size 500M

The corpus is the bundled seed record unless --corpus is given. Indexes are cached under
$QA_HOME (default: the user's cache directory) and rebuilt when a corpus file changes.
"""


def _corpus_options(p: argparse.ArgumentParser, bm25: bool = True, corpus: bool = True,
                    filters: bool = False) -> None:
    if corpus:
        p.add_argument("--corpus", action="append", metavar="PATH",
                       help="file or directory to search (repeatable; default: the bundled corpus "
                       "plus your library)")
        cli_library.add_library_option(p)
    p.add_argument("--index", metavar="DIR", help="keep the index in DIR instead of the cache")
    if filters:
        cli_library.add_filter_options(p)
    if bm25:
        p.add_argument("--bm25", choices=("lucene", "okapi"), default="lucene",
                       help="BM25 variant, an index-time setting (default: lucene)")


def _k(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if k < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return k


def parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="qa", description="Ask questions of biomedical literature; every "
                                "answer comes with its citations.", epilog=EXAMPLES, formatter_class=fmt)
    p.add_argument("--version", action="version", version=f"qa {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="ask questions interactively (what `qa` alone does)",
                          formatter_class=fmt,
                          description="An interactive session on the engine of `qa ask`: follow-up questions,\n"
                          "citations (/cite N bibtex), whole documents (/show N), rankings explained\n"
                          "(/explain N); /help lists the commands. With standard input not a terminal,\n"
                          "reads one question a line and prints plain answers.",
                          epilog='examples:\n  qa chat\n  qa chat --corpus data/corpus.jsonl -k 3\n'
                                 '  printf "Is rituximab an option?\\nwhat about tacrolimus?\\n" | qa chat')
    chat.add_argument("-k", type=_k, default=5, help="passages an answer shows (default: 5; /k N changes it)")
    _corpus_options(chat, filters=True)

    ask = sub.add_parser("ask", help="answer one question", formatter_class=fmt,
                         description="Answer one question from the corpus, with cited passages.",
                         epilog='examples:\n  qa ask "What is the DOI of the review?"\n'
                                '  qa ask "Is rituximab an option?" --json | jq .answer')
    ask.add_argument("question")
    ask.add_argument("-k", type=_k, default=5, help="number of passages (default: 5)")
    ask.add_argument("--json", action="store_true", help="print the JSON result (schema 1)")
    _corpus_options(ask, filters=True)

    batch = sub.add_parser("batch", help="answer a file of questions", formatter_class=fmt,
                           description="Answer many questions. INPUT: plain text (one question a line), "
                           "JSONL (id+question or BEIR _id+text) or CSV/TSV with id and question columns; "
                           "'-' or absent reads stdin.",
                           epilog="examples:\n  qa batch questions.txt > results.jsonl\n"
                                  "  qa batch queries.jsonl --format trec -k 10 -o run.trec")
    batch.add_argument("input", nargs="?", default="-", metavar="INPUT")
    batch.add_argument("-o", "--output", metavar="OUTPUT", help="write here instead of stdout")
    batch.add_argument("--format", choices=("jsonl", "csv", "tsv", "trec"), default="jsonl")
    batch.add_argument("-k", type=_k, default=5,
                       help="passages per question (documents for --format trec; default: 5)")
    batch.add_argument("--workers", type=_k, default=1, metavar="N",
                       help="answer in N processes sharing the memory-mapped index (default: 1; "
                       "output identical to 1)")
    batch.add_argument("--worker-timeout", type=float, default=120.0, metavar="SECONDS",
                       help="with --workers: a worker that answers nothing for this long over one chunk "
                            "(up to 16 questions) is stopped and its questions marked failed (default: 120)")
    _corpus_options(batch, filters=True)

    index = sub.add_parser("index", help="build or refresh the index and print statistics",
                           formatter_class=fmt, description="Build the index now (queries build it "
                           "on demand too); rebuilds only when the corpus changed unless --rebuild.",
                           epilog="example:\n  qa index --corpus data/corpus.jsonl --bm25 okapi")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if the index is fresh")
    index.add_argument("--verify", action="store_true",
                       help="check every file of the index against its checksum (loading checks sizes, and "
                            "checksums of files up to 8 MB); rebuild it if any is damaged")
    _corpus_options(index)
    cli_library.add_parsers(sub, fmt, _corpus_options)
    cache_admin.add_parser(sub, fmt, _corpus_options)
    cli_eval.add_parser(sub, fmt, _corpus_options)
    return p


def _open(args, rebuild: bool = False):
    from qa.index.open_index import open_index
    from qa.index.core import Settings
    from qa.cli.terminal import Progress

    corpus = cli_library.corpus_paths(args)
    bar = Progress(1, "indexing")
    index, built = open_index(corpus, Settings(bm25=args.bm25), args.index, rebuild=rebuild,
                              progress=bar.update)
    bar.close()
    return index, built


def terminal_width(stream=None) -> int:
    """Width to wrap to: the terminal's (capped for reading comfort), else the render default."""
    from qa.cli.render import DEFAULT_WIDTH

    stream = stream or sys.stdout
    if _isatty(stream):
        return max(20, min(shutil.get_terminal_size().columns - 1, DEFAULT_WIDTH))
    return DEFAULT_WIDTH


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _print_human(result: dict, out) -> None:
    from qa.cli.render import render_result
    from qa.cli.terminal import Style, use_color

    print(render_result(result, Style(use_color(out)), terminal_width(out), wrap_sources=_isatty(out)), file=out)


def cmd_ask(args) -> int:
    from qa.search.engine import Engine

    index, _ = _open(args)
    result = Engine(index).ask(args.question, k=args.k, filters=cli_library.filters_from(args))
    if args.json:
        from qa.cli.render import render_json

        print(render_json(result))
    else:
        _print_human(result, sys.stdout)
    return 0


def _corpus_label(index) -> str:
    from qa.readers.corpus import bundled_corpus

    paths = index.manifest.get("corpus") or []
    if paths == [str(bundled_corpus().resolve())]:
        return "the bundled seed record"
    names = [os.path.basename(p.rstrip("/")) or p for p in paths]
    label = names[0] if names else "corpus"
    return label + (f" +{len(names) - 1} more" if len(names) > 1 else "")


def cmd_chat(args) -> int:
    import io

    from qa.search.engine import Engine
    from qa.cli.chat import Chat
    from qa.cli.terminal import Style, clean, use_color

    interactive = _isatty(sys.stdin) and _isatty(sys.stdout)
    started = time.perf_counter()
    index, built = _open(args)
    seconds = time.perf_counter() - started
    stats = index.manifest["stats"]
    docs = stats["documents"]
    about = (f"{docs} document{'s' if docs != 1 else ''}, {stats['passages']} passages "
             f"({clean(_corpus_label(index))})")
    engine = Engine(index)
    filters = cli_library.filters_from(args)
    if not interactive:  # `echo "question" | qa`: one question a line, plain answers
        chat = Chat(engine, style=Style(False), width=terminal_width(), k=args.k, about=about,
                    wrap_sources=_isatty(sys.stdout), filters=filters)
        stdin = sys.stdin
        if hasattr(stdin, "buffer"):
            stdin = io.TextIOWrapper(stdin.buffer, encoding="utf-8", errors="replace")
        chat.run_lines(stdin)
        return 0
    style = Style(use_color(sys.stdout))
    chat = Chat(engine, style=style, width=terminal_width, k=args.k, about=about,
                height=lambda: max(shutil.get_terminal_size().lines - 2, 5), filters=filters)
    banner = (f"qa {__version__} · {about} · index {'built' if built else 'loaded'} in {seconds:.2f} s · "
              f"/help for commands, Ctrl-D to leave")
    chat.run(banner=style.dim(banner))
    return 0


def cmd_batch(args) -> int:
    from qa.cli import workers
    from qa.cli.batch_io import read_questions
    from qa.search.engine import Engine
    from qa.cli.terminal import Progress, one_line

    questions = read_questions(args.input)
    filters = cli_library.filters_from(args)
    index, _ = _open(args)
    options = dict(k=args.k, per_document=args.format == "trec", filters=filters, fmt=args.format)
    n_workers = min(args.workers, max(len(questions), 1))
    if n_workers > 1 and index.path is None:
        print(f"qa: the index is in memory, so worker processes cannot share it; answering with 1 worker "
              f"instead of {args.workers}", file=sys.stderr)
        n_workers = 1
    if n_workers > 1:
        answers = workers.Parallel(index.path, questions, n_workers, timeout=args.worker_timeout, **options)
    else:
        answers = workers.InProcess(Engine(index), questions, **options)
    failed = 0
    try:
        try:
            out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
        except OSError as e:
            raise QAError(f"{args.output}: cannot write ({e.strerror or e})") from None
        try:
            writer = answers.writer(out)  # results come as dicts, or as text formatted by workers
            bar = Progress(len(questions), "questions")
            for done, (qid, error, result) in enumerate(answers, 1):
                if error is not None:
                    failed += 1
                    print(f"qa: question {one_line(qid)}: {one_line(error)}", file=sys.stderr)
                writer.write(result)
                bar.update(done)
            writer.close()
            bar.close()
        finally:
            if args.output:
                out.close()
    finally:
        answers.close()
    return 1 if failed or answers.stopped else 0


def cmd_index(args) -> int:
    index, built = _open(args, rebuild=args.rebuild)
    if args.verify and not built and index.path is not None:
        from qa.index import core as ix

        try:
            ix.check_files(index.path, index.manifest, full=True)
        except ValueError as e:
            print(f"qa: the index in {index.path} is damaged ({e}); rebuilding it", file=sys.stderr)
            index, built = _open(args, rebuild=True)
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
    print(f"index: {where}\n{state}\n"
          f"documents: {s['documents']}  passages: {s['passages']}  terms: {s['terms']}  "
          f"tf-idf features: {s['features']}\nbm25: {m['settings']['bm25']} "
          f"(k1={m['settings']['k1']}, b={m['settings']['b']})\ncorpus files: {len(m['fingerprint'])}")
    return 0


COMMANDS = {"chat": cmd_chat, "ask": cmd_ask, "batch": cmd_batch, "index": cmd_index, "cache": cache_admin.cmd_cache,
            "eval": lambda args: cli_eval.cmd_eval(args, _open),
            **{name: (lambda args, f=f: f(args, _open)) for name, f in cli_library.COMMANDS.items()}}


# commands that print nothing before their answer: run again on a rebuilt index when damage is
# found in the middle (the others report it; the next run rebuilds)
RETRY_WHEN_DAMAGED = ("ask", "sources", "show", "cite", "eval", "index")


def main(argv: list[str] | None = None) -> int:
    p = parser()
    # bytes that are not UTF-8 arrive as lone surrogates; they cannot be printed back
    argv = [a.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            for a in (sys.argv[1:] if argv is None else argv)]
    args = p.parse_args(argv)
    if not args.command:
        if not _stdin_readable():  # nothing to chat with (no terminal, no pipe): say how to use qa
            p.print_help(sys.stderr)
            return 2
        args = p.parse_args(["chat"])
    try:
        try:
            return COMMANDS[args.command](args)
        except DamagedIndex:
            if args.command not in RETRY_WHEN_DAMAGED:
                raise
            # nothing was printed yet: the build is marked damaged, so opening it again rebuilds it
            # (and says why); then the command runs once more
            return COMMANDS[args.command](args)
    except QAError as e:
        from qa.cli.terminal import one_line

        print(f"qa: error: {one_line(str(e))}", file=sys.stderr)  # one line, whatever a path holds
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `qa batch | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0


def _stdin_readable() -> bool:
    """Standard input is a terminal, a pipe or a file: `qa` alone then opens the chat."""
    try:
        fd = sys.stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return os.isatty(fd) or stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def run() -> None:
    sys.exit(main())
