"""The chat: every command through Chat.handle, and the prompt loop through prompt_toolkit's pipe input."""
from __future__ import annotations

import io
import json
import re
import sys
import threading
import time

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from qa.index.build import build
from qa.index.layout import Settings
from qa.index.reader import Index
from qa.search.engine import Engine
from qa.readers.corpus import bundled_corpus, corpus_files, read_documents
from qa.cli.chat import COMMANDS, Chat, ChatCompleter, open_history
from qa.home import state_dir
from qa.cli.terminal import Style, use_color

from conftest import BEIR, SEED_CITATION, SEED_DOI

TOP_KEYS = ["schema", "id", "question", "query", "answer", "confidence", "hits"]
QUESTION = "Is there reason to be optimistic for rituximab?"
DRUGS = "Which drugs give reason to be optimistic for nonresponding patients?"
REFERENCE_5 = "Lancet. 2003 Sep 20;362(9388):971-82 — reference 5 of " + SEED_CITATION
ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def memory_engine(paths: list[str]) -> Engine:
    """An engine on an index built in memory (nothing written anywhere)."""
    docs = read_documents(corpus_files(paths))
    built = build(docs, Settings())
    manifest = {"stats": built.stats, "settings": Settings().__dict__, "corpus": paths}
    return Engine(Index.from_data(built.data, manifest))


@pytest.fixture(scope="module")
def engine():
    return memory_engine([str(bundled_corpus())])


@pytest.fixture(scope="module")
def engine2():
    return memory_engine([str(bundled_corpus()), str(BEIR)])


@pytest.fixture(autouse=True)
def _home(qa_home):
    return qa_home


@pytest.fixture
def chat(engine):
    return Chat(engine)


def one_line(text: str) -> str:
    assert text and "\n" not in text, text
    return text


# ---------------------------------------------------------------- questions

def test_question_is_answered_like_ask(chat):
    out = chat.handle(QUESTION)
    assert out.startswith("Answer\n")
    assert "rituximab for nonresponding patients. [1]" in out
    assert "\nPassages\n[1] " in out and "\nSources\n[1] Ytterberg SR. Treatment" in out
    assert SEED_CITATION in " ".join(line.strip() for line in out.splitlines())
    assert not ESCAPE.search(out.replace("\n", ""))
    assert chat.last["question"] == chat.last["query"] == QUESTION


def test_output_fits_the_width(engine2):
    chat = Chat(engine2, width=60)
    out = chat.handle("Should folic acid supplementation continue in rheumatoid arthritis patients on methotrexate?")
    assert max(len(line) for line in out.splitlines()) <= 60


def test_styled_output_emphasises_query_terms_and_markers(engine):
    chat = Chat(engine, style=Style(True))
    out = chat.handle(QUESTION)
    assert "\x1b[1mrituximab\x1b[0m" in out and "\x1b[1moptimistic\x1b[0m" in out
    assert "\x1b[36m[1]\x1b[0m" in out


def test_follow_up_shows_the_effective_query_dimmed(engine):
    chat = Chat(engine, style=Style(True))
    chat.handle(QUESTION)
    out = chat.handle("what about tacrolimus?")
    first = out.splitlines()[0]
    assert first.startswith("\x1b[2msearched for: what about tacrolimus? (") and first.endswith(")\x1b[0m")
    context = chat.last["query"][len("what about tacrolimus? ("):-1].split()
    assert "rituximab" in context and "reason" not in context  # the topic, not the framing words
    assert chat.last["question"] == "what about tacrolimus?"
    assert "tacrolimus" in out


def test_follow_up_plain(chat):
    chat.handle(DRUGS)
    out = chat.handle("and the dose?")
    assert out.splitlines()[0].startswith("searched for: and the dose? (") and "nonresponding" in out.splitlines()[0]
    assert "high dose prednisone" in out


def test_new_forgets_the_context(chat):
    chat.handle(QUESTION)
    assert "New topic" in one_line(chat.handle("/new"))
    out = chat.handle("what about tacrolimus?")
    assert "searched for" not in out
    assert chat.last["query"] == "what about tacrolimus?"


def test_a_question_without_a_cue_stands_alone_and_one_that_finds_nothing_keeps_the_topic(chat):
    chat.handle(QUESTION)
    out = chat.handle("What is the capital of France?")
    assert "searched for" not in out and chat.last["query"] == "What is the capital of France?"
    assert "rituximab" in chat.handle("and tacrolimus?").splitlines()[0]  # the topic before France's


