"""CoNLL-U (Universal Dependencies, and the output of every parser), streamed sentence by sentence.

The sentence text is rebuilt from the surface tokens and their SpaceAfter=No, as the format
intends. FORM, LEMMA, UPOS/XPOS become each token's word, lemma and tag; `# newdoc id` the
document id; a `Sense=` in MISC a sense label (what `export-corpus` writes, so an export reads back).
`# meta::field = value` after `# newdoc` (GUM's convention) is document metadata. Multiword tokens ("don't" = do + n't, "du" = de + le): the surface form is in the text and each of
its words is an occurrence, spanning its own letters where they are a piece of the surface form,
else the whole surface form. Empty nodes (5.1) have no surface form and are not occurrences. Every
line of the sentence is kept in its layout, so an export writes the corpus's own lines back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from senseindex.errors import CorpusError
from senseindex.text.source import ReadOptions, Sentence, Token, join_tokens, lines
from senseindex.text.tagsets import penn_tag, universal_tag

_ID = re.compile(r"^(\d+)(?:-(\d+)|\.(\d+))?$")


def misc_fields(misc: str) -> dict[str, str]:
    """MISC as a mapping ("SpaceAfter=No|Sense=bank%1" -> {...}); `_` is empty."""
    if misc in ("", "_"):
        return {}
    out = {}
    for part in misc.split("|"):
        key, _, value = part.partition("=")
        out[key] = value
    return out


def read_conllu(path: Path, opts: ReadOptions) -> Iterator[Sentence]:
    section: str | None = None
    meta: dict[str, str] = {}
    comments: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    first = 0
    for number, line in lines(path, opts):
        if not line.strip():
            if rows:
                yield _sentence(path, first, section, meta, comments, rows)
            elif comments:
                raise CorpusError(f"{path}:{number}: comments with no token lines after them")
            comments, rows, first = [], [], 0
            continue
        first = first or number
        if line.startswith("#"):
            if rows:
                raise CorpusError(f"{path}:{number}: a comment inside a sentence (a blank line must end it first)")
            key, eq, value = line[1:].partition("=")
            if key.strip() in ("newdoc id", "newdoc"):
                section, meta = (value.strip() if eq else None), {}
            elif key.strip().startswith("meta::") and eq:  # GUM's document metadata: "# meta::year = 1994"
                meta[key.strip()[6:]] = value.strip()
            comments.append(line)
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise CorpusError(f"{path}:{number}: a CoNLL-U token line has 10 tab-separated columns, this one "
                              f"{len(cols)}")
        if not _ID.match(cols[0]):
            raise CorpusError(f"{path}:{number}: bad token id {cols[0]!r} (an integer, a range 1-2 or 3.1)")
        rows.append((number, cols))
    if rows:
        yield _sentence(path, first, section, meta, comments, rows)
    elif comments:
        raise CorpusError(f"{path}: ends with comments and no token lines")


def _sentence(path: Path, first: int, section: str | None, meta: dict, comments: list[str],
              rows: list[tuple[int, list[str]]]) -> Sentence:
    """One sentence from its token lines: surface tokens make the text, words the tokens."""
    surface: list[tuple[str, bool]] = []  # (form, space after) of each surface token
    owner: dict[int, int] = {}  # word id -> index of its multiword surface token
    words: list[tuple[int, int, list[str]]] = []  # (surface index or -1, line number, columns)
    expect = 1
    for number, cols in rows:
        m = _ID.match(cols[0])
        lo, hi, dec = int(m.group(1)), m.group(2), m.group(3)
        if dec is not None:
            continue  # an empty node: no surface form
        if hi is not None:
            if lo != expect or int(hi) < lo:
                raise CorpusError(f"{path}:{number}: range {cols[0]} does not start at word {expect}")
            for w in range(lo, int(hi) + 1):
                owner[w] = len(surface)
            surface.append((cols[1], misc_fields(cols[9]).get("SpaceAfter") != "No"))
            continue
        if lo != expect:
            raise CorpusError(f"{path}:{number}: word id {lo} where {expect} was expected")
        expect += 1
        if lo in owner:
            words.append((owner[lo], number, cols))
        else:
            words.append((len(surface), number, cols))
            surface.append((cols[1], misc_fields(cols[9]).get("SpaceAfter") != "No"))
    if not surface:
        raise CorpusError(f"{path}:{rows[0][0]}: a sentence with no words")
    text, spans = join_tokens(surface)
    span_of_line = _word_spans(text, spans, words)
    tokens = []
    any_tags = False
    for _, number, cols in words:
        s, e = span_of_line[number]
        upos, xpos = _blank(cols[3]), _blank(cols[4])
        lemma = _blank(cols[2]) if cols[2] != "_" or cols[1] == "_" else None
        pos = penn_tag(upos, xpos)
        any_tags = any_tags or lemma is not None or pos is not None
        sense = misc_fields(cols[9]).get("Sense")
        tokens.append(Token(s, e, text[s:e], lemma, unquote(sense) if sense else None, pos, universal_tag(upos, pos, cols[1])))
    layout = {"f": "conllu", "c": comments,
              "l": [["\t".join(cols), *span_of_line.get(number, (-1, -1))] for number, cols in rows]}
    return Sentence(text, first, section, tokens, dict(meta) or None, layout, not any_tags)


def _blank(value: str) -> str | None:
    return None if value in ("", "_") else value


def _word_spans(text: str, spans: list[tuple[int, int]], words: list[tuple[int, int, list[str]]],
                ) -> dict[int, tuple[int, int]]:
    """Line number -> (start, end) of each word (and of each multiword token line) in the text."""
    out: dict[int, tuple[int, int]] = {}
    by_surface: dict[int, list[tuple[int, str]]] = {}
    for idx, number, cols in words:
        by_surface.setdefault(idx, []).append((number, cols[1]))
    for idx, members in by_surface.items():
        s, e = spans[idx]
        if len(members) == 1 and text[s:e] == members[0][1]:
            out[members[0][0]] = (s, e)
            continue
        # the words of a multiword token: each its own piece of the surface form, in order, or the whole
        low, pos, found = text[s:e].lower(), 0, []
        for number, form in members:
            at = low.find(form.lower(), pos) if form else -1
            if at < 0:
                found = []
                break
            found.append((number, (s + at, s + at + len(form))))
            pos = at + len(form)
        out.update(found or [(number, (s, e)) for number, _ in members])
    return out
