"""Abbreviations: definition pairs found in the corpus (and in the question), used both ways at query time.

Detection is the algorithm of Schwartz & Hearst (2003), "A simple algorithm for identifying
abbreviation definitions in biomedical text" (PSB 2003), as the paper describes it:

1. Candidates: "long form (SF)" and "SF (long form)". The text inside a pair of parentheses (cut
   at its first ", " or "; ") is a short form candidate when it has 2-10 characters, at most 2
   words, starts with a letter or digit and has at least one letter; the long form candidate is
   then the text before the parenthesis, at most min(|SF| + 5, 2 |SF|) words (|SF| = letters and
   digits of the short form), not reaching back past the start of the sentence or clause
   (_BOUNDARY; LOOKBACK characters at most). Otherwise the parentheses may hold the long form:
   the short form is the word just before them, which must also have a capital letter, and the
   whole text in the parentheses must be its best long form.
2. Best long form: each letter or digit of the short form, from its last to its first, is
   matched to a character of the long form candidate, scanning right to left; the first
   character of the short form must start a word. The long form runs from the start of the
   word of that first match to the end: the shortest long form that covers the short form.
   A Greek letter of the short form also matches the initial of its name ("TNF-α" and
   "factor-alpha"), see GREEK.
3. A pair is kept when the long form is at least as long as the short form, does not contain the
   short form as a word, and has at most min(|SF| + 5, 2 |SF|) words (words split at spaces
   and hyphens).

Stored in the index (see `tables`): every pair with the number of times the corpus defines it,
grouped by the short form's case-folded spelling and the long form's analyzed terms (one term a
word, stop words left out), so "IVIg"/"IVIG" and "intravenous immunoglobulins"/"Intravenous
immunoglobulin" are one pair, shown in its most frequent spelling (a long form capitalised only
where it opens a sentence counts for its lower-case spelling when the corpus has that too).
Two string tables sorted by UTF-8 bytes, both searched by binary search (qa.index.strings.StringTable):

    abbrev.short   "<sf key>\\t<SF>\\t<long form>\\t<count>"      sf key: the SF case-folded
    abbrev.long    "<lf key>\\t<SF>\\t<long form>\\t<count>"      lf key: the LF's terms

Query time (`expand`), after spelling correction:
- pairs the question defines itself come first: their short form means that long form (the
  corpus's long forms of it are not added), and they are listed as expansions;
- each word of the question that stands for a known short form (see `means`: as written, or
  in another case when written like an abbreviation, "IVIg", or a lower-case word that is not
  an everyday word, "ivig"; "all" never means "acute lymphoblastic leukemia") adds its most
  frequent long forms, at most MAX_LONG_FORMS;
- each known long form in the question (the longest run of consecutive word terms that is a
  stored long form) adds its most frequent short form; a single everyday word ("associations")
  adds nothing;
- nothing already in the question is added again (so expanding an expanded query adds nothing).
Everyday words: stop words, qa.spelling's common English words and qa.sentences's abbreviations
of prose ("vs", "fig"). The added text is appended to the searched text (the JSON `query`) and
weighs less than the question's own words there (qa.search.rank.EXPANSION_WEIGHT); `expansions`
lists {"term": what the question says, "expansion": what was added for it}, and the pairs the
question defines.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from qa.text.analyze import STOP_WORDS, TOKEN, analyze, normalize

MIN_SF, MAX_SF = 2, 10  # characters of a short form
MAX_SF_WORDS = 2
MAX_LONG_FORMS = 2  # long forms a short form of the question adds, most frequent first
LOOKBACK = 600  # characters before a parenthesis read for its long form (15 words at most)

# Greek letters match the initial of their name, so "TNF-α" is found for "tumor necrosis
# factor-alpha". Lower-case forms; upper-case ones are case-folded before the comparison.
GREEK = {"α": "a", "β": "b", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "e", "θ": "t",
         "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
         "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "u", "φ": "p", "χ": "c", "ψ": "p", "ω": "o"}

_PARENS = re.compile(r"\(([^()]*)\)")
# Where a long form cannot reach back past: a sentence end, a clause mark, a bracket.
_BOUNDARY = re.compile(r"[.!?;:]\s|[()\[\]{}]")
_LF_WORDS = re.compile(r"[^\s-]+")  # words of a long form, split at spaces and hyphens
_EDGE = ".,;:!?\"'“”‘’"


# ---------------------------------------------------------------- detection

def _alnum(s: str) -> int:
    return sum(c.isalnum() for c in s)


def _max_words(sf: str) -> int:
    n = _alnum(sf)
    return min(n + 5, n * 2)


def is_short_form(sf: str) -> bool:
    """The paper's short form test: 2-10 characters, at most 2 words, a letter or digit first,
    at least one letter."""
    return (MIN_SF <= len(sf) <= MAX_SF and len(sf.split()) <= MAX_SF_WORDS
            and sf[0].isalnum() and any(c.isalpha() for c in sf))


def _folded(s: str) -> str:
    """s case-folded character by character, so positions stay those of s."""
    folded = s.lower() if s.isascii() else s.casefold()
    if len(folded) == len(s):
        return folded
    return "".join(f if len(f := c.casefold()) == 1 else c for c in s)  # "ß" -> "ss": kept


def best_long_form(sf: str, candidate: str) -> str | None:
    """The shortest end of `candidate` whose characters cover those of `sf`, right to left, with
    the first character of `sf` at the start of a word; None when there is none."""
    s, lf = _folded(sf), _folded(candidate)
    j = len(lf) - 1  # the next character of lf to read, leftwards
    for i in range(len(s) - 1, -1, -1):
        c = s[i]
        if not c.isalnum():
            continue
        alt = GREEK.get(c)
        while True:
            p = lf.rfind(c, 0, j + 1)
            if alt:
                p = max(p, lf.rfind(alt, 0, j + 1))
            if p < 0:
                return None
            if i == 0 and p > 0 and lf[p - 1].isalnum():  # the first character must start a word
                j = p - 1
                continue
            break
        j = p - 1
    start = candidate.rfind(" ", 0, j + 1) + 1
    return candidate[start:].strip()


def _valid_pair(sf: str, lf: str) -> bool:
    if len(lf) < len(sf):
        return False
    words = _LF_WORDS.findall(lf)
    if len(words) > _max_words(sf):
        return False
    # the long form must not contain the short form as a word
    return sf.casefold() not in (w.strip(_EDGE).casefold() for w in lf.split())


def _window(before: str, max_words: int) -> str:
    """The long form candidate: the last max_words words of `before`, within its clause."""
    if max_words <= 0:
        return ""
    tail = " ".join(before.rsplit(None, max_words)[-max_words:]) + " "
    cut = 0
    for m in _BOUNDARY.finditer(tail):
        cut = m.end()
    return tail[cut:].strip()


def find_pairs(text: str) -> list[tuple[str, str]]:
    """(short form, long form) definition pairs of a text, in order of appearance."""
    if "(" not in text:
        return []
    pairs = []
    for m in _PARENS.finditer(text):
        inside = m.group(1).strip()
        for sep in (", ", "; "):
            inside = inside.split(sep, 1)[0]
        inside = inside.strip()
        if not inside:
            continue
        before = text[max(0, m.start() - LOOKBACK): m.start()]
        if m.start() > LOOKBACK:  # drop the word cut in two; keeps a long text linear
            before = before[len(before.split(None, 1)[0]):] if before[:1].strip() else before
        pair = None
        if is_short_form(inside):  # long form (SF)
            window = _window(before, _max_words(inside))
            lf = best_long_form(inside, window) if window else None
            if lf and _valid_pair(inside, lf):
                pair = (inside, lf)
        elif len(inside.split()) > 1 or len(inside) > MAX_SF:  # SF (long form)
            words = before.rsplit(None, 1)
            sf = words[-1].strip(_EDGE) if words else ""
            if sf and any(c.isupper() for c in sf) and is_short_form(sf):
                lf = " ".join(inside.split()[: _max_words(sf)])
                lf = best_long_form(sf, lf)
                if lf and lf == " ".join(inside.split()) and _valid_pair(sf, lf):
                    pair = (sf, lf)
        if pair:
            pairs.append((pair[0], pair[1].strip(_EDGE)))
    return pairs


# ---------------------------------------------------------------- the index's tables

def sf_key(sf: str) -> str:
    return normalize(sf)


def lf_key(lf: str) -> str:
    return " ".join(t for t, _ in _word_terms(lf))


def _word_terms(text: str) -> list[tuple[str, tuple[int, int]]]:
    """The analyzed term of each word of `text` (stop words left out), with the word's span.
    A hyphenated compound gives its whole-word term only, not its parts: "depression-specific"
    must not match the long form "specificity"."""
    out = []
    for m in TOKEN.finditer(text):
        terms = analyze(m.group())
        if terms:
            out.append((terms[0], m.span()))
    return out


def definitions(texts) -> Counter:
    """How many times each (short key, long key, short form, long form) is defined in `texts`."""
    found: Counter[tuple[str, str, str, str]] = Counter()
    for text in texts:
        if not text or "(" not in text:
            continue
        for sf, lf in find_pairs(text):
            key = (sf_key(sf), lf_key(lf))
            if not key[0] or not key[1] or "\t" in sf + lf or "\n" in sf + lf:
                continue
            found[(*key, sf, " ".join(lf.split()))] += 1
    return found


def definition_rows(found: Counter) -> list[str]:
    """The counts as sorted table rows, stored in the index so an update can add to them."""
    return sorted(("\t".join((*k, str(n))) for k, n in found.items()), key=lambda s: s.encode("utf-8"))


def definitions_from_rows(rows) -> Counter:
    found: Counter = Counter()
    for row in rows:
        *key, n = row.split("\t")
        found[tuple(key)] += int(n)
    return found


def tables_of(found: Counter) -> tuple[list[str], list[str]]:
    """The two sorted tables (see the module docstring) of the definitions counted."""
    counts: Counter[tuple[str, str]] = Counter()
    sf_forms: dict[tuple[str, str], Counter] = {}
    lf_forms: dict[tuple[str, str], Counter] = {}
    for (skey, lkey, sf, lf), n in found.items():
        key = (skey, lkey)
        counts[key] += n
        sf_forms.setdefault(key, Counter())[sf] += n
        lf_forms.setdefault(key, Counter())[lf] += n
    short_rows, long_rows = [], []
    for key, n in counts.items():
        sf = _most_common(sf_forms[key])
        lf = _most_common(_sentence_case_merged(lf_forms[key]))
        short_rows.append(f"{key[0]}\t{sf}\t{lf}\t{n}")
        long_rows.append(f"{key[1]}\t{sf}\t{lf}\t{n}")
    by_bytes = lambda s: s.encode("utf-8")  # noqa: E731 - the order StringTable searches
    return sorted(short_rows, key=by_bytes), sorted(long_rows, key=by_bytes)


def _most_common(forms: Counter) -> str:
    return min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _sentence_case_merged(forms: Counter) -> Counter:
    """A form capitalised only because it opens a sentence ("Intravenous immunoglobulin") counts
    for the same form in lower case when the corpus also writes that one."""
    out = Counter()
    for form, n in forms.items():
        lower = form[:1].lower() + form[1:]
        out[lower if lower != form and lower in forms else form] += n
    return out


@dataclass(frozen=True)
class Row:
    key: str
    sf: str
    lf: str
    count: int


def _row(line: str) -> Row:
    key, sf, lf, count = line.split("\t")
    return Row(key, sf, lf, int(count))


# ---------------------------------------------------------------- query time

@dataclass
class Expansion:
    text: str  # what is searched: the question and what was added
    expansions: list[dict] = field(default_factory=list)  # [{"term", "expansion"}]
    added: list[str] = field(default_factory=list)  # the texts appended, in order
    # appended texts that spell the question's own words (qa/text/spacing.py): unlike an abbreviation's
    # meaning, they may match where none of the question's words does
    spellings: list[str] = field(default_factory=list)
    # the question's own words as the corpus writes them (journal names, qa/text/journals.py):
    # searched as question words
    respelled: list[str] = field(default_factory=list)
    # what papers write for question words the corpus does not have at all (a brand name, a lay
    # word: qa/text/vocabulary.py): searched as question words
    synonyms: list[str] = field(default_factory=list)

    def searched(self, question: str) -> str:
        """The question with its respelled words and synonyms: the text searched at full weight."""
        extra = [*self.respelled, *self.synonyms]
        return " ".join([question.rstrip(), *extra]) if extra else question


DICT_ROWS = 200_000  # a table up to this many rows is read once into dicts; a larger one is searched


class Lookup:
    """A table's rows by key, read once: a look-up is then one dict access instead of a binary
    search of the table in Python. `continues(prefix)`: whether a longer key starts with it
    ("<prefix> ..."), by one bisection of the sorted keys in C."""

    def __init__(self, table):
        self.rows: dict[str, list[Row]] = {}
        for i in range(len(table)):
            row = _row(table[i])
            self.rows.setdefault(row.key, []).append(row)  # in table order, as a search finds them
        self.keys = sorted(self.rows, key=lambda k: k.encode("utf-8"))
        self._encoded = [k.encode("utf-8") for k in self.keys]

    def continues(self, prefix: str) -> bool:
        start = (prefix + " ").encode("utf-8")
        k = bisect.bisect_left(self._encoded, start)
        return k < len(self._encoded) and self._encoded[k].startswith(start)


def lookup(table) -> Lookup | None:
    """The table's Lookup, made on first use and kept with the table; None for a large table."""
    if len(table) > DICT_ROWS:
        return None
    found = getattr(table, "_lookup", None)
    if found is None:
        found = Lookup(table)
        try:
            table._lookup = found
        except AttributeError:  # a plain list: made again next time
            pass
    return found


