"""The extractive answer's sentence picking (qa.search.answer.extract): relevance first, then novelty (MMR)."""
from __future__ import annotations

from qa.search import answer

BEST = ("Rituximab improved muscle strength in most patients with refractory myositis.", 1, 2.0)
REPEAT = ("Rituximab improved muscle strength in patients with refractory myositis.", 2, 1.9)  # near-duplicate
OVERLAP = ("Rituximab improved strength in refractory myositis after six months of treatment.", 3, 1.8)
NEW = ("Intravenous immunoglobulin helped those who did not respond to methotrexate.", 4, 1.7)
WEAK = ("The authors thank the nurses of the clinic.", 5, 0.5)


def sentences(result) -> list[str]:
    return [s for s, _, _ in (BEST, REPEAT, OVERLAP, NEW, WEAK) if s in result["text"]]


def test_the_best_sentence_leads_and_near_duplicates_and_weak_sentences_stay_out():
    result = answer.extract([WEAK, NEW, OVERLAP, REPEAT, BEST], mmr_lambda=1.0)
    picked = sentences(result)
    assert result["text"].startswith(BEST[0])
    assert REPEAT[0] not in picked and WEAK[0] not in picked


def test_relevance_alone_takes_the_overlapping_sentence_mmr_prefers_the_new_one():
    by_score = answer.extract([BEST, OVERLAP, NEW], mmr_lambda=1.0)
    assert by_score["text"].index(OVERLAP[0]) < by_score["text"].index(NEW[0])
    novel = answer.extract([BEST, OVERLAP, NEW], mmr_lambda=0.6)
    assert novel["text"].index(NEW[0]) < novel["text"].index(OVERLAP[0])
    assert novel["citations"] == [1, 3, 4]  # every sentence keeps its citation


def test_by_default_a_new_sentence_comes_before_an_overlapping_one():
    # what the tuned lambda does, seen in an answer: relevance alone (lambda 1) would not
    default = answer.extract([BEST, OVERLAP, NEW])
    assert default["text"].index(NEW[0]) < default["text"].index(OVERLAP[0])


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
