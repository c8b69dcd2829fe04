"""Follow-up questions: when a question leans on the topic before, and what the topic is."""
from __future__ import annotations

import pytest

from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.search.coverage import frames
from qa.search.followup import (FOLLOW_UP_CUES, PRONOUNS, context_words, effective_query, is_follow_up, next_topic,
                                opens_with_cue, points_back, topic_words)
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


@pytest.fixture
def topic(known):
    return next_topic(PREVIOUS, None, known)


@pytest.fixture(autouse=True)
def _home(qa_home):
    return qa_home


def test_seed_vocabulary_is_what_known_says(known):
    assert known("rituximab") and known("tacrolimus") and known("polymyos")
    assert not known("france") and not known("")


def test_the_topic_is_what_the_question_is_about_not_how_it_is_framed(known, topic):
    # "treatment" and "helps" frame the question (frequent English words); the disease names it
    assert frames("treatment") and frames("helps") and not frames("polymyositis")
    assert topic == "refractory polymyositis"


def test_what_about_takes_the_topic(known, topic):
    assert effective_query("what about tacrolimus?", topic, known) == "what about tacrolimus? (refractory polymyositis)"


@pytest.mark.parametrize("question", ["and the dose?", "And the dose?", "is it better?", "Does it work?",
                                      "are they safe?", "It works?", "they help?", "also azathioprine?",
                                      "how about methotrexate and prednisone?", "what of rituximab?",
                                      "who wrote it", "what are its side effects?", "is this common?"])
def test_a_cue_or_a_pronoun_leans_on_the_topic(question, known, topic):
    query = effective_query(question, topic, known)
    assert query == f"{question} (refractory polymyositis)"


@pytest.mark.parametrize("question", ["tacrolimus?", "what is the dose of mycophenolate?", "zebra giraffe",
                                      "which reference is from the Lancet?", "Is rituximab used for nonresponding "
                                      "patients?", "What is the capital of France?"])
def test_any_other_question_stands_alone_however_short(question, known, topic):
    assert not is_follow_up(question, known)
    assert effective_query(question, topic, known) == question


def test_an_it_that_opens_a_clause_does_not_point_back_when_the_question_says_its_topic(known, topic):
    question = "Is it safe to give rituximab to patients with polymyositis?"
    assert not points_back(question) and not is_follow_up(question, known)
    # too little of its own: "it" is then what was asked about before
    assert is_follow_up("is it safe to use?", known)


def test_a_cue_is_followed_even_with_enough_terms_of_its_own(known, topic):
    question = "and what about rituximab for nonresponding patients with polymyositis?"
    assert effective_query(question, topic, known) == question + " (refractory)"


def test_no_topic_means_no_change(known):
    assert effective_query("what about tacrolimus?", None, known) == "what about tacrolimus?"
    assert effective_query("  and the dose?  ", "", known) == "and the dose?"


def test_context_words_are_in_order_and_once(known):
    previous = "Polymyositis: rituximab or tacrolimus for polymyositis? Rituximab!"
    assert context_words(previous, known) == ["polymyositis", "rituximab", "tacrolimus"]
    assert topic_words("What is the best therapy for a zebra in France?", known) == []


def test_nothing_to_add_leaves_the_question(known):
    assert effective_query("and polymyositis?", "polymyositis", known) == "and polymyositis?"


def test_one_turn_of_context_never_a_pile(known, topic):
    # a follow-up that names a topic of its own becomes the topic; one that does not keeps it
    second = next_topic("what about tacrolimus?", topic, known)
    assert second == "tacrolimus"
    assert effective_query("and the dose?", second, known) == "and the dose? (tacrolimus)"
    third = next_topic("and the dose?", second, known)
    assert third == "tacrolimus"
    assert next_topic("what about rituximab?", third, known) == "rituximab"


def test_cues_and_pronouns_match_whole_words_only():
    assert opens_with_cue("And then?") and opens_with_cue("what about it")
    assert not opens_with_cue("Andersen disease") and not opens_with_cue("what rituximab")
    assert points_back("It helps?") and points_back("Its dose?") and points_back("who wrote it")
    assert not points_back("Italy and rituximab") and not points_back("the thesis of Thistle")


def test_the_cue_lists_are_data():
    assert "what about" in FOLLOW_UP_CUES and "and" in FOLLOW_UP_CUES and "it" in PRONOUNS
    assert all(c == c.lower().strip() for c in FOLLOW_UP_CUES)


def test_a_small_known_set_works_too():
    known = {"rituximab", "dermatomyos", "dose"}.__contains__
    topic = next_topic("rituximab in dermatomyositis", None, known)
    assert effective_query("and the dose?", topic, known) == "and the dose? (rituximab dermatomyositis)"
    assert effective_query("rituximab dose", topic, known) == "rituximab dose"
