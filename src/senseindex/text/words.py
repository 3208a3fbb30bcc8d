"""Word splitting, stopwords and lemmas: what counts as an indexable word occurrence.

Lemmas come from the part-of-speech tagger (tagging.py): context-free here, in context where a
whole sentence is tagged. simplemma made the lemmas of indexes built before it (their manifest
says so) and is still used to find those lemmas."""

from __future__ import annotations

import re

from senseindex.text.tagging import STOPWORD_KEEPS, simplemma_lemma, tag_word

__all__ = ["FILLER", "STOPWORDS", "TOKEN_RE", "WORD_RE", "content_words", "count_tokens", "find_words", "hyphen_parts", "is_stopword", "lemmatize",
           "simplemma_lemma"]

# Letters only (any script), with inner apostrophes and hyphens: "mole", "o'clock", one word
# "change-ringing" (whose parts are indexed too: see hyphen_parts).
WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# What corpus sizes and frequencies per million count as a token: a run of letters or digits, with
# inner apostrophes and hyphens ("o'clock", "change-ringing", "1984" are one token each), stopwords
# included, punctuation excluded (as Sketch Engine's "words" count, not its "tokens").
TOKEN_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def count_tokens(text: str) -> int:
    """Tokens of a text as TOKEN_RE counts them (punctuation excluded)."""
    return sum(1 for _ in TOKEN_RE.finditer(text))


# Content words too general to name a sense: quantifiers, light verbs, time and quantity nouns.
# Collocates keep them (they are real co-occurrences); cluster names leave them out.
FILLER = frozenset(
    """every each many much more most other another several few lot lots thing things way time times
    year years day days week month people person man woman keep make take get go come give see know
    say tell use find want need put let seem become leave look think new old good great little
    big first last next same own whole even still just really also left right""".split()
)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also may might must shall us yet upon onto via per s t d ll m o re ve y ain isn aren wasn
    weren hasn haven hadn doesn don didn wouldn shan shouldn couldn mustn needn
    one""".split()
)  # closed-class words only: "won" (of win), "let" and "ones" are content words and indexed


def is_stopword(word: str, upos: str | None = None) -> bool:
    """A closed-class word. With its universal tag, a listed word used as a noun or main verb
    ("open the can", "have a car") is not one."""
    return word.lower() in STOPWORDS and (upos is None or upos not in STOPWORD_KEEPS)


def lemmatize(word: str) -> str:
    """Lower-cased English lemma of a word seen alone (its likeliest part of speech)."""
    return tag_word(word).lemma if word.strip() else word.lower()


def find_words(text: str, all_words: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, word) for each indexable word of a sentence (hyphenated words whole)."""
    out = []
    for m in WORD_RE.finditer(text):
        pieces = [(m.start(), m.end(), m.group())] if _letters(m.group()) else _letter_runs(m.group(), m.start())
        out.extend(p for p in pieces if all_words or not is_stopword(p[2]))
    return out


def hyphen_parts(start: int, word: str) -> list[tuple[int, int, str]]:
    """(start, end, part) of each part of a hyphenated word, which are searchable on their own."""
    out, pos = [], start
    for part in word.split("-"):
        out.append((pos, pos + len(part), part))
        pos += len(part) + 1
    return out if len(out) > 1 else []


def content_words(text: str) -> list[str]:
    """Lower-cased non-stopwords, the input of static (GloVe) sentence vectors (a hyphenated
    word counts as its parts, which GloVe knows)."""
    out = []
    for s, e, w in find_words(text):
        parts = hyphen_parts(s, w) or [(s, e, w)]
        out.extend(p.lower() for _, _, p in parts if not is_stopword(p))
    return out


def _letter_runs(word: str, offset: int) -> list[tuple[int, int, str]]:
    runs, start = [], None
    for i, ch in enumerate(word + " "):
        if ch.isalpha() and start is None:
            start = i
        elif not ch.isalpha() and start is not None:
            runs.append((offset + start, offset + i, word[start:i]))
            start = None
    return runs


def _letters(word: str) -> bool:
    """Letters only: \\w also admits superscript digits and other numerals (e.g. '²³')."""
    return word.replace("'", "").replace("’", "").replace("-", "").isalpha()
