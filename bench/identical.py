"""Same output as another checkout: `qa batch` over the 500 PubMedQA dev questions, in every format,
lexical and semantic, from this tree and from another one (e.g. an older commit unpacked with
`git archive`), compared byte for byte.

    git archive ae830a1 | tar -x -C /tmp/qa-base
    python bench/identical.py --other /tmp/qa-base        # about 6 minutes on 2 cores

Both trees run as `python <tree>/cli.py batch ...` with the same QA_HOME (default:
bench/.cache/qa-home, where bench/clinician.py keeps the PubMedQA index and its embeddings), so
they read the same index. Prints one line a run (format, stage, sha256 of each output, same or
not) and exits 1 when any differs.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "pubmedqa"


def run(tree: Path, args: list[str], out: Path, home: Path) -> str:
    env = dict(os.environ, QA_HOME=str(home))
    subprocess.run([sys.executable, str(tree / "cli.py"), "batch", *args, "-o", str(out)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tree)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--other", required=True, help="the other checkout (a folder holding cli.py and qa/)")
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--home", default=str(ROOT / "bench" / ".cache" / "qa-home"))
    p.add_argument("--out", default=str(ROOT / "bench" / ".cache" / "identical"))
    p.add_argument("--formats", default="trec,jsonl,csv")
    args = p.parse_args()
    data, out, home = Path(args.data), Path(args.out), Path(args.home)
    out.mkdir(parents=True, exist_ok=True)
    questions = data / "queries-dev.jsonl"
    differ = 0
    for stage in ("lexical", "semantic"):
        for fmt in args.formats.split(","):
            k = ["-k", "10"] if fmt == "trec" else []
            options = [str(questions), "--corpus", str(data / "corpus.jsonl"), "--format", fmt, *k]
            options += ["--no-semantic"] if stage == "lexical" else []
            mine = run(ROOT, options, out / f"this-{stage}.{fmt}", home)
            theirs = run(Path(args.other), options, out / f"other-{stage}.{fmt}", home)
            same = mine == theirs
            differ += not same
            print(f"{fmt:5} {stage:8} this {mine[:16]} other {theirs[:16]} {'same' if same else 'DIFFERENT'}",
                  flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
