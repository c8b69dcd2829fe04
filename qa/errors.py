"""Errors and warnings a user can act on: each renders as one line naming the file, the line and the problem."""
from __future__ import annotations


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


class DamagedIndex(QAError):
    """A block of the index did not match its checksum when read (qa/index/checksums.py)."""


def warn(message: str) -> None:
    """The one channel of warnings: one line on standard error, prefixed "qa:". Functions that may
    warn take a `warn` callable defaulting to this one, so callers can collect or silence them."""
    import sys

    print(f"qa: {message}", file=sys.stderr)
