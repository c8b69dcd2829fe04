"""What several readers share: reading a file with one-line errors, one_line, structured-abstract labels."""
from __future__ import annotations

import re

from qa.errors import InputError

# First words of structured-abstract labels: a mixed-case "Label:" must start with one, so a
# sentence such as "Two patterns emerged: ..." is not taken for a label.
LABEL_WORDS = frozenset(
    """
    aim aims background case clinical conclusion conclusions context data design discussion
    evidence exposure exposures findings funding hypothesis importance interpretation
    interventions introduction key keywords level limitations main materials measurements
    method methods methodology objective objectives observations outcome outcomes participants
    patients population primary purpose rationale recent relevance result results secondary
    setting significance study subjects summary trial
    """.split()
)
KEYWORD_LABELS = frozenset({"keywords", "key words"})

_SPACES = re.compile(r"\s+")


def read_bytes(path, limit: int | None = None, kind: str = "file") -> bytes:
    """The file's bytes; InputError when unreadable or (with a limit) too large to be an article."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1) if limit else f.read()
    except OSError as e:
        raise InputError(str(path), f"cannot read file: {e.strerror or e}") from None
    if limit and len(data) > limit:
        raise InputError(str(path), f"{kind} larger than {limit // (1024 * 1024)} MB; not read")
    return data


def read_utf8(path) -> str:
    """The file as text: UTF-8 with or without BOM; InputError naming the line of a bad byte."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            str(path), f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line
        ) from None


def one_line(text: str | None) -> str | None:
    """Whitespace folded to single spaces; None for nothing."""
    if text is None:
        return None
    text = _SPACES.sub(" ", text).strip()
    return text or None
