"""Clinicians' words (qa/text/vocabulary.py): brand names, shorthand and lay words find what papers write."""
from __future__ import annotations

import pytest

from qa.text import vocabulary
from qa.text.analyze import analyze

CORPUS = set(analyze("mycophenolate mofetil methotrexate prednisone children myocardial infarction cardiac "
                     "tacrolimus adverse effects"))


def corpus_has(terms) -> bool:
    return all(t in CORPUS for t in terms)


def said(question: str, present=frozenset()) -> dict[str, str]:
    return {v["term"]: v["expansion"] for v in vocabulary.variants(question, corpus_has, set(present))}


def test_a_brand_name_and_shorthand_find_the_generic_name():
    assert said("Can I switch her to CellCept?") == {"CellCept": "mycophenolate"}
    assert said("MTX and Prograf together?") == {"MTX": "methotrexate", "Prograf": "tacrolimus"}


def test_a_term_with_capitals_matches_only_as_written_a_lower_case_one_in_any_case():
    assert said("is mtx safe?") == {}  # "MTX" is written in capitals in the table
    assert said("Kids on steroids") == {"Kids": "children", "steroids": "prednisone"}


def test_of_alternatives_only_those_the_corpus_has_are_added():
    # "pred" is prednisone or prednisolone; this corpus has only prednisone
    assert said("pred taper") == {"pred": "prednisone"}


def test_nothing_is_added_that_the_corpus_lacks_or_the_question_has():
    assert said("Is Humira better?") == {}  # adalimumab: not in this corpus
    assert said("CellCept", present=set(analyze("mycophenolate"))) == {}


def test_the_longest_run_wins_over_its_words():
    assert said("after a heart attack") == {"heart attack": "myocardial infarction"}
    assert said("a weak heart") == {"heart": "cardiac"}


def test_a_drug_name_that_is_an_everyday_word_is_never_matched():
    from qa.text.spelling import common_words

    names = dict(vocabulary._rows("drug-names.tsv"))
    everyday = [n for n in names if n in common_words()]
    assert everyday, "the case: the drug dictionary has everyday words among its names"
    assert all(vocabulary.meaning(n) is None or n in dict(vocabulary._rows("clinical-terms.tsv"))
               for n in everyday)


def test_the_tables_are_well_formed():
    for name in ("drug-names.tsv", "clinical-terms.tsv"):
        rows = list(vocabulary._rows(name))
        terms = [t for t, _ in rows]
        assert len(terms) == len(set(terms)), f"{name}: a term twice"
        assert all(m and t.lower() != m.lower() for t, m in rows), f"{name}: a term that means itself"
    assert len(list(vocabulary._rows("drug-names.tsv"))) > 10000


# ---------------------------------------------------------------- through the engine, on the bundled record

def test_a_brand_name_question_is_answered_from_what_the_record_says(cli):
    result = cli("ask", "Can I switch a non-responding PM patient to CellCept?", "--json").json()
    assert {"term": "CellCept", "expansion": "mycophenolate"} in result["expansions"]
    assert result["corrections"] == [], "a brand name is no misspelling"
    assert "mycophenolate" in result["query"]
    assert "mycophenolate mofetil" in result["answer"]["text"]


@pytest.mark.parametrize("question, term, generic", [
    ("Is Imuran used alongside steroids in myositis?", "Imuran", "azathioprine"),
    ("Do we add MTX to pred in dermatomyositis?", "MTX", "methotrexate")])
def test_shorthand_and_brand_names_reach_the_sentence_naming_the_drug(cli, question, term, generic):
    result = cli("ask", question, "--json").json()
    assert {"term": term, "expansion": generic} in result["expansions"]
    assert generic in result["answer"]["text"] and result["missing_terms"] == []


@pytest.mark.parametrize("question, said", [
    ("Is IVIG effective?", "intravenous gammaglobulin"),
    ("is MMF an option?", "mycophenolate mofetil"),
    ("glucocorticoids", "high dose prednisone"),  # a class: the member the record names
    ("steroid-resistant myositis", "unresponsive to standard therapy with high dose prednisone")])
def test_a_new_user_s_words_reach_the_passage_that_says_it_in_the_record_s(cli, question, said):
    # the record writes none of these words; lexically, so it holds without the model too
    result = cli("ask", question, "--no-semantic", "--json").json()
    assert any(said in hit["text"] for hit in result["hits"][:3]), [h["text"][:60] for h in result["hits"]]
    assert said in result["answer"]["text"]


def test_the_tables_kept_in_the_cache_are_the_tables_read_from_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    expected = vocabulary._read_tables()
    for _ in range(2):  # made, then read back from the cache
        vocabulary.tables.cache_clear()
        assert vocabulary.tables() == expected
    assert len(list(tmp_path.rglob("vocabulary-*.marshal"))) == 1
    vocabulary.tables.cache_clear()
