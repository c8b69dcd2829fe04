"""How `qa batch` answers its questions: in this process, or in worker processes (`--workers N`).

With N > 1 the parent has already opened (or built) the index on disk; it starts N processes
("fork" start method on Linux, "spawn" elsewhere) and each loads the index from its build
directory itself (`qa.index.store.load`: the arrays are memory-mapped, so the page cache holds one copy
for all of them and nothing of the index goes through a pipe). The parent sends each idle worker
the next chunk of questions over its own pipe and receives a list of result dicts back; results
are yielded in INPUT order from a bounded reorder buffer (at most `4 × N` chunks are out at
once), so the output is the same, byte for byte, as with one process.

A question that raises inside a worker gets an `error` field exactly as in one process. A
worker that stops (killed, or an exception outside a question, e.g. the index failing to load)
is noticed through its process sentinel: the parent prints one line
`qa: worker N stopped (REASON); its K questions are marked failed`, gives each question of the
chunk it held an `error` field, lets the remaining workers answer the rest, and the batch exits
1. The questions are not retried in the parent, since a question may be what killed the worker.
When no worker is left, the questions not yet answered are marked failed as well. A worker that
neither answers nor stops (a hang) is given `timeout` seconds per chunk (`--worker-timeout`,
default 120; a chunk is at most 16 questions, normally answered in well under a second), then
terminated and reported the same way.

Test hooks: with QA_TEST_KILL_WORKER_AFTER=N in the environment, worker 1 sends itself SIGKILL
after answering its N-th question (before sending that chunk back); with
QA_TEST_HANG_WORKER_AFTER=N it stops answering there instead, without exiting.
"""
from __future__ import annotations

import collections
import io
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.connection import wait as wait_for
from pathlib import Path

from qa import errors
from qa.cli.batch_io import Question, ResultWriter, documents_result, empty_result

KILL_AFTER_ENV = "QA_TEST_KILL_WORKER_AFTER"
HANG_AFTER_ENV = "QA_TEST_HANG_WORKER_AFTER"
TIMEOUT = 120.0  # seconds a worker may take over one chunk before it is taken for hung
MAX_CHUNK = 16  # questions a worker answers per message; small enough to balance the tail
WINDOW_PER_WORKER = 4  # chunks out (sent or waiting to be written) per worker: the reorder bound


def answer_one(engine, q: Question, k: int, per_document: bool, filters, documents_only: bool = False) -> dict:
    """One question's result; a failure becomes an `error` field, never an exception.
    documents_only (a TREC run): only the ranked documents and their scores, which is all that
    format prints; no hits, answer or confidence are made."""
    if q.error:
        return empty_result(q.id, q.question, error=q.error)
    try:
        if documents_only:
            return documents_result(q.id, q.question, engine.rank_documents(q.question, k=k, filters=filters))
        return engine.ask(q.question, k=k, qid=q.id, per_document=per_document, filters=filters)
    except errors.ShardUnavailable:  # not the question's fault: every later one would fail too, so the batch stops
        raise
    except Exception as e:  # one bad question must not stop the batch
        return empty_result(q.id, q.question, error=f"{type(e).__name__}: {e}")


def header_text(fmt: str) -> str:
    """What ResultWriter writes before the first result (the csv/tsv header; nothing otherwise)."""
    buffer = io.StringIO()
    ResultWriter(fmt, buffer).close()
    return buffer.getvalue()


def format_result(fmt: str, result: dict, header: str) -> str:
    """The text ResultWriter writes for this one result, without the header."""
    buffer = io.StringIO()
    ResultWriter(fmt, buffer).write(result)
    return buffer.getvalue()[len(header):]


class TextWriter:
    """Writes results that workers already formatted, like ResultWriter would have written them."""

    def __init__(self, fmt: str, out):
        self.out, self.header = out, header_text(fmt)

    def write(self, text: str) -> None:
        if self.header:
            self.out.write(self.header)
            self.header = ""
        self.out.write(text)

    def close(self) -> None:
        self.write("")  # an empty batch still gets a header
        self.out.flush()


class InProcess:
    """The single-process path: answers one question after the other, in order.

    Iterating yields (id, error or None, result dict) for `writer(out)` to write."""

    stopped = 0  # workers that stopped: none here

    def __init__(self, engine, questions: list[Question], k: int, per_document: bool, filters, fmt: str):
        self.engine, self.questions, self.fmt = engine, questions, fmt
        self.options = (k, per_document, filters, fmt == "trec")

    def writer(self, out) -> ResultWriter:
        return ResultWriter(self.fmt, out)

    PREPARED = 64  # questions embedded together ahead of answering (the semantic stage)

    def __iter__(self):
        for start in range(0, len(self.questions), self.PREPARED):
            chunk = self.questions[start:start + self.PREPARED]
            self.engine.prepare([q.question for q in chunk if not q.error])
            for q in chunk:
                result = answer_one(self.engine, q, *self.options)
                yield result["id"], result.get("error"), result

    def close(self) -> None:
        pass


