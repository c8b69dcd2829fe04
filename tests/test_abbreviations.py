"""Abbreviations (qa/text/abbreviations.py): Schwartz-Hearst pairs, their index tables, and their use at query time."""
from __future__ import annotations

import json

import pytest

from qa.text import abbreviations as ab
from qa.index import layout, store
from qa.index.build import build
from qa.index.reader import Index
from qa.search import rank as search
from qa.text.abbreviations import best_long_form, expand, find_pairs, is_short_form
from qa.search.engine import Engine
from qa.models import Document, Section
from qa.cli.render import query_note, render_result
from qa.cli.terminal import Style

from conftest import SEED


# ---------------------------------------------------------------- detection

@pytest.mark.parametrize("text, pairs", [
    ("Polymyositis (PM) and dermatomyositis (DM) are idiopathic inflammatory myopathies.",
     [("PM", "Polymyositis"), ("DM", "dermatomyositis")]),
    ("Patients received intravenous immunoglobulin (IVIG) every month.",
     [("IVIG", "intravenous immunoglobulin")]),
    ("Serum levels of tumor necrosis factor-alpha (TNF-α) were raised.",
     [("TNF-α", "tumor necrosis factor-alpha")]),
    ("Serum levels of tumour necrosis factor-α (TNF-α) were raised.",
     [("TNF-α", "tumour necrosis factor-α")]),
    ("C-reactive protein (CRP) was high.", [("CRP", "C-reactive protein")]),
    ("We measured interleukin-6 (IL-6) and methotrexate (MTX) levels.",
     [("IL-6", "interleukin-6"), ("MTX", "methotrexate")]),
    # the short form first, the long form in parentheses
    ("Is IVIG (intravenous immunoglobulin) effective?", [("IVIG", "intravenous immunoglobulin")]),
    # text after ", " or "; " inside the parentheses is not part of the short form
    ("body mass index (BMI; kg/m2) and magnetic resonance imaging (MRI, 3 T)",
     [("BMI", "body mass index"), ("MRI", "magnetic resonance imaging")]),
    # the long form is the shortest that covers the short form, inside its sentence
    ("Results were poor. Magnetic resonance imaging (MRI) helped.", [("MRI", "Magnetic resonance imaging")]),
    ("intravenous\n  immunoglobulin (IVIG)", [("IVIG", "intravenous immunoglobulin")]),
])
def test_find_pairs_classic_examples(text, pairs):
    assert find_pairs(text) == pairs


@pytest.mark.parametrize("text", [
    "The difference was significant (p < 0.05).",
    "Patients (n = 73) were enrolled.",
    "Patients in the first group (group A) received placebo.",
    "As shown before (see Fig. 2), the effect persists.",
    "As reported (2006), the effect persists.",
    "The mean time (25.9 +/- 10.9 seconds) was longer (ANOVA, F = 38.7, p<.001).",
    "Nothing in parentheses here.",
    "Unbalanced (parenthesis and (nested (IVIG",
    "",
])
def test_find_pairs_negatives(text):
    assert find_pairs(text) == []


def test_short_form_rules_of_the_paper():
    assert is_short_form("PM") and is_short_form("TNF-α") and is_short_form("IL 6")
    assert not is_short_form("X")  # one character
    assert not is_short_form("ABCDEFGHIJK")  # more than 10
    assert not is_short_form("a b c")  # more than two words
    assert not is_short_form("2006") and not is_short_form("-AB")  # no letter; not alphanumeric first
    # the first character of the short form must start a word of the long form
    assert best_long_form("PM", "amplified polymyositis") == "polymyositis"
    assert best_long_form("XY", "polymyositis") is None


def test_long_form_is_limited_in_words():
    # at most min(|SF| + 5, 2 |SF|) words: 4 for a two-letter short form
    assert find_pairs("the primary outcome of these very long manifestations (PM)") == []
    assert find_pairs("premature menopause (PM)") == [("PM", "premature menopause")]


# ---------------------------------------------------------------- index

def doc(doc_id: str, text: str, title: str | None = None) -> Document:
    return Document(doc_id=doc_id, title=title, sections=(Section(None, text),))


CORPUS = [
    doc("a1", "Intravenous immunoglobulin (IVIG) was given to 20 patients with refractory myositis. "
              "IVIG improved strength in most of them.", "Immunoglobulin for myositis"),
    doc("a2", "IVIG therapy was well tolerated in children with Kawasaki syndrome. "
              "Coronary aneurysms were rare after IVIG."),
    doc("a3", "High-dose intravenous immunoglobulin (IVIg) is costly."),
    doc("b1", "Rituximab improved muscle enzymes in dermatomyositis. "
              "Creatine kinase fell in all patients."),
    doc("c1", "Apnoea falls with continuous positive airway pressure (CPAP). "
              "Adherence to CPAP was low in smokers."),
    doc("c2", "Adherence to continuous positive airway pressure at home was studied in veterans."),
    doc("d1", "Magnetic resonance (MR) imaging of the knee. Mitral regurgitation (MR) after infarction. "
              "Magnetic resonance (MR) of the brain."),
]


