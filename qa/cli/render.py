"""Human-readable text of results, documents and rankings: one look for `qa ask` and the chat.

Every function is pure: it takes data and a qa.cli.terminal.Style and returns text. Text is wrapped
first and styled after, line by line, so widths are those of the visible characters and no
escape sequence spans a line break. Everything that comes from the corpus or the user goes
through qa.cli.terminal.clean, so it never reaches the terminal with raw control characters.
"""
from __future__ import annotations

import json
import math
import re
import textwrap
from typing import Iterable

from qa.text.analyze import analyze
from qa.search.confidence import LOW as LOW_CONFIDENCE
from qa.cli.terminal import Style, clean, clean_json, counted

DEFAULT_WIDTH = 100
MIN_WIDTH = 30
NOTHING = "Nothing in the corpus matches this question."

_MARKER = re.compile(r"\[\d+\]")
_WORD = re.compile(r"\w+(?:[-.'’]\w+)*")


def wrap(text: str, width: int, indent: str = "", hanging: str | None = None) -> list[str]:
    """Lines of at most `width` characters (a word longer than a line is split)."""
    width = max(width, MIN_WIDTH)
    hanging = indent if hanging is None else hanging
    lines = textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=hanging,
                          break_on_hyphens=False)
    return lines or [indent.rstrip()]


def _long_lines(text: str, indent: str, hanging: str, width: int | None) -> list[str]:
    """Like wrap, but never breaks inside a word, and width None keeps the text on one line."""
    if width is None:
        return [indent + text]
    lines = textwrap.wrap(text, max(width, MIN_WIDTH), initial_indent=indent, subsequent_indent=hanging,
                          break_on_hyphens=False, break_long_words=False)
    return lines or [indent.rstrip()]


def emphasize(line: str, terms: set[str], style: Style) -> str:
    """Words of `line` whose analysis shares a term with `terms`, in bold."""
    if not terms or not style.enabled:
        return line
    return _WORD.sub(lambda m: style.bold(m.group()) if set(analyze(m.group())) & terms else m.group(), line)


def markers(line: str, style: Style) -> str:
    return _MARKER.sub(lambda m: style.accent(m.group()), line) if style.enabled else line


def query_note(result: dict, style: Style, width: int = DEFAULT_WIDTH) -> str | None:
    """The lines that say what was searched when it is not what was typed.

    Spelling corrections (result["corrections"], when present) give a visible note; a follow-up
    merged with its context (query differs from question) gives a dim one. Abbreviations expanded
    (result["expansions"]) give a dim line "expanded: IVIG → intravenous immunoglobulin"; a query
    that is only the question plus those expansions needs no "searched for" line.
    """
    query = clean(result.get("query") or "").strip()
    question = clean(result.get("question") or "").strip()
    corrections = result.get("corrections") or []
    expansions = [e for e in result.get("expansions") or [] if isinstance(e, dict)]
    notes = []
    if corrections:
        fixes = ", ".join(f"{clean(str(c.get('from', '')))} → {clean(str(c.get('to', '')))}"
                          for c in corrections if isinstance(c, dict))
        notes.append((f"searched for: {query}" + (f" ({fixes})" if fixes else ""), style.accent))
    elif query and query != question and not _only_expanded(query, question, expansions):
        notes.append((f"searched for: {query}", style.dim))
    if expansions:
        pairs = ", ".join(f"{clean(str(e.get('term', '')))} → {clean(str(e.get('expansion', '')))}"
                          for e in expansions)
        notes.append((f"expanded: {pairs}", style.dim))
    if not notes:
        return None
    return "\n".join(paint(line) for text, paint in notes for line in wrap(text, width, "", "  "))


def _only_expanded(query: str, question: str, expansions: list[dict]) -> bool:
    """Whether `query` is `question` followed by nothing but words of the expansions."""
    if not query.startswith(question):
        return False
    added = set(_WORD.findall(query[len(question):]))
    return added <= {w for e in expansions for w in _WORD.findall(clean(str(e.get("expansion", ""))))}


def document_citation(hit: dict) -> str:
    """The citation a hit's document is listed under in Sources: its section left out, so a
    document's passages share one line (a reference entry cites its own work)."""
    citation = clean(hit["citation"] or hit["doc_id"] or "")
    section = clean(hit.get("section") or "")
    if section and citation.endswith(f" — {section}"):
        return citation[: -len(f" — {section}")]
    return citation


