"""What several readers share: reading and decoding files with one-line errors, one_line, label words."""
from __future__ import annotations

import codecs
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

TEXT_MAX_BYTES = 64 * 1024 * 1024  # a text or Markdown file larger than this is not an article
# No record of any format qa reads needs a longer line; reading and indexing one of 50 MB takes
# a minute and gigabytes, so a longer line is refused before anything is parsed.
LINE_MAX_BYTES = 8 * 1024 * 1024

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


def check_line_lengths(path, limit: int = LINE_MAX_BYTES) -> None:
    """InputError naming the first line longer than `limit` bytes. A file no larger than the limit
    cannot hold one and is not read; a larger one is scanned a megabyte at a time."""
    import os

    import numpy as np

    try:
        if os.path.getsize(path) <= limit:
            return
        with open(path, "rb") as f:
            line, run = 1, 0  # the line being read, and its bytes so far
            while chunk := f.read(1 << 20):
                breaks = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
                lengths = np.diff(breaks, prepend=-1) - 1  # of the lines each break ends
                if len(breaks):
                    lengths[0] += run
                    too_long = np.flatnonzero(lengths > limit)
                    if len(too_long):
                        line += int(too_long[0])
                        break
                    line += len(breaks)
                    run = len(chunk) - int(breaks[-1]) - 1
                else:
                    run += len(chunk)
                if run > limit:
                    break
            else:
                return
    except OSError as e:
        raise InputError(str(path), f"cannot read file: {e.strerror or e}") from None
    raise InputError(str(path), f"a line longer than {limit // (1024 * 1024)} MB; no record needs one, "
                                "so the file is not read", line)


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


def decode_text(data: bytes, path: str) -> str:
    """Bytes -> str with "\\n" line ends; InputError for invalid UTF-8, NUL bytes, empty files.

    A UTF-8 BOM is skipped and a UTF-16 BOM honoured; CRLF and lone CR are line ends, a form
    feed (a page break) a paragraph break.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise InputError(path, f"invalid UTF-16 at byte {e.start}") from None
    else:
        if b"\x00" in data:
            offset = data.index(b"\x00")
            raise InputError(path, f"binary file (NUL byte at byte {offset}), not text",
                             data.count(b"\n", 0, offset) + 1)
        base = 3 if data.startswith(codecs.BOM_UTF8) else 0
        try:
            text = data[base:].decode("utf-8")
        except UnicodeDecodeError as e:
            offset = base + e.start
            line = data.count(b"\n", 0, offset) + 1
            raise InputError(path, f"invalid UTF-8 at byte {offset} (0x{data[offset]:02X}); "
                                   f"save the file as UTF-8", line) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    if not text.strip():
        raise InputError(path, "empty file")
    return text


def read_text_file(path: str) -> str:
    """A plain-text or Markdown file decoded by decode_text; InputError above TEXT_MAX_BYTES."""
    return decode_text(read_bytes(path, TEXT_MAX_BYTES, "file"), path)


def one_line(text: str | None) -> str | None:
    """Whitespace folded to single spaces; None for nothing."""
    if text is None:
        return None
    text = _SPACES.sub(" ", text).strip()
    return text or None
