"""The semantic stage: the cosine of a question's embedding with the passages' (qa/text/encoder.py).

It finds what a question says in other words ("kids" for "children", "won't respond" for
"refractory"). Fused with the lexical score (qa/search/rank.py); where the vectors of all passages
are few enough to compare with the question at once (SCAN_LIMIT), passages close enough to the
question also join the candidates, so a question sharing no word with its answer can still reach
it. How close is close enough depends on the corpus (everyday questions reach a cosine of 0.06 on
a one-record library and 0.54 on a thousand abstracts), so it is calibrated on each: a passage is
admitted only above the best cosine that a set of everyday questions (data/off-topic-questions.txt)
reaches on this corpus, plus MARGIN, and never below ADMIT_FLOOR. An off-topic question thus stays
below the line and gets no passages.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SCAN_LIMIT = 200_000  # passages whose vectors are compared with every question
ADMIT_FLOOR = 0.25  # the lowest cosine at which a passage joins the candidates without a shared word
MARGIN = 0.05  # above the best cosine of the everyday questions
DENSE_CANDIDATES = 100  # at most this many join that way
OFF_TOPIC = Path(__file__).resolve().parent / "data" / "off-topic-questions.txt"


@dataclass
class Semantic:
    """An encoder and the passage vectors of one index (rows in passage order)."""

    encoder: object
    matrix: np.ndarray  # (n_passages, dim) float16
    admit: float = ADMIT_FLOOR  # cosine at which a passage joins the candidates (see the module doc)

    @property
    def scans(self) -> bool:
        return len(self.matrix) <= SCAN_LIMIT

    @property
    def rows(self) -> np.ndarray:
        """The vectors as float32, made once: a question is compared with all of them."""
        if getattr(self, "_rows", None) is None:
            self._rows = np.asarray(self.matrix, dtype=np.float32)
        return self._rows

    def question(self, text: str) -> "DenseQuery":
        return DenseQuery(self, self.encoder.embed(text).astype(np.float32))


def cosines(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """rows @ vector on one BLAS thread, as the encoder computes: OpenBLAS splits a product over its
    threads with other rounding (the same question would score otherwise on another machine), and
    on a busy machine its threads wait for each other (6,788 rows: 5 ms against 0.2)."""
    from qa.text.encoder import one_blas_thread

    with one_blas_thread():
        return rows @ vector


class DenseQuery:
    """One question's vector, with the cosines it needs computed once."""

    def __init__(self, semantic: Semantic, vector: np.ndarray):
        self.semantic = semantic
        self.vector = vector
        self._all = None

    def all(self) -> np.ndarray:
        """Cosine with every passage (vectors are unit length)."""
        if self._all is None:
            self._all = cosines(self.semantic.rows, self.vector)
        return self._all

    def scores(self, passages: np.ndarray) -> np.ndarray:
        if self.semantic.scans:
            return self.all()[passages].astype(np.float64)
        rows = np.asarray(self.semantic.matrix[np.asarray(passages, dtype=np.int64)], dtype=np.float32)
        return cosines(rows, self.vector).astype(np.float64)

    def candidates(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Passages at least `admit` close to the question, best first (at most DENSE_CANDIDATES);
        none where the vectors are too many to scan."""
        if not self.semantic.scans:
            return np.empty(0, np.int64)
        sims = self.all()
        close = np.flatnonzero(sims >= self.semantic.admit)
        if mask is not None:
            close = close[mask[close]]
        order = np.lexsort((close, -sims[close]))[:DENSE_CANDIDATES]
        return close[order].astype(np.int64)

    def best_of_documents(self, index, docs: np.ndarray, passages: np.ndarray, sims: np.ndarray) -> np.ndarray:
        """Each document's best cosine: over all its passages where they are scanned, else over
        the candidates among them. docs: sorted distinct document numbers."""
        if self.semantic.scans:
            starts = np.searchsorted(np.asarray(index.passages.doc), docs, side="left")
            ends = np.searchsorted(np.asarray(index.passages.doc), docs, side="right")
            sims_all = self.all()
            return np.asarray([float(sims_all[a:b].max()) if b > a else 0.0 for a, b in zip(starts, ends)])
        owner = np.searchsorted(docs, np.asarray(index.passages.doc)[passages])
        best = np.full(len(docs), -1.0)
        np.maximum.at(best, owner, sims)
        return best


DEFAULT_LIMIT = 10_000  # passages: up to this the semantic stage is on by default (above it, opt in)
EMBED_INLINE = 200  # passages a question command embeds itself before answering (a few seconds)
NOTICE = "semantic-stage-notice"  # a mark in QA_HOME: the one line on how to enable it was said


def stage(index, *, opt_in: bool = False, embed_up_to: int = EMBED_INLINE, progress=None, warn=None):
    """The semantic stage of an index (a Semantic), or None: the model is not installed, the
    index is above DEFAULT_LIMIT and not opted in, or more than embed_up_to passages still need
    a vector (then one line says how to embed them). Embeds what is missing when that is less."""
    from qa import errors
    from qa.index.embeddings import Store
    from qa.text.encoder import Encoder

    warn = warn or errors.warn
    encoder = loaded_encoder()
    if encoder is None:
        _say_once(f"answering without the semantic stage: {Encoder.unavailable()} "
                  f"(to enable it: {_install_hint()})", warn)
        return None
    n = index.n_passages
    if index.path is None:  # an index held in memory: its vectors too
        if n > embed_up_to and not opt_in:
            return None
        matrix = encoder.embed_many([index.passages.text[i] for i in range(n)]).astype(np.float16)
        return Semantic(encoder, matrix, admit_line(encoder, matrix))
    store = Store(index.path.parent, encoder.settings)
    have = store.vectors(np.asarray(index.passages.hash), encoder.dim)
    if have.complete:
        return Semantic(encoder, have.matrix, store.remembered("admit", lambda: admit_line(encoder, have.matrix)))
    if n > DEFAULT_LIMIT and not opt_in:
        return None
    if len(have.missing) > embed_up_to:
        warn(f"the semantic stage is off until {len(have.missing)} passages are embedded "
             f"(about {max(1, len(have.missing) // 30 // 60)} min): run `qa index`")
        return None
    vectors = store.embed(lambda i: index.passages.text[i], np.asarray(index.passages.hash), encoder,
                          progress=progress, warn=warn)
    return Semantic(encoder, vectors.matrix, store.remembered("admit", lambda: admit_line(encoder, vectors.matrix)))


class Remembering:
    """An encoder that remembers the vectors it made (a text's vector depends on nothing else):
    a process that opens several indexes, or asks a question twice, embeds each text once."""

    SIZE = 20_000  # texts remembered, at most (about 30 MB)

    def __init__(self, encoder):
        self.encoder = encoder
        self.name, self.dim, self.settings = encoder.name, encoder.dim, encoder.settings
        self._known: dict[str, np.ndarray] = {}

    def embed(self, text: str) -> np.ndarray:
        vector = self._known.get(text)
        if vector is None:
            if len(self._known) >= self.SIZE:
                self._known.clear()
            vector = self._known[text] = self.encoder.embed(text)
        return vector

    def remember(self, texts) -> None:
        """Embed the texts not known yet, in batches (Encoder.embed_batch: the vectors of embedding
        them one by one), so that the questions of a batch are embedded for less."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._known]
        if not todo or not hasattr(self.encoder, "embed_batch"):
            return
        if len(self._known) + len(todo) > self.SIZE:
            self._known.clear()
        self._known.update(zip(todo, self.encoder.embed_batch(todo)))

    BATCH = 32  # texts embedded together (Encoder.embed_batch)

    def embed_many(self, texts, progress=None) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(texts), self.BATCH):
            self.remember(texts[lo:lo + self.BATCH])
            for i in range(lo, min(lo + self.BATCH, len(texts))):
                out[i] = self.embed(texts[i])
                if progress is not None:
                    progress(i + 1, len(texts))
        return out


@lru_cache(maxsize=1)
def loaded_encoder():
    """The installed model's encoder, loaded once per process; None when it is not installed."""
    from qa.text.encoder import Encoder

    encoder = Encoder.load()
    return Remembering(encoder) if encoder is not None else None


def off_topic_questions() -> list[str]:
    with OFF_TOPIC.open(encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def admit_line(encoder, matrix: np.ndarray) -> float:
    """The cosine above which a passage may join a question's candidates on this corpus."""
    if len(matrix) == 0 or len(matrix) > SCAN_LIMIT:
        return 1.0
    rows = np.asarray(matrix, dtype=np.float32)
    best = max(float(cosines(rows, encoder.embed(q)).max()) for q in off_topic_questions())
    return round(max(ADMIT_FLOOR, best + MARGIN), 4)


def _install_hint() -> str:
    from qa.text.encoder import INSTALL_HINT

    return INSTALL_HINT


def _say_once(message: str, warn) -> None:
    """Say it once per QA_HOME (a mark remembers it), or once per process where that cannot be written."""
    from qa import home

    mark = home.cache_dir() / NOTICE
    if mark.exists():
        return
    warn(message)
    try:
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:
        pass
