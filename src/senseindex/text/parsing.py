"""Grammatical relations of each indexed word, from spaCy's dependency parser (`index --parse`).

A word sketch (Sketch Engine's) lists a word's collocates per grammatical relation; split by
sense it says *which* objects go with *bank* the institution and which with the river bank. The
relations kept, named as a lexicographer reads them of the word W:
- `object_of` V (W is the object of V: *rob a bank*), `subject_of` V (*the bank lent*);
- `object` / `subject` X (W is a verb and X its object or subject);
- `modifier` X (an adjective, noun or adverb modifying W: *central bank*), `modifies` X;
- `and/or` X (coordinated: *banks and insurers*);
- `pp_P` X (a prepositional phrase on W: *bank of England* -> pp_of england).
Collocates are lemmas with a letter, never pronouns, determiners or punctuation.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache

from senseindex.errors import SenseIndexError
from senseindex.text.tagging import TAGGER_PACKAGE

RELATIONS = ("object_of", "subject_of", "object", "subject", "modifier", "modifies", "and/or", "pp_*")
_OBJ = frozenset({"dobj", "obj"})
_SUBJ = frozenset({"nsubj", "nsubjpass"})
_MOD = frozenset({"amod", "compound", "nmod", "advmod", "npadvmod"})
_SKIP_POS = frozenset({"PRON", "DET", "PUNCT", "SYM", "NUM", "SPACE", "X"})


@lru_cache(maxsize=1)
def parser():
    """spaCy's small English pipeline with its parser (no entity recogniser)."""
    try:
        import importlib

        package = importlib.import_module(TAGGER_PACKAGE)
    except ImportError:
        raise SenseIndexError(f"the parser is not installed (pip install {TAGGER_PACKAGE.replace('_', '-')})") from None
    return package.load(exclude=["ner"])


def _lemma(token) -> str | None:
    if token.pos_ in _SKIP_POS or not any(c.isalpha() for c in token.text):
        return None
    return (token.lemma_ or token.text).lower()


def token_relations(t) -> list[tuple[str, str]]:
    """(relation, collocate lemma) of one parsed token, as the module's docstring names them."""
    out = []
    head = t.head if t.head is not t else None
    if head is not None:
        h = _lemma(head)
        if h:
            if t.dep_ in _OBJ:
                out.append(("object_of", h))
            elif t.dep_ in _SUBJ:
                out.append(("subject_of", h))
            elif t.dep_ in _MOD:
                out.append(("modifies", h))
            elif t.dep_ == "conj":
                out.append(("and/or", h))
    for c in t.children:
        lem = _lemma(c)
        if c.dep_ == "prep":
            for g in c.children:
                gl = _lemma(g) if g.dep_ == "pobj" else None
                if gl:
                    out.append((f"pp_{c.lower_}", gl))
            continue
        if not lem:
            continue
        if c.dep_ in _OBJ:
            out.append(("object", lem))
        elif c.dep_ in _SUBJ:
            out.append(("subject", lem))
        elif c.dep_ in _MOD:
            out.append(("modifier", lem))
        elif c.dep_ == "conj":
            out.append(("and/or", lem))
    return out


def span_relations(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 128,
                   ) -> list[list[list[tuple[str, str]]]]:
    """For each text, for each (start, end) span, its relations; a span of several tokens is
    read at its head (the token whose own head lies outside the span)."""
    out = []
    for doc, sp in zip(parser().pipe(texts, batch_size=batch_size), spans, strict=True):
        starts = [t.idx for t in doc]
        rels = []
        for s, e in sp:
            i = max(bisect_right(starts, s) - 1, 0)
            toks = [t for t in doc[i:] if t.idx < e][: max(1, e - s)]
            toks = [t for t in toks if t.idx + len(t) > s] or toks[:1]
            if not toks:
                rels.append([])
                continue
            inside = {t.i for t in toks}
            head = next((t for t in toks if t.head.i not in inside or t.head is t), toks[-1])
            rels.append(token_relations(head))
        out.append(rels)
    return out


# --- a corpus's own dependencies (CoNLL-U HEAD and DEPREL) -----------------------------------
_UD_OBJ = frozenset({"obj"})
_UD_SUBJ = frozenset({"nsubj", "nsubj:pass"})
_UD_MOD = frozenset({"amod", "compound", "advmod", "nmod:poss", "nummod"})
_UD_PP = frozenset({"nmod", "obl"})


def conllu_relations(layout: dict, spans: Sequence[tuple[int, int]]) -> list[list[tuple[str, str]]] | None:
    """The relations of each span from a CoNLL-U sentence's own HEAD and DEPREL (UD's relations
    read as the module's: obj, nsubj, amod/compound/advmod, conj, and nmod/obl with a `case`
    child for prepositional phrases); None when the sentence has no dependencies (then spaCy
    parses it)."""
    words = {}
    for line, s, e in layout.get("l", []):
        cols = line.split("\t")
        if cols[0].isdigit():
            words[int(cols[0])] = {"form": cols[1], "lemma": (cols[2] if cols[2] != "_" else cols[1]).lower(),
                                   "upos": cols[3], "head": int(cols[6]) if cols[6].isdigit() else None,
                                   "rel": cols[7].lower(), "span": (s, e)}
    if not words or all(w["head"] is None for w in words.values()):
        return None
    children: dict[int, list[int]] = {}
    for i, w in words.items():
        if w["head"]:
            children.setdefault(w["head"], []).append(i)

    def lemma(i: int) -> str | None:
        w = words.get(i)
        if not w or w["upos"] in _SKIP_POS or not any(c.isalpha() for c in w["form"]):
            return None
        return w["lemma"]

    def rels(i: int) -> list[tuple[str, str]]:
        w, out = words[i], []
        h = lemma(w["head"]) if w["head"] else None
        if h:
            base = w["rel"].split(":")[0]
            if w["rel"] in _UD_OBJ:
                out.append(("object_of", h))
            elif w["rel"] in _UD_SUBJ:
                out.append(("subject_of", h))
            elif w["rel"] in _UD_MOD or base in ("amod", "compound", "advmod"):
                out.append(("modifies", h))
            elif base == "conj":
                out.append(("and/or", h))
        for c in children.get(i, ()):
            cw, cl = words[c], lemma(c)
            if not cl:
                continue
            base = cw["rel"].split(":")[0]
            if cw["rel"] in _UD_OBJ:
                out.append(("object", cl))
            elif cw["rel"] in _UD_SUBJ:
                out.append(("subject", cl))
            elif cw["rel"] in _UD_MOD or base in ("amod", "compound", "advmod"):
                out.append(("modifier", cl))
            elif base == "conj":
                out.append(("and/or", cl))
            elif base in _UD_PP:
                case = next((words[g]["form"].lower() for g in children.get(c, ()) if words[g]["rel"] == "case"), None)
                if case:
                    out.append((f"pp_{case}", cl))
        return out

    at = {w["span"]: i for i, w in words.items()}
    return [rels(at[sp]) if sp in at else [] for sp in spans]
