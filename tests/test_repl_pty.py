"""The chat end to end: `python cli.py` in a real pseudo-terminal (pexpect), and with a pipe."""
from __future__ import annotations

import json
import os
import re
import sys

import pytest

from conftest import ROOT, run_subprocess

pexpect = pytest.importorskip("pexpect")

TIMEOUT = 20
QUESTION = "Is there reason to be optimistic for rituximab?"
PROMPT = "qa>"  # the space after it may be drawn as a cursor movement
SGR = re.compile(r"\x1b\[[0-9;]*m")


def spawn(home, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONPATH")}
    # pexpect does not answer cursor position requests as a terminal does; this tells prompt_toolkit
    # not to ask (else it waits, then warns that the terminal does not support them)
    env.update(QA_HOME=str(home), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", **extra)
    return pexpect.spawn(sys.executable, ["cli.py"], cwd=str(ROOT), env=env, timeout=TIMEOUT,
                         dimensions=(40, 100), encoding="utf-8", codec_errors="replace")


def test_chat_in_a_terminal(tmp_path):
    child = spawn(tmp_path / "home")
    try:
        child.expect(r"\d+ documents?, \d+ passages .* index (built|loaded) in [\d.]+ s · /help")
        child.expect(PROMPT)
        child.sendline(QUESTION)
        child.expect(r"Answer")
        child.expect(r"Ytterberg SR")
        child.expect(PROMPT)
        child.sendline("what about tacrolimus?")
        child.expect(re.escape("\x1b[2msearched for: what about tacrolimus? (optimistic rituximab)"))
        child.expect(PROMPT)
        child.sendline("/cite 1 bibtex")
        child.expect(re.escape("@article{"))
        child.expect(PROMPT)
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    history = (tmp_path / "home" / "history").read_text(encoding="utf-8")
    assert "+what about tacrolimus?" in history


def test_chat_in_a_terminal_with_no_color(tmp_path):
    child = spawn(tmp_path / "home", NO_COLOR="1")
    try:
        child.expect(PROMPT)
        child.sendline(QUESTION)
        child.expect(r"Answer")
        child.expect(r"doi:10\.1007/s11926-996-0021-7\r\n")
        answer = "Answer" + child.before
        child.expect(PROMPT)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert "Ytterberg SR" in answer and not SGR.search(answer)


def test_piped_questions_get_plain_answers(tmp_path):
    proc = run_subprocess([], tmp_path / "home", stdin=f"{QUESTION}\nwhat about tacrolimus?\n".encode())
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "\x1b" not in out and "qa>" not in out
    assert "Answer" in out and "Ytterberg SR" in out and "[1]" in out
    assert "searched for: what about tacrolimus? (optimistic rituximab)" in out


def test_piped_bare_help_and_quit_are_the_commands(tmp_path):
    proc = run_subprocess([], tmp_path / "home", stdin=f"Help\nQUIT\n{QUESTION}\n".encode())
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "/cite N|ID" in out, "help lists the commands"
    assert "Answer" not in out and "Ytterberg" not in out, "nothing is asked after quit"


def test_the_banner_wraps_to_a_narrow_terminal(tmp_path):
    assert run_subprocess(["index"], tmp_path / "home").returncode == 0  # no progress bar before the banner
    child = pexpect.spawn(sys.executable, ["cli.py"], cwd=str(ROOT), timeout=TIMEOUT, encoding="utf-8",
                          env={**{k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONPATH")},
                               "QA_HOME": str(tmp_path / "home"), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"},
                          dimensions=(24, 50))
    try:
        child.expect(PROMPT)
        screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before)  # colours and terminal modes
        banner = [line for line in screen.split("\r\n") if line.strip()]
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert len(banner) > 1 and all(len(line) < 50 for line in banner), banner
    assert "· 1 document, 9 passages (the bundled seed record) ·" in " ".join(banner)


def test_show_n_means_the_list_printed_last(tmp_path):
    """After /sources a number is a document of that list; after an answer, a passage of it."""
    home = tmp_path / "home"
    corpus = ["--corpus", str(ROOT / "corpus"), "--corpus", str(ROOT / "tests" / "fixtures" / "pubmedqa-8.corpus.jsonl")]
    listed = run_subprocess(["sources", "--json", *corpus], home)
    ids = [s["doc_id"] for s in json.loads(listed.stdout)]
    lines = f"{QUESTION}\n/show 1\n/sources\n/show 2\n/show 12\n/show PMID:{ids[-1]}\n/help\n"
    proc = run_subprocess(["chat", *corpus], home, stdin=lines.encode())
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    shown = [line for line in out.splitlines() if line.startswith("Showing ")]
    first_passage = re.search(r"^ +(\S+)#\d+  score ", out, re.M).group(1)  # the id line of passage [1]
    assert shown == [f"Showing {first_passage}, the document of passage [1]:",
                     f"Showing {ids[1]}, document 2 of /sources:",
                     f"Showing {ids[-1]}:"]
    assert f"No document 12: /sources listed documents 1–{len(ids)}." in out
    assert "year:2005..2010 author:NAME journal:TEXT section:NAME source:ID" in out
