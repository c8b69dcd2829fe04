"""Input parsing and output writing for `qa batch`.

The formats here are a contract users' scripts depend on; see the docstrings of
`read_questions` and `ResultWriter` for the exact rules.
"""
from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass

from qa.cli.terminal import clean, clean_json
from qa.errors import InputError

STDIN_NAME = "<stdin>"
FORMATS = ("jsonl", "csv", "tsv", "trec")
CSV_COLUMNS = ("id", "question", "answer", "rank", "score", "doc_id", "passage_id", "citation", "text")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    error: str | None = None  # set when this one item cannot be processed; the rest continue


# ---------------------------------------------------------------- input


def read_questions(source: str | None, stdin=None) -> list[Question]:
    """Read questions from a file path, or from stdin when `source` is None or "-".

    The format is detected from the content:
      - first non-blank line starts with "{"  -> JSONL (`id`+`question` or BEIR `_id`+`text`);
      - first non-blank line, split on tab (if it has one) else comma, names both
        `id` and `question` (case-insensitive) -> CSV/TSV with that header;
      - otherwise plain text: one question a line, id = 1-based line number; lines starting
        with "#" are comments.
    Whole-file problems raise InputError (with a line number where there is one);
    an empty or non-string question yields a Question with `error` set instead.
    """
    name = STDIN_NAME if source in (None, "-") else source
    data = _read_bytes(source, stdin)
    text = _decode(data, name)
    lines = _split_lines(text)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        return []
    if first.lstrip().startswith("{"):
        return _read_jsonl(lines, name)
    delimiter = "\t" if "\t" in first else ","
    if {"id", "question"} <= set(_header_names(first, delimiter)):
        return _read_table(text, delimiter, name)
    return _read_plain(lines)


def _read_bytes(source: str | None, stdin) -> bytes | str:
    """Bytes where possible, so a BOM or bad UTF-8 on stdin is handled like a file's."""
    if source in (None, "-"):
        stream = sys.stdin if stdin is None else stdin
        buffer = getattr(stream, "buffer", None)
        return buffer.read() if buffer is not None else stream.read()
    try:
        with open(source, "rb") as f:
            return f.read()
    except OSError as e:
        raise InputError(source, f"cannot read file: {e.strerror or e}") from None


def _decode(data: bytes | str, name: str) -> str:
    if isinstance(data, str):  # a stream without .buffer was already decoded
        return data.removeprefix("\ufeff")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(name, f"not valid UTF-8 (byte offset {e.start})", line=line) from None


def _split_lines(text: str) -> list[str]:
    # Split on "\n" only (not str.splitlines, which also breaks on \x0c, \u2028, ...)
    # so line numbers match what editors and `wc -l` show.
    return [line.removesuffix("\r") for line in text.split("\n")]


def _header_names(line: str, delimiter: str) -> list[str]:
    # Parse with csv so a quoted header ("id","question") is recognised too.
    try:
        fields = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # e.g. a lone "\r" (old Mac line ends): not a header
        return []
    return [field.strip().lower() for field in fields]


def _make_question(qid: str, value) -> Question:
    """One item; a bad question marks only this item as failed."""
    if not isinstance(value, str):
        return Question(qid, "", error=f"question is not a string (got {_json_type(value)})")
    value = value.strip()
    if not value:
        return Question(qid, "", error="empty question")
    return Question(qid, value)


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array"}.get(type(value), type(value).__name__)


def _read_plain(lines: list[str]) -> list[Question]:
    """One question a line, its id the line number; blank lines and lines starting with # (comments)
    are passed over."""
    return [Question(str(n), line.strip()) for n, line in enumerate(lines, 1)
            if line.strip() and not line.lstrip().startswith("#")]


def _read_jsonl(lines: list[str], name: str) -> list[Question]:
    questions = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(name, f"invalid JSON: {e.msg} (column {e.colno})", line=n) from None
        if not isinstance(obj, dict):
            raise InputError(name, f"expected a JSON object, got {_json_type(obj)}", line=n)
        if "id" in obj and "question" in obj:
            qid, value = obj["id"], obj["question"]
        elif "_id" in obj and "text" in obj:  # BEIR queries.jsonl
            qid, value = obj["_id"], obj["text"]
        else:
            raise InputError(name, 'JSON object needs "id" and "question" (or "_id" and "text")', line=n)
        questions.append(_make_question(_json_id(qid, name, n), value))
    return questions


def _json_id(value, name: str, line: int) -> str:
    # Numeric ids are common (BEIR, hand-written files); anything else cannot be an id.
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    raise InputError(name, f"id must be a string or number, got {_json_type(value)}", line=line)


def _read_table(text: str, delimiter: str, name: str) -> list[Question]:
    # newline="" lets the csv module handle CRLF and newlines inside quoted fields.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = None
    questions = []
    end = 0  # last physical line consumed; the next record starts after it
    # csv refuses fields over 128 KiB by default: a long question would stop the whole batch.
    limit = csv.field_size_limit(max(len(text), csv.field_size_limit()))
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if not any(field.strip() for field in row):
                continue  # blank line
            if header is None:
                header = [field.strip().lower() for field in row]
                if "id" not in header or "question" not in header:  # e.g. an unbalanced quote
                    raise InputError(name, 'header must name "id" and "question" columns', line=start)
                id_col, q_col = header.index("id"), header.index("question")
                continue
            if len(row) <= max(id_col, q_col):
                missing = "id" if len(row) <= id_col else "question"
                raise InputError(name, f'row has {len(row)} field(s), missing the "{missing}" column', line=start)
            questions.append(_make_question(row[id_col].strip(), row[q_col]))
    except csv.Error as e:
        raise InputError(name, f"not valid CSV ({e})", line=reader.line_num or None) from None
    finally:
        csv.field_size_limit(limit)
    return questions


