"""One question in, one result out, in the JSON result schema (schema 1) that `ask --json` prints."""
from __future__ import annotations

import re

import numpy as np

from qa import cite
from qa.text import abbreviations
from qa.search import answer, coverage
from qa.search import rank as search
from qa.text import journals, spacing, vocabulary
from qa.search import confidence as trust
from qa.text.analyze import analyze, words
from qa.index.reader import Index
from qa.search.filters import Filters, extract_inline, passage_mask
from qa.models import Document, Hit
from qa.text.spelling import Corrector
from qa.text.sentences import split_sentences

SCHEMA = 1
DEFAULT_K = 5


def result_dict(qid: str, question: str, query: str, answer_obj, hits: list[Hit],
                confidence=None, error: str | None = None, corrections: list | None = None,
                expansions: list | None = None, missing_terms: list | None = None,
                covered_terms: list | None = None) -> dict:
    """Schema 1, plus `corrections` (spelling: [{"from", "to"}], qa/text/spelling.py),
    `expansions` (abbreviations: [{"term", "expansion"}], see qa/text/abbreviations.py) and
    `missing_terms` (what the question asks that the library does not say: qa/search/coverage.py;
    `answer` is then null) and `covered_terms` (then, the question's key terms the passages found do
    say)."""
    out = {"schema": SCHEMA, "id": qid, "question": question, "query": query, "answer": answer_obj,
           "confidence": confidence, "hits": [hit_dict(h) for h in hits], "corrections": corrections or [],
           "expansions": expansions or [], "missing_terms": missing_terms or [],
           "covered_terms": covered_terms or []}
    if error is not None:
        out["error"] = error
    return out


def hit_dict(h: Hit) -> dict:
    return {"rank": h.rank, "score": h.score, "bm25": h.bm25, "tfidf": h.tfidf, "passage_id": h.passage_id,
            "doc_id": h.doc_id, "section": h.section, "text": h.text, "highlight": h.highlight,
            "citation": h.citation, "source": h.source, "doc_score": h.doc_score, "dense": h.dense}


def _number(value) -> float | None:
    """A float for JSON; None for NaN (the semantic stage was off)."""
    value = float(value)
    return None if value != value else value


def show_answer_sentences(hits: list[Hit], candidates: list[answer.Candidate], text: str) -> None:
    """A hit the answer cites shows the sentence the answer took from it (its first), so the
    passage under [n] says what the answer's [n] says."""
    used: dict[int, str] = {}
    for c in candidates:
        if f"{c.text} [{c.rank}]" in text:
            used.setdefault(c.rank, c.text)
    for hit in hits:
        if hit.rank in used:
            hit.highlight = used[hit.rank]


