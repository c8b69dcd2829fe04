"""Follow-up questions in a chat: "what about tacrolimus?" read in the context of the question before.

The rule (pure, data-driven; the chat shows the result as the effective query):

1. A question *leans on* the one before only on an explicit cue:
   - it opens with one of FOLLOW_UP_CUES ("and", "what about", "also", ...), or
   - it has one of PRONOUNS anywhere ("who wrote it", "what are their side effects"), except an
     "it" that only opens a clause ("is it safe to give rituximab to children?": the
     question says what it is about) in a question with MIN_OWN_TERMS terms of its own.
   Words are compared after normalisation, so "It" matches "it" but "Italy" does not. Any other
   question stands alone, however short: "not in your library" beats an answer in a wrong context.
2. The context is one turn, the *topic*: the words of the last question that name what it is
   about, its content words known to the corpus (terms of qa.text.analyze.analyze for which
   `known(term)` is true) that do not frame a question (qa.search.coverage.frames: "patients",
   "dose", "wrote" are among the most frequent English words). A question that leans on the topic
   becomes "<question> (<topic words>)", leaving out the words whose terms it already has. A
   follow-up that names a topic of its own ("what about tacrolimus?") becomes the topic itself;
   one that does not ("and the dose?", "who wrote it?") keeps the topic it leaned on. So context
   never piles up over a conversation.
"""
from __future__ import annotations

from typing import Callable

from qa.search.coverage import frames
from qa.text.analyze import analyze, words

# Openings that mark a question as elliptical; multi-word cues are matched as word sequences.
FOLLOW_UP_CUES: tuple[str, ...] = ("and", "what about", "how about", "what of", "also", "same for")
# Words that point back at what was asked before.
PRONOUNS: frozenset[str] = frozenset({"it", "its", "they", "them", "their", "theirs", "this", "these", "those",
                                      "he", "she", "him", "his", "her"})
# Words after which an "it" opens a clause instead of pointing back: "is it safe to …", "is it true that …".
CLAUSE_OPENERS: frozenset[str] = frozenset({"to", "that", "whether", "if"})
# A question with this many known content terms says what it is about even with an opening "it".
MIN_OWN_TERMS = 2

_CUE_WORDS = tuple(tuple(c.split()) for c in FOLLOW_UP_CUES)


def opens_with_cue(question: str) -> bool:
    head = words(question)
    return any(tuple(head[: len(cue)]) == cue for cue in _CUE_WORDS)


def points_back(question: str) -> bool:
    """Whether a pronoun of the question refers to something said before (not a clause's "it")."""
    ws = words(question)
    for i, w in enumerate(ws):
        if w in PRONOUNS and not (w == "it" and CLAUSE_OPENERS.intersection(ws[i + 1:i + 3])):
            return True
    return False


def own_terms(question: str, known: Callable[[str], bool]) -> set[str]:
    """The distinct content terms of a question that the corpus knows."""
    return {t for t in analyze(question) if known(t)}


def is_follow_up(question: str, known: Callable[[str], bool]) -> bool:
    if opens_with_cue(question) or points_back(question):
        return True
    # a clause's "it" leans only when the question has too little of its own to stand
    return "it" in words(question) and len(own_terms(question, known)) < MIN_OWN_TERMS


def context_words(previous: str, known: Callable[[str], bool], exclude: set[str] = frozenset()) -> list[str]:
    """Surface words of a question that carry a known content term, in order, each once.

    A word is left out when all of its known terms are in `exclude` (terms the new question has).
    """
    out: list[str] = []
    seen_terms: set[str] = set()
    for word in words(previous):
        terms = [t for t in analyze(word) if known(t)]
        new = [t for t in terms if t not in exclude and t not in seen_terms]
        if not new or word in out:
            continue
        out.append(word)
        seen_terms.update(terms)
    return out


def effective_query(question: str, topic: str | None, known: Callable[[str], bool]) -> str:
    """The query to search for `question`, given the topic of the conversation (or None)."""
    question = question.strip()
    if not topic or not question or not is_follow_up(question, known):
        return question
    context = context_words(topic, known, exclude=set(analyze(question)))
    if not context:
        return question
    return f"{question} ({' '.join(context)})"


def topic_words(question: str, known: Callable[[str], bool]) -> list[str]:
    """The words of a question that name what it is about (see the rule above)."""
    return [w for w in context_words(question, known) if not frames(w)]


def next_topic(question: str, topic: str | None, known: Callable[[str], bool]) -> str | None:
    """The topic after `question` was answered: the words naming its own topic when it has some,
    else the topic it leaned on (so "who wrote it?" keeps the subject for the next "and when?")."""
    own = topic_words(question, known)
    return " ".join(own) if own else topic