def test_a_standalone_question_gets_the_answer_qa_ask_gives(engine):
    chat = Chat(engine)
    chat.handle(QUESTION)  # a topic the next question must not lean on
    for question in ["What treatments are options when standard therapy fails?", "what is the dose of mycophenolate?"]:
        chat.handle(question)
        alone = engine.ask(question, k=chat.k)
        assert chat.last["query"] == alone["query"] and chat.last["answer"] == alone["answer"]
        assert chat.last["missing_terms"] == alone["missing_terms"]


@pytest.mark.parametrize("line", ["help", "HELP", "Help?"])
def test_bare_help_is_the_command(chat, line):
    assert chat.handle(line) == chat.handle("/help") and chat.transcript == []


@pytest.mark.parametrize("line", ["quit", "Exit", "EXIT."])
def test_bare_quit_and_exit_leave(chat, line):
    chat.handle(line)
    assert chat.done and chat.transcript == []


def test_spelling_corrections_are_noted(engine):
    out = Chat(engine).handle("Is there reason to be optimistic for rituxmab?")
    assert out.splitlines()[0] == ("searched for: Is there reason to be optimistic for rituximab? "
                                   "(rituxmab → rituximab)")
    assert "rituximab" in out.split("Answer", 1)[1]


def test_no_corrections_no_note(chat):
    out = chat.handle(QUESTION)
    assert not chat.last.get("corrections") and "searched for" not in out


# ---------------------------------------------------------------- commands

def test_help_lists_every_command(chat):
    out = chat.handle("/help")
    for name in COMMANDS:
        assert name in out
    assert "Ctrl-R" in out and "Tab" in out


def test_sources_lists_the_documents(engine2):
    out = Chat(engine2, width=1000).handle("/sources")  # wide: each citation on one line
    head, *lines = out.splitlines()
    assert head.startswith("9 documents, ")
    assert [int(line.split(".", 1)[0]) for line in lines if line[:1].isdigit()] == list(range(1, 10))
    assert sum(line.endswith(". " + SEED_CITATION) for line in lines) == 1
    assert sum("PMID: 10135926" in line for line in lines) == 1


def test_a_number_names_an_item_of_the_list_printed_last(engine2):
    chat = Chat(engine2, width=1000)
    chat.handle("Is methotrexate an option?")
    first = chat.last["hits"][0]["doc_id"]
    assert chat.handle("/cite 1") == chat.last["hits"][0]["citation"].split(" — ")[0]
    listed = chat.handle("/sources").splitlines()
    assert chat.handle("/cite 2") == listed[2].split(". ", 1)[1]  # document 2 of the list
    chat.handle("/more")  # passages again: N is a passage
    assert chat.handle("/show 1").splitlines()[0] == f"Showing {first}, the document of passage [1]:"


def test_cite_vancouver_is_the_hits_citation(chat):
    chat.handle(QUESTION)
    assert chat.handle("/cite 1") == chat.handle("/cite 1 vancouver") == SEED_CITATION


def test_cite_bibtex_and_ris(chat):
    chat.handle(QUESTION)
    bib = chat.handle("/cite 1 bibtex")
    assert bib.startswith("@article{")
    assert "title = {Treatment of refractory polymyositis and dermatomyositis}" in bib
    assert f"doi = {{{SEED_DOI}}}" in bib
    ris = chat.handle("/cite 1 RIS")
    assert ris.startswith("TY  - JOUR") and "AU  - Ytterberg, Steven R" in ris and ris.endswith("ER  - ")


def test_cite_of_a_reference_hit_cites_the_reference(chat):
    chat.handle("Lancet 2003")
    assert chat.handle("/cite 1") == REFERENCE_5
    bib = chat.handle("/cite 1 bibtex")
    # the entry gives no title or authors: an @misc whose note is the reference as printed
    assert bib.startswith("@misc{ytterberg2006treatmentref5,\n")
    assert "note = {Lancet. 2003 Sep 20;362(9388):971-82}" in bib and "year = {2003}" in bib
    assert "author" not in bib and "title" not in bib


def test_cite_unknown_format(chat):
    chat.handle(QUESTION)
    assert "vancouver, bibtex, ris" in one_line(chat.handle("/cite 1 apa"))


