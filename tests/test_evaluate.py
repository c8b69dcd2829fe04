"""qa.evaluate on small hand-made inputs (no shared data)."""
import json
import math
import re

import pytest

from qa.errors import InputError
from qa.search.evaluate import (answer_from_conclusion, answer_tokens, first_answer_sentence, mean, read_jsonl,
                         read_qrels, read_queries, relevant, strip_answer_markup, token_f1)

GOLD = "Oral intubation in flight takes twice as long as on the ground. Pre-flight intubation is advised."


# ---------------------------------------------------------------- reading

def test_read_qrels_beir_header(tmp_path):
    p = tmp_path / "qrels.tsv"
    p.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\nq2\td3\t2\n", "utf-8")
    assert read_qrels(p) == {"q1": {"d1": 1, "d2": 0}, "q2": {"d3": 2}}


def test_read_qrels_without_header(tmp_path):
    p = tmp_path / "qrels.tsv"
    p.write_text("q1\td1\t1\n\nq2\td3\t1\n", "utf-8")
    assert read_qrels(p) == {"q1": {"d1": 1}, "q2": {"d3": 1}}


def test_read_qrels_trec_four_columns(tmp_path):
    p = tmp_path / "qrels.txt"
    p.write_text("q1 0 d1 1\nq1 0 d2 0\n", "utf-8")
    assert read_qrels(p) == {"q1": {"d1": 1, "d2": 0}}


def test_read_qrels_bad_grade_after_first_line(tmp_path):
    p = tmp_path / "qrels.tsv"
    p.write_text("q1\td1\t1\nq1\td2\tyes\n", "utf-8")
    with pytest.raises(InputError, match=f"^{re.escape(str(p))}:2: relevance grade 'yes' is not a number$"):
        read_qrels(p)


def test_relevant_keeps_positive_grades():
    assert relevant({"d1": 1, "d2": 0, "d3": 2}) == {"d1", "d3"}


def test_read_queries(tmp_path):
    p = tmp_path / "queries.jsonl"
    p.write_text(json.dumps({"_id": "q1", "text": "Does X cause Y?"}) + "\n\n"
                 + json.dumps({"_id": 7, "text": "Is Z safe?", "metadata": {}}) + "\n", "utf-8")
    assert read_queries(p) == [("q1", "Does X cause Y?"), ("7", "Is Z safe?")]


def test_read_jsonl_keeps_unicode_line_separators(tmp_path):
    p = tmp_path / "corpus.jsonl"
    p.write_text(json.dumps({"_id": "d1", "text": "a\u2028b"}, ensure_ascii=False) + "\n", "utf-8")
    assert read_jsonl(p) == [{"_id": "d1", "text": "a\u2028b"}]


# ---------------------------------------------------------------- retrieval metrics

def test_mean():
    assert mean([1.0, 0.0, 0.5]) == 0.5
    assert mean(x for x in [2, 4]) == 3
    assert mean([]) == 0.0


# ---------------------------------------------------------------- answers

def test_answer_tokens():
    assert answer_tokens("IL-6 levels, in 25.9% of CASES") == ["il", "6", "levels", "in", "25", "9", "of", "cases"]
    assert answer_tokens(None) == []


@pytest.mark.parametrize("sentence, expected", [
    ("CONCLUSIONS: Surgery helps. [2]", "Surgery helps."),
    ("Results: Surgery helps.", "Surgery helps."),
    ("MATERIALS AND METHODS: We enrolled 30.", "We enrolled 30."),
    ("Main outcome measures: mortality [1]", "mortality"),
    ("Surgery helps [1] in most [12] cases.", "Surgery helps in most cases."),
    ("The ratio was 2:1 in men.", "The ratio was 2:1 in men."),
    ("In the five largest studies we reviewed: no effect.", "In the five largest studies we reviewed: no effect."),
])
def test_strip_answer_markup(sentence, expected):
    assert strip_answer_markup(sentence) == expected


def test_first_answer_sentence_splits_at_markers():
    text = "Intubation takes twice as long in flight. [1] Pre-flight intubation is advised. [2]"
    assert first_answer_sentence(text) == "Intubation takes twice as long in flight."
    # two sentences from the same hit: the marker follows the first sentence
    assert first_answer_sentence("A was larger (p<0.05). [3] B was not. [3]") == "A was larger (p<0.05)."


def test_first_answer_sentence_without_markers():
    assert first_answer_sentence("First one here. Second one.") == "First one here."
    assert first_answer_sentence("") == ""
    assert first_answer_sentence(None) == ""


def test_answer_from_conclusion_true_with_marker_and_label():
    answer = "CONCLUSIONS: Oral intubation in flight takes twice as long as on the ground. [1] Other text. [2]"
    assert answer_from_conclusion(answer, GOLD)


def test_answer_from_conclusion_only_first_sentence_counts():
    # the second sentence is from the conclusion, the first is not
    answer = "Nurses performed three manikin intubations in each setting. [1] Pre-flight intubation is advised. [1]"
    assert not answer_from_conclusion(answer, GOLD)


def test_answer_from_conclusion_threshold():
    # 9 of 10 tokens in the gold: exactly 90% passes; 8 of 10 does not
    gold = "a b c d e f g h i"
    assert answer_from_conclusion("a b c d e f g h i zz. [1]", gold)
    assert not answer_from_conclusion("a b c d e f g h yy zz. [1]", gold)
    # repeats count: 9 of 10 tokens are "a" (in the gold) although only 1 of 2 distinct words is
    assert answer_from_conclusion("a a a a a a a a a zz [1]", "a b")
    assert not answer_from_conclusion("a zz zz zz [1]", "a b")


def test_answer_from_conclusion_label_is_not_counted_against():
    # unstripped, "results" (not in the gold) would make 8 of 9 tokens < 90%; stripped, 8 of 8
    gold = "oral intubation in flight takes twice as long"
    assert answer_from_conclusion("RESULTS: Oral intubation in flight takes twice as long. [1]", gold)


def test_answer_from_conclusion_empty():
    assert not answer_from_conclusion(None, GOLD)
    assert not answer_from_conclusion("", GOLD)
    assert not answer_from_conclusion("[1]", GOLD)


def test_token_f1():
    assert token_f1("the cat sat [1]", "the cat sat") == 1.0
    # pred: a b c d; gold: a b x -> same 2, p = 1/2, r = 2/3, f1 = 4/7
    assert math.isclose(token_f1("A b. [1] C d. [2]", "a b x"), 4 / 7)
    assert token_f1("zz [1]", "a b") == 0.0
    assert token_f1(None, "a b") == 0.0
    # repeats are clipped to the gold count
    assert math.isclose(token_f1("a a a", "a b"), 2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
