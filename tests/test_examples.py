"""Every `qa …` example runs: those of `qa --help` and of each command's --help, and those of the
README's quick start, example and command sections. The README's example output is what qa
prints, and .ci/run runs the README's two set-up commands word for word.

The examples run in a scratch folder holding a file of each name they use (copies of the test
fixtures), with HOME there too (so ~/papers is a folder of it), against one QA_HOME whose library
holds the MEDLINE records the examples name (PMID 14871861 ...). A line that only pipes qa's
output to jq is run without jq: its output must be JSON. Lines that feed qa on standard input,
and the chat, run in a shell as `python cli.py`.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BEIR, FIXTURES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

# file names the examples use -> the fixture each stands for
FILES = {
    "pubmed-export.nbib": "medline-sample2.txt", "pubmed-dermatomyo-set.nbib": "medline-sample2.txt",
    "zotero.ris": "ris-endnote-zotero.ris", "notes.md": "markdown-article.md", "paper.pdf": "pdf-article.pdf",
    "efetch.xml": "pubmed-xml-4.xml", "corpus.jsonl": BEIR.name, "data/corpus.jsonl": BEIR.name,
    "queries.jsonl": "pubmedqa-8.queries.jsonl", "qrels.tsv": "pubmedqa-8.qrels.tsv",
    "qrels/test.tsv": "pubmedqa-8.qrels.tsv", "papers/pubmed.nbib": "medline-sample3.txt",
    "papers/2019/article.txt": "text-article.txt",
}
QUESTIONS_TXT = "# about the bundled record\nIs rituximab an option?\nWhich drugs help nonresponding patients?\n"
QUESTIONS_CSV = "id,question\nq1,Is rituximab an option?\nq2,What is the DOI of the review?\n"


def section(title: str, until: str) -> str:
    start = README.index(f"\n## {title}\n")
    return README[start:README.index(f"\n{until}", start + 1)]


def code_lines(text: str) -> list[str]:
    """The lines of the indented code blocks of a README section."""
    return [line.strip() for line in text.splitlines() if line.startswith("    ") and line.strip()]


def qa_commands(line: str) -> list[str]:
    """The `qa …` commands of a line: 'python3 -m venv .venv && … && qa ask "…"' gives the last."""
    line = re.sub(r"\s{2,}\(.*\)$", "", line.removeprefix("$ "))  # a help line's explanation
    return [part.strip() for part in line.split("&&")
            if re.match(r"qa(\s|$)", part.strip()) or re.search(r"\|\s*qa(\s|$)", part)]


def help_examples() -> list[tuple[str, str]]:
    from qa.cli.main import parser

    p = parser()
    helps = {"qa --help": p.epilog}
    helps.update((f"qa {name} --help", command.epilog or "") for name, command in p.commands.items())
    return [(where, command) for where, text in helps.items()
            for line in text.splitlines() if line.startswith("  ") for command in qa_commands(line)]


def readme_examples() -> list[tuple[str, str]]:
    quick_start = section("Quick start", "## Example")
    commands = section("Commands", "### JSON result")
    return [(where, command) for where, text in (("README quick start", quick_start),
                                                 ("README commands", commands))
            for line in code_lines(text) for command in qa_commands(line)]


EXAMPLES = help_examples() + readme_examples()


def test_there_are_examples_everywhere():
    sources = {where for where, _ in EXAMPLES}
    from qa.cli.main import parser

    assert {f"qa {name} --help" for name in parser().commands} | {"qa --help", "README quick start",
                                                                   "README commands"} == sources
    assert ("README quick start", "qa add pubmed-dermatomyo-set.nbib") in EXAMPLES


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A folder with a file of each name the examples use, and a QA_HOME for all of them."""
    folder = tmp_path_factory.mktemp("examples")
    for name, fixture in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / fixture, folder / name)
    (folder / "questions.txt").write_text(QUESTIONS_TXT, encoding="utf-8")
    (folder / "questions.csv").write_text(QUESTIONS_CSV, encoding="utf-8")
    # a TREC run of another system, for `qa eval … --run`: qa's own, made before the examples run
    run = run_shell(f"qa batch queries.jsonl -k 10 --corpus corpus.jsonl -o other-system.trec", folder)
    assert run.returncode == 0, run.stderr
    return folder