@pytest.mark.parametrize("line,expected", [
    ("/cite", "Which one? /cite N|ID [vancouver|bibtex|ris]. N is a number of the list printed last"),
    ("/show", "Which one? /show N|ID. N is a number of the list printed last"),
    ("/cite 0", "No passage 0: the last answer has passages 1–{n}."),
    ("/cite 9", "No passage 9: the last answer has passages 1–{n}."),
    ("/show 7", "No passage 7: the last answer has passages 1–{n}."),
    ("/explain -1", "No passage -1: the last answer has passages 1–{n}."),
    ("/cite x", "No document 'x' in the corpus (/sources lists them)."),
    ("/explain two", "Not a passage number: two. /explain N (1–{n})"),
])
def test_a_bad_number_or_id_gets_a_one_line_hint(chat, line, expected):
    chat.handle(QUESTION)
    out = chat.handle(line)
    assert "\n" not in out
    assert out.startswith(expected.format(n=len(chat.last["hits"]))), out


@pytest.mark.parametrize("line", ["/cite 1", "/show 1", "/explain 1", "/more"])
def test_commands_before_any_question_say_so(chat, line):
    assert "question" in one_line(chat.handle(line)).lower()


def test_show_prints_the_whole_document(chat):
    chat.handle(QUESTION)
    out = chat.handle("/show 1")
    assert out.startswith(f"Showing {SEED_DOI}, the document of passage [1]:\n"
                          "Treatment of refractory polymyositis and dermatomyositis\nSteven R Ytterberg\n")
    assert "Curr Rheumatol Rep. 2006 Jun;8(3):167-73" in out and SEED_DOI in out
    assert "Polymyositis (PM) and dermatomyositis (DM) are autoimmune" in out
    assert "References (5)" in out and "5. Lancet. 2003 Sep 20;362(9388):971-82" in out


def test_long_text_is_paged_with_more(engine):
    chat = Chat(engine, height=10)
    chat.handle(QUESTION)
    first = chat.handle("/show 1")
    assert len(first.splitlines()) == 10
    assert first.splitlines()[-1].endswith("more lines: /more")
    pages = [first]
    while chat.pending:
        pages.append(chat.handle("/more"))
    whole = "\n".join(p for p in pages)
    assert "5. Lancet. 2003" in whole and len(pages) > 2
    assert chat.handle("/more").startswith("No more passages")


def test_more_shows_the_next_passages(chat):
    chat.handle("/k 1")
    first = chat.handle(DRUGS)
    assert "[1]" in first and "\n[2]" not in first
    assert first.splitlines()[-1].startswith("/more")
    second = chat.handle("/more")
    assert second.startswith("Passages\n[2] ") and "Answer" not in second
    assert len(chat.last["hits"]) == 2
    assert "No more passages" in one_line(chat.handle("/more"))


def test_passages_that_do_not_fit_wait_for_more(engine2):
    chat = Chat(engine2, width=80, height=24)
    out = chat.handle("Should folic acid supplementation continue in rheumatoid arthritis patients on methotrexate?")
    shown = re.findall(r"^\[(\d+)\]", out.split("Sources")[0], re.M)
    cited = chat.last["answer"]["citations"]
    assert max(cited) <= len(shown) < 5  # trimmed, but the passages the answer cites are there
    assert "/more" in out.splitlines()[-1]
    more = chat.handle("/more")
    assert re.findall(r"^\[(\d+)\]", more.split("Sources")[0], re.M)[0] == str(len(shown) + 1)


def test_k_sets_the_number_of_passages(engine2):
    chat = Chat(engine2)
    assert "k = 2" in one_line(chat.handle("/k 2"))
    chat.handle("Is amoxapine an atypical antipsychotic judged by 5-HT2 and D2 occupancy on PET?")
    assert len(chat.last["hits"]) == 2
    assert "k = 2" in one_line(chat.handle("/k"))


@pytest.mark.parametrize("value", ["0", "x", "101", "-3"])
def test_bad_k_is_one_line(chat, value):
    assert "1 to 100" in one_line(chat.handle(f"/k {value}"))
    assert chat.k == 5


