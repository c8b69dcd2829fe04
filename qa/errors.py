"""Errors and warnings a user can act on: each renders as one line naming the file, the line and the problem."""
from __future__ import annotations

import re


class QAError(Exception):
    """Bad input or data: the CLI prints str(error) on one line and exits 1."""


class UsageError(Exception):
    """A command used wrongly in a way its options cannot say (e.g. an empty question): the CLI
    prints the command's usage and this message, as for any usage error, and exits 2."""


class InputError(QAError):
    def __init__(self, path: str, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class DamagedRecord(InputError):
    """A line of a records file that does not read back as qa wrote it (qa/readers/records.py):
    bad JSON, a field of the wrong type, bytes that are not UTF-8, or a checksum that differs."""


class DamagedIndex(QAError):
    """A block of the index did not match its checksum when read (qa/index/checksums.py)."""


class ShardUnavailable(QAError):
    """A shard of a sharded index did not answer (its actor is gone, its files are missing): a
    fault of the index, not of one question."""


def warn(message: str) -> None:
    """The one channel of warnings: one line on standard error, prefixed "qa:". Functions that may
    warn take a `warn` callable defaulting to this one, so callers can collect or silence them."""
    import sys

    print(f"qa: {one_line(message)}", file=sys.stderr)  # a warning names files and quotes corpus text


# What must never reach a terminal from a file, a name or a question: C0 controls (ESC starts
# escape sequences), DEL, C1 controls (U+009B alone is a CSI) and the bidirectional controls that
# make a terminal show text in another order than it is (U+202E). Tab and line feed are text.
_C0 = "\x00-\x08\x0b-\x1f"
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_C0}{_OTHERS}]")
# json.dumps escapes C0 itself; the rest, and the line separators some readers split lines on
_JSON_RAW = re.compile(f"[{_OTHERS}\u2028\u2029]")


def clean(text: str) -> str:
    """Text from the corpus or the user, safe to print: control characters (escapes included) become spaces."""
    return _CONTROL.sub(" ", text)


def clean_json(text: str) -> str:
    """JSON text (json.dumps output) safe to print: the controls json.dumps leaves raw are written
    as \\uXXXX escapes, so the value read back is unchanged."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def one_line(text: str) -> str:
    """clean() and line breaks as spaces: for messages that must stay on one line."""
    return clean(text).replace("\n", " ").replace("\t", " ")
