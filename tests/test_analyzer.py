"""The one analyzer both ranking stages share: what a word in a question must match in a passage."""
from __future__ import annotations

import pytest

from qa.text.analyze import STOP_WORDS, analyze, with_bigrams
from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.readers.pubmed_page import read_pubmed_page
from qa.search.rank import rank

from conftest import SEED, SEED_DOI


# ---------------------------------------------------------------- biomedical tokens stay whole


@pytest.mark.parametrize("text,token", [
    ("Serum IL-6 was raised.", "il-6"),
    ("B cells express CD20.", "cd20"),
    ("Patients with anti-Jo-1 antibodies.", "anti-jo-1"),
    ("The 5-HT2 occupancy exceeded D2 occupancy.", "5-ht2"),
    (f"doi: {SEED_DOI}.", SEED_DOI),  # the sentence's final period is not part of the DOI
    (f"(doi:{SEED_DOI})", SEED_DOI),  # nor is a closing bracket
    ("The mean time was 25.9 seconds.", "25.9"),
    ("p>0.05.", "0.05"),
])
def test_biomedical_tokens_are_kept_whole(text, token):
    assert token in analyze(text)


def test_a_decimal_is_one_term_not_two_numbers():
    terms = analyze("25.9 +/- 10.9 seconds")
    assert "25.9" in terms and "10.9" in terms
    assert "25" not in terms and "9" not in terms and "10" not in terms


def test_a_doi_is_not_split_into_pieces():
    terms = analyze(f"DOI: {SEED_DOI}")
    assert terms.count(SEED_DOI) == 1
    # no fragment of the DOI becomes a term of its own
    assert not any(t != SEED_DOI and t in SEED_DOI and t != "doi" for t in terms)


# ---------------------------------------------------------------- normalisation


def test_case_is_folded():
    assert analyze("POLYMYOSITIS and Dermatomyositis") == analyze("polymyositis and dermatomyositis")
    assert analyze("IL-6") == analyze("il-6")


def test_full_width_letters_and_digits_are_normalised():
    # what a CJK input method types
    assert analyze("ＩＬ－６ and ＣＤ２０") == ["il-6", "cd20"]
    assert analyze("Ｒｉｔｕｘｉｍａｂ") == analyze("rituximab")


def test_ligatures_are_normalised():
    # "ﬁ" (U+FB01) as PDFs often give it
    assert analyze("ﬁbromyalgia") == analyze("fibromyalgia")
    assert analyze("eﬀective") == analyze("effective")


def test_curly_and_straight_apostrophes_agree_and_the_possessive_goes():
    assert analyze("Sjögren’s syndrome") == analyze("Sjögren's syndrome") == analyze("Sjögren syndrome")


# ---------------------------------------------------------------- stop words and stemming


def test_stop_words_are_removed():
    assert analyze("What is the, and of it?") == []
    assert analyze("What are the treatments for the disease?") == analyze("treatments disease")
    for word in ("the", "and", "what", "which", "is", "of"):
        assert word in STOP_WORDS
        assert analyze(word.upper()) == []  # after case folding too


def test_content_words_are_not_stop_words():
    for word in ("muscle", "therapy", "patients", "rituximab", "trial"):
        assert analyze(word) != []


@pytest.mark.parametrize("a,b", [
    ("treatments", "treatment"),
    ("patients", "patient"),
    ("trials", "trial"),
    ("responding", "responds"),
    ("recommendations", "recommendation"),
])
def test_inflections_share_a_stem(a, b):
    assert analyze(a) == analyze(b)
    assert len(analyze(a)) == 1


@pytest.mark.parametrize("noun, adjective", [
    ("side effects", "effective"), ("effect", "effectiveness"),
    ("used", "useful"), ("use", "usefulness"), ("harm", "harmful"), ("care", "carefully"),
])
def test_an_adjective_of_another_meaning_does_not_meet_its_noun(noun, adjective):
    assert not set(analyze(noun)) & set(analyze(adjective))


@pytest.mark.parametrize("family", [("effective", "effectively", "effectiveness"), ("useful", "usefulness"),
                                    ("harmful", "harmfully")])
def test_an_adjective_still_meets_its_own_family(family):
    assert len({tuple(analyze(w)) for w in family}) == 1


def test_different_words_keep_different_terms():
    assert analyze("polymyositis") != analyze("dermatomyositis")
    assert analyze("cyclosporine") != analyze("methotrexate")


def test_duplicates_are_kept_in_order():
    terms = analyze("muscle weakness muscle")
    assert terms[0] == terms[2] == analyze("muscle")[0]
    assert len(terms) == 3


# ---------------------------------------------------------------- hyphenated compounds


def test_hyphenated_compound_yields_whole_and_parts():
    terms = analyze("methotrexate-treated patients")
    assert "methotrexate-treated" in terms
    assert analyze("methotrexate")[0] in terms
    assert analyze("treated")[0] in terms


def test_hyphen_parts_skip_short_pieces_and_stop_words():
    terms = analyze("anti-Jo-1")
    assert "anti-jo-1" in terms and "anti" in terms
    assert "jo" not in terms and "1" not in terms
    assert "and" not in analyze("and-or")


def test_hyphenated_word_matches_its_part_in_a_question():
    # "in-flight" in the text, "flight" in the question
    assert set(analyze("flight")) <= set(analyze("during in-flight intubation"))


# ---------------------------------------------------------------- bigram features


def test_with_bigrams_adds_adjacent_pairs_after_unigrams():
    terms = analyze("intravenous gammaglobulin therapy")
    feats = with_bigrams(terms)
    assert feats[: len(terms)] == terms
    assert feats[len(terms):] == [f"{a} {b}" for a, b in zip(terms, terms[1:])]
    assert with_bigrams([]) == []


# ---------------------------------------------------------------- questions and passages alike


@pytest.fixture(scope="module")
def seed_index():
    docs = read_pubmed_page(SEED)
    built = build(docs, Settings())
    manifest = {"settings": Settings().__dict__, "stats": built.stats}
    return Index.from_data(built.data, manifest)


@pytest.mark.parametrize("question", [
    "Is there reason to be optimistic for use of tacrolimus in nonresponding patients?",
    "Which outcome measures apply to future therapeutic trials?",
    "doi: 10.1007/s11926-996-0021-7",
])
def test_every_question_term_of_seed_words_is_an_index_term(seed_index, question):
    # a question worded like the abstract finds its words in the index vocabulary
    for term in analyze(question):
        assert seed_index.terms.names.find(term) >= 0, term


@pytest.mark.parametrize("plain,variant", [
    ("tacrolimus treatment", "TACROLIMUS TREATMENTS"),
    ("intravenous gammaglobulin", "Ｉｎｔｒａｖｅｎｏｕｓ gammaglobulins"),
    ("mycophenolate mofetil for nonresponding patients", "Mycophenolate Mofetil for NONRESPONDING patient?"),
])
def test_surface_variants_of_a_question_rank_alike(seed_index, plain, variant):
    a, b = rank(seed_index, plain), rank(seed_index, variant)
    assert len(a.passages) > 0
    assert a.passages.tolist() == b.passages.tolist()
    assert a.final.tolist() == b.final.tolist()
