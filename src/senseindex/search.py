"""Queries: find the target word, encode it in its sentence, rank indexed occurrences."""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass

import faiss
import numpy as np

from .errors import SenseIndexError
from .labels import labels_for
from .words import WORD_RE, content_words, find_words, lemmatize

MARK_RE = re.compile(r"\[([^\[\]]+)\]")


@dataclass
class Target:
    text: str  # the query with the brackets removed
    start: int
    end: int
    word: str
    lemma: str
    how: str  # "marked", "--word" or "rarest"


@dataclass
class Hit:
    rank: int
    score: float
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


def parse_target(query: str, word: str | None = None, counts=None) -> Target:
    """The marked word, else --word, else the query word with the fewest corpus occurrences."""
    marks = list(MARK_RE.finditer(query))
    if len(marks) > 1:
        raise SenseIndexError("mark one word only, e.g. 'I have a [mole] on my hip'")
    if marks:
        m = marks[0]
        text = query[: m.start()] + m.group(1) + query[m.end() :]
        start, end = m.start(), m.start() + len(m.group(1))
        inner = text[start:end].strip()
        if not WORD_RE.fullmatch(inner):
            raise SenseIndexError(f"the marked text [{m.group(1)}] is not a single word")
        return Target(text, start, end, inner, lemmatize(inner), "marked")
    if word:
        for s, e, w in find_words(query, all_words=True):
            if w.lower() == word.lower() or lemmatize(w) == lemmatize(word):
                return Target(query, s, e, w, lemmatize(w), "--word")
        raise SenseIndexError(f"--word {word!r} does not occur in the query")
    words = find_words(query)
    if not words:
        raise SenseIndexError("the query has no content word to search for; mark one like [mole]")
    if counts is None:
        s, e, w = words[0]
        return Target(query, s, e, w, lemmatize(w), "first")
    scored = [(counts(lemmatize(w)), s, e, w) for s, e, w in words]
    indexed = [x for x in scored if x[0] > 0]
    if not indexed:
        raise SenseIndexError(
            f"no word of the query is in the index ({', '.join(w for *_, w in scored)}); mark one like [mole]")
    n, s, e, w = min(indexed, key=lambda x: x[0])
    return Target(query, s, e, w, lemmatize(w), "rarest")


def lemma_count(db, lemma: str) -> int:
    return int(db.execute("select count(*) from occurrences where lemma = ?", [lemma]).fetchone()[0])


def nearest_words(store, glove, word: str, n: int = 5) -> list[str]:
    """Indexed words close to an unknown one: by GloVe meaning if possible, else by spelling."""
    from .explain import static_neighbours

    out = [w for w, _ in static_neighbours(store, glove, word, n)] if glove is not None else []
    if not out:
        vocab = [r[0] for r in store.db.execute("select word from vocab where word like ?", [word[:1].lower() + "%"])]
        out = difflib.get_close_matches(word.lower(), vocab, n=n, cutoff=0.6)
    return out


def hits_from_rows(store, rows: list[tuple], scores: dict[int, float], by: str) -> list[Hit]:
    """Join search results with sentences, documents and labels, keeping FAISS order."""
    hits = []
    labels = labels_for(store.db, [r[0] for r in rows if r[0] is not None])
    for rank, (oid, sid, start, end, word, lemma, text, line, doc) in enumerate(rows, 1):
        label = labels.get(oid) if oid is not None else None
        hits.append(Hit(rank, round(float(scores[oid if by == "occ" else sid]), 4), text, word, lemma, start, end,
                        doc, line, sid, oid, label[0] if label else None, label[1] if label else None))
    return hits


OCCURRENCE_SELECT = ("select o.id, s.id, o.start, o.end, o.word, o.lemma, s.text, s.line, d.path "
           "from occurrences o join sentences s on s.id = o.sentence_id join documents d on d.id = s.document_id ")


def contextual_search(store, encoder, target: Target, k: int = 10, any_word: bool = False) -> list[Hit]:
    vec = encoder.word_vectors([target.text], [[(target.start, target.end)]])[0][0]
    index = store.occurrence_index()
    params = None
    if not any_word:
        ids = np.array([r[0] for r in store.db.execute("select id from occurrences where lemma = ?", [target.lemma])],
                       dtype=np.int64)
        if len(ids) == 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        k = min(k, len(ids))
    scores, ids = index.search(vec[None, :].astype(np.float32), k, params=params)
    found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
    if not found:
        return []
    by_id = {r[0]: r for r in store.db.execute(
        OCCURRENCE_SELECT + f"where o.id in ({','.join('?' * len(found))})", [i for i, _ in found])}
    return hits_from_rows(store, [by_id[i] for i, _ in found], dict(found), "occ")


def static_search(store, glove, target: Target, k: int = 10, any_word: bool = False) -> list[Hit]:
    """One vector per word cannot rank occurrences of that word, so rank their sentences' mean GloVe."""
    vec = glove.mean_vector(content_words(target.text))
    index = store.sentence_index()
    params = None
    if not any_word:
        sids = np.array([r[0] for r in store.db.execute(
            "select distinct sentence_id from occurrences where lemma = ?", [target.lemma])], dtype=np.int64)
        if len(sids) == 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(sids))
        k = min(k, len(sids))
    scores, ids = index.search(vec[None, :], k, params=params)
    found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
    if not found:
        return []
    sids = [i for i, _ in found]
    marks = ",".join("?" * len(sids))
    occ = {}
    for r in store.db.execute(OCCURRENCE_SELECT + f"where s.id in ({marks}) and o.lemma = ? order by o.id", [*sids, target.lemma]):
        occ.setdefault(r[1], r)
    sent = {r[0]: r for r in store.db.execute(
        f"select s.id, s.text, s.line, d.path from sentences s join documents d on d.id = s.document_id where s.id in ({marks})", sids)}
    rows = [occ.get(sid) or (None, sid, None, None, None, None, sent[sid][1], sent[sid][2], sent[sid][3]) for sid in sids]
    return hits_from_rows(store, rows, dict(found), "sent")
