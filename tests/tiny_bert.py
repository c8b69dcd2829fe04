"""A tiny BERT sentence-transformers model (2 layers, hidden 16, 2 heads, 64 words) written from formulas.

The weights are integers modulo a prime scaled into [-1, 1]: the same bits on every machine
and numpy version, with no random generator. tools/make_encoder_fixtures.py writes this
model, runs it in torch (transformers' BertModel, sentence-transformers' pooling and
normalisation) and stores the outputs in tests/fixtures/tiny-bert-reference.json; the tests
write the same model and compare qa's numpy encoder with those outputs. Changing anything
here means running that script again.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

VOCAB = """
[PAD] [UNK] [CLS] [SEP] [MASK] . , ? - ( ) % ' 1 2 3 ##0 ##5
a the of in and is does do with for
patient ##s treatment treat ##ment ##ed ##ing therapy cancer can ##cer
surgery improve survival acute pan ##cre ##atis ##itis children kid
rats et ##1 risk high low blood pressure heart fail ##ure cafe
""".split()

HIDDEN, HEADS, LAYERS, INTERMEDIATE, POSITIONS, MAX_SEQ_LENGTH = 16, 2, 2, 32, 40, 24

CONFIG = {
    "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
    "hidden_size": HIDDEN, "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
    "intermediate_size": INTERMEDIATE, "max_position_embeddings": POSITIONS, "type_vocab_size": 2,
    "vocab_size": len(VOCAB), "layer_norm_eps": 1e-12, "pad_token_id": 0,
    "position_embedding_type": "absolute", "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
}
MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]
POOLING = {"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
           "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}
TOKENIZER_CONFIG = {"do_lower_case": True, "tokenize_chinese_chars": True, "strip_accents": None,
                    "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                    "mask_token": "[MASK]", "tokenizer_class": "BertTokenizer", "model_max_length": POSITIONS}

# Texts the reference covers: known words, pieces, unknown words, accents, punctuation, a
# special token written in the text, and one longer than MAX_SEQ_LENGTH (truncated).
TEXTS = [
    "Does treatment improve survival?",
    "Kids with acute pancreatitis: surgery or therapy?",
    "Heart failure risk in patients with high blood pressure (10%).",
    "CAFÉ cafe Café; the rats' ET-1 [MASK] and unknownword.",
    "Patients treated for cancer can do surgery, and the treatment improves survival of "
    "children with acute pancreatitis; risk is low in 25 of 30 patients.",
    "a",
]


def _values(count: int, seed: int) -> np.ndarray:
    """count numbers in [-1, 1] from a quadratic residue sequence: exact in float64, then float32."""
    i = np.arange(count, dtype=np.int64)
    return (((i * i * 31 + i * 7919 + seed * 104729 + 12345) % 2003 - 1001) / 1001).astype(np.float32)


def _matrix(shape: tuple[int, ...], seed: int, scale: float) -> np.ndarray:
    return (_values(int(np.prod(shape)), seed) * np.float32(scale)).reshape(shape)


def tensors() -> dict[str, np.ndarray]:
    """The model's weights under transformers' BertModel names, Linear weights as (out, in)."""
    seed = iter(range(1000))
    w: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": _matrix((len(VOCAB), HIDDEN), next(seed), 1.0),
        "embeddings.position_embeddings.weight": _matrix((POSITIONS, HIDDEN), next(seed), 0.3),
        "embeddings.token_type_embeddings.weight": _matrix((2, HIDDEN), next(seed), 0.3),
        "embeddings.LayerNorm.weight": 1 + _matrix((HIDDEN,), next(seed), 0.2),
        "embeddings.LayerNorm.bias": _matrix((HIDDEN,), next(seed), 0.1),
    }
    shapes = {
        "attention.self.query": (HIDDEN, HIDDEN), "attention.self.key": (HIDDEN, HIDDEN),
        "attention.self.value": (HIDDEN, HIDDEN), "attention.output.dense": (HIDDEN, HIDDEN),
        "intermediate.dense": (INTERMEDIATE, HIDDEN), "output.dense": (HIDDEN, INTERMEDIATE),
    }
    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}"
        for name, shape in shapes.items():
            w[f"{prefix}.{name}.weight"] = _matrix(shape, next(seed), 1.2 / np.sqrt(shape[1]) * np.sqrt(3))
            w[f"{prefix}.{name}.bias"] = _matrix((shape[0],), next(seed), 0.1)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[f"{prefix}.{norm}.weight"] = 1 + _matrix((HIDDEN,), next(seed), 0.2)
            w[f"{prefix}.{norm}.bias"] = _matrix((HIDDEN,), next(seed), 0.1)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items()}


def write_configs(model_dir: Path) -> None:
    """Everything but the weights: vocabulary, BERT config and the sentence-transformers files."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    (model_dir / "config.json").write_text(json.dumps(CONFIG, indent=1), encoding="utf-8")
    (model_dir / "modules.json").write_text(json.dumps(MODULES, indent=1), encoding="utf-8")
    (model_dir / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False}), encoding="utf-8")
    (model_dir / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG), encoding="utf-8")
    (model_dir / "1_Pooling").mkdir(exist_ok=True)
    (model_dir / "1_Pooling" / "config.json").write_text(json.dumps(POOLING), encoding="utf-8")
