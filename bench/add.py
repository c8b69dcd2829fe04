"""Incremental add benchmark: one abstract added to a large index, against a full rebuild.

Corpus: the synthetic passages of bench/scale.py (same cache, same recipe), indexed as scale.py
indexes them (one passage per document). The abstract added is the first document of PubMedQA's
corpus.jsonl (Jin et al., EMNLP 2019, MIT licence), read by qa's own BEIR reader; its id sorts
before every synthetic id, so every passage and posting of the index moves (the worst case).

Each phase runs in its own subprocess (`--worker base|add|full|compare`):
    base     full build of the n passages, saved (cached under bench/.cache/indexes/add-<n>/base
             with its format version; rebuilt when the format changes)
    add      qa.index.update.extend of that index with the abstract, then qa.index.store.save: what `qa add`
             does to the index. Load, extend and save are timed together, on a hard-linked copy
             of the base (cp -al), so the base stays as it was
    full     qa.index.build.build of the n passages plus the abstract, then save: the rebuild that the
             add replaces
    compare  the 500 dev questions against both indexes, with reranking (k = 10) and BM25 alone:
             passage ids and scores of the top 10 must be equal (scores to 1e-9 relative)

Usage (from the repo root):
    python bench/add.py [--size 1M] [--cache DIR] [--data DIR]
The report (markdown) goes to stdout, progress to stderr.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402  (bench/scale.py: corpus, sizes, memory readings)

ROOT = scale.ROOT


def synthetic_docs(texts):
    from qa.models import Document, Section

    width = max(7, len(str(len(texts) - 1)))
    return [Document(doc_id=f"p{i:0{width}d}", sections=(Section(None, t),)) for i, t in enumerate(texts)]


def abstract(data: Path):
    from qa.readers.beir import read_beir as read

    import tempfile

    first = (data / "corpus.jsonl").read_text("utf-8").splitlines()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "abstract.jsonl"
        path.write_text(first + "\n", "utf-8")
        return read(path)[0]


def manifest_for(stats, settings):
    from qa.index.layout import FORMAT_VERSION

    return {"format": FORMAT_VERSION, "settings": settings.__dict__, "corpus": ["synthetic"],
            "fingerprint": [], "stats": stats}


def worker(phase: str, n: int, data: Path, cache: Path, where: Path) -> dict:
    from qa.index import store
    from qa.index.build import build
    from qa.index.layout import Settings

    settings = Settings()
    if phase in ("base", "full"):
        docs = synthetic_docs(scale.corpus_texts(n, data, cache))
        if phase == "full":
            docs.append(abstract(data))
        started = time.perf_counter()
        built = build(docs, settings, whole_documents=True)
        store.save(where, built.data, manifest_for(built.stats, settings))
        return {"seconds": time.perf_counter() - started, "peak_mb": scale.peak_mb()}
    if phase == "add":
        from qa.index import update

        doc = abstract(data)
        started = time.perf_counter()
        old = store.load(store.current_build(where))
        extension = update.extend(old, [doc])
        linked = extension.linked
        store.save(where, extension.data, {**manifest_for(extension.stats, settings), "parts": extension.parts},
                   arrays=extension.arrays, blobs=extension.blobs, linked=linked)
        seconds = time.perf_counter() - started
        written = sum(f.stat().st_size for f in store.current_build(where).iterdir() if f.name not in linked)
        return {"seconds": seconds, "peak_mb": scale.peak_mb(), "written_mb": written / 2**20,
                "linked_mb": sum(entry[0] for _, entry, _ in linked.values()) / 2**20}
    if phase == "compare":
        import numpy as np

        from qa.search import rank as search

        full = store.load(store.current_build(where / "full"))
        inc = store.load(store.current_build(where / "add"))
        questions = scale.read_questions(data)
        differ = {"rerank": 0, "bm25": 0}
        for q in questions:
            for mode, kwargs in (("rerank", {}), ("bm25", {"weight": 0.0})):
                a, b = search.rank(full, q, **kwargs), search.rank(inc, q, **kwargs)
                ids_a = [full.passage_id(int(p)) for p in a.passages[:scale.TOP_K]]
                ids_b = [inc.passage_id(int(p)) for p in b.passages[:scale.TOP_K]]
                if ids_a != ids_b or not np.allclose(a.final[:scale.TOP_K], b.final[:scale.TOP_K], rtol=1e-9, atol=0):
                    differ[mode] += 1
        return {"questions": len(questions), "differ": differ,
                "passages": [full.n_passages, inc.n_passages]}
    raise ValueError(phase)


def run(phase: str, n: int, args, where: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", phase, "--size", str(n), "--data", str(args.data),
           "--cache", str(args.cache), "--where", str(where)]
    scale.log(f"{phase}: {' '.join(cmd[2:])}")
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"the {phase} worker failed")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1M", help="passages in the base index (default 1M)")
    parser.add_argument("--data", type=Path, default=scale.DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=scale.DEFAULT_CACHE)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--where", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    n = scale.parse_size(str(args.size))
    if args.worker:
        print(json.dumps(worker(args.worker, n, args.data, args.cache, args.where)))
        return 0
    from qa.index.layout import FORMAT_VERSION
    from qa.index.store import current_build

    root = args.cache / "indexes" / f"add-{n}"
    base = root / f"base-v{FORMAT_VERSION}"
    if current_build(base) is None:
        shutil.rmtree(root, ignore_errors=True)
        base_result = run("base", n, args, base)
    else:
        base_result = None
        scale.log(f"base index reused: {base}")
    shutil.rmtree(root / "add", ignore_errors=True)
    shutil.rmtree(root / "full", ignore_errors=True)
    subprocess.run(["cp", "-al", str(base), str(root / "add")], check=True)
    add = run("add", n, args, root / "add")
    full = run("full", n, args, root / "full")
    compare = run("compare", n, args, root)
    print(f"## Incremental add: one abstract into {scale.size_label(n)} passages\n")
    print("| | seconds | peak MB | written MB |")
    print("|---|---|---|---|")
    print(f"| full rebuild (build + save) | {full['seconds']:.2f} | {full['peak_mb']:.0f} | |")
    print(f"| incremental add (load + extend + save) | {add['seconds']:.2f} | {add['peak_mb']:.0f} | "
          f"{add['written_mb']:.0f} (and {add['linked_mb']:.0f} linked) |")
    if base_result:
        print(f"| (base build, for reference) | {base_result['seconds']:.2f} | {base_result['peak_mb']:.0f} | |")
    print(f"\nadd / full rebuild: {add['seconds'] / full['seconds']:.1%} "
          f"(whole processes: {add['process_s']:.1f} s against {full['process_s']:.1f} s)")
    print(f"rankings: {compare['differ']['rerank']} of {compare['questions']} questions differ in the reranked "
          f"top 10, {compare['differ']['bm25']} in the BM25 top 10 (passages: {compare['passages']})")
    return 0 if not any(compare["differ"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