def test_explain_names_the_query_terms(chat):
    chat.handle(QUESTION)
    first = chat.last["hits"][0]["passage_id"]
    out = chat.handle("/explain 1")
    assert out.startswith(f"Why [1] {first} ranks #1")
    for word in ("rituximab", "optimistic", "reason"):
        assert word in out
    for part in ("BM25", "TF-IDF cosine", "fused score", "fusion weight 0.5", "rank"):
        assert part in out
    info = chat.engine.explain(QUESTION, first)
    assert f"{info['score']:.3f}" in out and f"{info['tfidf']:.3f}" in out


def test_explain_of_a_follow_up_uses_the_searched_query(chat):
    chat.handle(QUESTION)
    chat.handle("what about tacrolimus?")
    assert "tacrolimus" in chat.handle("/explain 1")


def test_json_toggle_prints_parseable_json(chat):
    assert "on" in one_line(chat.handle("/json"))
    result = json.loads(chat.handle(QUESTION))
    assert list(result)[:7] == TOP_KEYS
    assert result["schema"] == 1 and result["question"] == QUESTION
    assert result["hits"][0]["citation"] == SEED_CITATION
    follow = json.loads(chat.handle("what about tacrolimus?"))
    assert follow["question"] == "what about tacrolimus?" and follow["query"].startswith("what about tacrolimus? (")
    assert "off" in one_line(chat.handle("/json"))
    assert chat.handle(QUESTION).startswith("Answer")


def test_save_writes_markdown_with_citations(chat, tmp_path):
    chat.handle(QUESTION)
    chat.handle("what about tacrolimus?")
    chat.handle("Lancet 2003")
    path = tmp_path / "talk.md"
    assert str(path) in one_line(chat.handle(f"/save {path}"))
    md = path.read_text(encoding="utf-8")
    assert md.startswith("# ")
    assert f"## 1. {QUESTION}" in md and "## 2. what about tacrolimus?" in md
    assert "*Searched for:* what about tacrolimus? (optimistic rituximab)" in md
    assert "**Answer.**" in md and "[1]" in md
    assert f"- [1] {SEED_CITATION}" in md
    assert "- [1] " + REFERENCE_5 in md


def test_save_problems_are_one_line(chat, tmp_path):
    assert "ask a question" in one_line(chat.handle(f"/save {tmp_path / 'x.md'}"))
    chat.handle(QUESTION)
    assert "FILE" in one_line(chat.handle("/save"))
    assert one_line(chat.handle(f"/save {tmp_path / 'no' / 'such' / 'dir.md'}")).startswith("Cannot write")


def test_save_never_replaces_a_file(chat, tmp_path):
    chat.handle(QUESTION)
    path = tmp_path / "notes.md"
    path.write_text("the user's notes", encoding="utf-8")
    reply = one_line(chat.handle(f"/save {path}"))
    assert reply == f"{path} exists; /save! {path} replaces it."
    assert path.read_text(encoding="utf-8") == "the user's notes"


def test_piped_questions_cannot_replace_a_file_and_go_on(tmp_path):
    """`qa < questions.txt`: a /save or /save! line over an existing file changes nothing, and the
    lines after it are still answered."""
    from conftest import run_subprocess

    path = tmp_path / "precious.txt"
    path.write_text("keep me", encoding="utf-8")
    lines = f"{QUESTION}\n/save {path}\n/save! {path}\n/cite 1\n"
    r = run_subprocess([], tmp_path / "home", stdin=lines.encode())
    out = r.stdout.decode()
    assert r.returncode == 0 and path.read_text(encoding="utf-8") == "keep me"
    assert f"{path} exists; /save! {path} replaces it." in out
    assert "/save! replaces a file only when typed at a terminal; nothing saved." in out
    assert SEED_CITATION in out.split("nothing saved.")[1], "the next command ran"


def test_save_bang_at_the_terminal_replaces_the_file(chat, tmp_path):
    path = tmp_path / "talk.md"
    path.write_text("an older transcript", encoding="utf-8")
    out = run_chat(chat, [QUESTION + "\r", f"/save! {path}\r", "\x04"])
    assert f"Saved 1 question with their answers and sources to {path}." in out
    assert path.read_text(encoding="utf-8").startswith("# ") and not list(tmp_path.glob(".tmp-*"))


def test_quit_and_exit(chat):
    assert chat.handle("/quit") == "" and chat.done
    other = Chat(chat.engine)
    other.handle("/exit")
    assert other.done


def test_unknown_command_is_a_one_line_hint(chat):
    assert "/help" in one_line(chat.handle("/frobnicate"))
    assert "Did you mean /cite?" in one_line(chat.handle("/cit 1"))


