"""Commands that answer questions: `qa ask`, `qa` / `qa chat`, `qa batch`."""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from qa import __version__
from qa.cli.options import (cluster_address, cluster_options, corpus_options, engine_for, filters_from,
                            open_index_for, positive_int)
from qa.cli.terminal import isatty, terminal_width
from qa.errors import QAError, UsageError

# workers answer on the CPU: beyond two a core (os.cpu_count()), more only cost processes and memory
WORKERS_PER_CORE = 2

def add_parsers(sub, fmt) -> None:
    chat = sub.add_parser("chat", help="ask questions interactively (what `qa` alone does)",
                          formatter_class=fmt,
                          description="An interactive session on the engine of `qa ask`: follow-up questions,\n"
                          "citations (/cite N bibtex), whole documents (/show N), rankings explained\n"
                          "(/explain N); /help lists the commands. With standard input not a terminal,\n"
                          "reads one question a line and prints plain answers.",
                          epilog='examples:\n  qa chat\n  qa chat --corpus data/corpus.jsonl -k 3\n'
                                 '  printf "Is rituximab an option?\\nwhat about tacrolimus?\\n" | qa chat')
    chat.add_argument("-k", type=positive_int, default=5, help="passages an answer shows (default: 5; /k N changes it)")
    corpus_options(chat, filters=True)
    cluster_options(chat)

    ask = sub.add_parser("ask", help="answer one question", formatter_class=fmt,
                         description="Answer one question from the corpus, with cited passages.",
                         epilog='examples:\n  qa ask "What is the DOI of the review?"\n'
                                '  qa ask "Is rituximab an option?" --json | jq .answer')
    ask.add_argument("question")
    ask.add_argument("-k", type=positive_int, default=5, help="number of passages (default: 5)")
    ask.add_argument("--json", action="store_true", help="print the JSON result (schema 1)")
    corpus_options(ask, filters=True)
    cluster_options(ask)

    batch = sub.add_parser("batch", help="answer a file of questions", formatter_class=fmt,
                           description="Answer many questions. INPUT: plain text (one question a line; "
                           "lines starting with # are comments), JSONL (id+question or BEIR _id+text) or CSV/TSV "
                           "with id and question columns; '-' or absent reads stdin.",
                           epilog="examples:\n  qa batch questions.txt > results.jsonl\n"
                                  "  qa batch questions.txt -o results.csv\n"
                                  "  qa batch queries.jsonl -k 10 -o run.trec")
    batch.add_argument("input", nargs="?", default="-", metavar="INPUT")
    batch.add_argument("-o", "--output", metavar="OUTPUT",
                       help="write here instead of stdout (under a temporary name until the last question "
                       "is answered)")
    batch.add_argument("--format", choices=("jsonl", "csv", "tsv", "trec"),
                       help="output format (default: from the OUTPUT extension .jsonl .csv .tsv .trec, else jsonl)")
    batch.add_argument("-k", type=positive_int, default=5,
                       help="passages per question (documents for --format trec; default: 5)")
    batch.add_argument("--workers", type=positive_int, default=1, metavar="N",
                       help="answer in N processes sharing the memory-mapped index (default: 1; at most "
                       f"{WORKERS_PER_CORE} a core; output identical to 1)")
    batch.add_argument("--worker-timeout", type=float, default=120.0, metavar="SECONDS",
                       help="with --workers: a worker that answers nothing for this long over one chunk "
                            "(up to 16 questions) is stopped and its questions marked failed (default: 120)")
    corpus_options(batch, filters=True)
    cluster_options(batch)


def _print_human(result: dict, out) -> None:
    from qa.cli.render import render_result
    from qa.cli.terminal import Style, use_color

    print(render_result(result, Style(use_color(out)), terminal_width(out), wrap_sources=isatty(out)), file=out)


def cmd_ask(args) -> int:
    if not args.question.strip():
        raise UsageError("the question is empty")
    result = engine_for(args).ask(args.question, k=args.k, filters=filters_from(args))
    if args.json:
        from qa.cli.render import render_json

        print(render_json(result))
    else:
        _print_human(result, sys.stdout)
    return 0


def _corpus_label(index, args) -> str:
    from qa.library import library_dir, records_dir
    from qa.readers.corpus import bundled_corpus

    known = {str(bundled_corpus().resolve()): "the bundled seed record",
             str(records_dir(library_dir(getattr(args, "library", None))).resolve()): "your library"}
    paths = index.manifest.get("corpus") or []
    names = [known.get(p) or os.path.basename(p.rstrip("/")) or p for p in paths]
    if len(names) <= 2 and all(p in known for p in paths):
        return " and ".join(names)
    label = names[0] if names else "corpus"
    return label + (f" +{len(names) - 1} more" if len(names) > 1 else "")


