"""The extractive answer's composition (qa.search.answer.compose): which sentence leads, which follow."""
from __future__ import annotations

import pytest

from qa.search import answer


def candidate(text, rank, score, covers=(), doc=0, coverage=None, **kw):
    covers = frozenset(covers)
    return answer.Candidate(text, rank, score, len(covers) / 2 if coverage is None else coverage, doc, covers, **kw)


BEST = candidate("Rituximab improved muscle strength in most patients with refractory myositis.", 1, 2.0, {"rituximab"})
REPEAT = candidate("Rituximab improved muscle strength in patients with refractory myositis.", 2, 1.9, {"rituximab"})
OVERLAP = candidate("Rituximab improved strength in refractory myositis and creatine kinase fell.", 3, 1.8,
                    {"rituximab", "kinase"})
NEW = candidate("Intravenous immunoglobulin helped those who did not respond to methotrexate.", 4, 1.7, {"immunoglobulin"})
FILLER = candidate("Better understanding of the disease will make better recommendations possible.", 5, 1.9)
OTHER_DOC = candidate("Tacrolimus was given to patients with interstitial lung disease.", 6, 1.8, {"tacrolimus"}, doc=1)


def sentences(result, *candidates) -> list[str]:
    return [c.text for c in candidates if c.text in result["text"]]


def test_the_best_sentence_leads_and_near_duplicates_and_filler_stay_out():
    result, covered = answer.compose([FILLER, NEW, OVERLAP, REPEAT, BEST])
    assert result["text"].startswith(BEST.text)
    picked = sentences(result, FILLER, REPEAT, NEW, OVERLAP)
    assert REPEAT.text not in picked, "a near-duplicate is never added"
    assert FILLER.text not in picked, "a sentence that covers no key term does not follow"
    assert covered >= {"rituximab", "immunoglobulin"}


def test_a_sentence_follows_only_when_it_says_a_part_of_the_question_not_yet_said():
    only_repeats, _ = answer.compose([BEST, candidate("Rituximab was given monthly.", 2, 1.9, {"rituximab"})])
    assert only_repeats["citations"] == [1]
    more, _ = answer.compose([BEST, NEW])
    assert more["citations"] == [1, 4]


def test_mmr_prefers_the_new_sentence_to_the_overlapping_one():
    by_score, _ = answer.compose([BEST, OVERLAP, NEW], mmr_lambda=1.0)
    assert by_score["text"].index(OVERLAP.text) < by_score["text"].index(NEW.text)
    novel, _ = answer.compose([BEST, OVERLAP, NEW])
    assert novel["text"].index(NEW.text) < novel["text"].index(OVERLAP.text)
    assert novel["citations"] == [1, 3, 4]  # every sentence keeps its citation


def test_one_answer_keeps_to_its_document_unless_the_question_lists_or_compares():
    single, _ = answer.compose([BEST, OTHER_DOC])
    assert OTHER_DOC.text not in single["text"]
    listed, _ = answer.compose([BEST, OTHER_DOC], listing=True)
    assert listed["text"].startswith(BEST.text) and OTHER_DOC.text in listed["text"]


def test_an_unresolved_lead_is_followed_by_the_sentence_after_it():
    resolution = candidate("IVIG, tacrolimus and rituximab are the options for nonresponding patients.", 1, 0.4)
    open_ended = candidate("For patients who fail prednisone it is not clear what is the next best choice.", 1, 2.0,
                           {"prednisone"}, follower=resolution)
    result, _ = answer.compose([open_ended, FILLER])
    assert result["text"] == f"{open_ended.text} [1] {resolution.text} [1]"


def test_a_question_for_several_things_is_answered_by_a_list():
    definition = candidate("Polymyositis is an inflammatory disease of muscle.", 1, 2.0, {"polymyositis"})
    drugs = candidate("Methylprednisolone, immunoglobulin, cyclosporine, tacrolimus and rituximab help.", 2, 1.0,
                      names_several=True)
    result, _ = answer.compose([definition, drugs])
    assert result["text"].startswith(drugs.text)


def test_the_last_window_of_each_section_is_the_one_that_closes_it(tmp_path):
    from conftest import BEIR
    from qa.index.open_index import open_index
    from qa.search.engine import Engine
    from qa.index.layout import Settings

    index, _ = open_index([str(BEIR)], Settings(), index_dir=str(tmp_path / "index"))
    engine = Engine(index)
    columns = index.passages
    closing = [p for p in range(index.n_passages) if engine.closes_section(p)]
    body = [p for p in range(index.n_passages) if index.kind(p) == "body"]
    sections = {(int(columns.doc[p]), int(columns.section[p])) for p in body}
    assert len(closing) == len(sections), "one closing window per section of each document"
    for p in closing:  # nothing of its section follows it
        q = p + 1
        assert q == index.n_passages or (int(columns.doc[q]), int(columns.section[q])) != \
            (int(columns.doc[p]), int(columns.section[p])) or index.kind(q) != "body"
    assert not any(engine.closes_section(p) for p in range(index.n_passages) if index.kind(p) != "body")


def test_a_lead_in_a_conclusion_brings_the_rest_of_the_conclusion():
    second = candidate("These findings support routine screening.", 2, 0.2, concludes=True)
    lead = candidate("Screening found cancer in one patient in ten.", 2, 2.0, {"screening"}, concludes=True,
                     follower=second)
    result, _ = answer.compose([lead, FILLER])
    assert result["text"] == f"{lead.text} [2] {second.text} [2]"
    elsewhere = candidate("Screening found cancer in one patient in ten.", 2, 2.0, {"screening"}, follower=second)
    assert answer.compose([elsewhere, FILLER])[0]["text"] == f"{elsewhere.text} [2]", "only a conclusion"


def test_a_sentence_setting_the_study_up_never_follows():
    background = candidate("Intravenous immunoglobulin is often tried in refractory myositis.", 2, 1.9,
                           {"immunoglobulin"}, sets_up=True)
    result, _ = answer.compose([BEST, background])
    assert background.text not in result["text"]
    assert answer.compose([BEST, NEW])[0]["citations"] == [1, 4]  # the same sentence from the results follows


@pytest.mark.parametrize("question, asks", [
    ("who wrote the review", True), ("when was it published?", True), ("What kind of article is this?", True),
    ("Which journal published it?", True), ("Is year of radical prostatectomy a predictor of outcome?", False),
    ("Which type of diabetes responds to metformin?", False), ("what kind of treatment helps?", False)])
def test_a_field_word_asks_for_a_field_only_when_it_is_about_the_record(question, asks):
    from qa.text.analyze import words

    assert answer.asks_for_field(words(question)) is asks