def source_groups(hits: Iterable[dict]) -> list[tuple[list[int], str]]:
    """One line per cited work, with the ranks of the hits citing it, in rank order."""
    groups: dict[str, list[int]] = {}
    for hit in hits:
        groups.setdefault(document_citation(hit), []).append(hit["rank"])
    return [(ranks, citation) for citation, ranks in groups.items()]


def same_sentence_groups(hits: list[dict]) -> list[list[dict]]:
    """The hits in rank order, those whose shown sentence is the same as a better hit's (windows
    overlap) joined to it: each sentence is shown once."""
    groups: list[list[dict]] = []
    at: dict[tuple[str, str], int] = {}
    for hit in hits:
        shown = clean(hit["highlight"] or "") or clean(hit["text"] or "")
        key = (hit["doc_id"] or "", shown)
        if shown and key in at:
            groups[at[key]].append(hit)
            continue
        at[key] = len(groups)
        groups.append([hit])
    return groups


def ranks_label(ranks: list[int]) -> str:
    return "[" + ", ".join(str(r) for r in ranks) + "]"


def passage_lines(hits: list[dict], terms: set[str], style: Style, width: int) -> list[str]:
    """A passage as the output shows it: its best sentence, with the ranks, ids and scores of
    the hits (one, or several that show the same sentence)."""
    hit = hits[0]
    head = ranks_label([h["rank"] for h in hits])
    pad = " " * (len(head) + 1)
    text = clean(hit["text"] or "")
    shown = clean(hit["highlight"] or "") or text
    at = text.find(shown)
    before = "… " if at > 0 else ""
    after = " …" if at >= 0 and at + len(shown) < len(text.rstrip()) else ""
    section = f"{clean(hit['section'])}: " if hit.get("section") else ""
    lines = wrap(f"{head} {section}{before}{shown}{after}", width, hanging=pad)
    out = []
    for i, line in enumerate(lines):
        if i == 0:
            rest = line[len(head) + 1:]
            label = ""
            if section and rest.startswith(section):
                label, rest = style.dim(section.rstrip()) + " ", rest[len(section):]
            out.append(f"{style.accent(head)} {label}{emphasize(rest, terms, style)}")
        else:
            out.append(emphasize(line, terms, style))
    out = [re.sub(r"…", style.dim("…"), line) if style.enabled else line for line in out]
    out.append(pad + style.dim("  ·  ".join(f"{clean(h['passage_id'])}  score {h['score']:.3f}" for h in hits)))
    return out


def render_result(result: dict, style: Style, width: int = DEFAULT_WIDTH, *, first: int = 1,
                  last: int | None = None, answer: bool = True, wrap_sources: bool = True,
                  note: bool = True) -> str:
    """A result as `qa ask` and the chat print it: the answer with [n] markers, the passages
    (hits first..last, the matching sentence with the query terms in bold) and their sources.

    wrap_sources False keeps each citation on one line (for output that is not a terminal, so a
    citation can be found and copied whole).
    """
    out: list[str] = []
    line = query_note(result, style, width) if note else None
    if line:
        out.append(line)
    hits = [h for h in result["hits"] if h["rank"] >= first and (last is None or h["rank"] <= last)]
    if not result["hits"]:
        out.append(NOTHING)
        return "\n".join(out)
    terms = set(analyze(result.get("query") or result.get("question") or ""))
    if answer and result.get("answer") and first == 1:
        out.append(style.bold("Answer"))
        out += [markers(x, style) for x in wrap(clean(result["answer"]["text"]), width, "  ")]
        low = result.get("confidence")
        if low is not None and low < LOW_CONFIDENCE:  # shown rounded down: never "0.50" for 0.4976
            shown = math.floor(low * 100) / 100
            out.append(style.warning(f"  low confidence ({shown:.2f}): these passages may not answer the question"))
        out.append("")
    elif answer and first == 1:
        out += [style.warning(x) for x in wrap(not_said(result), width)] + [""]
    if hits:
        out.append(style.bold("Passages"))
        for group in same_sentence_groups(hits):
            out += passage_lines(group, terms, style, width)
        out.append("")
        out.append(style.bold("Sources"))
        for ranks, citation in source_groups(hits):
            label = ranks_label(ranks)
            lines = _long_lines(f"{label} {citation}", "", " " * (len(label) + 1),
                                width if wrap_sources else None)
            out.append(style.accent(label) + lines[0][len(label):])
            out += lines[1:]
    return "\n".join(out)


