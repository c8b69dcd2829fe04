"""Escape sequences and bidi controls from files, names and questions never reach the terminal:
every command and output format, text formats replacing them, JSON writing them as \\uXXXX."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from conftest import BEIR

# C0 but tab and line feed, DEL, C1, and the bidi controls
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
EVIL = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202e\u2066\x7f"
ID = "evil" + EVIL + "doc"
QUESTION = "ritux" + EVIL + "imab rituximab myositis"


def assert_clean(text: str, what: str) -> None:
    found = RAW.findall(text)
    assert not found, f"{what}: {found!r} reached the output"


@pytest.fixture
def corpus(tmp_path):
    record = {"_id": ID, "title": "Rituximab " + EVIL + " in myositis",
              "text": "Rituximab " + EVIL + "helped patients with refractory myositis. It was safe.",
              "metadata": {"authors": ["Evil " + EVIL + "Author"], "journal": "J " + EVIL, "year": "2020",
                           "doi": "10.1000/" + EVIL}}
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps(record) + "\n" + BEIR.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["vancouver", "bibtex", "ris"])
def test_cite(cli, corpus, fmt):
    r = cli("cite", ID, "--format", fmt, "--corpus", str(corpus))
    assert r.code == 0 and "Rituximab" in r.out
    assert_clean(r.out, f"qa cite --format {fmt}")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "tsv", "trec"])
def test_batch(cli, corpus, tmp_path, fmt):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "q" + EVIL, "question": QUESTION}) + "\n", encoding="utf-8")
    r = cli("batch", str(questions), "--format", fmt, "--corpus", str(corpus))
    assert r.code == 0 and r.out
    assert_clean(r.out, f"qa batch --format {fmt}")
    if fmt == "jsonl":  # the same values, written as escapes
        result = json.loads(r.out)
        assert result["id"] == "q" + EVIL and result["hits"][0]["doc_id"] == ID
    elif fmt in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(r.out, newline=""), delimiter="\t" if fmt == "tsv" else ","))
        assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)
    else:
        assert all(len(line.split(" ")) == 6 for line in r.out.splitlines())


@pytest.mark.parametrize("args", [["ask", QUESTION], ["ask", QUESTION, "--json"], ["sources"], ["sources", "--json"],
                                  ["show", ID]])
def test_questions_and_documents(cli, corpus, args):
    r = cli(*args, "--corpus", str(corpus))
    assert r.code == 0
    assert_clean(r.out + r.err, " ".join(args[:1] + args[2:]))
    if "--json" in args:  # JSON keeps the values: the controls were escaped, not dropped
        rows = r.json()["hits"] if args[0] == "ask" else r.json()
        assert ID in {row["doc_id"] for row in rows}


def test_add_echoes_file_names_clean(cli, tmp_path):
    name = tmp_path / ("notes" + EVIL + "\nnext line.md")
    name.write_text("# Rituximab in myositis\n\nTwo patients improved on rituximab.\n", encoding="utf-8")
    for _ in range(2):  # added, then a duplicate: both lines name the file
        r = cli("add", str(name))
        assert r.code == 0
        assert_clean(r.out + r.err, "qa add")
        naming = [line for line in (r.out + r.err).splitlines() if "notes" in line]
        assert naming and all("next line.md" in line for line in naming)  # the name kept on its line
    r = cli("add", str(tmp_path / ("missing" + EVIL)))
    assert r.code == 1 and len(r.err.splitlines()) == 1
    assert_clean(r.err, "qa add (an error)")


def test_warnings_naming_files(cli, corpus, tmp_path):
    twin = tmp_path / ("twin" + EVIL + ".jsonl")
    twin.write_text(corpus.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    r = cli("sources", "--corpus", str(corpus), "--corpus", str(twin))
    assert r.code == 0 and "already in the corpus" in r.err
    assert_clean(r.err, "a warning")


def test_the_one_cleaning_function():
    from qa.cli.terminal import clean, clean_json

    text = "a\tb\nc" + EVIL + "\u200e\u200f\u061c\u202a\u2069"
    assert clean(text) == "a\tb\nc" + RAW.sub(" ", EVIL) + " " * 5 and not RAW.search(clean(text))
    dumped = json.dumps({"k": text}, ensure_ascii=False)
    assert not RAW.search(clean_json(dumped)) and json.loads(clean_json(dumped)) == {"k": text}