def start_method() -> str:
    """'fork' on Linux (workers start at once and share the parent's imports), else 'spawn'."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def chunk_size(questions: int, workers: int) -> int:
    return max(1, min(MAX_CHUNK, questions // (workers * 8)))


class _Worker:
    def __init__(self, number: int, process, conn):
        self.number, self.process, self.conn = number, process, conn
        self.chunk: int | None = None  # the chunk it is answering
        self.sent_at = 0.0  # time.monotonic() when it was given that chunk
        self.alive = True
        self.reason: str | None = None  # what it said before stopping


class Parallel:
    """Answers `questions` in `workers` processes that load the index from `build_dir`.

    Iterating yields (id, error or None, text) in input order, where text is what ResultWriter
    writes for the result (the workers format it, so the parent only writes); `writer(out)`
    writes them. `stopped` counts workers that stopped early; `close()` (also on an early exit
    or Ctrl-C) ends the workers.
    """

    def __init__(self, build_dir: Path, questions: list[Question], workers: int, k: int,
                 per_document: bool, filters, fmt: str, warn=None, timeout: float = TIMEOUT, semantic: bool = False):
        self.questions, self.fmt = questions, fmt
        self.timeout = timeout
        self.warn = warn or errors.warn
        size = chunk_size(len(questions), workers)
        self.chunks = [questions[i:i + size] for i in range(0, len(questions), size)]
        self.window = WINDOW_PER_WORKER * workers
        self.stopped = 0
        self._finished = False  # every result was yielded: the workers are idle
        self._pool: list[_Worker] = []
        ctx = multiprocessing.get_context(start_method())
        for stream in (sys.stdout, sys.stderr):  # a forked child must not inherit unwritten output
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        options = (k, per_document, filters, fmt, semantic)
        try:
            for number in range(1, min(workers, len(self.chunks)) + 1):
                parent_end, child_end = ctx.Pipe()
                process = ctx.Process(target=_worker_main, name=f"qa-worker-{number}", daemon=True,
                                      args=(number, str(build_dir), child_end, options, os.getpid()))
                process.start()
                child_end.close()
                self._pool.append(_Worker(number, process, parent_end))
        except BaseException:
            self.close()
            raise

    def __iter__(self):
        ready: dict[int, list[tuple]] = {}  # the reorder buffer: chunk number -> results
        todo = collections.deque(range(len(self.chunks)))
        next_out = 0
        while next_out < len(self.chunks):
            while next_out in ready:
                yield from ready.pop(next_out)
                next_out += 1
            if next_out >= len(self.chunks):
                break
            alive = [w for w in self._pool if w.alive]
            if not alive:
                lost = sum(len(self.chunks[c]) for c in todo)  # what the dead held is in `ready`
                self.warn(f"no worker left; the {lost} questions not yet answered are marked failed")
                for c in todo:
                    ready[c] = self._failed(c, "no worker left to answer it")
                todo.clear()
                continue
            for w in alive:  # hand out chunks, at most `window` ahead of what is written
                while w.chunk is None and todo and todo[0] < next_out + self.window:
                    c = todo.popleft()
                    try:
                        w.conn.send((c, self.chunks[c]))
                        w.chunk, w.sent_at = c, time.monotonic()
                    except (OSError, ValueError):  # it has died: the chunk goes to another
                        todo.appendleft(c)
                        break
            waiting = {}
            for w in alive:
                waiting[w.conn] = w
                waiting[w.process.sentinel] = w
            busy = [w for w in alive if w.chunk is not None]
            deadline = min((w.sent_at + self.timeout for w in busy), default=None) if self.timeout else None
            for obj in wait_for(list(waiting), None if deadline is None else max(0.0, deadline - time.monotonic())):
                w = waiting[obj]
                if not w.alive:
                    continue
                if obj is w.conn:
                    try:
                        self._receive(w, ready)
                    except (EOFError, OSError):
                        self._stopped(w, ready)
                else:
                    self._stopped(w, ready)
            for w in busy:  # still on the same chunk past its time: hung
                if self.timeout and w.alive and w.chunk is not None and time.monotonic() >= w.sent_at + self.timeout:
                    self._hung(w, ready)
        self._finished = True

    def writer(self, out) -> TextWriter:
        return TextWriter(self.fmt, out)

    def _receive(self, w: _Worker, ready: dict) -> None:
        message = w.conn.recv()
        if message[0] == "done":
            _, c, results = message
            ready[c] = results
            w.chunk = None
        elif message[0] == "crashed":
            w.reason = message[1]

    def _stopped(self, w: _Worker, ready: dict) -> None:
        try:  # what it sent before it stopped still counts
            while w.conn.poll():
                self._receive(w, ready)
        except (EOFError, OSError):
            pass
        w.alive = False
        self.stopped += 1
        w.process.join(5)
        reason = w.reason or _exit_reason(w.process.exitcode)
        if w.chunk is not None:
            count = len(self.chunks[w.chunk])
            self.warn(f"worker {w.number} stopped ({reason}); its {count} question{'s' * (count != 1)} "
                      f"{'are' if count != 1 else 'is'} marked failed")
            ready[w.chunk] = self._failed(w.chunk, f"worker {w.number} stopped ({reason})")
            w.chunk = None
        else:
            self.warn(f"worker {w.number} stopped ({reason}); it held no questions")
        w.conn.close()

    def _hung(self, w: _Worker, ready: dict) -> None:
        w.reason = f"no answer within {self.timeout:g} s; terminated"
        _end(w.process)
        self._stopped(w, ready)

    def _failed(self, c: int, error: str) -> list[tuple]:
        header = header_text(self.fmt)
        return [(q.id, error, format_result(self.fmt, empty_result(q.id, q.question, error=error), header))
                for q in self.chunks[c]]

    def close(self) -> None:
        """End the workers: idle ones are asked to finish, busy ones (the batch was left early,
        e.g. Ctrl-C or a closed output) are terminated. Safe to call twice."""
        for w in self._pool:
            if w.alive and self._finished:
                try:
                    w.conn.send(None)
                except (OSError, ValueError):
                    pass
        for w in self._pool:
            if self._finished:
                w.process.join(2 if w.alive else 0.1)
            _end(w.process)
            w.alive = False
            w.conn.close()


def _end(process) -> None:
    """Stop a process that is still running: asked first (SIGTERM), then killed."""
    if process.is_alive():
        process.terminate()
        process.join(2)
    if process.is_alive():
        process.kill()
        process.join()


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "no longer answering"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _load_index(build_dir: str):
    from qa.index.open_index import load_build

    return load_build(Path(build_dir))  # an index, or a sharded one served in this worker


def _semantic(index):
    """The semantic stage a worker answers with: the parent embedded every passage before it started."""
    from qa.search import dense

    found = dense.stage(index, embed_up_to=0, warn=lambda message: None)
    if found is None:
        raise RuntimeError("the passage vectors went missing")
    return found


def _worker_main(number: int, build_dir: str, conn, options: tuple, parent_pid: int) -> None:
    """A worker: load the index by memory map, then answer chunks until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends us
    try:
        from qa.cli.allocator import keep_freed_memory
        from qa.search.engine import Engine

        keep_freed_memory()  # a spawned worker does not inherit the parent's setting

        k, per_document, filters, fmt, semantic = options
        index = _load_index(build_dir)
        engine = Engine(index, semantic=_semantic(index) if semantic else None)
        header = header_text(fmt)
        kill_after = int(os.environ.get(KILL_AFTER_ENV) or 0) if number == 1 else 0
        hang_after = int(os.environ.get(HANG_AFTER_ENV) or 0) if number == 1 else 0
        answered = 0
        while True:
            while not conn.poll(1.0):
                if os.getppid() != parent_pid:  # the parent is gone: nobody wants the answers
                    return
            task = conn.recv()
            if task is None:
                return
            c, questions = task
            engine.prepare([q.question for q in questions if not q.error])
            results = []
            for q in questions:
                result = answer_one(engine, q, k, per_document, filters, fmt == "trec")
                results.append((result["id"], result.get("error"), format_result(fmt, result, header)))
                answered += 1
                if answered == kill_after:
                    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
                if answered == hang_after:
                    while True:
                        time.sleep(3600)
            conn.send(("done", c, results))
    except (EOFError, BrokenPipeError):
        return  # the parent closed its end
    except BaseException as e:  # outside a question: tell the parent why, then stop
        try:
            conn.send(("crashed", f"{type(e).__name__}: {e}"))
        except Exception:
            pass
        sys.exit(1)