def not_said(result: dict) -> str:
    """"Nothing in your library mentions dose with mycophenolate; the closest passages:"; without
    missing terms, that no sentence found answers the question."""
    if not result.get("missing_terms"):
        return "No sentence of these passages answers the question; the closest passages:"
    missing = " or ".join(clean(w) for w in result.get("missing_terms") or [])
    said = " and ".join(clean(w) for w in result.get("covered_terms") or [])
    return f"Nothing in your library mentions {missing}" + (f" with {said}" if said else "") + \
        "; the closest passages:"


def render_json(result: dict) -> str:
    """The result as JSON (schema 1), with DEL, C1 and bidi controls escaped too (JSON escapes only C0)."""
    return clean_json(json.dumps(result, ensure_ascii=False, indent=2))


# ---------------------------------------------------------------- documents

def _where(doc) -> str:
    from qa.cite import where_published

    return where_published(doc.journal, doc.date, doc.volume, doc.issue, doc.pages)


def render_document(doc, style: Style, width: int = DEFAULT_WIDTH) -> str:
    """A whole document: metadata, sections (the abstract or body) and the reference list."""
    from qa.cite import url

    out = []
    out += [style.bold(x) for x in wrap(clean(doc.title or doc.doc_id), width)]
    if doc.authors:
        out += wrap(clean(", ".join(doc.authors)), width)
    meta = [clean(_where(doc))] if _where(doc) else []
    for label, value in (("doi", doc.doi), ("PMID", doc.pmid)):
        if value:
            meta.append(f"{label}: {clean(value)}")
    link = url(doc)
    if link:
        meta.append(clean(link))
    if meta:
        out += [style.dim(x) for x in _long_lines(" · ".join(meta), "", "", width)]
    extra = []
    if doc.article_types:
        extra.append("type: " + clean(", ".join(doc.article_types)))
    if doc.keywords:
        extra.append("keywords: " + clean(", ".join(doc.keywords)))
    out += [style.dim(x) for x in wrap(" · ".join(extra), width)] if extra else []
    out.append(style.dim(f"id: {clean(doc.doc_id)}"))
    for section in doc.sections:
        out.append("")
        out.append(style.bold(clean(section.label or "Text")))
        out += wrap(clean(section.text), width, "  ")
    if doc.references:
        out.append("")
        out.append(style.bold(f"References ({len(doc.references)})"))
        for ref in doc.references:
            head = f"{ref.number}."
            out += _long_lines(f"{head} {clean(ref.text)}", "  ", " " * (len(head) + 3), width)
    return "\n".join(out)


def render_sources(docs: list, style: Style, width: int = DEFAULT_WIDTH, passages: int | None = None) -> str:
    """The documents of the corpus, numbered, one citation each."""
    from qa.cite import vancouver

    head = counted(len(docs), "document")
    if passages is not None:
        head += f", {counted(passages, 'passage')}"
    out = [style.bold(head)]
    for i, doc in enumerate(docs, 1):
        label, citation = f"{i}.", clean(vancouver(doc))
        out += _long_lines(f"{label} {citation}", "", " " * (len(label) + 1), width)
        if clean(doc.doc_id) not in citation:
            out.append(" " * (len(label) + 1) + style.dim(f"id: {clean(doc.doc_id)}"))
    return "\n".join(out)


# ---------------------------------------------------------------- explanations

def query_words(query: str) -> dict[str, list[str]]:
    """Analyzer term -> the words of the query that give it ("optimist" -> ["optimistic"])."""
    from qa.text.analyze import words

    out: dict[str, list[str]] = {}
    for w in words(query):
        for t in analyze(w):
            if w not in out.setdefault(t, []):
                out[t].append(w)
    return out


