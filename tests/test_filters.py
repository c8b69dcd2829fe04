"""Filters: parsing (options and inline), and the passage mask applied before ranking."""
from __future__ import annotations

from pathlib import Path

import pytest

from qa.search import filters
from qa.search.engine import Engine
from qa.errors import QAError
from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.readers.beir import read_beir

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("text,expected", [
    ("2000-2010", (2000, 2010)), ("2005-", (2005, None)), ("-2010", (None, 2010)),
    ("2005", (2005, 2005)), ("2005..2010", (2005, 2010)),
])
def test_year_ranges(text, expected):
    assert filters.parse_years(text) == expected


@pytest.mark.parametrize("text", ["", "-", "20x5", "2010-2000"])
def test_bad_year_ranges_are_clear_errors(text):
    with pytest.raises(QAError):
        filters.parse_years(text)


def test_inline_filters_are_taken_out_of_the_question():
    text, f = filters.extract_inline('rituximab year:2005..2010 author:Ytterberg journal:"curr rheumatol" dose')
    assert text == "rituximab dose"
    assert f.years == ((2005, 2010),) and f.authors == ("ytterberg",) and f.journals == ("curr rheumatol",)


def test_repeated_keys_or_and_accents_fold():
    _, f = filters.extract_inline("x author:Müller author:SMITH")
    assert f.authors == ("muller", "smith")


def _index_of(docs):
    built = build(docs, Settings())
    return Index.from_data(built.data, {"stats": built.stats, "settings": Settings().__dict__})


@pytest.fixture(scope="module")
def engine():
    return Engine(_index_of(read_beir(FIXTURES / "pubmedqa-8.corpus.jsonl")))


def _years(engine):
    return sorted({engine.index.document(i).year for i in range(engine.index.n_documents)})


def test_year_filter_keeps_only_matching_documents(engine):
    years = _years(engine)
    cut = int(years[len(years) // 2])
    unfiltered = engine.ask("patients", k=50)
    filtered = engine.ask(f"patients year:{cut}-", k=50)
    assert filtered["hits"], "the filter must leave hits"
    assert all(int(h["source"]["year"]) >= cut for h in filtered["hits"])
    # the mask is applied before the top-k: every matching passage among the unfiltered hits is kept
    expected = {h["passage_id"] for h in unfiltered["hits"] if int(h["source"]["year"]) >= cut}
    assert expected <= {h["passage_id"] for h in filtered["hits"]}


def test_filter_never_returns_fewer_hits_than_exist(engine):
    # with k=1 unfiltered, the best passage may be from another year; the filtered search still finds one
    years = _years(engine)
    for year in years:
        r = engine.ask(f"patients year:{year}", k=1)
        assert r["hits"], f"a document of {year} exists, so a year filter must find it"
        assert all(h["source"]["year"] == year for h in r["hits"])


def test_section_and_source_filters(engine):
    r = engine.ask("patients", k=50, filters=filters.build(sections=["conclusions"]))
    assert r["hits"] and all(h["section"] == "CONCLUSIONS" for h in r["hits"])
    some = r["hits"][0]["doc_id"]
    r = engine.ask(f"patients source:{some}", k=50)
    assert r["hits"] and {h["doc_id"] for h in r["hits"]} == {some}


def test_author_and_journal_filters_on_the_seed():
    from qa.readers.pubmed_page import read_pubmed_page
    seed = read_pubmed_page(Path(__file__).parents[1] / "corpus" / "ytterberg-2006-refractory-pm-dm.pubmed.txt")
    other = read_pubmed_page(FIXTURES / "pubmed-page-multi-author.txt")
    e = Engine(_index_of(seed + other))
    assert {h["doc_id"] for h in e.ask("patients author:ytterberg", k=50)["hits"]} == {seed[0].doc_id}
    assert {h["doc_id"] for h in e.ask("patients journal:rheumatol", k=50)["hits"]} <= {seed[0].doc_id, other[0].doc_id}
    assert e.ask("patients author:nobody", k=50)["hits"] == []
