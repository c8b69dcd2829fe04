"""The command line: `qa` and its subcommands, assembled from the command modules; exit codes.

Exit codes: 0 ok, 1 bad input or data, 2 usage, 130 interrupted."""
from __future__ import annotations

import argparse
import os
import stat
import sys

from qa import __version__
from qa.errors import DamagedIndex, QAError, UsageError

EXAMPLES = """\
examples:
  qa                                  (the chat: ask, follow up, /cite, /show; /help lists commands)
  qa add pubmed-export.nbib           (your papers: PubMed's Send to > Citation manager file)
  qa ask "What treatments are there for refractory polymyositis?"
  qa ask "What is the DOI of the review?" --json
  qa ask "Is rituximab used for nonresponding patients?" -k 3
  echo "Is rituximab an option?" | qa
  qa chat --corpus data/corpus.jsonl
  qa batch questions.txt -o results.jsonl
  qa batch questions.csv -o results.csv
  qa batch queries.jsonl --format trec -k 10 --corpus data/corpus.jsonl > run.trec
  qa batch questions.txt --workers 2 -o results.jsonl
  qa index --corpus ~/papers --corpus data/corpus.jsonl
  qa cite --all --format bibtex > library.bib
  qa cache list
  qa cache prune --max-size 500M

The corpus is the bundled seed record plus your library (qa add), unless --corpus is given.
Documents are named by the ids qa prints: a document id, a passage id <doc_id>#<n>, a DOI or a
PMID. Indexes are cached under $QA_HOME (default: the user's cache directory) and updated or
rebuilt when a corpus file changes.
"""


# The module of qa/cli/ that defines each command (its parser and what runs it), in the order of --help.
MODULES = {"chat": "questions", "ask": "questions", "batch": "questions", "index": "indexes", "cache": "indexes",
           "add": "library", "sources": "library", "show": "library", "cite": "library", "remove": "library",
           "eval": "evaluation"}


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given a command, only its module is imported and only its
    parsers built (a command starts sooner); otherwise all of them (--help, a mistyped command).
    `p.run` maps each command built to the function that runs it."""
    import importlib

    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="qa", description="Ask questions of biomedical literature; every "
                                "answer comes with its citations.", epilog=EXAMPLES, formatter_class=fmt)
    p.add_argument("--version", action="version", version=f"qa {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    names = [MODULES[command]] if command in MODULES else list(dict.fromkeys(MODULES.values()))
    p.run = {}
    for name in names:
        module = importlib.import_module(f"qa.cli.{name}")
        module.add_parsers(sub, fmt)
        p.run.update(module.COMMANDS)
    p.commands = sub.choices  # each command's parser, for usage errors found after parsing
    return p


def _command(argv: list[str]) -> str | None:
    """The command argv names: its first argument that is not an option (qa itself takes no option
    with a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


# commands that print nothing before their answer: run again on a rebuilt index when damage is
# found in the middle (the others report it; the next run rebuilds)
RETRY_WHEN_DAMAGED = ("ask", "sources", "show", "cite", "eval", "index")


def main(argv: list[str] | None = None) -> int:
    # bytes that are not UTF-8 arrive as lone surrogates; they cannot be printed back
    argv = [a.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            for a in (sys.argv[1:] if argv is None else argv)]
    p = parser(_command(argv))
    args = p.parse_args(argv)
    if not args.command:
        if not _stdin_readable():  # nothing to chat with (no terminal, no pipe): say how to use qa
            p.print_help(sys.stderr)
            return 2
        args = p.parse_args(["chat"])
    try:
        try:
            return p.run[args.command](args)
        except DamagedIndex:
            if args.command not in RETRY_WHEN_DAMAGED:
                raise
            # nothing was printed yet: the build is marked damaged, so opening it again rebuilds it
            # (and says why); then the command runs once more
            return p.run[args.command](args)
    except UsageError as e:
        p.commands[args.command].error(str(e))  # its usage, then "qa COMMAND: error: …"; exit 2
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
    except OSError as e:  # the last resort (a read-only home, a full disk): one line, no traceback
        from qa.cli.terminal import one_line

        where = f"{e.filename}: " if e.filename else ""
        print(f"qa: error: {one_line(where + (e.strerror or str(e)))}", file=sys.stderr)
        return 1


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
