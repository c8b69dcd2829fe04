"""Kill -9 campaign: `qa add`, `qa remove`, a full index build and an index update, each killed
at every named moment of its writes and at random moments, then run again.

Each operation runs once unkilled with QA_TEST_PHASES (qa/phases.py) to list the named moments
it passes (`records:before-rename` of the second file is `records:before-rename@2`); it is then
killed by SIGKILL at each of them (QA_TEST_CRASH_AT: the process reports the moment, so the kill
is known to have landed there) and at `--kills` random moments (a delay drawn between 0 and the
unkilled run's duration; a run that ended before its kill does not count, and is drawn again;
QA_TEST_PHASES tells the last moment a random kill passed). Each kill starts from the same
state (a copy of a prepared QA_HOME), and after it:

- what the killed run left is checked: every records file of the library reads back whole (each
  file's documents all there, or none), CURRENT names a complete, checksum-clean build;
- the same command runs again and must succeed (exit 0, no traceback);
- nothing is lost: `qa sources --json` lists exactly the documents expected (each once), the
  index answers, and no leftover of the killed run remains (temporaries, originals without
  records).

Usage (from the repository root; about 6 minutes on 2 cores with the defaults):
    python bench/crashes.py [--kills 30] [--seed 1] [--ops add,remove,rebuild,update] [--work DIR]
Prints a Markdown table; exit status 1 when a document was lost or a rerun failed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.index import store  # noqa: E402
from qa.readers.records import read_records  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SEED_DOI = "10.1007/s11926-996-0021-7"
ADDED = {"medline-sample2.txt": ["16403221", "16377612", "14871861", "14630660"], "pubmed-xml-4.xml": ["27797938"],
         "ris-pubmed-2.ris": ["16901073", "99999911"]}
FIRST = {"medline-handmade.txt": ["99000001", "99000002"]}  # in the library before the add
REMOVED = ["16377612", "27797938", "99999911"]  # one of 4, the only one, one of 2
BEIR = FIXTURES / "pubmedqa-8.corpus.jsonl"
BEIR_EXTRA = FIXTURES / "pubmedqa-extra.corpus.jsonl"
BEIR_IDS = 8


@dataclass
class Operation:
    name: str
    args: list[str]
    expected: set[str] | None  # the documents `qa sources` lists after the rerun (None: not a library op)
    index: str | None = None  # the --index folder, for the index operations


@dataclass
class Tally:
    named: int = 0
    random: int = 0
    landed: Counter = field(default_factory=Counter)  # where random kills landed: the last moment passed
    lost: int = 0  # documents missing after the rerun
    failed: list[str] = field(default_factory=list)  # reruns or checks that failed, one line each


def qa(args: list[str], home: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NO_COLOR")}
    environment.update(env or {}, QA_HOME=str(home))
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=environment, capture_output=True,
                          timeout=timeout)


def must(r: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if r.returncode != 0:
        raise SystemExit(f"preparing the campaign: {what} failed:\n{r.stderr.decode()}")
    return r


def prepare(op: str, home: Path) -> Operation:
    """The state each kill of `op` starts from (built in `home`), and the operation."""
    if op == "add":
        must(qa(["add", str(FIXTURES / "medline-handmade.txt")], home), "the first add")
        expected = {SEED_DOI, *FIRST["medline-handmade.txt"], *(i for ids in ADDED.values() for i in ids)}
        return Operation(op, ["add", *(str(FIXTURES / name) for name in ADDED)], expected)
    if op == "remove":
        must(qa(["add", *(str(FIXTURES / name) for name in ADDED)], home), "the add")
        expected = {SEED_DOI, *(i for ids in ADDED.values() for i in ids)} - set(REMOVED)
        return Operation(op, ["remove", *REMOVED], expected)
    if op == "rebuild":
        must(qa(["add", *(str(FIXTURES / name) for name in ADDED)], home), "the add")
        return Operation(op, ["index", "--rebuild"], {SEED_DOI, *(i for ids in ADDED.values() for i in ids)})
    folder, index = home / "corpus", home / "update-index"
    folder.mkdir(parents=True)
    shutil.copyfile(BEIR, folder / "a.jsonl")
    must(qa(["index", "--corpus", str(folder), "--index", str(index)], home), "the first build")
    shutil.copyfile(BEIR_EXTRA, folder / "b.jsonl")  # the corpus gained a file: the next run updates
    return Operation(op, ["index", "--corpus", str(folder), "--index", str(index)], None, index=str(index))


def trace(op: Operation, home: Path, template: Path) -> tuple[list[str], float]:
    """The named moments an unkilled run passes (name@n), and how long it takes."""
    restore(template, home)
    log = home.parent / "phases.log"
    log.unlink(missing_ok=True)
    started = time.perf_counter()
    r = qa(op.args, home, env={"QA_TEST_PHASES": str(log)})
    seconds = time.perf_counter() - started
    must(r, f"the unkilled {op.name}")
    seen: Counter = Counter()
    moments = []
    for name in log.read_text(encoding="utf-8").split():
        seen[name] += 1
        moments.append(f"{name}@{seen[name]}")
    return moments, seconds


def restore(template: Path, home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)  # mtimes kept: the copied index is fresh


def index_dirs(home: Path, op: Operation) -> list[Path]:
    if op.index:
        return [Path(op.index)]
    root = home / "indexes"
    return [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []


def check_after_kill(op: Operation, home: Path) -> list[str]:
    """What a killed run left: whole records files and complete builds."""
    problems = []
    records = home / "library" / "records"
    for path in sorted(records.glob("[!.]*.jsonl")) if records.is_dir() else []:
        try:
            docs = read_records(path)
        except Exception as e:  # noqa: BLE001 - any failure to read is what we count
            problems.append(f"{path.name} unreadable: {e}")
            continue
        source = path.name.rsplit(".", 2)[0]
        whole = ADDED.get(source) or FIRST.get(source)
        if op.name != "remove" and whole is not None and len(docs) != len(whole):
            problems.append(f"{path.name} holds {len(docs)} of {len(whole)} documents")
    for directory in index_dirs(home, op):
        build = store.current_build(directory)
        if build is None:
            problems.append(f"{directory.name}: CURRENT names no complete build")
            continue
        try:
            store.check_files(build, store.read_manifest(build) or {}, full=True)
        except ValueError as e:
            problems.append(f"{directory.name}: {e}")
    return problems


def leftovers(home: Path) -> list[str]:
    library = home / "library"
    stems = {p.name[: -len(".jsonl")] for p in (library / "records").glob("[!.]*.jsonl")}
    found = [str(p.relative_to(home)) for folder in ("originals", "records", "keys")
             for p in (library / folder).glob(".*")] if library.is_dir() else []
    found += [f"originals/{p.name} (no records)" for p in (library / "originals").glob("[!.]*")
              if p.name not in stems]
    return found


def rerun_and_check(op: Operation, home: Path, tally: Tally, label: str) -> None:
    r = qa(op.args, home)
    err = r.stderr.decode("utf-8", "replace")
    if "Traceback" in err:
        tally.failed.append(f"{label}: the rerun printed a traceback")
        return
    if r.returncode != 0:
        tally.failed.append(f"{label}: the rerun exited {r.returncode}: {err.strip()[:200]}")
        return
    if op.expected is not None:
        s = qa(["sources", "--json"], home)
        if s.returncode != 0:
            tally.failed.append(f"{label}: qa sources exited {s.returncode}")
            return
        ids = [row["doc_id"] for row in json.loads(s.stdout)]
        missing = op.expected - set(ids)
        tally.lost += len(missing)
        extra = set(ids) - op.expected
        if missing or extra or len(ids) != len(set(ids)):
            tally.failed.append(f"{label}: documents missing {sorted(missing)}, unexpected {sorted(extra)}, "
                                f"{len(ids) - len(set(ids))} twice")
        left = leftovers(home)
        if left:
            tally.failed.append(f"{label}: leftovers after the rerun: {left[:3]}")
    else:
        out = r.stdout.decode()
        if f"documents: {BEIR_IDS + 1}" not in out:
            tally.failed.append(f"{label}: the rerun's index does not hold the {BEIR_IDS + 1} documents")
    question = ["ask", "who wrote the review", "--json"] if op.expected is not None else \
        ["ask", "anterior chamber depth pseudoexfoliation prone position", "--json", "--corpus",
         op.args[op.args.index("--corpus") + 1], "--index", op.index]
    a = qa(question, home)
    if a.returncode != 0 or not json.loads(a.stdout or b"{}").get("hits"):
        tally.failed.append(f"{label}: the index does not answer after the rerun")
    left = [p.name for d in index_dirs(home, op) for p in d.glob(".tmp-*")]
    if left:
        tally.failed.append(f"{label}: index leftovers after the rerun: {left[:3]}")


def kill_at_random(op: Operation, home: Path, seconds: float, rng: random.Random) -> str | None:
    """One run killed after a random delay; the last named moment it passed, "" for none, None
    when it ended before the kill."""
    log = home.parent / "phases.log"
    log.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NO_COLOR")}
    environment.update(QA_HOME=str(home), QA_TEST_PHASES=str(log))
    proc = subprocess.Popen([sys.executable, "cli.py", *op.args], cwd=ROOT, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0, seconds))
    if proc.poll() is not None:
        return None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    names = log.read_text(encoding="utf-8").split() if log.exists() else []
    return names[-1] if names else ""


def campaign(op_name: str, work: Path, kills: int, rng: random.Random) -> tuple[Tally, int]:
    home, template = work / op_name / "home", work / op_name / "template"
    shutil.rmtree(work / op_name, ignore_errors=True)
    home.mkdir(parents=True)
    op = prepare(op_name, home)
    home.rename(template)
    moments, seconds = trace(op, home, template)
    tally = Tally()
    for moment in moments:
        restore(template, home)
        r = qa(op.args, home, env={"QA_TEST_CRASH_AT": moment})
        if r.returncode != -signal.SIGKILL or f"killed at {moment}" not in r.stderr.decode():
            tally.failed.append(f"{moment}: the kill did not land (exit {r.returncode})")
            continue
        tally.named += 1
        tally.failed += [f"{moment}: {p}" for p in check_after_kill(op, home)]
        rerun_and_check(op, home, tally, moment)
        print(f"{op_name}: killed at {moment}", file=sys.stderr)
    while tally.random < kills:
        restore(template, home)
        landed = kill_at_random(op, home, seconds, rng)
        if landed is None:
            continue
        tally.random += 1
        tally.landed[landed or "(none: before the first)"] += 1
        label = f"random kill {tally.random} (after {landed or 'nothing'})"
        tally.failed += [f"{label}: {p}" for p in check_after_kill(op, home)]
        rerun_and_check(op, home, tally, label)
        print(f"{op_name}: {label}", file=sys.stderr)
    return tally, len(moments)


OPS = {"add": "`qa add` of 3 files (7 documents) to a library with an index: records, originals, keys, "
              "the index update",
       "remove": "`qa remove` of 3 ids in 3 files (one file emptied)",
       "rebuild": "`qa index --rebuild` (seed + library, 8 documents)",
       "update": "`qa index` when a corpus folder gained a file (the index updated, not rebuilt)"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=30, help="random kills per operation (default 30)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ops", default=",".join(OPS), help="operations, comma-separated (default: all)")
    p.add_argument("--work", type=Path, help="work folder (default: a temporary one, removed after)")
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-crashes-"))
    rows, bad = [], False
    try:
        for op in args.ops.split(","):
            tally, moments = campaign(op, work, args.kills, rng)
            bad |= bool(tally.lost or tally.failed)
            landed = ", ".join(f"{n} {where}" for where, n in tally.landed.most_common())
            rows.append((op, tally, moments, landed))
            for line in tally.failed:
                print(f"FAILED {op}: {line}", file=sys.stderr)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("| operation | kills at named moments | random kills | documents lost | reruns failed |")
    print("|---|---|---|---|---|")
    for op, tally, moments, _ in rows:
        print(f"| {OPS[op]} | {tally.named} of {moments} | {tally.random} | {tally.lost} | {len(tally.failed)} |")
    print()
    for op, _, _, landed in rows:
        print(f"- {op}: the last named moment random kills had passed: {landed}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
