"""Shared helpers: paths, an isolated QA_HOME, and ways to run the CLI in-process or as a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = ROOT / "corpus" / "ytterberg-2006-refractory-pm-dm.pubmed.txt"
BEIR = FIXTURES / "pubmedqa-8.corpus.jsonl"
BEIR_EXTRA = FIXTURES / "pubmedqa-extra.corpus.jsonl"

SEED_DOI = "10.1007/s11926-996-0021-7"
SEED_CITATION = ("Ytterberg SR. Treatment of refractory polymyositis and dermatomyositis. "
                 "Curr Rheumatol Rep. 2006 Jun;8(3):167-73. doi:10.1007/s11926-996-0021-7")


def write_input(directory: Path, content: str | bytes, name: str) -> Path:
    """A test input file: text written as UTF-8 exactly as given (no newline translation)."""
    path = directory / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def beir_records(path: Path = BEIR) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def qa_home(tmp_path, monkeypatch) -> Path:
    """Every CLI run of a test writes under this directory, never the user's cache."""
    home = tmp_path / "qa-home"
    monkeypatch.setenv("QA_HOME", str(home))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(qa_home, capsys):
    """Run `qa ARGS` in-process (qa.cli.main.main) and capture what it prints."""
    from qa.cli.main import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()  # drop anything printed before
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse: usage errors, --help, --version
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_subprocess(args: list[str], home: Path, stdin: bytes | None = None,
                   timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python cli.py ARGS` from the repository root, with QA_HOME set to `home` (and `env` added)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONPATH")}
    environment.update(env or {}, QA_HOME=str(home))
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=environment, input=stdin,
                          capture_output=True, timeout=timeout)


def killed_at(phase: str, args: list[str], home: Path) -> subprocess.CompletedProcess:
    """`qa ARGS` killed by SIGKILL at the named moment of a write (qa/phases.py); asserts that the
    kill landed there, so a test of what a crash leaves cannot pass without the crash."""
    r = run_subprocess(args, home, env={"QA_TEST_CRASH_AT": phase})
    assert r.returncode == -9 and f"killed at {phase}" in r.stderr.decode(), (phase, r.returncode, r.stderr)
    return r