class Engine:
    def __init__(self, index: Index, fusion_weight: float = search.FUSION_WEIGHT,
                 candidates: int = search.CANDIDATES, document_weight: float = search.DOCUMENT_WEIGHT,
                 semantic=None, semantic_weight: float = search.SEMANTIC_WEIGHT,
                 passage_semantic_weight: float = search.PASSAGE_SEMANTIC_WEIGHT):
        self.index = index
        self.fusion_weight = fusion_weight  # 0: BM25 order only
        self.candidates = candidates
        self.document_weight = document_weight  # whole-document evidence (qa/search/documents.py)
        self.semantic = semantic  # qa.search.dense.Semantic, or None: lexical only
        self.semantic_weight = semantic_weight
        self.passage_semantic_weight = passage_semantic_weight
        self._corrector = None
        self._spellings = None
        self._names_journals = None
        self._journal_text = None

    @property
    def corrector(self) -> Corrector:
        if self._corrector is None:  # built on first use: most commands never need it
            idx = self.index
            words = [idx.words.names[i] for i in range(len(idx.words.names))]
            self._corrector = Corrector(words, idx.words.count,
                                        known_terms=lambda t: idx.term_id(t) >= 0)
        return self._corrector

    def expand(self, text: str) -> abbreviations.Expansion:
        """Abbreviations of `text` expanded both ways (qa/text/abbreviations.py), then its hyphenation
        and spacing variants the corpus writes (qa/text/spacing.py) and the journal names it writes
        in full as the corpus abbreviates them (qa/text/journals.py): the searched text. The
        variants spell the question's own words, so they may match where its words do not."""
        known = self.index.abbreviations
        expanded = abbreviations.expand(text, known.short, known.long)
        found = spacing.variants(text, self.spellings, present=set(analyze(expanded.text)))
        names = journals.variants(text, self.names_journal) if self.names_journals else []
        expanded.expansions += names
        expanded.respelled += [v["expansion"] for v in names]
        # what papers write for the question's drug names, shorthand and lay words (qa/text/vocabulary.py):
        # for a word the corpus does not have at all, its one meaning is that word as the corpus
        # writes it, searched as the question's own; a class and its members, or the meaning of a
        # word the corpus has too, are variants like the spellings above
        said = vocabulary.variants(text, lambda terms: all(self.index.term_id(t) >= 0 for t in terms),
                                   present=set(analyze(expanded.text)) | set(analyze(" ".join(
                                       v["expansion"] for v in found))))
        expanded.expansions += found + said
        for v in said:
            if self.index_has_none(v["term"]) and "|" not in (vocabulary.meaning(v["term"]) or ""):
                expanded.synonyms.append(v["expansion"])
            else:
                found.append(v)
        if found:
            expanded.added += [v["expansion"] for v in found]
            expanded.spellings += [v["expansion"] for v in found]
            expanded.text = f"{expanded.text.rstrip()} {' '.join(v['expansion'] for v in found)}"
        return expanded

    def index_has_none(self, words_: str) -> bool:
        """Whether the corpus has none of the analyzer terms of these words."""
        return not any(self.index.term_id(t) >= 0 for t in analyze(words_))

    @property
    def names_journals(self) -> bool:
        """Whether the corpus names any journal (a document's, or in a reference list): else no run
        of question words can be a journal's name, and the journal table is never read."""
        if self._names_journals is None:
            self._names_journals = bool(len(self.index.documents.journal_names)) or self.index.holds_kind("reference")
        return self._names_journals

    def names_journal(self, abbreviation: str, terms: list[str]) -> bool:
        """Whether the corpus names a journal so: as a document's journal (folded, without periods),
        or in a reference entry holding these terms in this order."""
        names = self.index.documents.journal_names
        if self._journal_text is None:  # the journals' names in one text, read once
            self._journal_text = "\n".join(names[i].replace(".", "") for i in range(len(names)))
        if "\n" in abbreviation:  # (never: words of a question) not to be matched across two names
            if any(abbreviation in names[i].replace(".", "") for i in range(len(names))):
                return True
        elif len(names) and abbreviation in self._journal_text:
            return True
        return search.passages_with(self.index, terms) > 0 and search.reference_holds(self.index, terms)

    @property
    def spellings(self) -> spacing.Corpus:
        """The index's look-ups for hyphenation and spacing variants (qa/text/spacing.py)."""
        if self._spellings is None:
            self._spellings = spacing.Corpus(self.index.term_id, self.index.terms.hyphenated,
                                             lambda terms: search.passages_with(self.index, terms))
        return self._spellings

    def citation(self, passage: int) -> str:
        doc = self.index.document(self.index.passage_doc(passage))
        ref = int(self.index.passages.ref[passage])
        if ref:
            return cite.cite_reference(doc.references[ref - 1], doc)
        section = self.index.section(passage)
        return f"{cite.vancouver(doc)} — {section}" if section else cite.vancouver(doc)

    def hits(self, ranked: search.Ranked, positions: list[int]) -> tuple[list[Hit], list[list[str]]]:
        index = self.index
        index.prefetch(ranked.passages[positions])
        document_score: dict[int, float] = {}  # a document's score: its best passage's (ranked comes best first)
        for p, score in zip(ranked.passages.tolist(), ranked.final.tolist()):
            document_score.setdefault(index.passage_doc(p), score)
        hits, sentences = [], []
        for rank, pos in enumerate(positions, 1):
            p = int(ranked.passages[pos])
            doc = index.document(index.passage_doc(p))
            text = index.passages.text[p]
            hits.append(Hit(rank=rank, passage_index=p, score=float(ranked.final[pos]),
                            doc_score=document_score[index.passage_doc(p)], dense=_number(ranked.dense[pos]),
                            bm25=float(ranked.bm25[pos]), tfidf=float(ranked.tfidf[pos]),
                            passage_id=index.passage_id(p), doc_id=doc.doc_id, section=index.section(p),
                            text=text, citation=self.citation(p), source=cite.source(doc)))
            sentences.append(split_sentences(text))
        return hits, sentences

    def passage_index(self, passage_id: str) -> int:
        """'<doc_id>#<n>' -> position in the index; -1 when unknown."""
        doc_id, _, n = passage_id.rpartition("#")
        d = self.index.document_index(doc_id)
        if d < 0 or not n.isdigit():
            return -1
        p = self.index.document_passages(d).start + int(n)
        ok = p < self.index.n_passages and self.index.passage_doc(p) == d
        return p if ok else -1

    def document(self, doc_id: str) -> Document | None:
        d = self.index.document_index(doc_id)
        return self.index.document(d) if d >= 0 else None

    def _rank(self, text: str, expanded, mask=None, facets=(), documents_wanted: int | None = None) -> search.Ranked:
        """The ranking of a question's text (spelling corrected, filters taken out) as expanded.
        A question asking for a kind of statement (a dose, side effects: qa/search/coverage.py) is
        ranked again with the passages of its best documents that state one among the candidates:
        a trial's side effects are often told in a sentence that names neither the drug nor them."""
        dense = self.semantic.question(text) if self.semantic is not None else None

        def ranked(joining=None):
            return search.rank(self.index, expanded.searched(text), self.candidates, self.fusion_weight, mask,
                               expansion=" ".join(expanded.added), spellings=" ".join(expanded.spellings),
                               document_weight=self.document_weight, dense=dense,
                               semantic_weight=self.semantic_weight,
                               passage_semantic_weight=self.passage_semantic_weight, joining=joining,
                               documents_wanted=documents_wanted)

        first = ranked()
        if not facets or not len(first.passages):
            return first
        stating = [p for d in dict.fromkeys(self.index.passage_doc(p) for p in first.passages[:self.FACET_DOCUMENTS])
                   for p in self.document_passages(d)
                   if any(coverage.FACETS[f][1].search(self.index.passages.text[p]) for f in facets)]
        return ranked(np.asarray(stating, dtype=np.int64)) if stating else first

    FACET_DOCUMENTS = 3  # best passages whose documents are searched for a statement of the facet

    def explain(self, query: str, passage_id: str) -> dict | None:
        """Why a passage ranks where it does for a query: BM25 per term, TF-IDF cosine, fused score."""
        p = self.passage_index(passage_id)
        if p < 0:
            return None
        expanded = self.expand(query)  # as ask searches it: abbreviations expanded
        ranked = self._rank(query, expanded)
        searched = ranked.query
        where = np.flatnonzero(ranked.passages == p)
        terms = search.term_contributions(self.index, ranked.terms, p, ranked.extra, ranked.extra_weight)
        if len(where) == 0:
            return {"passage_id": passage_id, "terms": terms, "bm25": sum(v for _, v in terms),
                    "tfidf": None, "score": None, "rank": None, "fusion_weight": self.fusion_weight,
                    "query": searched}
        i = int(where[0])
        return {"passage_id": passage_id, "query": searched, "terms": terms, "bm25": float(ranked.bm25[i]),
                "bm25_max": float(ranked.bm25.max()), "tfidf": float(ranked.tfidf[i]),
                "document": float(ranked.document[i]), "document_weight": self.document_weight,
                "dense": _number(ranked.dense[i]),
                "semantic_weight": self.passage_semantic_weight if self.semantic else 0.0,
                "score": float(ranked.final[i]), "rank": i + 1, "fusion_weight": self.fusion_weight}

    def _ranked(self, question: str, filters: Filters | None, documents_wanted: int | None = None):
        """What `ask` ranks: the question with its inline filters taken out, spelling corrected and
        expanded; returns (the searched text, its expansion, corrections, key terms, ranking).
        documents_wanted: only the first documents are needed (rank.rank)."""
        text, inline, corrections = self._searched(question)
        expanded = self.expand(text)
        active = (filters or Filters()).merged(inline)
        mask = passage_mask(self.index, active)
        keys = coverage.key_terms(text, self.index, expanded.expansions)
        return text, expanded, corrections, keys, self._rank(text, expanded, mask, keys.facets, documents_wanted)

    def _searched(self, question: str):
        """The question's text as searched and embedded: inline filters taken out (returned apart),
        spelling corrected except the clinicians' words; and the corrections."""
        text, inline = extract_inline(question)
        text, corrections = self.corrector.correct(text, keep=vocabulary.knows)
        return text, inline, corrections

    def prepare(self, questions: list[str]) -> None:
        """Embed these questions' searched texts in batches, before they are asked one by one (the
        semantic stage; each vector is the one asking alone gives). A question that cannot be
        prepared is left to `ask`, which reports it."""
        if self.semantic is None or not hasattr(self.semantic.encoder, "remember"):
            return
        texts = []
        for question in questions:
            try:
                texts.append(self._searched(question)[0])
            except Exception:  # noqa: BLE001 - asked alone, it gets its error there
                continue
        self.semantic.encoder.remember(texts)

    def rank_documents(self, question: str, k: int = DEFAULT_K, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The first k documents for a question, each with its score (its best passage's): what a
        TREC run prints, and exactly the documents and `doc_score`s of `ask(per_document=True)`,
        without the hits, the answer and the confidence it never prints."""
        # the first k documents, and the FACET_DOCUMENTS best passages a facet's second ranking reads
        ranked = self._ranked(question, filters, documents_wanted=max(k, self.FACET_DOCUMENTS))[-1]
        ids = self.index.documents.ids
        return [(ids[self.index.passage_doc(int(ranked.passages[pos]))], float(ranked.final[pos]))
                for pos in search.best_per_document(self.index, ranked, k)]

    def ask(self, question: str, k: int = DEFAULT_K, qid: str = "1", per_document: bool = False,
            filters: Filters | None = None) -> dict:
        """Rank, highlight, answer. per_document: k counts documents (best passage of each).

        Inline filters (`year:2005..2010 author:ytterberg`) are taken out of the question and
        combined with `filters`; the rest, spelling corrected and with its abbreviations expanded
        (qa/text/abbreviations.py), is what is searched (the JSON `query`).
        """
        text, expanded, corrections, keys, ranked = self._ranked(question, filters)
        expansions = expanded.expansions
        if per_document:
            positions = search.best_per_document(self.index, ranked, k)
        else:
            positions = list(range(min(k, len(ranked.passages))))
        hits, sentences = self.hits(ranked, positions)
        fixes = [{"from": c.original, "to": c.corrected} for c in corrections]
        if not hits:
            # nothing matches: no answer, and no trust in one (confidence 0)
            return result_dict(qid, question, ranked.query, None, [], confidence=0.0, corrections=fixes,
                               expansions=expansions)
        missing = self.missing_terms(keys, text, hits, ranked)
        candidates = self.answer_candidates(hits, sentences, keys, question, ranked,
                                            names_journal=bool(expanded.respelled))
        listing = bool(answer.LISTING.search(text))
        covered = keys.covered_words([h.text for h in hits]) if missing else []
        composed, said = (None, covered) if missing else answer.compose(candidates, listing=listing, facets=keys.facets)
        self.last_features = self.confidence_features(ranked, keys.share(frozenset(said)))  # for calibration
        confidence = trust.score(self.last_features, trust.SEMANTIC if self.semantic is not None else trust.LEXICAL)
        confidence *= keys.known_share(self.semantic is not None)
        if missing:  # no answer: the passages found leave this much of the question unsaid
            confidence *= 1.0 - keys.share(frozenset(missing))
        if composed is not None and composed.pop("field"):  # the very field asked for: "Authors: …"
            confidence = max(confidence, trust.FIELD_ANSWER)
        if composed is not None:
            show_answer_sentences(hits, candidates, composed["text"])
        confidence = round(confidence, 4)
        return result_dict(qid, question, ranked.query, composed, hits, confidence=confidence, corrections=fixes,
                           expansions=expansions, missing_terms=missing,
                           covered_terms=covered)

    def document_passages(self, doc: int) -> range:
        return self.index.document_passages(doc)

    def document_texts(self, passage: int) -> list[str]:
        """The texts of the passages of a passage's document: what the document says in all."""
        return [self.index.passages.text[p] for p in self.document_passages(self.index.passage_doc(passage))]

    SEMANTIC_COVERAGE = 0.01  # how much a word must bring the question nearer its passages to count as said

    def missing_terms(self, keys, text: str, hits: list[Hit], ranked) -> list[str]:
        """The question's everyday key terms that no passage found says (qa/search/coverage.py).
        With the semantic stage, a word the passages say in other words is not missing: the
        question comes nearer the best passages with it than without it."""
        if not keys.unsaid([h.text for h in hits]):
            return []
        # the whole top document as one text: a side effect it reports is one of the drug it is about
        missing = keys.missing([h.text for h in hits] + ["\n".join(self.document_texts(hits[0].passage_index))])
        if not missing or self.semantic is None:
            return missing
        from qa.search import dense

        top = [h.passage_index for h in hits[:3]]
        rows = self.semantic.rows[top]
        near = float(dense.cosines(rows, self.semantic.question(text).vector).max())
        kept = []
        for word in missing:
            if word in coverage.FACETS:
                kept.append(word)
                continue
            without = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", text)
            if near - float(dense.cosines(rows, self.semantic.question(without).vector).max()) < self.SEMANTIC_COVERAGE:
                kept.append(word)
        return kept

    def answer_candidates(self, hits: list[Hit], sentences: list[list[str]], keys, question: str,
                   ranked, names_journal: bool = False) -> list[answer.Candidate]:
        """The sentences an answer may use, each scored, with the key terms it covers; highlights set.
        Metadata lines answer only a question about a field ("who wrote it"), reference entries only
        one about references or a journal."""
        scorer = answer.SentenceScorer(self.index, ranked.q_ids, ranked.q_weights)
        scorer.score(s for ss in sentences for s in ss)  # each sentence once, for highlights and answer alike
        q_words = answer.question_words(question)
        ordered_words = words(question)
        fields = answer.asks_for_field(ordered_words)
        references = answer.asks_for_reference(ordered_words) or names_journal
        several = bool(answer.ASKS_FOR_SEVERAL.search(question))
        top = hits[0].score or 1.0
        admit = self.semantic.admit if self.semantic is not None else None
        context: dict[int, set[str]] = {}  # what the hits of each document say together
        if keys.facets:
            for hit in hits:
                context.setdefault(self.index.passage_doc(hit.passage_index), set()).update(analyze(hit.text))
        out, by_text = [], {}
        for hit, ss in zip(hits, sentences):
            hit.highlight = answer.highlight(ss, scorer, q_words)
            kind = self.index.kind(hit.passage_index)
            if (kind == "metadata" and not fields) or (kind == "reference" and not references):
                continue
            prior = answer.section_prior(hit.section)
            concludes = "conclusion" in (hit.section or "").lower()
            closes = self.closes_section(hit.passage_index)
            close = admit is not None and hit.dense is not None and hit.dense >= admit
            previous = None
            for j, s in enumerate(ss):
                if s in by_text:  # overlapping windows repeat sentences: cite the best-ranked hit
                    previous = by_text[s]
                    continue
                asked_field = answer.field_prior(s, q_words)
                if kind == "metadata" and not asked_field:
                    previous = None
                    continue  # a title line repeats the question; it answers only "what is the title"
                score = scorer.cosine(s) + answer.HIT_WEIGHT * hit.score / top + prior + asked_field
                if closes and j == len(ss) - 1:
                    score += answer.POSITION_PRIOR
                covers = keys.covered(s, set(analyze(s)), close, context.get(self.index.passage_doc(hit.passage_index),
                                                                             frozenset()))
                c = answer.Candidate(s, hit.rank, score, keys.share(covers), self.index.passage_doc(hit.passage_index),
                                     covers, names_several=several and answer.enumerates(s),
                                     asked_field=asked_field > 0, concludes=concludes, sets_up=prior < 0)
                if previous is not None and previous.doc == c.doc:
                    previous.follower = c
                by_text[s] = previous = c
                out.append(c)
        return out

    def closes_section(self, p: int) -> bool:
        """Whether body passage p is the last window of its section: its last sentence closes it."""
        columns = self.index.passages
        if self.index.kind(p) != "body":
            return False
        q = p + 1
        return (q >= self.index.n_passages or int(columns.doc[q]) != int(columns.doc[p])
                or int(columns.section[q]) != int(columns.section[p]) or self.index.kind(q) != "body")

    def confidence_features(self, ranked: search.Ranked, key_coverage: float) -> tuple[float, ...]:
        content = [t for t in ranked.terms if t not in search.LABEL_TERMS] or list(ranked.terms)
        return trust.features(self.index, ranked, content, key_coverage,
                              admit=self.semantic.admit if self.semantic is not None else None)
