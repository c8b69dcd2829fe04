"""The interactive chat: `qa` (or `qa chat`) on a terminal, or questions line by line from a pipe.

`Chat.handle(line)` turns one line (a question or a /command) into the text to print; it needs
no terminal, so everything the chat says is tested through it. `Chat.run()` is the prompt loop
(prompt_toolkit: persistent history, Ctrl-R search, suggestions from history, Tab completion of
commands and corpus words); `Chat.run_lines()` is the plain loop for standard input that is not
a terminal (no prompt, no colour).
"""
from __future__ import annotations

import difflib

import sys
from pathlib import Path
from typing import Callable, Iterable

from prompt_toolkit.completion import Completer, Completion

from qa import files
from qa.cite import CITATION_FORMATS, bibtex_reference, reference_document
from qa.errors import QAError
from qa.search.followup import effective_query, next_topic
from qa.models import Document
from qa.cli.render import (DEFAULT_WIDTH, render_document, wrap, render_explain, render_json, render_markdown,
                     render_result, render_sources)
from qa.cli.terminal import Style, clean

DEFAULT_K = 5
MAX_K = 100  # the engine reranks 100 candidates: there are never more hits

# name -> (usage, what it does); /help prints them in this order and Tab completes the names.
COMMANDS: dict[str, tuple[str, str]] = {
    "/help": ("/help", "this list"),
    "/sources": ("/sources", "the documents in the corpus, numbered"),
    "/cite": ("/cite N|ID [vancouver|bibtex|ris]", "the citation of item N (below) or of any document id"),
    "/show": ("/show N|ID", "the whole document of item N (below) or of any document id"),
    "/more": ("/more", "the next passages (or the rest of a long text)"),
    "/k": ("/k N", "show N passages an answer (now {k})"),
    "/explain": ("/explain N", "why passage N of the last answer ranked where it did"),
    "/json": ("/json", "toggle raw JSON output (schema 1)"),
    "/save": ("/save FILE", "save the conversation so far as Markdown, with its sources (a new file; "
                            "/save! FILE replaces one)"),
    "/new": ("/new", "new topic: forget the previous question"),
    "/quit": ("/quit", "leave (also /exit or Ctrl-D)"),
}
# What a number N of /cite and /show refers to, and what a question may hold besides words.
NUMBERS = "N is a number of the list printed last: a passage of the last answer, or a document after /sources."
INLINE_FILTERS = ("Filters inside a question: year:2005..2010 author:NAME journal:TEXT section:NAME "
                  "source:ID (a key twice: either value; two keys: both).")
ALIASES = {"/exit": "/quit", "/q": "/quit", "/?": "/help"}
BARE_COMMANDS = ("help", "quit", "exit")  # words that are commands even without their slash
KEYS = [("Tab", "complete a command or a word of the corpus"),
        ("Ctrl-R", "search the history; → or Ctrl-E takes the grey suggestion"),
        ("Ctrl-C", "abandon the line"), ("Ctrl-D", "leave")]


def known_terms(index) -> Callable[[str], bool]:
    """term -> whether the corpus has it as a content term (what makes a question self-standing)."""
    cache: dict[str, bool] = {}

    def known(term: str) -> bool:
        if term not in cache:
            cache[term] = index.is_content(term)
        return cache[term]

    return known


