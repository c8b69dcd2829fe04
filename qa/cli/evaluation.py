"""`qa eval QUERIES QRELS`: run a query set against a corpus (or read a TREC run) and print
standard measures computed by ir-measures; the PubMedQA bench uses the same functions."""
from __future__ import annotations

import json

from qa.cli.options import cluster_options, corpus_options, engine_for, open_index_for
from qa.errors import QAError


def add_parsers(sub, fmt) -> None:
    p = sub.add_parser("eval", help="measure retrieval on a query set with relevance judgements",
                       formatter_class=fmt,
                       description="Answer QUERIES (BEIR queries JSONL, or any `qa batch` input) against the "
                       "corpus, rank documents (a document scores its best passage), and compare with QRELS "
                       "(TREC or BEIR TSV). Measures are computed by ir-measures, the eval extra of qa "
                       "(pip install '.[eval]' in qa's source folder).",
                       epilog="examples:\n"
                              "  qa eval queries.jsonl qrels/test.tsv --corpus corpus.jsonl\n"
                              '  qa eval queries.jsonl qrels.tsv --corpus corpus.jsonl --measures "nDCG@10 R@1 MRR@10"\n'
                              "  qa eval queries.jsonl qrels.tsv --run other-system.trec")
    p.add_argument("queries", metavar="QUERIES")
    p.add_argument("qrels", metavar="QRELS")
    p.add_argument("--measures", default="nDCG@10 R@1 R@5 MRR@10",
                   help='space-separated ir-measures names (default: "nDCG@10 R@1 R@5 MRR@10")')
    p.add_argument("--run", metavar="FILE", help="evaluate this TREC run instead of running qa")
    p.add_argument("--depth", type=int, default=100, help="documents ranked per query (default: 100)")
    p.add_argument("--json", action="store_true", help="print the measures as JSON")
    corpus_options(p)
    cluster_options(p)


def cmd_eval(args) -> int:
    from qa.errors import warn
    from qa.search import evaluate
    from qa.cli.batch_io import read_questions

    try:
        import ir_measures  # noqa: F401  (what qa.search.evaluate.compute computes with)
    except ImportError:
        raise QAError("qa eval computes its measures with ir-measures, which is not installed: "
                      "pip install '.[eval]' in qa's source folder adds it") from None

    names = evaluate.measure_names(args.measures)
    if not names:
        raise QAError("no measures given")
    qrels = evaluate.read_qrels(args.qrels)
    judged_ids = {q for q, docs in qrels.items() if docs}
    if not judged_ids:
        raise QAError(f"{args.qrels}: no relevance judgements in it")
    if args.run:
        run = evaluate.read_trec_run(args.run)
        source = args.run
        asked = set(run)
    else:
        from qa.cli.terminal import Progress

        questions = [q for q in read_questions(args.queries) if not q.error]
        asked = {q.id for q in questions}
        index, _ = open_index_for(args)
        judged_docs = {d for docs in qrels.values() for d in docs}
        if not any(index.document_index(d) >= 0 for d in judged_docs):
            # the usual slip: the judgements are about a collection the corpus is not (no --corpus)
            warn(f"warning: none of the {len(judged_docs)} documents judged in {args.qrels} is in the corpus "
                 f"({', '.join(index.manifest.get('corpus') or [])}); every measure will be 0 "
                 f"(--corpus names the collection the judgements are about)")
        engine = engine_for(args, index)
        bar = Progress(len(questions), "queries")
        run = {}
        for done, q in enumerate(questions, 1):
            run[q.id] = dict(engine.rank_documents(q.question, k=args.depth))
            bar.update(done)
        bar.close()
        source = "qa"
    if not asked & judged_ids:
        what = args.run if args.run else args.queries
        warn(f"warning: no query id of {what} is a query id of {args.qrels} "
             f"(e.g. {sorted(asked)[0] if asked else 'none'} against {sorted(judged_ids)[0]}); every measure will be 0")
    values = evaluate.compute(qrels, run, names)
    judged = len(judged_ids)
    if args.json:
        print(json.dumps({"run": source, "queries": judged, "measures": values}, indent=2))
    else:
        from qa.cli.terminal import one_line

        width = max(len(n) for n in names)
        print(one_line(f"run: {source}  queries with judgements: {judged}"))
        for name in names:
            print(f"{name:<{width}}  {values[name]:.4f}")
    return 0


COMMANDS = {"eval": cmd_eval}
