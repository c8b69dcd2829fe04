"""Named moments of qa's writes, where a test can kill the process to prove a crash is survived.

Every step of a write that a crash could interrupt calls reach(NAME) first:

    <what>:before-fsync      a temporary is written completely, not yet flushed to disk
    <what>:before-rename     flushed, not yet renamed over its final name
    <what>:before-dir-fsync  renamed, the directory entry not yet flushed
with <what> one of original, keys, records (qa add), remove-records (qa remove rewriting a
records file), current (the CURRENT pointer of an index), and

    add:parsed               qa add has parsed a file; nothing of it is written yet
    remove:logged            qa remove has noted the ids it removes in removed.jsonl; no
                             records file is changed yet
    remove:records-unlinked  a records file left empty is deleted, its original not yet
    build:before-fsync       an index build's files are written, not yet flushed
    build:before-rename      flushed, the build directory not yet renamed into place
    build:published          CURRENT names the new build; older builds not yet deleted

Test hooks (environment variables; without them reach() costs one dictionary look-up):
    QA_TEST_CRASH_AT=NAME[@N]  at the N-th time (default 1) NAME is reached, write
                               "qa: test hook: killed at NAME" to standard error and die
                               by SIGKILL: no cleanup, no finally, as in a power cut
    QA_TEST_PHASES=FILE        append each NAME reached to FILE, one a line (a random kill
                               then shows where it landed: the last line)
"""
from __future__ import annotations

import os
import signal

CRASH_AT = "QA_TEST_CRASH_AT"
TRACE = "QA_TEST_PHASES"

_seen: dict[str, int] = {}


def reach(name: str) -> None:
    """The process is at the moment NAME (see the module docstring for the names)."""
    crash, trace = os.environ.get(CRASH_AT), os.environ.get(TRACE)
    if not crash and not trace:
        return
    if trace:
        with open(trace, "a", encoding="utf-8") as f:
            f.write(name + "\n")
    if crash:
        wanted, _, nth = crash.partition("@")
        if wanted == name:
            _seen[name] = _seen.get(name, 0) + 1
            if _seen[name] == int(nth or 1):
                os.write(2, f"qa: test hook: killed at {crash}\n".encode())
                os.kill(os.getpid(), signal.SIGKILL)
