"""Terminal manners shared by the CLI and the chat: colour only on a terminal, no raw controls."""
from __future__ import annotations

import os
import sys

from qa.errors import clean, clean_json, one_line  # noqa: F401  (the one cleaning, for the CLI's modules)

def isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def terminal_width(stream=None) -> int:
    """Width to wrap to: the terminal's (capped for reading comfort), else the render default."""
    import shutil

    from qa.cli.render import DEFAULT_WIDTH

    stream = stream or sys.stdout
    if isatty(stream):
        return max(20, min(shutil.get_terminal_size().columns - 1, DEFAULT_WIDTH))
    return DEFAULT_WIDTH


def use_color(stream) -> bool:
    return (hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ
            and os.environ.get("TERM") != "dumb")


class Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def accent(self, text: str) -> str:
        return self._wrap("36", text)

    def warning(self, text: str) -> str:
        return self._wrap("1;33", text)


class Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, total: int, label: str, stream=None):
        self.stream = stream or sys.stderr
        self.total = max(total, 1)
        self.label = label
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.drawn = 0  # characters of the bar on the screen, which close() clears

    def update(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = max(total, 1)
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / self.total)
        bar = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}"
        self.stream.write("\r" + bar)
        self.stream.flush()
        self.drawn = max(self.drawn, len(bar))

    def close(self) -> None:
        if self.drawn:  # only what was drawn: a wider line would wrap on a narrow terminal
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0


def counted(n: int, noun: str) -> str:
    """'1 document', '2 documents': a count with its noun (regular plurals only)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
