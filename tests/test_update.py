"""Incremental updates (qa/index/update.py): an index with documents added equals a full build of them all."""
from __future__ import annotations

import json
import random
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import BEIR, BEIR_EXTRA, FIXTURES, SEED
from qa.index import layout, store
from qa.index.build import build
from qa.index import parts
from qa.search import rank as search
from qa.index import tfidf
from qa.index import update
from qa.readers.corpus import corpus_files, read_documents
from qa.models import Document, Section

SETTINGS = layout.Settings()
CORPUS = [SEED, BEIR, BEIR_EXTRA, FIXTURES / "medline-sample2.txt", FIXTURES / "pubmed-xml-4.xml",
          FIXTURES / "ris-pubmed-2.ris", FIXTURES / "markdown-article.md"]
QUESTIONS = ["Is rituximab an option for refractory myositis?", "telomere length and pancreatic cancer",
             "Do mitochondria play a role in remodelling lace plant leaves?", "methotrexate dose",
             "who wrote it", "intravenous immunoglobulin (IVIG) for dermatomyositis"]


def saved(directory, docs, whole=False, settings=SETTINGS):
    built = build(docs, settings, whole_documents=whole)
    store.save(directory, built.data, {"stats": built.stats, "settings": settings.__dict__})
    return store.load(store.current_build(directory))


def extended(directory, batches):
    """The index in `directory` with each batch of documents added in turn."""
    for batch in batches:
        old = store.load(store.current_build(directory))
        new = update.extend(old, batch)
        store.save(directory, new.data, {"stats": new.stats, "settings": old.manifest["settings"], "parts": new.parts},
                   arrays=new.arrays, blobs=new.blobs, linked=new.linked)
    return store.load(store.current_build(directory))


def named_rows(index):
    """Every stored TF-IDF entry as (passage, feature name, weight): ids may differ, names not."""
    t, terms = index.tfidf, index.terms.names
    names = tfidf.feature_names(len(t.idf), t.term_feature, t.bigrams, t.bigram_feature, lambda i: terms[i])
    rows = np.arange(index.n_passages)
    owner, ids, counts = tfidf.gather_rows(t.rows, t.features, t.counts, rows)
    weights = tfidf.row_weights(owner, ids, counts, t.idf, len(rows))
    return sorted(zip(owner.tolist(), [names[i] for i in ids.tolist()], weights.tolist()))


def assert_same_index(full, inc):
    assert inc.manifest["stats"] == full.manifest["stats"]
    for field in layout.stored_fields():
        ours, theirs = (getattr(getattr(index, field.group), field.name) for index in (inc, full))
        if field.table:
            assert list(_strings(ours)) == list(_strings(theirs)), field.file
        elif field.group != "tfidf":  # TF-IDF feature ids are given in a different order
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs), err_msg=field.file)
    ours, theirs = named_rows(inc), named_rows(full)
    assert [r[:2] for r in ours] == [r[:2] for r in theirs]
    np.testing.assert_allclose([r[2] for r in ours], [r[2] for r in theirs], rtol=1e-12)


def _strings(table):
    return (table[i] for i in range(len(table)))


def assert_same_rankings(full, inc, questions=QUESTIONS):
    for q in questions:
        for weight in (search.FUSION_WEIGHT, 0.0):
            a, b = search.rank(full, q, weight=weight), search.rank(inc, q, weight=weight)
            assert [full.passage_id(p) for p in a.passages] == [inc.passage_id(p) for p in b.passages], q
            np.testing.assert_allclose(b.final, a.final, rtol=1e-12)


@pytest.fixture(scope="module")
def documents():
    return read_documents(corpus_files([str(p) for p in CORPUS]), warn=lambda m: None)


@pytest.mark.parametrize("seed, block_checked, variant", [(0, False, "lucene"), (1, False, "lucene"),
                                                         (2, False, "okapi"), (3, True, "lucene")])
def test_adding_in_batches_equals_a_full_build(documents, tmp_path, monkeypatch, seed, block_checked, variant):
    settings = layout.Settings(bm25=variant)
    if block_checked:  # every file read through its block checksums (qa/index/checksums.py), as large ones are
        from qa.index import checksums

        monkeypatch.setattr(store, "CHECKSUM_ON_LOAD", 0)
        monkeypatch.setattr(checksums, "BLOCK", 512)
    docs = list(documents)
    rng = random.Random(seed)
    rng.shuffle(docs)
    cuts = sorted(rng.sample(range(1, len(docs)), 3))
    bounds = [0, *cuts, len(docs)]
    saved(tmp_path / "inc", docs[:cuts[0]], settings=settings)
    inc = extended(tmp_path / "inc", [docs[lo:hi] for lo, hi in zip(bounds[1:], bounds[2:])])
    full = saved(tmp_path / "full", docs, settings=settings)
    assert inc.settings.bm25 == variant
    assert_same_index(full, inc)
    assert_same_rankings(full, inc)
    assert inc.manifest["parts"]["docs"] == 4, "each update adds one part; the earlier ones are linked"


def test_parts_are_merged_beyond_the_limit_and_nothing_changes(documents, tmp_path, monkeypatch):
    monkeypatch.setattr(update, "MAX_PARTS", 3)
    docs = sorted(documents, key=lambda d: d.doc_id)[::-1]  # each batch sorts before the last
    saved(tmp_path / "inc", docs[:2])
    inc = extended(tmp_path / "inc", [docs[i:i + 2] for i in range(2, 12, 2)])
    assert max(inc.manifest["parts"].values()) <= 3
    full = saved(tmp_path / "full", docs[:12])
    assert_same_index(full, inc)
    assert_same_rankings(full, inc)