def _rows(table, key: str) -> list[Row]:
    found = lookup(table)
    if found is not None:
        return list(found.rows.get(key, ()))
    return [_row(table[i]) for i in table.prefix_range(key + "\t")]


def _written_like_abbreviation(word: str) -> bool:
    return any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)


def _everyday(word: str) -> bool:
    """A stop word, a common English word (qa.spelling's list) or an abbreviation of everyday
    prose (qa.sentences's list: "vs", "fig", "al", ...)."""
    from qa.text.sentences import ABBREVIATIONS
    from qa.text.spelling import common_words

    w = normalize(word)
    return w in STOP_WORDS or w in ABBREVIATIONS or w in common_words()


def means(word: str, sf: str) -> bool:
    """Whether a question word stands for the corpus short form `sf` (same case-folded spelling).

    As written ("IVIG" for IVIG), unless it is an everyday word in lower case; in another case
    when the word is written like an abbreviation ("IVIg", "IL6") or is a lower-case word that
    is not an everyday word ("ivig"). A capitalised word ("Los" of Los Angeles, a sentence's
    first word) only as written.
    """
    if word == sf:
        return not (word.islower() and _everyday(word))
    return _written_like_abbreviation(word) or (word.islower() and not _everyday(word))


def _longest_run(table, terms: list[str], i: int) -> tuple[int, list[Row]]:
    """The longest stored long form made of terms[i:j]: (j, its rows), or (i, []).

    One binary search a term: the rows of key K ("K\t...") sort before those of longer keys
    starting with K ("K ..."), which sort before any other key."""
    found = lookup(table)
    if found is not None:
        best_end, best = i, []
        for j in range(i + 1, len(terms) + 1):
            key = " ".join(terms[i:j])
            if key in found.rows:
                best_end, best = j, list(found.rows[key])
            if not found.continues(key):
                break
        return best_end, best
    best_end, best = i, []
    prefix = b""
    for j in range(i + 1, len(terms) + 1):
        prefix = terms[j - 1].encode("utf-8") if j == i + 1 else prefix + b" " + terms[j - 1].encode("utf-8")
        k = table.lower_bound(prefix)
        rows = []
        while k < len(table) and table.raw(k).startswith(prefix + b"\t"):
            rows.append(_row(table[k]))
            k += 1
        if rows:
            best_end, best = j, rows
        if not (k < len(table) and table.raw(k).startswith(prefix + b" ")):
            break  # no longer long form starts with these terms
    return best_end, best


