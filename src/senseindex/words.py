"""Word splitting, stopwords and lemmas: what counts as an indexable word occurrence."""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma

LEMMATISER = f"simplemma-{getattr(simplemma, '__version__', '') or 'en'}"

# Letters only (any script), with inner apostrophes: "mole", "o'clock"; hyphens split words.
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also may might must shall us yet upon onto via per s t d ll m o re ve y ain isn aren wasn
    weren hasn haven hadn doesn don didn won wouldn shan shouldn couldn mustn needn let lets
    one ones""".split()
)


def is_stopword(word: str) -> bool:
    return word.lower() in STOPWORDS


@lru_cache(maxsize=200_000)
def lemmatize(word: str) -> str:
    """Lower-cased English lemma; cached because corpora repeat words heavily."""
    low = word.lower()
    try:
        lemma = simplemma.lemmatize(low, lang="en")
    except Exception:  # simplemma rejects odd strings; the word itself is a fine lemma
        lemma = low
    return (lemma or low).lower()


def find_words(text: str, all_words: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, word) for each indexable word of a sentence."""
    out = []
    for m in WORD_RE.finditer(text):
        pieces = [(m.start(), m.end(), m.group())] if _letters(m.group()) else _letter_runs(m.group(), m.start())
        out.extend(p for p in pieces if all_words or not is_stopword(p[2]))
    return out


def content_words(text: str) -> list[str]:
    """Lower-cased non-stopwords, the input of static (GloVe) sentence vectors."""
    return [w.lower() for _, _, w in find_words(text)]


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
    return word.replace("'", "").replace("’", "").isalpha()