def home_of(scratch: Path) -> Path:
    return scratch / ".qa-home"


def run_shell(line: str, folder: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """`line` in bash, with qa as `python cli.py` of this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONPATH")}
    env.update(QA_HOME=str(home_of(folder)), HOME=str(folder))
    script = f'qa() {{ {shlex.quote(sys.executable)} {shlex.quote(str(ROOT / "cli.py"))} "$@"; }}\n{line}\n'
    return subprocess.run(["bash", "-c", script], cwd=folder, env=env, input=stdin, capture_output=True,
                          timeout=300)


@pytest.mark.parametrize("where,line", EXAMPLES, ids=[f"{w}: {c}" for w, c in EXAMPLES])
def test_the_example_runs(where, line, scratch, cli, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(home_of(scratch)))
    monkeypatch.setenv("HOME", str(scratch))
    monkeypatch.chdir(scratch)
    assert cli("add", "pubmed-export.nbib").code == 0  # the documents the examples name (again, after a remove)
    tokens = shlex.split(line)
    if tokens[0] != "qa" or tokens == ["qa"] or tokens[1] == "chat":  # standard input, or the chat
        proc = run_shell(line, scratch)
        assert proc.returncode == 0, proc.stderr.decode()
        return
    cut = next((i for i, t in enumerate(tokens) if t in ("|", ">", ">>")), len(tokens))
    r = cli(*tokens[1:cut])
    assert r.code == 0, r.err
    assert "warning" not in r.err, r.err
    rest = tokens[cut:]
    if rest[:1] == ["|"]:
        assert rest[1] == "jq", line
        json.loads(r.out)
    elif rest:
        with open(scratch / rest[1], "a" if rest[0] == ">>" else "w", encoding="utf-8") as f:
            f.write(r.out)
        assert r.out


def example_outputs() -> list[tuple[str, str]]:
    """(command, the output the README shows for it) of the README's Example section."""
    block = section("Example", "## Commands")
    out, command, lines = [], None, []
    for line in block.splitlines():
        if line.startswith("    $ "):
            if command:
                out.append((command, "\n".join(lines).strip("\n")))
            command, lines = line[6:], []
        elif command and (line.startswith("    ") or not line.strip()):
            lines.append(line[4:])
        elif command and line.strip():
            out.append((command, "\n".join(lines).strip("\n")))
            command = None
    if command:
        out.append((command, "\n".join(lines).strip("\n")))
    return out


@pytest.mark.parametrize("command,shown", example_outputs())
def test_the_readme_example_prints_what_qa_prints(command, shown, tmp_path):
    if "| jq" in command and not shutil.which("jq"):
        pytest.skip("jq is not installed")
    (tmp_path / "home").mkdir()  # the bundled record alone: an empty library
    proc = run_shell(command.replace("qa ", "QA_HOME=home qa ", 1), tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip("\n") == shown


def test_ci_runs_the_readme_set_up_commands_word_for_word():
    """The README's two commands first, word for word; then only the cluster tests, which start a
    Ray cluster in a network namespace of their own (.ci/cluster)."""
    quick_start = code_lines(section("Quick start", "## Example"))
    install = next(line for line in quick_start if line.startswith("python3 -m venv .venv && "))
    tests = next(line for line in quick_start if line.startswith("pip install '.[test]'"))
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line for line in ci if line and not line.startswith(("#", "set ", "cd ", "export "))]
    assert commands[:2] == [install, tests]
    assert commands[2:] == ["pip install '.[cluster]' && bash .ci/cluster python -m pytest -q -m cluster"]


def test_each_command_s_help_says_what_it_does(cli):
    from qa.cli.main import parser

    for name in parser().commands:
        r = cli(name, "--help")
        assert r.code == 0
        usage, description = r.out.split("\n\n")[:2]  # argparse: usage, then the description
        assert usage.startswith(f"usage: qa {name}") and not description.startswith(("positional", "options")), name