# ---------------------------------------------------------------- output


def empty_result(qid: str, question: str, error: str | None = None) -> dict:
    """A schema-conformant result without hits, e.g. for a question that failed."""
    result = {
        "schema": 1,
        "id": qid,
        "question": question,
        "query": question,
        "answer": None,
        "confidence": None,
        "hits": [],
        "corrections": [],
        "expansions": [],
        "missing_terms": [],
        "covered_terms": [],
    }
    if error is not None:
        result["error"] = error
    return result


def documents_result(qid: str, question: str, documents: list[tuple[str, float]]) -> dict:
    """The result a TREC run is written from: ranked documents only, each with its `doc_score`."""
    result = empty_result(qid, question)
    # a document's score is its best passage's: that passage's `score` and the document's `doc_score`
    result["hits"] = [{"doc_id": doc_id, "score": score, "doc_score": score} for doc_id, score in documents]
    return result


class ResultWriter:
    """Streams results to `out` (a text stream) in the order they are written.

    - jsonl: one JSON object per line, keys in the dict's order, non-ASCII kept.
    - csv/tsv: header `id,question,answer,rank,score,doc_id,passage_id,citation,text`,
      then one row per hit; a result without hits gets one row with empty hit
      columns. Scores are written as str(round(score, 6)). Newlines in fields are
      normalised to "\\n" and such fields quoted. The `error` key is not a column.
    - trec: `qid Q0 doc_id rank score run_tag`; passages are folded into documents
      (a document scores its `doc_score`; ties broken by doc_id), ranks 1..n.
      Whitespace in qid, doc_id and run_tag becomes "_" since columns are
      space-separated. Scores keep full float precision: trec_eval re-sorts by
      score, and rounding could create ties that reorder documents.
      A result without hits writes nothing.
    `close()` flushes but does not close `out` (the caller owns it).
    """

    def __init__(self, fmt: str, out, run_tag: str = "qa"):
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; choose from {', '.join(FORMATS)}")
        self.fmt = fmt
        self.out = out
        self.run_tag = _trec_token(run_tag)
        self._csv = None
        if fmt in ("csv", "tsv"):
            self._csv = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
        self._header_written = False

    def write(self, result: dict) -> None:
        if self.fmt == "jsonl":
            self._write_jsonl(result)
        elif self.fmt == "trec":
            self._write_trec(result)
        else:
            self._write_header()
            self._csv.writerows(_table_rows(result))

    def close(self) -> None:
        if self._csv is not None:
            self._write_header()  # an empty batch still gets a header
        self.out.flush()

    def _write_header(self) -> None:
        if not self._header_written:
            self._csv.writerow(CSV_COLUMNS)
            self._header_written = True

    def _write_jsonl(self, result: dict) -> None:
        # C1 (U+0085 NEL among them) and bidi controls are legal in JSON strings, but a terminal acts on
        # them and some line splitters (str.splitlines, JavaScript) break on NEL and U+2028/2029:
        # written as escapes, one object stays one line and the values stay the same.
        self.out.write(clean_json(json.dumps(result, ensure_ascii=False)) + "\n")

    def _write_trec(self, result: dict) -> None:
        qid = _trec_token(str(result["id"]))
        for rank, (doc_id, score) in enumerate(_rank_documents(result["hits"]), 1):
            self.out.write(f"{qid} Q0 {_trec_token(doc_id)} {rank} {float(score)!r} {self.run_tag}\n")


def _table_rows(result: dict) -> list[list[str]]:
    answer = (result.get("answer") or {}).get("text") or ""
    head = [result["id"], result["question"], answer]
    if not result["hits"]:
        return [[_cell(v) for v in head] + [""] * (len(CSV_COLUMNS) - len(head))]
    rows = []
    for hit in result["hits"]:
        values = head + [hit[key] for key in CSV_COLUMNS[len(head):]]
        rows.append([_cell(v) for v in values])
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(round(value, 6))
    # Python's csv quotes fields containing "\n" but not a lone "\r" when the
    # line terminator is "\n"; normalising keeps every record parseable. Other controls never
    # reach the terminal a table is printed on (tab and line feed are quoted as fields allow).
    return clean(str(value).replace("\r\n", "\n").replace("\r", "\n"))


def _rank_documents(hits: list[dict]) -> list[tuple[str, float]]:
    """Fold passage hits into documents by their document score (a hit without one: its own score,
    the best of a document's hits counting), ties by doc_id."""
    best: dict[str, float] = {}
    for hit in hits:
        doc_id, score = hit["doc_id"], hit.get("doc_score", hit["score"])
        if doc_id not in best or score > best[doc_id]:
            best[doc_id] = score
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))


def _trec_token(value: str) -> str:
    # TREC columns are space-separated; an empty token would shift the columns.
    return re.sub(r"\s", "_", clean(value)) or "_"