def test_empty_line_says_nothing(chat):
    assert chat.handle("") == chat.handle("   ") == ""


# ---------------------------------------------------------------- no raw control characters

def test_control_characters_in_a_question_do_not_come_out(engine):
    for style in (Style(False), Style(True)):
        chat = Chat(engine, style=style)
        out = chat.handle("Is there reason\x1b[31m to be optimistic\x07 for rituximab\x9b2J?")
        assert "\x1b[31m" not in out and "\x07" not in out and "\x9b" not in out
        assert "Answer" in out
        assert chat.handle("/frob\x1b]0;owned\x07") .count("\x1b") == 0
        chat.handle("/json")
        text = chat.handle("rituximab \x1b[2J\x9b optimistic")
        assert not ESCAPE.search(text.replace("\n", ""))
        assert json.loads(text)["question"] == "rituximab  [2J  optimistic"


def test_control_characters_in_the_corpus_do_not_come_out(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    record = {"_id": "1", "title": "Evil \x1b[31mtitle\x1b[0m about rituximab",
              "text": "Rituximab helps\x07 in myositis\x9b. Another sentence about rituximab dosing."}
    corpus.write_text(json.dumps(record) + "\n", encoding="utf-8")
    chat = Chat(memory_engine([str(corpus)]), style=Style(True))
    outputs = [chat.handle("does rituximab help in myositis?"), chat.handle("/show 1"), chat.handle("/sources"),
               chat.handle("/cite 1 bibtex"), chat.handle("/explain 1")]
    for out in outputs:
        assert "\x07" not in out and "\x9b" not in out and "\x1b[31m" not in out


# ---------------------------------------------------------------- non-terminals and NO_COLOR

def test_use_color_needs_a_terminal_and_no_NO_COLOR(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert use_color(Tty()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())


def test_piped_chat_prints_plain_answers(cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        f"{QUESTION}\nwhat about tacrolimus?\n/cite 1 ris\n/quit\nnever asked\n".encode())))
    r = cli("chat")
    assert r.code == 0
    assert "\x1b" not in r.out and "qa>" not in r.out
    assert "rituximab for nonresponding patients. [1]" in r.out
    assert "searched for: what about tacrolimus? (" in r.out
    assert "TY  - JOUR" in r.out and "never asked" not in r.out


