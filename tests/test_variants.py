"""Spelling variants meet: Greek letters spelt out, British stems, hyphenated compounds joined."""
from __future__ import annotations

import pytest
import Stemmer

from qa.text.analyze import analyze
from qa.search.engine import Engine
from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.models import Document, Section


@pytest.mark.parametrize("a,b", [
    ("TNF-α", "TNF-alpha"), ("IFN-γ", "IFN-gamma"), ("haemoglobin", "hemoglobin"), ("oedema", "edema"),
    ("tumour", "tumor"), ("paediatric", "pediatric"), ("oesophageal", "esophageal"), ("anaemia", "anemia"),
])
def test_variants_give_the_same_terms(a, b):
    assert analyze(a) == analyze(b)


@pytest.mark.parametrize("word", ["aerobic", "aerosol", "paean", "oeuvre"])
def test_words_that_only_look_british_are_not_rewritten(word):
    # "ae" or "oe" alone is no British stem: the word keeps its own stem, not one with letters dropped
    assert analyze(word) == [Stemmer.Stemmer("english").stemWord(word)]


def test_a_british_stem_is_rewritten_in_any_case():
    assert analyze("HAEMOPHILUS Haemophilus haemophilus") == analyze("hemophilus") * 3


def test_a_question_in_one_spelling_finds_a_passage_in_the_other():
    docs = [Document(doc_id="d1", sections=(Section(None, "Serum TNF-alpha and haemoglobin were measured."),)),
            Document(doc_id="d2", sections=(Section(None, "Muscle strength improved after exercise."),))]
    built = build(docs, Settings(), whole_documents=True)
    engine = Engine(Index.from_data(built.data, {"stats": built.stats, "settings": Settings().__dict__}))
    for question in ("Is TNF-α raised?", "hemoglobin levels", "haemoglobin TNF alpha"):
        hits = engine.ask(question)["hits"]
        assert hits and hits[0]["doc_id"] == "d1", question