def _word(token: str) -> str:
    token = token.strip("'’")
    return token[:-2] if token.endswith(("'s", "’s")) else token


def expand(text: str, short_table=None, long_table=None) -> Expansion:
    """The searched text for `text` (a question, after spelling correction) and its expansions.

    short_table / long_table: the index's abbrev.short and abbrev.long tables (None: only the
    pairs the question defines itself are listed)."""
    result = Expansion(text)
    word_terms = _word_terms(text)
    q_terms, spans = [t for t, _ in word_terms], [s for _, s in word_terms]
    present_terms = set(analyze(text))
    present_sf = {sf_key(_word(m.group())) for m in TOKEN.finditer(text)}
    done_sf: set[str] = set()  # short forms whose meaning is settled
    done_lf: set[str] = set()  # long forms (lf keys) already handled

    def add(term: str, expansion: str, append: bool) -> None:
        result.expansions.append({"term": term, "expansion": expansion})
        if append:
            result.added.append(expansion)
            present_terms.update(analyze(expansion))
            present_sf.update(sf_key(_word(m.group())) for m in TOKEN.finditer(expansion))

    for sf, lf in find_pairs(text):  # the question's own definitions
        if sf_key(sf) not in done_sf:
            done_sf.add(sf_key(sf))
            done_lf.add(lf_key(lf))
            add(sf, lf, append=False)

    if short_table is not None and len(short_table):
        for m in TOKEN.finditer(text):
            word = _word(m.group())
            key = sf_key(word)
            if key in done_sf or not MIN_SF <= len(word) <= MAX_SF or not any(c.isalpha() for c in word):
                continue
            rows = sorted((r for r in _rows(short_table, key) if means(word, r.sf)),
                          key=lambda r: (-r.count, r.lf))
            if not rows:
                continue
            done_sf.add(key)
            for row in rows[:MAX_LONG_FORMS]:
                done_lf.add(lf_key(row.lf))
                if not set(analyze(row.lf)) <= present_terms:
                    add(word, row.lf, append=True)

    if long_table is not None and len(long_table):
        i = 0
        while i < len(q_terms):
            end, rows = _longest_run(long_table, q_terms, i)
            if not rows:
                i += 1
                continue
            start, i = i, end
            key, written = " ".join(q_terms[start:end]), text[spans[start][0]:spans[end - 1][1]]
            if key in done_lf:
                continue
            done_lf.add(key)
            best = min(rows, key=lambda r: (-r.count, r.sf))
            if end - start == 1 and _everyday(written):
                continue  # "associations" may be a long form, but is too common a word to expand
            if sf_key(best.sf) not in present_sf and sf_key(best.sf) not in done_sf:
                done_sf.add(sf_key(best.sf))
                add(written, best.sf, append=True)

    if result.added:
        result.text = f"{text.rstrip()} {' '.join(result.added)}"
    return result
