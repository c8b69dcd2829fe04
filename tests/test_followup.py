"""Follow-up questions: when a question leans on the previous one, and how the two are combined."""
from __future__ import annotations

import pytest

from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.search.followup import FOLLOW_UP_CUES, MIN_OWN_TERMS, context_words, effective_query, is_follow_up, opens_with_cue
from qa.readers.corpus import bundled_corpus, corpus_files, read_documents
from qa.cli.chat import known_terms

PREVIOUS = "Which treatment helps refractory polymyositis?"


@pytest.fixture(scope="module")
def known():
    """Content terms of the seed record's index (built in memory: nothing is written)."""
    docs = read_documents(corpus_files([str(bundled_corpus())]))
    built = build(docs, Settings())
    index = Index.from_data(built.data, {"stats": built.stats, "settings": Settings().__dict__})
    return known_terms(index)


@pytest.fixture(autouse=True)
def _home(qa_home):
    return qa_home


def test_seed_vocabulary_is_what_known_says(known):
    assert known("rituximab") and known("tacrolimus") and known("polymyos")
    assert not known("france") and not known("")


def test_what_about_takes_the_previous_content_words(known):
    assert (effective_query("what about tacrolimus?", PREVIOUS, known)
            == "what about tacrolimus? (treatment refractory polymyositis)")


def test_the_example_of_the_issue(known):
    assert (effective_query("what about tacrolimus?", "refractory polymyositis treatment", known)
            == "what about tacrolimus? (refractory polymyositis treatment)")


@pytest.mark.parametrize("question", ["and the dose?", "And the dose?", "is it better?", "Does it work?",
                                      "are they safe?", "It works?", "they help?", "also azathioprine?",
                                      "how about methotrexate and prednisone?", "what of rituximab?"])
def test_cues_and_short_questions_lean_on_the_previous_one(question, known):
    query = effective_query(question, PREVIOUS, known)
    assert query.startswith(question + " (")
    assert "polymyositis" in query


def test_a_cue_is_followed_even_with_enough_terms_of_its_own(known):
    question = "and what about rituximab for nonresponding patients with polymyositis?"
    assert len({t for t in ["rituximab", "nonrespond", "patient", "polymyos"] if known(t)}) >= MIN_OWN_TERMS
    assert effective_query(question, PREVIOUS, known) == question + " (treatment refractory)"


def test_question_with_enough_content_stands_alone(known):
    question = "Is rituximab used for nonresponding patients?"
    assert not is_follow_up(question, known)
    assert effective_query(question, PREVIOUS, known) == question


def test_one_known_term_is_too_little(known):
    assert is_follow_up("tacrolimus?", known)
    assert effective_query("tacrolimus?", PREVIOUS, known) == "tacrolimus? (treatment refractory polymyositis)"


def test_unknown_words_do_not_count_as_content(known):
    # two content words, neither in the corpus: the question leans on the context
    assert is_follow_up("zebra giraffe", known)


def test_no_previous_query_means_no_change(known):
    assert effective_query("what about tacrolimus?", None, known) == "what about tacrolimus?"
    assert effective_query("  and the dose?  ", "", known) == "and the dose?"


def test_words_the_question_has_are_not_repeated(known):
    query = effective_query("what about polymyositis treatments?", PREVIOUS, known)
    assert query == "what about polymyositis treatments? (refractory)"


def test_context_words_are_in_order_and_once(known):
    previous = "Polymyositis: rituximab or tacrolimus for polymyositis? Rituximab!"
    assert context_words(previous, known) == ["polymyositis", "rituximab", "tacrolimus"]


def test_stop_words_and_unknown_words_are_not_context(known):
    assert context_words("What is the best therapy for a zebra in France?", known) == ["best", "therapy"]


def test_nothing_to_add_leaves_the_question(known):
    assert effective_query("and polymyositis?", "polymyositis", known) == "and polymyositis?"


def test_follow_ups_chain(known):
    first = effective_query("what about tacrolimus?", PREVIOUS, known)
    second = effective_query("and the dose?", first, known)
    assert second == "and the dose? (tacrolimus treatment refractory polymyositis)"


def test_cues_match_whole_words_only():
    assert opens_with_cue("It helps?") and opens_with_cue("what about it")
    assert not opens_with_cue("Its dose?") and not opens_with_cue("Italy and rituximab")
    assert not opens_with_cue("Andersen disease") and not opens_with_cue("what rituximab")


def test_the_cue_list_is_data():
    assert "what about" in FOLLOW_UP_CUES and "and" in FOLLOW_UP_CUES
    assert all(c == c.lower().strip() for c in FOLLOW_UP_CUES)


def test_a_small_known_set_works_too():
    vocabulary = {"rituximab", "dermatomyos", "dose"}
    known = vocabulary.__contains__
    assert effective_query("and the dose?", "rituximab in dermatomyositis", known) == \
        "and the dose? (rituximab dermatomyositis)"
    assert effective_query("rituximab dose", "dermatomyositis", known) == "rituximab dose"
