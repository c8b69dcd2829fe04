"""Evaluation helpers: qrels and queries in, retrieval and answer metrics out.

Small pure functions shared by bench/pubmedqa.py and the `qa eval` command. Ranked lists are
lists of distinct document ids, best first. An answer text is what the engine returns in
result["answer"]["text"]: sentences each followed by a citation marker, "s1 [1] s2 [2]".
"""
from __future__ import annotations

import json
import re
from collections import Counter

from qa.text.sentences import split_sentences

_WORD = re.compile(r"\w+")
# A citation marker as the engine writes it: " [n]" after a sentence.
_MARKER = re.compile(r"\s*\[\d+\]")
# A section label at the start: 1-4 words, the first capitalised (CONCLUSIONS, Results,
# Main outcome measures, MATERIALS AND METHODS), then a colon.
_LEADING_LABEL = re.compile(r"^[A-Z][A-Za-z]*(?:[ /&-]+[A-Za-z]+){0,3}\s*:\s*")


# ---------------------------------------------------------------- reading


def read_qrels(path) -> dict[str, dict[str, int]]:
    """TREC-style relevance judgements: {query id: {document id: grade}}.

    Accepts tab- or space-separated lines of `qid docid grade` (BEIR, with or without its
    "query-id corpus-id score" header) or `qid iteration docid grade` (TREC). A first line
    whose grade is not a number is taken as a header; blank lines and # comments are skipped.
    """
    from qa.errors import InputError

    qrels: dict[str, dict[str, int]] = {}
    for n, line in _lines(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [x.strip() for x in fields]
        if len(fields) == 3:
            qid, docid, grade = fields
        elif len(fields) == 4:
            qid, _, docid, grade = fields
        else:
            raise InputError(str(path), f"expected 'qid docid grade' or 'qid 0 docid grade', found "
                             f"{len(fields)} fields", n)
        try:
            value = int(float(grade))
        except ValueError:
            if not qrels:
                continue  # header
            raise InputError(str(path), f"relevance grade {grade!r} is not a number", n) from None
        qrels.setdefault(qid, {})[docid] = value
    return qrels


def _lines(path):
    """(number, line) of a UTF-8 text file; InputError, one line, when it cannot be read."""
    from qa.errors import InputError

    try:
        with open(path, encoding="utf-8-sig") as f:
            yield from enumerate(f, 1)
    except OSError as e:
        raise InputError(str(path), f"cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"not UTF-8 text (byte {e.start})") from None


def relevant(judgements: dict[str, int]) -> set[str]:
    """The documents judged relevant (grade > 0) among one query's judgements."""
    return {d for d, g in judgements.items() if g > 0}


def read_queries(path) -> list[tuple[str, str]]:
    """BEIR queries.jsonl: [(query id, text)] in file order."""
    out = []
    with open(path, encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if "_id" not in record:
                raise ValueError(f"{path}:{n}: missing `_id`")
            out.append((str(record["_id"]), str(record.get("text") or "")))
    return out


def read_jsonl(path) -> list[dict]:
    """One JSON object a line. Lines are split at \n only: str.splitlines would also split at
    U+2028 and other separators that JSON strings may hold unescaped."""
    with open(path, encoding="utf-8-sig") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- retrieval metrics


def mean(values) -> float:
    """Arithmetic mean; 0.0 for no values."""
    values = list(values)
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- answer metrics


def answer_tokens(text: str | None) -> list[str]:
    """Lower-case word tokens (\\w+), repeats kept."""
    return _WORD.findall((text or "").lower())


def strip_answer_markup(sentence: str | None) -> str:
    """A sentence without citation markers ("[2]") and without a leading section label ("CONCLUSIONS:")."""
    text = _MARKER.sub("", sentence or "").strip()
    return _LEADING_LABEL.sub("", text, count=1).strip()


def first_answer_sentence(answer_text: str | None) -> str:
    """The first sentence of an answer text, without its citation marker (a leading label is kept).

    The engine writes each sentence followed by " [n]", so the text up to the first marker is
    the first sentence. Without markers, the first sentence by qa.text.sentences.split_sentences.
    """
    text = (answer_text or "").strip()
    m = re.search(r"\[\d+\](?=\s|$)", text)
    if m:
        return _MARKER.sub("", text[: m.end()]).strip()
    sentences = split_sentences(_MARKER.sub("", text))
    return sentences[0] if sentences else ""


def answer_from_conclusion(answer_text: str | None, gold_long_answer: str | None, threshold: float = 0.9) -> bool:
    """Whether the answer's first sentence comes from the gold conclusion.

    True when at least `threshold` of the first sentence's word tokens (repeats counted), after
    markers and a leading label are stripped, occur in the gold long answer. Empty answer: False.
    """
    tokens = answer_tokens(strip_answer_markup(first_answer_sentence(answer_text)))
    if not tokens:
        return False
    gold = set(answer_tokens(gold_long_answer))
    return sum(1 for t in tokens if t in gold) >= threshold * len(tokens)


def token_f1(answer_text: str | None, gold: str | None) -> float:
    """SQuAD-style token F1 of the whole answer (markers removed) against the gold text."""
    pred = answer_tokens(_MARKER.sub("", answer_text or ""))
    ref = answer_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------- ranking measures (ir-measures)

# Names people write for ir-measures' measures.
ALIASES = {"MRR": "RR", "Recall": "R", "recall": "R", "ndcg": "nDCG", "NDCG": "nDCG", "map": "AP", "MAP": "AP"}
DEFAULT_MEASURES = "nDCG@10 R@1 R@5 MRR@10"


def measure_names(text: str) -> list[str]:
    """'nDCG@10 R@1 MRR@10' -> the names as given (MRR@10 is ir-measures' RR@10)."""
    return text.replace(",", " ").split()


def _ir_name(name: str) -> str:
    head, at, cutoff = name.partition("@")
    return ALIASES.get(head, head) + at + cutoff


def compute(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], names: list[str]) -> dict[str, float]:
    """Mean of each measure over the queries that have judgements, computed by ir-measures.

    A query of the qrels that the run does not answer counts as 0 (ir-measures leaves it out;
    we add it back, as trec_eval -c does), so a silent system is not rewarded."""
    import ir_measures

    try:
        measures = {name: ir_measures.parse_measure(_ir_name(name)) for name in names}
    except (ValueError, NameError, TypeError) as e:
        from qa.errors import QAError

        raise QAError(f"unknown measure in {' '.join(names)!r} ({e}); e.g. nDCG@10 R@1 MRR@10 P@5 AP") from None
    judged = {q for q, docs in qrels.items() if docs}
    qrel_list = [ir_measures.Qrel(q, d, int(rel)) for q, docs in qrels.items() for d, rel in docs.items()]
    run_list = [ir_measures.ScoredDoc(q, d, float(s)) for q, docs in run.items() if q in judged
                for d, s in docs.items()]
    per_query: dict[str, dict[str, float]] = {name: {} for name in names}
    by_measure = {m: name for name, m in measures.items()}
    for metric in ir_measures.iter_calc(list(measures.values()), qrel_list, run_list):
        per_query[by_measure[metric.measure]][metric.query_id] = metric.value
    return {name: (sum(values.values()) / len(judged) if judged else 0.0) for name, values in per_query.items()}


def read_trec_run(path) -> dict[str, dict[str, float]]:
    """A TREC run file (qid Q0 docid rank score tag) as {qid: {docid: score}}."""
    from qa.errors import InputError

    run: dict[str, dict[str, float]] = {}
    for number, line in _lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise InputError(str(path), f"expected 'qid Q0 docid rank score tag', got {len(parts)} fields", number)
        try:
            run.setdefault(parts[0], {})[parts[2]] = float(parts[4])
        except ValueError:
            raise InputError(str(path), f"score {parts[4]!r} is not a number", number) from None
    return run
