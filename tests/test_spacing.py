"""Hyphenation and spacing variants meet (qa/text/spacing.py): a question finds the passage that
writes its words hyphenated, spaced or joined otherwise, and says which spelling it added."""
from __future__ import annotations

import json

import pytest

from conftest import write_input
from qa.index import layout, store
from qa.index.build import build
from qa.index.reader import Index
from qa.search import rank as search
from qa.text import spacing
from qa.index import update
from qa.search.engine import Engine
from qa.models import Document, Section

TEXTS = {
    "jo1": "Anti-Jo-1 antibodies were found in most patients with myositis and interstitial lung disease.",
    "mp": "Pulses of methylprednisolone were given for refractory myositis.",
    "mp2": "Oral methylprednisolone tapered over months in dermatomyositis.",
    "hyph": "Methyl-prednisolone was stopped early in two children.",
    "il6": "Serum IL-6 was raised in active lupus.",
    "pre1": "Preoperative anemia predicted transfusion after knee arthroplasty.",
    "pre2": "Preoperative hemoglobin was measured in all patients.",
    "pre3": "Pre-operative counselling reduced anxiety.",
    "lt": "Long-term outcome of muscle strength after exercise training.",
    "other": "Antibodies in patients with myositis and muscle weakness were measured.",
}


@pytest.fixture(scope="module")
def engine():
    docs = [Document(doc_id=k, sections=(Section(None, v),)) for k, v in TEXTS.items()]
    built = build(docs, layout.Settings(), whole_documents=True)
    manifest = {"stats": built.stats, "settings": layout.Settings().__dict__}
    return Engine(Index.from_data(built.data, manifest))


def docs(result):
    return [h["doc_id"] for h in result["hits"]]


@pytest.mark.parametrize("question", ["anti Jo1 antibodies", "anti Jo 1 antibodies", "antiJo-1 antibodies"])
def test_a_spaced_question_finds_the_hyphenated_spelling(engine, question):
    result = engine.ask(question)
    assert docs(result)[0] == "jo1"
    written = question.rsplit(" ", 1)[0]
    assert result["expansions"] == [{"term": written, "expansion": "anti-jo-1"}]
    assert result["query"] == f"{question} anti-jo-1"


def test_spaced_and_hyphenated_questions_find_the_joined_spelling(engine):
    for question in ("Is methyl prednisolone effective?", "methyl-prednisolone"):
        result = engine.ask(question, k=10)
        assert {"mp", "mp2"} <= set(docs(result)[:3]), question
        assert {"expansion": "methylprednisolone"}.items() <= result["expansions"][0].items()
    # the question's own spelling still counts most: the passage writing it comes first
    assert docs(engine.ask("methyl-prednisolone"))[0] == "hyph"


def test_a_joined_question_finds_a_rarer_hyphenated_spelling_only_when_it_is_the_corpus_choice(engine):
    # "IL6": the corpus only writes "IL-6"
    result = engine.ask("IL6 in lupus")
    assert result["expansions"] == [{"term": "IL6", "expansion": "il-6"}] and docs(result)[0] == "il6"
    # "methylprednisolone" is written so in more passages than "methyl-prednisolone": nothing added
    assert engine.ask("methylprednisolone")["expansions"] == []
    # "pre-operative" is the rarer spelling: it adds "preoperative", and not the other way round
    assert engine.ask("pre-operative anemia")["expansions"] == [
        {"term": "pre-operative", "expansion": "preoperative"}]
    assert engine.ask("preoperative anemia")["expansions"] == []


def test_questions_without_variants_are_unchanged(engine):
    for question in ("Is there a role for antibodies in muscle disease?", "long term muscle strength",
                     "long-term outcome"):
        result = engine.ask(question)
        assert result["expansions"] == [] and result["query"] == question, question
        ranked = search.rank(engine.index, question)
        assert [h["passage_id"] for h in result["hits"]] == [
            engine.index.passage_id(int(p)) for p in ranked.passages[:len(result["hits"])]]


def test_prose_is_not_joined():
    # a stop word of two letters or more ends a run: "Is there" is never written together
    words = [w for _, _, w in spacing._words("Is there a role for IL 6?")]
    assert words == [None, None, "a", "role", None, "il", "6"]


def test_table_lists_hyphenated_terms_under_their_joined_spelling():
    assert spacing.table_of(["anti-jo-1", "il-6", "2005-2010", "myositis", "10.1007/s1-2", "b-cells"]) == [
        "antijo1\tanti-jo-1", "bcells\tb-cells", "il6\til-6"]


def test_an_update_keeps_the_table_as_a_full_build_has_it(tmp_path):
    docs = [Document(doc_id=k, sections=(Section(None, v),)) for k, v in TEXTS.items()]

    def save(directory, data, stats, **kw):
        store.save(directory, data, {"stats": stats, "settings": layout.Settings().__dict__, **kw.pop("extra", {})}, **kw)
        return store.load(store.current_build(directory))

    first = build(docs[:3], layout.Settings())
    old = save(tmp_path / "inc", first.data, first.stats)
    new = update.extend(old, docs[3:])
    inc = save(tmp_path / "inc", new.data, new.stats, arrays=new.arrays, blobs=new.blobs, linked=new.linked,
               extra={"parts": new.parts})
    full = build(docs, layout.Settings()).data.terms.hyphenated
    assert [inc.terms.hyphenated[i] for i in range(len(inc.terms.hyphenated))] == full
    assert "il6\til-6" in full and "antijo1\tanti-jo-1" in full


def test_cli_json_reports_the_spelling_added(cli, tmp_path):
    corpus = write_input(tmp_path, "".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n"
                                           for k, v in TEXTS.items()), "corpus.jsonl")
    result = cli("ask", "anti Jo1 antibodies", "--json", "--corpus", str(corpus)).json()
    assert result["expansions"] == [{"term": "anti Jo1", "expansion": "anti-jo-1"}]
    assert result["hits"][0]["doc_id"] == "jo1"
