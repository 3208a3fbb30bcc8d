"""Sentence splitting: (offset, sentence) pairs from a paragraph of plain text.

Rules, measured against pysbd, syntok and blingfire on SemCor prose with known boundaries by
bench/sentence_split.py (BENCHMARKS.md): boundary F1 0.984, level with the best library
(blingfire) and above syntok and pysbd, without splitting titles or initials off names, and
hundreds of times faster than any of them.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e fig figs vol inc ltd co corp dept est approx gen col lt sgt capt "
    "mt gov sen rep op jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
NUMBERED = frozenset("no nos".split())  # "No. 5": an abbreviation only before a number
_INITIALS_RE = re.compile(r"(?:[A-Z]\.)+[A-Z]")  # "U.S" (last period cut off); "p.m." may end a sentence
_SPLIT_RE = re.compile(r"[.!?…]+[\"'”’)\]]*(\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
# Longer "sentences" (a file without punctuation, a line of a megabyte) are cut at whitespace into
# pieces of at most this many characters: about 2,000 words, several windows of the model, far
# above any real sentence. The memory of indexing grows with the longest sentence; this bounds it.
MAX_SENTENCE_CHARS = 10_000


def cut_long(offset: int, sentence: str, limit: int = MAX_SENTENCE_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) pairs of a sentence cut at whitespace into pieces of at most `limit`
    characters (a run of more than `limit` characters without whitespace is cut where it must)."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(sentence) - start > limit:
        cut = max(sentence.rfind(" ", start, start + limit + 1), sentence.rfind("\t", start, start + limit + 1))
        end = cut if cut > start else start + limit
        piece = sentence[start:end].rstrip()
        if piece:
            out.append((offset + start, piece))
        start = end
        while start < len(sentence) and sentence[start].isspace():
            start += 1
    if sentence[start:].strip():
        out.append((offset + start, sentence[start:]))
    return out


def split_sentences(text: str) -> list[tuple[int, str]]:
    """Rule-based splitter: (offset, sentence) pairs; keeps abbreviations and initials together;
    a sentence longer than MAX_SENTENCE_CHARS comes in pieces (`cut_long`)."""
    return [piece for offset, sent in _split(text) for piece in
            (cut_long(offset, sent) if len(sent) > MAX_SENTENCE_CHARS else [(offset, sent)])]


def _split(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    start = 0
    for m in _SPLIT_RE.finditer(text):
        head = text[start : m.start() + 1]
        word = head.rstrip(".!?…").rsplit(None, 1)[-1] if head.strip() else ""
        last = word.lower()
        if last in ABBREVIATIONS or (len(last) == 1 and last.isalpha()) or _INITIALS_RE.fullmatch(word):
            continue
        if last in NUMBERED and text[m.end(1) : m.end(1) + 1].isdigit():
            continue
        end = m.start(1)
        chunk = text[start:end].strip()
        if chunk:
            out.append((start + (len(text[start:end]) - len(text[start:end].lstrip())), chunk))
        start = m.end(1)
    tail = text[start:].strip()
    if tail:
        out.append((start + (len(text[start:]) - len(text[start:].lstrip())), tail))
    return out