def test_no_color_chat_run_has_no_escape_codes_in_answers(engine, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stdout = Tty()
    chat = Chat(engine, style=Style(use_color(stdout)))
    run_chat(chat, [QUESTION + "\r", "/cite 1\r", "\x04"], stdout)
    assert "Answer" in stdout.getvalue() and "\x1b" not in stdout.getvalue()


# ---------------------------------------------------------------- the prompt loop (pipe input)

def run_chat(chat: Chat, keys: list[str], stdout=None, pause: float = 0.15, limit: float = 30.0) -> str:
    """Chat.run on a pipe input fed key by key (pauses let completion and suggestion, which run
    in the background, finish), with a DummyOutput; returns what the chat printed."""
    stdout = stdout if stdout is not None else io.StringIO()
    finished = threading.Event()
    with create_pipe_input() as pipe:
        def feed():
            for key in keys:
                time.sleep(pause)
                if finished.is_set():  # the chat ended: what is left is never read
                    return
                pipe.send_text(key)
            if not finished.wait(limit):  # never hang the test run: abandon the line and leave
                while not finished.is_set():
                    pipe.send_text("\x03\x04")
                    time.sleep(0.5)

        thread = threading.Thread(target=feed, daemon=True)
        thread.start()
        started = time.monotonic()
        try:
            chat.run(input=pipe, output=DummyOutput(), stdout=stdout, banner="qa banner")
        finally:
            finished.set()
            thread.join(5)  # no key may reach a later test's pipe (its descriptors may be these)
        assert time.monotonic() - started < limit, "the chat did not end"
    return stdout.getvalue()


def test_run_answers_cites_and_leaves_on_ctrl_d(chat, qa_home):
    out = run_chat(chat, [QUESTION + "\r", "/cite 1 bibtex\r", "\x04"])
    assert out.startswith("qa banner\n")
    assert "Ytterberg SR" in out and "@article{" in out
    history = (qa_home / "history").read_text(encoding="utf-8")
    assert "+" + QUESTION in history and "+/cite 1 bibtex" in history
    assert state_dir() == qa_home


def test_a_session_transcript_follows_up_only_on_a_cue(engine, qa_home):
    # a conversation as a user types it, through prompt_toolkit: which questions lean on which
    chat = Chat(engine)
    lines = [DRUGS, "what about tacrolimus?", "which reference is from the Lancet?", "who wrote it",
             "what are the side effects of rituximab?", "and the dose?", "help", "quit", "never asked"]
    out = run_chat(chat, [line + "\r" for line in lines])
    searched = {t["question"]: t["query"] for t in chat.transcript}
    assert list(searched) == lines[:6], "help and quit are commands, and nothing is read after quit"
    assert searched["what about tacrolimus?"].startswith("what about tacrolimus? (")
    assert "nonresponding" in searched["what about tacrolimus?"]
    # no cue: standalone, with nothing of the questions before
    for question in ["which reference is from the Lancet?", "what are the side effects of rituximab?"]:
        assert searched[question] == question
    assert searched["who wrote it"] == "who wrote it (lancet)"  # one turn: the Lancet, not the drugs
    assert searched["and the dose?"] == "and the dose? (rituximab)"
    effects = chat.transcript[4]
    assert effects["answer"] is None and effects["missing_terms"]
    assert "Nothing in your library mentions side effects with rituximab" in out
    assert "/cite N|ID" in out  # the help


def test_run_ctrl_c_abandons_the_line(chat, qa_home):
    run_chat(chat, ["abandoned words", "\x03", "/quit\r"])
    assert chat.transcript == [] and chat.done
    assert "abandoned" not in (qa_home / "history").read_text(encoding="utf-8")


def test_run_tab_completes_a_command_and_a_corpus_word(chat):
    out = run_chat(chat, ["Is there reason to be optimistic for ritux", "\t", "?\r", "/ci", "\t", " 1 bib", "\t",
                          "\r", "\x04"])
    assert chat.transcript[0]["question"] == QUESTION
    assert "@article{" in out


def test_run_suggests_from_history_and_ctrl_r_searches_it(engine, qa_home):
    run_chat(Chat(engine), [QUESTION + "\r", "\x04"])
    later = Chat(engine)  # a new session: the history comes from the file
    run_chat(later, ["Is there", "\x1b[C", "\r", "\x12", "optimis", "\r", "/quit\r"])
    assert [r["question"] for r in later.transcript] == [QUESTION, QUESTION]


def test_history_in_memory_when_the_state_directory_is_not_writable(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("QA_HOME", str(blocker / "home"))
    history = open_history()
    assert type(history).__name__ == "InMemoryHistory"
    assert "history" in capsys.readouterr().err


# ---------------------------------------------------------------- completion

def completions(engine, text: str) -> list[str]:
    completer = ChatCompleter(engine.index)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]


def test_completes_commands(engine):
    assert completions(engine, "/ci") == ["/cite"]
    assert set(completions(engine, "/")) >= set(COMMANDS)
    assert completions(engine, "/cite 1 bi") == ["bibtex"]
    assert completions(engine, "/cite 1 ") == ["vancouver", "bibtex", "ris"]


def test_the_completion_of_k_says_the_chat_s_current_k(engine):
    chat = Chat(engine)
    chat.handle("/k 7")
    with create_pipe_input() as pipe:
        completer = chat.session(input=pipe, output=DummyOutput(), history=InMemoryHistory()).completer
    (k,) = [c for c in completer.get_completions(Document("/"), CompleteEvent()) if c.text == "/k"]
    assert k.display_meta_text == "show N passages an answer (now 7)"


def test_completes_corpus_words(engine):
    assert completions(engine, "Is ritux") == ["rituximab"]
    assert completions(engine, "what about tacro") == ["tacrolimus"]
    assert "polymyositis" in completions(engine, "polymy")
    assert completions(engine, "Ritux") == ["Rituximab"]
    assert completions(engine, "zzz") == [] and completions(engine, "rituximab ") == []


def test_completion_start_position_replaces_the_word(engine):
    completer = ChatCompleter(engine.index)
    (c,) = completer.get_completions(Document("for ritux"), CompleteEvent())
    assert c.start_position == -len("ritux")


def test_completion_prefers_frequent_words(engine2):
    found = completions(engine2, "meth")
    assert "methotrexate" in found and found[0] == "methotrexate"