class Chat:
    """One conversation with an engine: its state and the text each line gets in reply."""

    def __init__(self, engine, *, style: Style | None = None, width: int | Callable[[], int] = DEFAULT_WIDTH,
                 height: int | None | Callable[[], int | None] = None, k: int = DEFAULT_K,
                 about: str = "", wrap_sources: bool = True, filters=None):
        self.engine = engine
        self.filters = filters  # from the command line; inline filters in a question add to them
        self.style = style or Style(False)
        self._width = width if callable(width) else (lambda: width)
        self._height = height if callable(height) else (lambda: height)
        self.k = k
        self.about = about  # the banner: what the corpus is
        self.wrap_sources = wrap_sources
        self.known = known_terms(engine.index)
        self.json = False
        self.last: dict | None = None  # the last result (its hits grow with /more)
        self.searched: str | None = None  # the query the last result was asked with
        self.shown = 0  # passages of the last result shown so far
        self.requested = 0  # passages asked of the engine for it (fewer came: there are no more)
        self.topic: str | None = None  # what follow-ups lean on (qa/search/followup.py); None after /new
        self.transcript: list[dict] = []
        self.pending: list[str] = []  # lines of a long text not shown yet (/more shows them)
        self.listed: str | None = None  # what a number N means: "passages" (an answer) or "sources"
        self.done = False
        # /save! replaces a file only when a person typed it: lines piped in (a question file) could
        # otherwise overwrite any file the user can write
        self.at_terminal = False

    # ------------------------------------------------------------ sizes and paging

    @property
    def width(self) -> int:
        return self._width()

    @property
    def height(self) -> int | None:
        return self._height()

    def hint(self, text: str) -> str:
        return "\n".join(self.style.dim(line) for line in wrap(text, self.width))

    def paged(self, text: str) -> str:
        """A long text, cut to the terminal's height; the rest waits for /more."""
        lines = text.split("\n")
        height = self.height
        if not height or len(lines) <= height:
            self.pending = []
            return text
        room = max(height - 1, 1)
        self.pending = lines[room:]
        return "\n".join(lines[:room] + [self.hint(f"… {len(self.pending)} more lines: /more")])

    # ------------------------------------------------------------ lines

    def handle(self, line: str) -> str:
        """The reply to one line: a question or a /command. Sets self.done on /quit."""
        line = clean(line).strip()
        if not line:
            return ""
        if line.rstrip("?!. ").lower() in BARE_COMMANDS:  # "help", "Quit", "exit." typed without the slash
            return self.command("/" + line.rstrip("?!. ").lower())
        if line.startswith("/"):
            return self.command(line)
        return self.ask(line)

    def ask(self, question: str) -> str:
        self.pending = []
        query = effective_query(question, self.topic, self.known)
        result = self.engine.ask(query, k=self.k, filters=self.filters)
        result["question"] = question  # what was typed; "query" says what was searched
        self.last, self.searched, self.shown, self.requested = result, query, 0, self.k
        self.listed = "passages"
        self.transcript.append(result)
        if result["hits"]:
            self.topic = next_topic(question, self.topic, self.known)
        if self.json:
            self.shown = len(result["hits"])
            return render_json(result)
        return self.show_hits(1)

    def _render(self, first: int, last: int) -> str:
        return render_result(self.last, self.style, self.width, first=first, last=last,
                             answer=first == 1, note=first == 1, wrap_sources=self.wrap_sources)

    def show_hits(self, first: int) -> str:
        """Hits first.. of the last result, as many as fit the terminal, and a /more hint."""
        hits = self.last["hits"]
        last = len(hits)
        text = self._render(first, last)
        height = self.height
        # the passages the answer cites stay on its page, even past the terminal's height
        cited = max((self.last["answer"] or {}).get("citations") or [0]) if first == 1 else 0
        if height:
            while last > max(first, cited) and text.count("\n") + 2 > height:
                last -= 1
                text = self._render(first, last)
        self.shown = max(self.shown, last)
        if hits and (last < len(hits) or self.requested <= len(hits) < MAX_K):
            text += "\n" + self.hint(f"/more: passages after [{last}] · /cite N · /show N · /explain N")
        return text

    # ------------------------------------------------------------ commands

    def command(self, line: str) -> str:
        name, *args = line.split()
        name = ALIASES.get(name.lower(), name.lower())
        if name == "/save!":
            return self.cmd_save(args, replace=True)
        method = getattr(self, "cmd_" + name[1:], None) if name in COMMANDS else None
        if method is None:
            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            maybe = f" Did you mean {close[0]}?" if close else ""
            return f"Unknown command {name}.{maybe} /help lists the commands."
        if name != "/more":
            self.pending = []
        return method(args)

    def _passage(self, args: list[str], command: str) -> tuple[dict | None, str]:
        """The hit named by N in args, or (None, a one-line message)."""
        usage = COMMANDS[command][0]
        if self.last is None:
            return None, f"No answer yet: ask a question, then {usage}."
        hits = self.last["hits"]
        if not hits:
            return None, "The last question has no passages."
        if not args:
            return None, f"Which passage? {usage} (1–{len(hits)})"
        try:
            n = int(args[0].strip("[]"))
        except ValueError:
            return None, f"Not a passage number: {args[0]}. {usage} (1–{len(hits)})"
        if not 1 <= n <= len(hits):
            return None, f"No passage {n}: the last answer has passages 1–{len(hits)}."
        return hits[n - 1], ""

    def _listed(self) -> int:
        """How many items the list printed last has (what a number N can name)."""
        if self.listed == "sources":
            return self.engine.index.n_documents
        return len(self.last["hits"]) if self.listed == "passages" and self.last else 0

    def _target(self, args: list[str], command: str) -> tuple[Document | None, dict | None, str]:
        """The document that N or ID in args names, with the hit N is (None for a document of
        /sources or an id), and how to say which it is; or (None, None, a one-line message).
        A number is an item of the list printed last when it has one so numbered, else an id
        (PMIDs are numbers too)."""
        from qa.search import lookup

        usage = COMMANDS[command][0]
        if not args:
            return None, None, f"Which one? {usage}. {NUMBERS}"
        number = args[0].strip("[].")
        if number.isdigit() and len(number) < 10 and 1 <= int(number) <= self._listed():
            n = int(number)
            if self.listed == "sources":
                doc = self.engine.index.document(n - 1)
                return doc, None, f"{clean(doc.doc_id)}, document {n} of /sources"
            hit = self.last["hits"][n - 1]
            doc = self.engine.document(hit["doc_id"])
            if doc is None:
                return None, None, f"The document {clean(hit['doc_id'])} is not in the index."
            return doc, hit, f"{clean(doc.doc_id)}, the document of passage [{n}]"
        catalogue = lookup.index_catalogue(self.engine.index)
        found = lookup.locate(catalogue, args[0])
        if found >= 0:
            doc = catalogue.document(found)
            return doc, None, clean(doc.doc_id)
        if not number.isdigit():
            message = clean(lookup.not_found(catalogue, args[0], "in the corpus", "/sources lists them"))
            return None, None, message[:1].upper() + message[1:] + "."
        if self.listed == "sources":
            message = f"No document {number}: /sources listed documents 1–{self._listed()}."
        else:
            message = self._passage(args, command)[1]
        close = lookup.suggestions(catalogue, number)  # a PMID with a slip in it, maybe
        return None, None, message + (f" Did you mean the id {' or '.join(close)}?" if close else "")

    def cmd_help(self, args) -> str:
        st = self.style
        rows = [(usage, what.format(k=self.k)) for usage, what in COMMANDS.values()]
        wide = max(len(u) for u, _ in rows)
        out = [st.bold("Ask a question in plain English. A follow-up continues the topic of the one "
                       "before when it says so: it opens with \"and\", \"what about\", \"also\", or points back "
                       "(\"it\", \"they\", \"this\"); any other question stands alone.")]
        out += [f"  {st.accent(u.ljust(wide))}  {w}" for u, w in rows]
        out += [f"  {st.accent(key.ljust(wide))}  {what}" for key, what in KEYS]
        out += wrap(NUMBERS, self.width) + wrap(INLINE_FILTERS, self.width)
        return "\n".join(out)

    def cmd_sources(self, args) -> str:
        index = self.engine.index
        docs = [index.document(i) for i in range(index.n_documents)]
        self.listed = "sources"
        return self.paged(render_sources(docs, self.style, self.width, index.manifest["stats"]["passages"]))

    def cmd_cite(self, args) -> str:
        doc, hit, message = self._target(args, "/cite")
        if doc is None:
            return message
        fmt = args[1].lower() if len(args) > 1 else "vancouver"
        if fmt not in CITATION_FORMATS:
            return f"Unknown format {fmt}: {', '.join(CITATION_FORMATS)}."
        ref = self._reference(hit, doc) if hit is not None else None
        if ref is None:
            return clean(CITATION_FORMATS[fmt](doc))
        if fmt == "vancouver":
            return clean(hit["citation"])
        return clean(bibtex_reference(ref, doc) if fmt == "bibtex" else CITATION_FORMATS[fmt](reference_document(ref, doc)))

    def _reference(self, hit: dict, doc: Document):
        """The reference-list entry a hit is, or None for a hit of the document's own text."""
        p = self.engine.passage_index(hit["passage_id"])
        n = int(self.engine.index.passages.ref[p]) if p >= 0 else 0
        return doc.references[n - 1] if 0 < n <= len(doc.references) else None

    def cmd_show(self, args) -> str:
        doc, _, which = self._target(args, "/show")
        if doc is None:
            return which
        return self.paged(self.hint(f"Showing {which}:") + "\n" + render_document(doc, self.style, self.width))

    def cmd_more(self, args) -> str:
        if self.pending:
            lines, self.pending = self.pending, []
            return self.paged("\n".join(lines))
        if self.last is None:
            return "No answer yet: ask a question first."
        hits = self.last["hits"]
        if not hits:
            return "The last question has no passages."
        self.listed = "passages"  # what follows is passages of the last answer again
        if self.shown < len(hits) and not self.json:
            return self.show_hits(self.shown + 1)
        self.requested = min(len(hits) + self.k, MAX_K)
        more = self.engine.ask(self.searched, k=self.requested, filters=self.filters)["hits"] if len(hits) < MAX_K else hits
        if len(more) <= len(hits):
            return "No more passages match this question."
        self.last["hits"] = more
        if self.json:
            self.shown = len(more)
            return render_json(self.last)
        return self.show_hits(len(hits) + 1)

    def cmd_k(self, args) -> str:
        if not args:
            return f"k = {self.k}: an answer shows up to {self.k} passages. /k N changes it."
        try:
            k = int(args[0])
        except ValueError:
            k = 0
        if not 1 <= k <= MAX_K:
            return f"k must be a whole number from 1 to {MAX_K}, not {args[0]}."
        self.k = k
        return f"k = {k}: the next answers show up to {k} passage{'s' if k != 1 else ''}."

    def cmd_explain(self, args) -> str:
        hit, message = self._passage(args, "/explain")
        if hit is None:
            return message
        info = self.engine.explain(self.searched, hit["passage_id"])
        if info is None:
            return f"The passage {hit['passage_id']} is not in the index."
        return render_explain(hit, info, self.searched, self.style, self.width)

    def cmd_json(self, args) -> str:
        self.json = not self.json
        return ("JSON output on: answers print the result as JSON (schema 1). /json turns it off."
                if self.json else "JSON output off.")

    def cmd_save(self, args, replace: bool = False) -> str:
        if not args:
            return "Where to? /save FILE"
        if replace and not self.at_terminal:
            return "/save! replaces a file only when typed at a terminal; nothing saved."
        if not self.transcript:
            return "Nothing to save yet: ask a question first."
        path = Path(" ".join(args)).expanduser()
        text = render_markdown(self.transcript, about=self.about or None)
        try:
            if replace:
                files.write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
            else:  # "x" creates the file and fails if it exists, in one step: never over a file by accident
                with open(path, "x", encoding="utf-8") as f:
                    f.write(text)
        except FileExistsError:
            return f"{clean(str(path))} exists; /save! {clean(str(path))} replaces it."
        except OSError as e:
            return f"Cannot write {clean(str(path))}: {e.strerror or e}."
        n = len(self.transcript)
        return f"Saved {n} question{'s' if n != 1 else ''} with their answers and sources to {clean(str(path))}."

    def cmd_new(self, args) -> str:
        self.topic, self.last, self.searched, self.shown, self.listed = None, None, None, 0, None
        return "New topic: the next question stands on its own."

    def cmd_quit(self, args) -> str:
        self.done = True
        return ""

    # ------------------------------------------------------------ loops

    def reply(self, line: str) -> str:
        """handle(), but a question that fails gets a one-line error and the conversation goes on."""
        try:
            return self.handle(line)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # like `qa batch`: one bad question must not end the session
            return f"qa: error: {clean(str(e)) if isinstance(e, QAError) else f'{type(e).__name__}: {clean(str(e))}'}"

    def run_lines(self, lines: Iterable[str], out=None) -> None:
        """Questions (and commands) one a line, answers printed plain: for standard input that is
        not a terminal (`echo "question" | qa`)."""
        out = out or sys.stdout
        first = True
        for line in lines:
            text = self.reply(line)
            if text:
                out.write(("" if first else "\n") + text + "\n")
                out.flush()
                first = False
            if self.done:
                break

    def session(self, input=None, output=None, history=None):
        """The prompt_toolkit session of the chat: history, suggestions, completion."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
        from prompt_toolkit.formatted_text import FormattedText
        from prompt_toolkit.styles import Style as PromptStyle

        message = FormattedText([("class:prompt", "qa> ")]) if self.style.enabled else "qa> "
        return PromptSession(message, key_bindings=key_bindings(), history=history if history is not None else open_history(),
                             auto_suggest=AutoSuggestFromHistory(),
                             completer=ChatCompleter(self.engine.index, k=lambda: self.k),
                             complete_while_typing=False,
                             style=PromptStyle.from_dict({"prompt": "bold ansicyan"} if self.style.enabled else {}),
                             include_default_pygments_style=False, input=input, output=output)

    def run(self, input=None, output=None, stdout=None, history=None, banner: str | None = None) -> None:
        """The prompt loop; input/output are prompt_toolkit's (tests pass a pipe input and a
        DummyOutput), stdout receives the answers. Ends on /quit or Ctrl-D; Ctrl-C drops the line."""
        stdout = stdout or sys.stdout
        self.at_terminal = True
        session = self.session(input, output, history)
        if banner:
            stdout.write(banner + "\n")
            stdout.flush()
        while not self.done:
            try:
                line = session.prompt()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            try:
                text = self.reply(line)
            except KeyboardInterrupt:
                text = "(interrupted)"
            if text:
                stdout.write(text + "\n\n")
                stdout.flush()


# ---------------------------------------------------------------- history and completion

def key_bindings():
    """Enter in a Ctrl-R search runs the line found, as in bash (prompt_toolkit only ends the search)."""
    from prompt_toolkit.filters import is_searching
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.key_binding.bindings.search import accept_search_and_accept_input

    kb = KeyBindings()
    kb.add("enter", filter=is_searching)(accept_search_and_accept_input)
    return kb


def open_history(path: Path | None = None):
    """The persistent history (qa.home.state_dir()/history); in memory when that cannot be written."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    class SafeFileHistory(FileHistory):
        def store_string(self, string: str) -> None:
            try:
                super().store_string(string)
            except OSError:
                pass  # a full disk or a read-only home must not end the conversation

    from qa import home

    path = path or home.state_dir() / "history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab"):
            pass
    except OSError as e:
        print(clean(f"qa: cannot keep the history in {path} ({e.strerror or e}); this session's is kept in "
                    "memory"), file=sys.stderr)
        return InMemoryHistory()
    return SafeFileHistory(str(path))