def render_explain(hit: dict, info: dict, query: str, style: Style, width: int = DEFAULT_WIDTH) -> str:
    """Why a hit ranked where it did: BM25 per query term, TF-IDF cosine, the fused score."""
    query = info.get("query") or query  # the searched text, abbreviations expanded
    surface = query_words(query)
    out = [style.bold(f"Why [{hit['rank']}] {clean(hit['passage_id'])} ranks "
                      f"{'#' + str(info['rank']) if info.get('rank') else 'outside the candidates'}")]
    out += wrap(f"query: {clean(query)}", width, "  ", "    ")
    out.append("  BM25 contribution per query term:")
    terms = info.get("terms") or []
    name_width = max((len(_term_name(t, surface)) for t, _ in terms), default=0)
    for term, value in sorted(terms, key=lambda tv: -tv[1]):
        name = clean(_term_name(term, surface))
        shown = f"{value:7.3f}" if value else "      —"
        line = f"    {name.ljust(name_width)}  {shown}"
        out.append(style.dim(line) if not value else line)
    bm25, w = info.get("bm25") or 0.0, info.get("fusion_weight")
    out.append(f"  BM25 total      {bm25:.3f}")
    if info.get("rank") is None:
        out.append("  This passage is not among the BM25 candidates that get reranked, so it has no fused score.")
        return "\n".join(out)
    top = info.get("bm25_max") or 0.0
    norm = bm25 / top if top > 0 else bm25
    out.append(f"  BM25 normalised {norm:.3f}  (÷ {top:.3f}, the best BM25 of the candidates)")
    out.append(f"  TF-IDF cosine   {info['tfidf']:.3f}")
    passage = (1 - w) * norm + w * info["tfidf"]
    out.append(f"  lexical score   {passage:.3f}  = {1 - w:.1f} × {norm:.3f} + {w:.1f} × {info['tfidf']:.3f}"
               f"  (fusion weight {w:.1f})")
    s = info.get("semantic_weight") or 0.0
    if info.get("dense") is not None:
        lexical, passage = passage, (1 - s) * passage + s * info["dense"]
        out.append(f"  dense cosine    {info['dense']:.3f}  (the question's and the passage's embeddings)")
        out.append(f"  passage score   {passage:.3f}  = {1 - s:.1f} × {lexical:.3f} + {s:.1f} × {info['dense']:.3f}"
                   f"  (semantic weight {s:.1f})")
    d = info.get("document_weight") or 0.0
    if d:
        out.append(f"  document        {info['document']:.3f}  (BM25 of the whole document ÷ the best of the "
                   "candidates' documents)")
        out.append(f"  fused score     {info['score']:.3f}  = {1 - d:.1f} × {passage:.3f} + {d:.1f} × "
                   f"{info['document']:.3f}  (document weight {d:.1f})")
    else:
        out.append(f"  fused score     {info['score']:.3f}")
    out.append(f"  rank            {info['rank']}")
    return "\n".join(out)


def _term_name(term: str, surface: dict[str, list[str]]) -> str:
    names = surface.get(term) or []
    if not names or names == [term]:
        return term
    return f"{'/'.join(names)} ({term})"


# ---------------------------------------------------------------- Markdown transcript

def _md(text: str) -> str:
    """Corpus or user text as Markdown prose: controls removed, markup characters escaped."""
    return re.sub(r"([\\`*_<>#|])", r"\\\1", clean(text))


def render_markdown(turns: list[dict], heading: str = "qa conversation", about: str | None = None) -> str:
    """A conversation (a list of results, oldest first) as Markdown with the sources of each answer."""
    out = [f"# {_md(heading)}", ""]
    if about:
        out += [_md(about), ""]
    for n, result in enumerate(turns, 1):
        out.append(f"## {n}. {_md(result.get('question') or '')}")
        out.append("")
        query = (result.get("query") or "").strip()
        if query and query != (result.get("question") or "").strip():
            out += [f"*Searched for:* {_md(query)}", ""]
        if not result["hits"]:
            out += [NOTHING, ""]
            continue
        if result.get("answer"):
            out += [f"**Answer.** {_md(result['answer']['text'])}", ""]
        out.append("**Passages**")
        out.append("")
        for group in same_sentence_groups(result["hits"]):
            hit = group[0]
            section = f"*{_md(hit['section'])}:* " if hit.get("section") else ""
            ids = "; ".join(f"`{clean(h['passage_id'])}`, score {h['score']:.3f}" for h in group)
            out.append(f"{', '.join(str(h['rank']) for h in group)}. {section}{_md(hit['highlight'] or hit['text'])} "
                       f"({ids})")
        out.append("")
        out.append("**Sources**")
        out.append("")
        for ranks, citation in source_groups(result["hits"]):
            out.append(f"- {ranks_label(ranks)} {_md(citation)}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