def cmd_chat(args) -> int:
    import io

    from qa.cli.chat import Chat
    from qa.cli.terminal import Style, clean, counted, use_color

    from qa.cli.allocator import keep_freed_memory

    keep_freed_memory()
    interactive = isatty(sys.stdin) and isatty(sys.stdout)
    started = time.perf_counter()
    index, built = open_index_for(args)
    seconds = time.perf_counter() - started
    stats = index.manifest["stats"]
    about = (f"{counted(stats['documents'], 'document')}, {counted(stats['passages'], 'passage')} "
             f"({clean(_corpus_label(index, args))})")
    engine = engine_for(args, index)
    filters = filters_from(args)
    if not interactive:  # `echo "question" | qa`: one question a line, plain answers
        chat = Chat(engine, style=Style(False), width=terminal_width(), k=args.k, about=about,
                    wrap_sources=isatty(sys.stdout), filters=filters)
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
    chat.run(banner=chat.hint(banner))  # wrapped to the terminal, dim
    return 0


# Output formats an OUTPUT's extension names, when --format does not say.
EXTENSION_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
                     ".trec": "trec", ".run": "trec"}


def output_format(fmt: str | None, output: str | None) -> str:
    """--format, else the format OUTPUT's extension names, else jsonl; a contradiction is a usage error."""
    named = EXTENSION_FORMATS.get(os.path.splitext(output or "")[1].lower())
    if fmt and named and fmt != named:
        raise UsageError(f"--format {fmt} contradicts the output file {output} (a .{named} name): "
                         f"change one of them")
    return fmt or named or "jsonl"


def cmd_batch(args) -> int:
    from qa import files
    from qa.cli import workers
    from qa.cli.batch_io import read_questions
    from qa.cli.terminal import Progress, counted, one_line

    from qa.cli.allocator import keep_freed_memory

    keep_freed_memory()  # every question allocates the same arrays again: keep them mapped
    fmt = output_format(args.format, args.output)
    questions = read_questions(args.input)
    filters = filters_from(args)
    index, _ = open_index_for(args)
    engine = engine_for(args, index)  # embeds what the semantic stage still needs, before any worker starts
    options = dict(k=args.k, per_document=fmt == "trec", filters=filters, fmt=fmt)
    n_workers = min(args.workers, max(len(questions), 1))
    cores = os.cpu_count() or 1
    if n_workers > WORKERS_PER_CORE * cores:
        print(f"qa: --workers {args.workers} is more than {WORKERS_PER_CORE} a core "
              f"({cores} core{'s' * (cores != 1)}): answering with {WORKERS_PER_CORE * cores}", file=sys.stderr)
        n_workers = WORKERS_PER_CORE * cores
    if n_workers > 1 and cluster_address(args):
        print(f"qa: with --cluster the shards answer on the cluster; answering with 1 worker instead of "
              f"{args.workers}", file=sys.stderr)
        n_workers = 1
    if n_workers > 1 and index.path is None:
        print(f"qa: the index is in memory, so worker processes cannot share it; answering with 1 worker "
              f"instead of {args.workers}", file=sys.stderr)
        n_workers = 1
    if n_workers > 1:
        answers = workers.Parallel(index.path, questions, n_workers, timeout=args.worker_timeout,
                                   semantic=engine.semantic is not None, **options)
    else:
        answers = workers.InProcess(engine, questions, **options)
    failed = done = 0
    out = sys.stdout
    try:
        if args.output:  # written under a temporary name: a file named OUTPUT is always a whole batch
            target = os.path.abspath(os.path.expanduser(args.output))
            temporary = files.temporary(Path(target))
            try:
                out = open(temporary, "w", encoding="utf-8", newline="")
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
            if out is not sys.stdout:
                out.close()
                os.replace(temporary, target)
        except KeyboardInterrupt:
            if args.output:
                print(f"qa: interrupted after {done} of {counted(len(questions), 'question')}; "
                      f"{one_line(args.output)} was not written", file=sys.stderr)
                return 130
            raise
        finally:
            if out is not sys.stdout:
                out.close()
                Path(temporary).unlink(missing_ok=True)
    finally:
        answers.close()
    if args.output:
        print(f"qa: wrote {counted(len(questions), 'result')} to {one_line(args.output)} ({fmt})"
              + (f"; {counted(failed, 'question')} failed (named above)" if failed else ""), file=sys.stderr)
    return 1 if failed or answers.stopped else 0


COMMANDS = {"chat": cmd_chat, "ask": cmd_ask, "batch": cmd_batch}