def test_unchanged_files_are_linked_not_copied(documents, tmp_path):
    docs = sorted(documents, key=lambda d: d.doc_id)
    first = saved(tmp_path / "inc", docs[:-1])
    inc = extended(tmp_path / "inc", [docs[-1:]])
    for name in ("docs.txt", "passages.txt", "tfidf.features.npy"):
        assert (inc.path / name).stat().st_ino == (first.path / name).stat().st_ino
    assert inc.manifest["files"]["docs.txt"] == first.manifest["files"]["docs.txt"]
    store.check_files(inc.path, inc.manifest, full=True)  # every checksum holds


def test_a_known_document_id_asks_for_a_rebuild(documents, tmp_path):
    docs = sorted(documents, key=lambda d: d.doc_id)
    old = saved(tmp_path / "inc", docs[:3])
    with pytest.raises(update.NeedsRebuild):
        update.extend(old, [docs[1]])


def test_whole_document_indexes_stay_whole(tmp_path):
    docs = [Document(doc_id=f"d{i}", sections=(Section(None, f"Sentence one about {w}. Two. Three. Four."),))
            for i, w in enumerate(["asthma", "myositis", "rituximab", "asthma again"])]
    saved(tmp_path / "inc", docs[1:], whole=True)
    inc = extended(tmp_path / "inc", [docs[:1]])
    full = saved(tmp_path / "full", docs, whole=True)
    assert inc.n_passages == 4
    assert_same_index(full, inc)


WORDS = ["myositis", "rituximab", "asthma", "lung", "muscle", "weakness", "dose", "trial", "cancer",
         "telomere", "il-6", "tnf-α", "oedema", "children", "patients", "improved", "the", "of"]


@st.composite
def corpora(draw):
    n = draw(st.integers(2, 12))
    ids = draw(st.lists(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=4),
                        min_size=n, max_size=n, unique=True))
    docs = []
    for doc_id in ids:
        sentences = draw(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), min_size=1, max_size=5))
        text = " ".join(" ".join(s).capitalize() + "." for s in sentences)
        title = draw(st.one_of(st.none(), st.sampled_from(WORDS)))
        docs.append(Document(doc_id=doc_id, title=title, sections=(Section(None, text),)))
    split = draw(st.integers(1, n - 1))
    return docs[:split], docs[split:]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpora())
def test_random_corpora_rank_the_same_after_an_add(tmp_path_factory, corpus):
    base, added = corpus
    tmp = tmp_path_factory.mktemp("random")
    saved(tmp / "inc", base)
    inc = extended(tmp / "inc", [added])
    full = saved(tmp / "full", base + added)
    assert_same_index(full, inc)
    assert_same_rankings(full, inc, [" ".join(WORDS[i:i + 3]) for i in range(0, len(WORDS), 3)])


# ---------------------------------------------------------------- through the CLI

def manifest_of(qa_home):
    [index_dir] = [d for d in (qa_home / "indexes").iterdir() if d.is_dir()]
    return json.loads((store.current_build(index_dir) / "manifest.json").read_text("utf-8"))


def answers(cli):
    return [cli("ask", q, "--json").json() for q in QUESTIONS]


def test_qa_add_updates_the_index_and_answers_as_a_rebuild_would(cli, qa_home):
    assert cli("add", str(FIXTURES / "medline-sample2.txt")).code == 0
    first = manifest_of(qa_home)
    assert cli("add", str(FIXTURES / "pubmed-xml-4.xml")).code == 0
    assert cli("add", str(BEIR_EXTRA)).code == 0
    after = manifest_of(qa_home)
    assert after.get("updates", 0) == first.get("updates", 0) + 2, "both adds were incremental"
    updated = answers(cli)
    assert cli("index", "--rebuild").code == 0
    assert "updates" not in manifest_of(qa_home)
    assert answers(cli) == updated


def test_a_changed_corpus_file_is_rebuilt_not_updated(cli, qa_home, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(BEIR.read_bytes())
    assert cli("ask", "lace plant", "--corpus", str(folder)).code == 0
    (folder / "b.jsonl").write_bytes(BEIR_EXTRA.read_bytes())  # a new file: an update
    r = cli("index", "--corpus", str(folder))
    assert r.code == 0 and "updated in" in r.out and "(1 file added; 1 update since the last full build)" in r.out
    assert manifest_of(qa_home)["updates"] == 1
    (folder / "a.jsonl").write_bytes(BEIR.read_bytes()[: len(BEIR.read_bytes()) // 2].rsplit(b"\n", 1)[0] + b"\n")
    r = cli("ask", "lace plant", "--corpus", str(folder), "--json")
    assert r.code == 0
    assert "updates" not in manifest_of(qa_home), "an edited file means a full build"


def test_a_damaged_index_is_rebuilt_instead_of_updated(cli, qa_home):
    cli("add", str(FIXTURES / "medline-sample2.txt"))
    build = store.current_build(next((qa_home / "indexes").iterdir()))
    target = build / "passage.length.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    assert cli("add", str(FIXTURES / "pubmed-xml-4.xml")).code == 0
    manifest = manifest_of(qa_home)
    assert "updates" not in manifest
    store.check_files(store.current_build(next((qa_home / "indexes").iterdir())), manifest, full=True)
    assert cli("ask", "telomere length pancreatic cancer", "--json").json()["hits"][0]["doc_id"] == "27797938"


def test_part_array_reads_across_parts():
    whole = np.arange(20, dtype=np.int32)
    array = parts.PartArray([whole[:7], whole[7:8], whole[8:]])
    positions = np.asarray([19, 0, 7, 8, 6, 13])
    np.testing.assert_array_equal(array[positions], whole[positions])
    assert len(array) == 20