@pytest.fixture(scope="module")
def small():
    built = build(CORPUS, layout.Settings())
    manifest = {"settings": layout.Settings().__dict__, "stats": built.stats}
    return Engine(Index.from_data(built.data, manifest)), built.data.abbreviations, built.stats


def test_index_stores_pairs_with_counts_in_sorted_tables(small):
    engine, tables, stats = small
    short, long = tables.short, tables.long
    for table in (short, long):
        assert table == sorted(table, key=lambda s: s.encode("utf-8"))
    # IVIG and IVIg, "Intravenous immunoglobulin" (opening a sentence) and "intravenous
    # immunoglobulin": one pair, defined twice, shown in lower case
    assert "ivig\tIVIG\tintravenous immunoglobulin\t2" in short
    assert "cpap\tCPAP\tcontinuous positive airway pressure\t1" in short
    assert "intraven immunoglobulin\tIVIG\tintravenous immunoglobulin\t2" in long
    # a long form only ever written at the start of a sentence keeps its capital
    assert "mr\tMR\tMagnetic resonance\t2" in short and "mr\tMR\tMitral regurgitation\t1" in short
    assert stats["abbreviations"] == len(short) == len(long) == 4
    # searchable by binary search, case-insensitively by the short form
    table = engine.index.abbreviations.short
    assert [table[i].split("\t")[2] for i in table.prefix_range("ivig\t")] == ["intravenous immunoglobulin"]


def test_index_format_lists_the_tables_and_is_bumped():
    assert {"abbrev.short", "abbrev.long"} <= {f.file for f in layout.stored_fields() if f.table}
    assert layout.FORMAT_VERSION >= 6


def test_saved_index_loads_the_tables(tmp_path):
    built = build(CORPUS, layout.Settings())
    manifest = {"format": layout.FORMAT_VERSION, "settings": layout.Settings().__dict__, "stats": built.stats}
    loaded = store.load(store.save(tmp_path, built.data, manifest))
    assert loaded.abbreviations.short.find("cpap\tCPAP\tcontinuous positive airway pressure\t1") >= 0
    assert Engine(loaded).expand("Does CPAP help?").added == ["continuous positive airway pressure"]


def test_corpus_without_definitions_gives_empty_tables(tmp_path):
    docs = [doc("z1", "Rituximab improved muscle strength in dermatomyositis.")]
    built = build(docs, layout.Settings())
    tables, stats = built.data.abbreviations, built.stats
    assert tables.short == tables.long == [] and stats["abbreviations"] == 0
    manifest = {"format": layout.FORMAT_VERSION, "settings": layout.Settings().__dict__, "stats": stats}
    engine = Engine(store.load(store.save(tmp_path, built.data, manifest)))
    result = engine.ask("Is IVIG better than rituximab?")
    assert result["expansions"] == [] and result["hits"][0]["doc_id"] == "z1"


# ---------------------------------------------------------------- query time

def test_abbreviation_finds_a_passage_with_only_the_long_form(small):
    engine = small[0]
    result = engine.ask("Does CPAP work?", k=10)
    assert result["expansions"] == [{"term": "CPAP", "expansion": "continuous positive airway pressure"}]
    assert result["query"] == "Does CPAP work? continuous positive airway pressure"
    assert "c2" in [h["doc_id"] for h in result["hits"]]  # c2 never writes "CPAP"
    # without the expansion it is not found
    plain = search.rank(engine.index, "Does CPAP work?")
    assert "c2" not in {engine.index.documents.ids[engine.index.passage_doc(p)] for p in plain.passages}


def test_long_form_finds_a_passage_with_only_the_abbreviation(small):
    engine = small[0]
    result = engine.ask("Are coronary aneurysms rare after intravenous immunoglobulin?", k=10)
    assert result["expansions"] == [{"term": "intravenous immunoglobulin", "expansion": "IVIG"}]
    assert result["query"].endswith("intravenous immunoglobulin? IVIG")
    assert result["hits"][0]["doc_id"] == "a2"  # a2 only says "IVIG"


def test_abbreviation_matching_case(small):
    engine = small[0]
    for written in ("IVIG", "IVIg", "ivig"):
        assert engine.expand(f"is {written} safe").added == ["intravenous immunoglobulin"], written
    # a short form of the corpus that is an everyday word in lower case is not expanded
    assert ab.means("MR", "MR") and ab.means("mR", "MR")
    assert not ab.means("all", "ALL") and ab.means("ALL", "ALL")
    assert not ab.means("vs", "VS") and not ab.means("Los", "LOS")


def test_an_ambiguous_abbreviation_adds_its_two_most_frequent_long_forms(small):
    engine = small[0]
    assert engine.expand("MR findings").added == ["Magnetic resonance", "Mitral regurgitation"]


