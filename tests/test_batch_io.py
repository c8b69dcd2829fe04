import csv
import io
import json

import pytest

from qa.cli.batch_io import FORMATS, Question, ResultWriter, empty_result, read_questions
from qa.errors import InputError

HEADER = ["id", "question", "answer", "rank", "score", "doc_id", "passage_id", "citation", "text"]


def write_bytes(tmp_path, data: bytes, name="q.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def stdin_of(data: bytes):
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


# ---------------------------------------------------------------- input


def test_plain_text_ids_are_line_numbers_counting_blank_lines(tmp_path):
    path = write_bytes(tmp_path, b"What is BRCA1?\n\n   \nHow does aspirin work?\n")
    assert read_questions(path) == [
        Question("1", "What is BRCA1?"),
        Question("4", "How does aspirin work?"),
    ]


def test_plain_text_with_bom_and_crlf(tmp_path):
    path = write_bytes(tmp_path, b"\xef\xbb\xbfFirst question?\r\n\r\nSecond, with a comma?\r\n")
    assert read_questions(path) == [Question("1", "First question?"), Question("3", "Second, with a comma?")]


def test_format_is_detected_from_content_not_extension(tmp_path):
    path = write_bytes(tmp_path, b'{"id": "a", "question": "Q?"}\n', name="questions.txt")
    assert read_questions(path) == [Question("a", "Q?")]


def test_jsonl_with_numeric_ids_and_beir_keys(tmp_path):
    data = b'{"id": 7, "question": "Q one?"}\n\n{"_id": "PLAIN-2", "text": "Q two?", "metadata": {}}\n'
    expected = [Question("7", "Q one?"), Question("PLAIN-2", "Q two?")]
    assert read_questions(write_bytes(tmp_path, data)) == expected


def test_jsonl_with_bom_and_crlf(tmp_path):
    data = b'\xef\xbb\xbf{"id": "1", "question": "Q?"}\r\n{"id": "2", "question": "R?"}\r\n'
    assert read_questions(write_bytes(tmp_path, data)) == [Question("1", "Q?"), Question("2", "R?")]


def test_jsonl_bad_question_marks_only_that_item(tmp_path):
    data = b'{"id": "1", "question": ""}\n{"id": "2", "question": 42}\n{"id": "3", "question": "ok?"}\n'
    q1, q2, q3 = read_questions(write_bytes(tmp_path, data))
    assert (q1.id, q1.error) == ("1", "empty question")
    assert q2.id == "2" and "not a string" in q2.error
    assert q3 == Question("3", "ok?")


def test_invalid_json_reports_line(tmp_path):
    data = b'{"id": "1", "question": "a"}\n\n{"id": "2", "question": \n'
    path = write_bytes(tmp_path, data)
    with pytest.raises(InputError) as info:
        read_questions(path)
    assert info.value.line == 3
    assert f"{path}:3:" in str(info.value)


def test_jsonl_line_without_keys_reports_line(tmp_path):
    path = write_bytes(tmp_path, b'{"id": "1", "question": "a"}\n{"id": "2", "query": "b"}\n')
    with pytest.raises(InputError, match=":2: .*question"):
        read_questions(path)


def test_invalid_utf8_reports_line(tmp_path):
    path = write_bytes(tmp_path, b"fine\nalso fine\nbad \xff byte\n")
    with pytest.raises(InputError, match=":3: .*UTF-8"):
        read_questions(path)


def test_unreadable_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_questions(str(tmp_path / "missing.txt"))


def test_csv_with_quoted_comma_and_newline(tmp_path):
    data = b'ID,Question,notes\r\n1,"Is A, or B, better?",x\r\n2,"two\nlines?",\r\n'
    assert read_questions(write_bytes(tmp_path, data, "q.csv")) == [
        Question("1", "Is A, or B, better?"),
        Question("2", "two\nlines?"),
    ]


def test_tsv_columns_in_any_order(tmp_path):
    data = b"\xef\xbb\xbfquestion\tid\nWhat, exactly?\tq1\n\nWhy?\tq2\n"
    expected = [Question("q1", "What, exactly?"), Question("q2", "Why?")]
    assert read_questions(write_bytes(tmp_path, data, "q.tsv")) == expected


def test_csv_empty_question_is_an_item_error(tmp_path):
    q1, q2 = read_questions(write_bytes(tmp_path, b"id,question\n1,\n2,ok?\n"))
    assert q1.id == "1" and q1.error == "empty question"
    assert q2 == Question("2", "ok?")


def test_csv_row_missing_field_reports_line(tmp_path):
    path = write_bytes(tmp_path, b'id,question\n1,"multi\nline"\n2\n')
    with pytest.raises(InputError, match=":4: .*question"):
        read_questions(path)


def test_duplicate_ids_kept_in_order(tmp_path):
    data = b'{"id": "x", "question": "a?"}\n{"id": "x", "question": "b?"}\n'
    assert [q.question for q in read_questions(write_bytes(tmp_path, data))] == ["a?", "b?"]


def test_stdin_dash_and_none(tmp_path):
    data = b"\xef\xbb\xbfid,question\r\n1,Q?\r\n"
    assert read_questions("-", stdin=stdin_of(data)) == [Question("1", "Q?")]
    assert read_questions(None, stdin=stdin_of(data)) == [Question("1", "Q?")]


def test_stdin_invalid_utf8_names_stdin():
    with pytest.raises(InputError, match="^<stdin>:2: "):
        read_questions("-", stdin=stdin_of(b"ok\n\xc3\x28\n"))


def test_empty_input_gives_no_questions():
    assert read_questions("-", stdin=stdin_of(b"\n\n")) == []


# ---------------------------------------------------------------- output


def hit(rank, score, doc_id, passage_id, text="passage text"):
    return {
        "rank": rank, "score": score, "bm25": score, "tfidf": 0.5,
        "passage_id": passage_id, "doc_id": doc_id, "section": None,
        "text": text, "highlight": text, "citation": f"[{doc_id}]",
        "source": {"doc_id": doc_id, "title": "Título", "authors": ["A B"], "journal": None,
                   "year": "2001", "volume": None, "issue": None, "pages": None,
                   "doi": None, "pmid": None, "url": None},
    }


def result_with_hits():
    r = empty_result("q 1", "What, exactly?")
    r["answer"] = {"text": "An answer [1].", "citations": [1]}
    r["confidence"] = 0.8
    r["hits"] = [
        hit(1, 9.123456789, "docA", "docA#2", "first,\ttab\nnewline"),
        hit(2, 7.0, "docB", "docB#1"),
        hit(3, 5.5, "docA", "docA#7"),
        hit(4, 7.0, "docAA", "docAA#1"),
    ]
    return r


def run(fmt, results, **kw):
    out = io.StringIO()
    writer = ResultWriter(fmt, out, **kw)
    for r in results:
        writer.write(r)
    writer.close()
    return out.getvalue()


def test_empty_result_schema():
    r = empty_result("3", "Q?", error="empty question")
    assert list(r) == ["schema", "id", "question", "query", "answer", "confidence", "hits", "corrections", "expansions",
                       "missing_terms", "covered_terms", "error"]
    assert (r["schema"], r["query"], r["answer"], r["confidence"], r["hits"]) == (1, "Q?", None, None, [])
    assert "error" not in empty_result("3", "Q?")


def test_unknown_format_rejected():
    assert "jsonl" in FORMATS
    with pytest.raises(ValueError):
        ResultWriter("xml", io.StringIO())


def test_jsonl_round_trips():
    results = [result_with_hits(), empty_result("2", "Line\u2028sep?", error="boom")]
    text = run("jsonl", results)
    lines = text.splitlines()  # \u2028 is escaped, so this splits only on real line ends
    assert len(lines) == 2
    assert [json.loads(line) for line in lines] == results
    assert "Título" in text  # ensure_ascii=False
    assert list(json.loads(lines[0])) == list(results[0])


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("tsv", "\t")])
def test_table_formats(fmt, delimiter):
    text = run(fmt, [result_with_hits(), empty_result("2", "No hits?")])
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert rows[0] == HEADER
    assert len(rows) == 1 + 4 + 1
    assert rows[1] == ["q 1", "What, exactly?", "An answer [1].", "1", "9.123457", "docA", "docA#2",
                       "[docA]", "first,\ttab\nnewline"]
    assert rows[2][4] == "7.0"
    assert rows[-1] == ["2", "No hits?"] + [""] * 7


def test_table_header_written_even_without_results():
    assert run("csv", []) == ",".join(HEADER) + "\n"


def test_trec_aggregates_passages_into_documents():
    text = run("trec", [result_with_hits(), empty_result("2", "No hits?")], run_tag="my run")
    lines = [line.split(" ") for line in text.splitlines()]
    assert all(len(fields) == 6 for fields in lines)
    assert [f[2] for f in lines] == ["docA", "docAA", "docB"]  # docA once, at its best score; tie by doc_id
    assert [f[3] for f in lines] == ["1", "2", "3"]
    assert float(lines[0][4]) == 9.123456789
    assert {f[0] for f in lines} == {"q_1"}  # whitespace in ids replaced; no lines for the no-hit question
    assert {(f[1], f[5]) for f in lines} == {("Q0", "my_run")}