class ChatCompleter(Completer):
    """Tab completion: command names, citation formats after /cite N, and words of the corpus
    (index.words: its surface words of four letters or more), most frequent first."""

    LIMIT = 40
    SCAN = 5000

    def __init__(self, index, k: Callable[[], int] = lambda: DEFAULT_K):
        self.words = index.words.names
        self.counts = index.words.count
        self.k = k  # the chat's passages an answer, which the description of /k shows

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if text.lstrip().startswith("/"):
            parts = text.lstrip().split(" ")
            if len(parts) == 1:
                for name in list(COMMANDS) + list(ALIASES):
                    if name.startswith(parts[0].lower()) and name != parts[0]:
                        yield Completion(name, -len(parts[0]), display_meta=COMMANDS[ALIASES.get(name, name)][1]
                                         .format(k=self.k()))
            elif parts[0].lower() == "/cite" and len(parts) == 3:
                for fmt in CITATION_FORMATS:
                    if fmt.startswith(parts[2].lower()):
                        yield Completion(fmt, -len(parts[2]))
            return
        word = _last_word(text)
        if not word:
            return
        prefix = word.casefold()
        found = self.words.prefix_range(prefix)
        found = range(found.start, min(found.stop, found.start + self.SCAN))
        if self.counts is not None and len(found) > 1:
            order = sorted(found, key=lambda i: (-int(self.counts[i]), i))
        else:
            order = list(found)
        for i in order[: self.LIMIT]:
            candidate = self.words[i]
            if candidate == prefix:
                continue
            if word[:1].isupper():
                candidate = candidate[:1].upper() + candidate[1:]
            yield Completion(candidate, -len(word))


def _last_word(text: str) -> str:
    i = len(text)
    while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "-'"):
        i -= 1
    return text[i:]