def test_question_defined_pairs_count(small):
    engine = small[0]
    question = "Is PM (premature menopause) frequent after rituximab?"
    result = engine.ask(question)
    assert result["expansions"] == [{"term": "PM", "expansion": "premature menopause"}]
    # both forms are in the question: nothing is added, and the question's meaning wins
    assert result["query"] == question
    # a corpus short form the question defines otherwise gets no corpus long form
    assert engine.expand("Is MR (mental retardation) linked to MR imaging?").added == []
    # without an index at all, the question's own pairs are still listed
    assert expand("Does IVIG (intravenous immunoglobulin) help?").expansions == [
        {"term": "IVIG", "expansion": "intravenous immunoglobulin"}]


def test_nothing_already_in_the_question_is_added_again(small):
    engine = small[0]
    assert engine.expand("CPAP or continuous positive airway pressure?").expansions == []
    once = engine.expand("Does CPAP help?")
    assert engine.expand(once.text).added == []  # expanding the searched text adds nothing


def test_off_topic_question_gets_no_expansions(small):
    engine = small[0]
    result = engine.ask("What is the capital of France?")
    assert result["expansions"] == [] and result["hits"] == []
    assert engine.ask("who won the football match")["expansions"] == []


def test_json_result_has_expansions_after_corrections(small):
    engine = small[0]
    result = engine.ask("Does CPAP work?")
    assert list(result)[-4:-2] == ["corrections", "expansions"]
    again = json.loads(json.dumps(result))
    assert again["expansions"][0] == {"term": "CPAP", "expansion": "continuous positive airway pressure"}
    assert engine.ask("rituximab in dermatomyositis")["expansions"] == []


def test_expansions_weigh_less_than_question_words(small):
    engine = small[0]
    ranked = search.rank(engine.index, "CPAP", expansion="continuous positive airway pressure")
    ids, weights = search.query_terms(engine.index, ranked.terms, ranked.extra, ranked.extra_weight)
    by_term = {engine.index.terms.names[int(i)]: w for i, w in zip(ids, weights)}
    assert by_term["cpap"] == 1.0 and by_term["airway"] == search.EXPANSION_WEIGHT < 1.0


def test_explain_searches_what_ask_searches(small):
    engine = small[0]
    hit = next(h for h in engine.ask("Does CPAP work?", k=10)["hits"] if h["doc_id"] == "c2")
    info = engine.explain("Does CPAP work?", hit["passage_id"])
    assert info["rank"] == hit["rank"] and info["query"].endswith("continuous positive airway pressure")


# ---------------------------------------------------------------- human output

def test_human_output_names_the_expansions(small):
    engine = small[0]
    result = engine.ask("Does CPAP work at home?")
    text = render_result(result, Style(False))
    first = text.splitlines()[0]
    assert first == "expanded: CPAP → continuous positive airway pressure"
    assert "searched for" not in text  # the query is only the question plus the expansion
    styled = query_note(result, Style(True))
    assert styled.startswith("\x1b[2m") and "CPAP → continuous positive airway pressure" in styled


def test_no_expansion_line_without_expansions(small):
    engine = small[0]
    assert query_note(engine.ask("rituximab in dermatomyositis"), Style(False)) is None


def test_follow_up_query_still_gets_its_searched_for_line():
    result = {"question": "what about CPAP?",
              "query": "what about CPAP? (rituximab) continuous positive airway pressure",
              "expansions": [{"term": "CPAP", "expansion": "continuous positive airway pressure"}], "hits": []}
    note = query_note(result, Style(False)).splitlines()
    assert note[0].startswith("searched for: what about CPAP? (rituximab)")
    assert note[-1] == "expanded: CPAP → continuous positive airway pressure"


# ---------------------------------------------------------------- the seed record

def test_seed_record_defines_pm_and_dm():
    from qa.readers.pubmed_page import read_pubmed_page

    docs = read_pubmed_page(SEED)
    built = build(docs, layout.Settings())
    assert built.data.abbreviations.short == ["dm\tDM\tdermatomyositis\t1", "pm\tPM\tPolymyositis\t1"]
    engine = Engine(Index.from_data(built.data, {"settings": layout.Settings().__dict__, "stats": built.stats}))
    result = engine.ask("treatment of refractory PM")
    assert result["expansions"] == [{"term": "PM", "expansion": "Polymyositis"}]


# ---------------------------------------------------------------- robustness

from hypothesis import given, settings, strategies as st  # noqa: E402

_PIECES = st.sampled_from(["(", ")", " ", "-", ".", ";", ", ", "α", "ß", "İ", "IVIG", "ab", "Cd", "x1",
                           "intravenous", "immunoglobulin", "\t", "\n", "'s", "é"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join))
def test_find_pairs_and_expand_never_fail_on_odd_text(text):
    for sf, lf in find_pairs(text):
        # the long form with its white space made single spaces
        assert sf in text and lf and lf in " ".join(text.split()) and lf == " ".join(lf.split())
        assert is_short_form(sf)
    result = expand(text)
    assert result.text == text and result.added == []  # without tables, nothing is added
