"""Sentence splitting of abstracts and citations: answers and highlights are whole sentences."""
from __future__ import annotations

import pytest

from qa.readers.pubmed_page import read_pubmed_page
from qa.text.sentences import split_sentences

from conftest import BEIR, SEED, beir_records


def beir_section(doc_id: str, label: str) -> str:
    text = next(r["text"] for r in beir_records(BEIR) if r["_id"] == doc_id)
    para = next(p for p in text.split("\n\n") if p.startswith(label + ": "))
    return para[len(label) + 2:]


# ---------------------------------------------------------------- periods that end nothing


@pytest.mark.parametrize("text", [
    "Adjuncts, e.g. Methotrexate or azathioprine, are added to prednisone.",
    "Methylprednisolone was given i.v. (1 g daily) for three days.",
    "Dalakas et al. (1993) treated patients with intravenous gammaglobulin.",
    "As reported by Dalakas et al. IVIG was effective in dermatomyositis.",
    "Prednisone vs. Methotrexate was compared in a small trial.",
    "The response is shown in Fig. 2 and in Table 1.",
    "Outcomes are summarised in Figs. 3 and 4 of the review.",
    "The mean time was 25.9 +/- 10.9 seconds (p<0.001) in flight.",
    "Ytterberg SR. Treatment of refractory polymyositis and dermatomyositis.",
    "Reference 5 of Ytterberg SR. Curr Rheumatol Rep. 2006: Lancet. 2003 Sep 20;362(9388):971-82",
])
def test_abbreviations_initials_and_decimals_do_not_end_a_sentence(text):
    assert split_sentences(text) == [text]


def test_vs_before_a_number_in_an_abstract():
    # PubMedQA 11035130, RESULTS: "(45 vs. 7%, P = 0.001)" stays inside its sentence
    results = beir_section("11035130", "RESULTS")
    sentences = split_sentences(results)
    assert any("(45 vs. 7%, P = 0.001)" in s for s in sentences)
    assert all(not s.endswith("vs.") for s in sentences)


def test_citation_journal_abbreviation_and_author_initials():
    citation = ("Ytterberg SR. Treatment of refractory polymyositis and dermatomyositis. "
                "Curr Rheumatol Rep. 2006 Jun;8(3):167-73.")
    sentences = split_sentences(citation)
    assert "Ytterberg SR." not in sentences
    assert sentences[0].startswith("Ytterberg SR. Treatment")
    assert "Curr Rheumatol Rep. 2006 Jun;8(3):167-73." in sentences
    assert not any(s.endswith("Rep.") for s in sentences)
    assert " ".join(sentences) == citation  # nothing lost


# ---------------------------------------------------------------- real boundaries


def test_seed_abstract_splits_into_its_seven_sentences():
    abstract = read_pubmed_page(SEED)[0].sections[0].text
    sentences = split_sentences(abstract)
    assert len(sentences) == 7
    assert sentences[0] == ("Polymyositis (PM) and dermatomyositis (DM) are autoimmune inflammatory "
                            "diseases that primarily target muscle.")
    assert sentences[1] == "Although similar, PM and DM have different pathophysiologic mechanisms."
    assert sentences[-1].startswith("Better understanding of the underlying pathophysiology")
    assert all(s.endswith(".") for s in sentences)
    assert " ".join(sentences) == " ".join(abstract.split())


def test_sentence_ending_in_a_bracket_after_decimals():
    # PubMedQA 10135926, RESULTS: three sentences, the first ends "p<.001)."
    results = beir_section("10135926", "RESULTS")
    sentences = split_sentences(results)
    assert len(sentences) == 3
    assert sentences[0].endswith("(ANOVA, F = 38.7, p<.001).")
    assert sentences[1].startswith("All intubations performed in the control setting")
    assert sentences[2].endswith("(chi 2 = 0.3; p>0.05).")


@pytest.mark.parametrize("text,expected", [
    ("PM targets muscle. DM also affects skin.", ["PM targets muscle.", "DM also affects skin."]),
    ("Is rituximab effective? Few controlled studies exist.",
     ["Is rituximab effective?", "Few controlled studies exist."]),
    ("It worked! Trials followed.", ["It worked!", "Trials followed."]),
    ('He said "stop." Then it ended.', ['He said "stop."', "Then it ended."]),
    ("Doses were lowered (see below.) Relapse followed.", ["Doses were lowered (see below.)", "Relapse followed."]),
    ("Seven volunteers took part. 5 had scans.", ["Seven volunteers took part.", "5 had scans."]),
])
def test_normal_boundaries(text, expected):
    assert split_sentences(text) == expected


def test_lower_case_after_a_period_is_no_new_sentence():
    assert split_sentences("The dose was 5 mg. daily for a week.") == ["The dose was 5 mg. daily for a week."]


def test_sentence_after_a_capitalised_word_with_a_letter_ends():
    assert split_sentences("Levels rose in patients. Treatment was stopped.") == [
        "Levels rose in patients.", "Treatment was stopped."]


@pytest.mark.parametrize("text,expected", [
    ("Nausea was more common in Group B. Treatment was stopped early.",
     ["Nausea was more common in Group B.", "Treatment was stopped early."]),
    ("Patients were given Vitamin D. Serum levels rose.",
     ["Patients were given Vitamin D.", "Serum levels rose."]),
])
def test_capitalised_word_and_capital_letter_at_sentence_end(text, expected):
    assert split_sentences(text) == expected


# ---------------------------------------------------------------- paragraphs and empty text


def test_blank_lines_always_split():
    text = "BACKGROUND without a final period\n\nMETHODS also without one"
    assert split_sentences(text) == ["BACKGROUND without a final period", "METHODS also without one"]


def test_blank_line_splits_even_after_an_abbreviation():
    assert split_sentences("Drugs were given i.v.\n\nOutcomes were recorded.") == [
        "Drugs were given i.v.", "Outcomes were recorded."]


def test_blank_line_with_spaces_and_crlf_split():
    assert split_sentences("First part\r\n  \r\nSecond part") == ["First part", "Second part"]


def test_list_lines_split():
    assert split_sentences("Options:\n- rituximab\n- tacrolimus") == ["Options:", "- rituximab", "- tacrolimus"]


def test_single_newline_inside_a_sentence_does_not_split():
    assert split_sentences("Polymyositis targets\nmuscle.") == ["Polymyositis targets\nmuscle."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", " \t\n \n"])
def test_empty_text_gives_no_sentences(text):
    assert split_sentences(text) == []


def test_sentences_are_trimmed_and_never_empty():
    sentences = split_sentences("  One here.   Two there.  \n\n  \n  Three.  ")
    assert sentences == ["One here.", "Two there.", "Three."]
