"""Queries: find the target word, encode it in its sentence, rank indexed occurrences."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.storage.db import OCCURRENCE_SELECT, occurrences_by_id, select_in
from senseindex.storage.labels import effective_labels
from senseindex.text.tagging import Tag, pos_class, tag_spans
from senseindex.text.words import WORD_RE, content_words, find_words, is_stopword, lemmatize

MARK_RE = re.compile(r"\[([^\[\]]+)\]")
PHRASE_RE = re.compile(rf"{WORD_RE.pattern}(?:\s+{WORD_RE.pattern})*")


@dataclass
class Target:
    text: str  # the query with the brackets removed
    start: int
    end: int
    word: str  # one word, a hyphenated word or several words ("took place")
    lemma: str
    how: str  # "marked", "--word" or "rarest"
    pos: str | None = None  # its Penn tag in the query (None: not tagged)
    lemma_given: bool = False  # --lemma named the lemma
    pos_filter: str | None = None  # the part of speech a search kept to (set by SenseIndex.concordance)

    @property
    def pos_class(self) -> str | None:
        """n, v, a or r: the part of speech that search and label keep to (None: any)."""
        cls = pos_class(self.pos)
        return None if cls == "x" else cls


@dataclass
class Hit:
    rank: int
    score: float | None  # None: not ranked (a CQL query without an example, in corpus order)
    text: str
    word: str | None
    lemma: str | None
    start: int | None
    end: int | None
    doc: str
    line: int
    sentence_id: int
    occurrence_id: int | None
    label: str | None = None
    label_source: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def parse_target(query: str, word: str | None = None, counts: Callable[[str], int] | None = None,
                 lemma: str | None = None, known: Callable[[str], Tag | None] | None = None) -> Target:
    """The marked word or words, else --word, else the query word with the fewest corpus
    occurrences; tagged in the query (part of speech, lemma), the lemma replaced by `lemma`.

    `known(form)` may give a marked single word's tag without the tagger: how the index tagged
    the same form elsewhere, where that settles it (`tagging.indexed_tag`)."""
    target = _find_target(query, word, counts, known)
    if lemma is not None:
        if not lemma.strip():
            raise SenseIndexError("--lemma must not be empty")
        target.lemma, target.lemma_given = " ".join(lemma.lower().split()), True
    return target


def _find_target(query: str, word: str | None, counts: Callable[[str], int] | None,
                 known: Callable[[str], Tag | None] | None = None) -> Target:
    marks = list(MARK_RE.finditer(query))
    if len(marks) > 1:
        raise SenseIndexError("mark one word only, e.g. 'I have a [mole] on my hip'")
    if marks:
        m = marks[0]
        inner = m.group(1).strip()
        text = query[: m.start()] + inner + query[m.end() :]
        start, end = m.start(), m.start() + len(inner)
        if not PHRASE_RE.fullmatch(inner):
            raise SenseIndexError(f"the marked text [{m.group(1)}] is not a word or words (letters, with "
                                  "apostrophes or hyphens inside a word), e.g. [mole], [took place], [re-election]")
        tag = known(inner) if known is not None and _plain_form(inner, start) else None
        tag = tag or tag_spans([text], [[(start, end)]])[0][0]
        return Target(text, start, end, inner, tag.lemma, "marked", tag.pos or None)
    words = find_words(query, all_words=True)
    tags = tag_spans([query], [[(s, e) for s, e, _ in words]])[0]
    if word:
        wanted = lemmatize(word)
        for (s, e, w), tag in zip(words, tags, strict=True):
            if w.lower() == word.lower() or tag.lemma == wanted:
                return Target(query, s, e, w, tag.lemma, "--word", tag.pos or None)
        raise SenseIndexError(f"--word {word!r} does not occur in the query")
    content = [(s, e, w, t) for (s, e, w), t in zip(words, tags, strict=True) if not is_stopword(w, t.upos)]
    if not content:
        raise SenseIndexError("the query has no content word to search for; mark one like [mole]")
    if counts is None:
        s, e, w, t = content[0]
        return Target(query, s, e, w, t.lemma, "first", t.pos or None)
    scored = [(counts(t.lemma), s, e, w, t) for s, e, w, t in content]
    indexed = [x for x in scored if x[0] > 0]
    if not indexed:
        raise SenseIndexError(
            f"no word of the query is in the index ({', '.join(x[3] for x in scored)}); mark one like [mole]")
    _, s, e, w, t = min(indexed, key=lambda x: x[0])
    return Target(query, s, e, w, t.lemma, "rarest", t.pos or None)


def _plain_form(word: str, start: int) -> bool:
    """A single word in lower case (or capitalised at the start of the query): its form says as
    much in the query as in the index. A capital inside a sentence may make a name, and several
    words are tagged as a phrase, so those are tagged in the query."""
    if not re.fullmatch(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", word):
        return False
    return word.islower() or (start == 0 and word[:1].isupper() and word[1:].islower())


def hits_from_rows(store, rows: list[tuple], scores: dict[int, float], by: str) -> list[Hit]:
    """Join search results with sentences, documents and labels, keeping FAISS order."""
    hits = []
    labels = effective_labels(store.db, [r[0] for r in rows if r[0] is not None])
    for rank, (oid, sid, start, end, word, lemma, text, line, doc) in enumerate(rows, 1):
        label = labels.get(oid) if oid is not None else None
        hits.append(Hit(rank, round(float(scores[oid if by == "occ" else sid]), 4), text, word, lemma, start, end,
                        doc, line, sid, oid, label[0] if label else None, label[1] if label else None))
    return hits


def contextual_search(store, encoder, target: Target, k: int = 10, any_word: bool = False,
                      exclude: set[int] | None = None) -> list[Hit]:
    """Occurrences of the target's lemma (or of any word) nearest the target's vector in its sentence.

    A lemma's vectors are one block on disk, so only they are read and scored; an any-word
    search scores the coarse lists nearest the query (approximate). `exclude`: ids to leave out."""
    vec = encoder.word_vectors([target.text], [[(target.start, target.end)]])[0][0]
    lemma_id = None if any_word else store.lemma_id(target.lemma)
    if not any_word and lemma_id is None:
        return []
    found = store.search(vec, k, lemma_id, exclude=store.removed(lemma_id) | (exclude or set()))
    if not found:
        return []
    by_id = occurrences_by_id(store.db, [i for i, _ in found])
    return hits_from_rows(store, [by_id[i] for i, _ in found if i in by_id], dict(found), "occ")


def static_search(store, glove, target: Target, k: int = 10, any_word: bool = False) -> list[Hit]:
    """One vector per word cannot rank occurrences of that word, so rank their sentences' mean GloVe."""
    vec = glove.mean_vector(content_words(target.text))
    if any_word:
        sids = [r[0] for r in store.db.execute("select id from sentences")]
    else:
        sids = [r[0] for r in store.db.execute(
            "select distinct o.sentence_id from occ o join lemmas l on l.id = o.lemma_id where l.lemma = ?",
            [target.lemma])]
    if not sids:
        return []
    scores = store.static_vectors(sids) @ vec
    k = min(k, len(sids))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(sids) else np.arange(len(sids))
    top = top[np.argsort(-scores[top], kind="stable")]
    found = [(int(sids[i]), float(scores[i])) for i in top]
    sids = [i for i, _ in found]
    occ: dict[int, tuple] = {}
    for r in sorted(select_in(store.db, OCCURRENCE_SELECT + "where s.id in ({ids}) and o.lemma = ?", sids,
                              after=[target.lemma])):
        occ.setdefault(r[1], r)  # the sentence's first occurrence of the lemma
    sent = {r[0]: r for r in select_in(
        store.db, "select s.id, s.text, s.line, d.path from sentences s join documents d on d.id = s.document_id "
        "where s.id in ({ids})", sids)}
    rows = [occ.get(sid) or (None, sid, None, None, None, None, sent[sid][1], sent[sid][2], sent[sid][3])
            for sid in sids if sid in sent]
    return hits_from_rows(store, rows, dict(found), "sent")
