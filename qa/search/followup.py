"""Follow-up questions in a chat: "what about tacrolimus?" read in the context of the question before.

The rule (pure, data-driven; the chat shows the result as the effective query):

1. A question *leans on* the one before when it
   - opens with one of FOLLOW_UP_CUES ("and", "what about", "is it", ...), compared word by word
     after normalisation, so "It" matches "it" but "its" and "italy" do not; or
   - has fewer than MIN_OWN_TERMS distinct content terms known to the corpus (terms of
     qa.text.analyze.analyze for which `known(term)` is true).
2. A question that leans on the one before, when there is one, becomes
   "<question> (<context words>)": the context words are the previous query's surface words whose
   analysis is a known content term, in their order, each once, leaving out those whose terms the
   new question already has. The previous query may itself be such a combination, so the context
   carries over a chain of follow-ups.
3. Any other question stands alone (it starts a new topic).
"""
from __future__ import annotations

from typing import Callable

from qa.text.analyze import analyze, words

# Openings that mark a question as elliptical; multi-word cues are matched as word sequences.
FOLLOW_UP_CUES: tuple[str, ...] = (
    "and", "what about", "how about", "what of", "is it", "does it", "are they", "it", "they", "also",
)
# A question with at least this many distinct known content terms (and no cue) stands alone.
MIN_OWN_TERMS = 2

_CUE_WORDS = tuple(tuple(c.split()) for c in FOLLOW_UP_CUES)


def opens_with_cue(question: str) -> bool:
    head = words(question)
    return any(tuple(head[: len(cue)]) == cue for cue in _CUE_WORDS)


def own_terms(question: str, known: Callable[[str], bool]) -> set[str]:
    """The distinct content terms of a question that the corpus knows."""
    return {t for t in analyze(question) if known(t)}


def is_follow_up(question: str, known: Callable[[str], bool]) -> bool:
    return opens_with_cue(question) or len(own_terms(question, known)) < MIN_OWN_TERMS


def context_words(previous_query: str, known: Callable[[str], bool], exclude: set[str] = frozenset()) -> list[str]:
    """Surface words of the previous query that carry a known content term, in order, each once.

    A word is left out when all of its known terms are in `exclude` (terms the new question has).
    """
    out: list[str] = []
    seen_terms: set[str] = set()
    for word in words(previous_query):
        terms = [t for t in analyze(word) if known(t)]
        new = [t for t in terms if t not in exclude and t not in seen_terms]
        if not new or word in out:
            continue
        out.append(word)
        seen_terms.update(terms)
    return out


def effective_query(question: str, previous_query: str | None, known: Callable[[str], bool]) -> str:
    """The query to search for `question`, given the previous query of the conversation (or None)."""
    question = question.strip()
    if not previous_query or not question or not is_follow_up(question, known):
        return question
    context = context_words(previous_query, known, exclude=set(analyze(question)))
    if not context:
        return question
    return f"{question} ({' '.join(context)})"
