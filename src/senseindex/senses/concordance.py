"""A complete concordance: every occurrence that passes the filters, ranked by sense, with honest counts.

The filters (part of speech, label, document, a subcorpus, a CQL token query) restrict the
candidate set *before* anything is ranked or capped, so a filter never shows fewer lines than
match it, and the counts say "N of M" wherever a filter or a cap applies:

* `total`: live occurrences of the lemma (or, for a CQL query, of every token the query's lemma
  part names; without one, of the whole index) — the figure Senses, Review and Info give;
* `pos_left_out`: those left out because they are tagged with another part of speech;
* `matching`: candidates after every filter — what paging walks through;
* `hits`: the ranked lines, all of them unless `k` caps them.

Subcorpora plug in through `Filters.documents` / `Filters.sentences`: a set of allowed document
(or sentence) ids that restricts the candidates like any other filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from senseindex.storage.db import occurrences_by_id
from senseindex.storage.labels import effective_labels
from senseindex.text.tagging import pos_class

from .search import Hit, Target, hits_from_rows

NO_LABEL = "(none)"  # the label filter value for occurrences without a label


def upos(tag: str | None) -> str:
    """A universal part of speech for a stored Penn tag (CQL's `pos`); X for any other or none."""
    tag = (tag or "").upper()
    if tag.startswith("NNP"):
        return "PROPN"
    for prefix, name in (("NN", "NOUN"), ("VB", "VERB"), ("JJ", "ADJ"), ("RB", "ADV")):
        if tag.startswith(prefix):
            return name
    return "X"


@dataclass(frozen=True)
class Filters:
    """What restricts the candidates before ranking. `documents`/`sentences`: allowed ids (a
    subcorpus); None means no restriction, an empty set means nothing is allowed."""

    pos: str | None = None  # n, v, a or r: keep occurrences of this class (untagged ones stay)
    label: str | None = None  # the label in effect, or NO_LABEL
    doc: str | None = None  # a document path
    documents: frozenset[int] | None = None
    sentences: frozenset[int] | None = None

    def key(self) -> tuple:
        return (self.pos, self.label, self.doc, self.documents, self.sentences)


@dataclass
class Candidate:
    """One occurrence that may appear in the concordance, with what the filters look at."""

    id: int
    lemma_id: int
    lemma: str
    word: str
    tag: str | None
    sentence_id: int
    document_id: int
    doc: str
    label: str | None = None

    def attribute(self, name: str) -> str:
        """A CQL attribute: word, lemma, pos (universal), tag (Penn), label."""
        if name == "pos":
            return upos(self.tag)
        if name in ("tag", "label"):
            return getattr(self, name) or ""
        return self.word if name == "word" else self.lemma


@dataclass
class Concordance:
    target: Target | None
    hits: list[Hit]
    total: int  # occurrences before any filter
    matching: int  # after every filter
    pos_left_out: int = 0
    pos_filter: str | None = None
    ranked: bool = True  # False: no example sentence, corpus order
    labels: list[str] = field(default_factory=list)  # facets: labels among the part-of-speech candidates
    docs: list[str] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        return len(self.hits) < self.matching

    def counts(self) -> dict:
        return {"total": self.total, "matching": self.matching, "shown": len(self.hits),
                "pos_left_out": self.pos_left_out, "pos_filter": self.pos_filter, "ranked": self.ranked}

    def to_dict(self) -> dict:
        return {"target": dict(self.target.__dict__) if self.target else None, **self.counts(),
                "hits": [h.to_dict() for h in self.hits]}


CANDIDATE_SELECT = ("select o.id, o.lemma_id, l.lemma, substr(s.text, o.start + 1, o.end - o.start), o.pos, "
                    "o.sentence_id, s.document_id, d.path from occ o join lemmas l on l.id = o.lemma_id "
                    "join sentences s on s.id = o.sentence_id join documents d on d.id = s.document_id ")


def candidates(store, lemmas: Iterable[str] | None = None) -> list[Candidate]:
    """Every live occurrence of the lemmas (None: of the whole index), in corpus order, with its label."""
    removed = store.removed()
    if lemmas is None:
        rows = store.db.execute(CANDIDATE_SELECT + "order by s.document_id, s.ordinal, o.start, o.id").fetchall()
    else:
        lemmas = list(lemmas)
        rows = store.db.execute(CANDIDATE_SELECT + f"where l.lemma in ({','.join('?' * len(lemmas))}) "
                                "order by s.document_id, s.ordinal, o.start, o.id", lemmas).fetchall() if lemmas else []
    return with_labels(store, [Candidate(*r) for r in rows if r[0] not in removed])


def with_labels(store, cands: list[Candidate]) -> list[Candidate]:
    labels = effective_labels(store.db, [c.id for c in cands])
    for c in cands:
        got = labels.get(c.id)
        c.label = got[0] if got else None
    return cands


def sequence_ends(store, firsts: list[Candidate], following: list[Callable[[Candidate], bool]]) -> dict[int, int]:
    """For each candidate that starts a match of the sequence, the end offset of the match:
    the tokens right after it (text.words.TOKEN_RE positions) are indexed occurrences that
    satisfy `following`, in order. A candidate inside a token (a part of a hyphenated word)
    never starts or continues a sequence."""
    from senseindex.storage.db import select_in
    from senseindex.text.words import TOKEN_RE

    sids = sorted({c.sentence_id for c in firsts})
    texts = dict(select_in(store.db, "select id, text from sentences where id in ({ids})", sids))
    at: dict[tuple[int, int], list[Candidate]] = {}
    starts: dict[int, list[tuple[int, int]]] = {}
    rows = select_in(store.db, CANDIDATE_SELECT + "where o.sentence_id in ({ids})", sids)
    others = with_labels(store, [Candidate(*r) for r in rows])
    offsets = {c.id: c for c in others}
    for sid in sids:
        starts[sid] = [(m.start(), m.end()) for m in TOKEN_RE.finditer(texts[sid])]
    index_of = {sid: {s: i for i, (s, _) in enumerate(spans)} for sid, spans in starts.items()}
    start_of = dict(select_in(store.db, "select id, start from occ where id in ({ids})", list(offsets)))
    for c in others:
        i = index_of[c.sentence_id].get(start_of[c.id])
        if i is not None:
            at.setdefault((c.sentence_id, i), []).append(c)
    out: dict[int, int] = {}
    for c in firsts:
        i = index_of.get(c.sentence_id, {}).get(start_of.get(c.id, -1))
        if i is None:
            continue
        end = None
        for j, ok in enumerate(following, 1):
            nxt = [o for o in at.get((c.sentence_id, i + j), []) if ok(o)]
            if not nxt:
                break
            end = starts[c.sentence_id][i + j][1]
        else:
            if end is not None:
                out[c.id] = end
    return out


def part_of_speech(cands: list[Candidate], cls: str | None) -> tuple[list[Candidate], str | None]:
    """(kept, class applied): occurrences of class `cls` and untagged ones; no filter (None) when
    `cls` is None or the lemma has no (tagged) occurrence of that class."""
    if cls is None:
        return cands, None
    kept = [c for c in cands if pos_class(c.tag) in (cls, "x")]
    if not kept or len(kept) == sum(pos_class(c.tag) == "x" for c in cands):
        return cands, None
    return kept, cls


def apply_filters(cands: list[Candidate], f: Filters, extra: Callable[[Candidate], bool] | None = None
                  ) -> list[Candidate]:
    """The candidates every filter keeps (the part of speech is applied by `part_of_speech`)."""
    out = cands
    if f.label:
        out = [c for c in out if (c.label or NO_LABEL) == f.label]
    if f.doc:
        out = [c for c in out if c.doc == f.doc]
    if f.documents is not None:
        out = [c for c in out if c.document_id in f.documents]
    if f.sentences is not None:
        out = [c for c in out if c.sentence_id in f.sentences]
    if extra is not None:
        out = [c for c in out if extra(c)]
    return out


def rank(store, vec: np.ndarray | None, cands: list[Candidate], k: int | None = None) -> list[tuple[int, float]]:
    """(id, score) of the candidates, best first: a scan of each lemma's block with every other
    occurrence of it excluded, so exactly the candidates are scored. Without a query vector:
    corpus order, score 0."""
    if vec is None:
        return [(c.id, 0.0) for c in cands[: k or len(cands)]]
    by_lemma: dict[int, set[int]] = {}
    for c in cands:
        by_lemma.setdefault(c.lemma_id, set()).add(c.id)
    found: list[tuple[int, float]] = []
    for lemma_id, ids in by_lemma.items():
        stored = {int(i) for part in store.vectors.lemma_parts(lemma_id) for i in part.ids}
        others = (stored - ids) | store.removed(lemma_id)
        found += store.vectors.search(vec, len(ids), lemma_id, exclude=others)
    found.sort(key=lambda x: (-x[1], x[0]))
    return found[:k] if k else found


def build(store, target: Target | None, vec: np.ndarray | None, cands: list[Candidate], filters: Filters,
          k: int | None = None, extra: Callable[[Candidate], bool] | None = None,
          following: list[Callable[[Candidate], bool]] | None = None) -> Concordance:
    """Filter, then rank, then cap: the one path every concordance takes (CLI, API, pages).
    `following`: the conditions of a CQL sequence's later tokens (the line then spans the match)."""
    total = len(cands)
    kept, applied = part_of_speech(cands, filters.pos)
    facet_labels = sorted({c.label for c in kept if c.label}) + ([NO_LABEL] if any(not c.label for c in kept) else [])
    facet_docs = sorted({c.doc for c in kept})
    chosen = apply_filters(kept, filters, extra)
    ends: dict[int, int] = {}
    if following:
        ends = sequence_ends(store, chosen, following)
        chosen = [c for c in chosen if c.id in ends]
    found = rank(store, vec, chosen, k)
    by_id = occurrences_by_id(store.db, [i for i, _ in found])
    hits = hits_from_rows(store, [by_id[i] for i, _ in found if i in by_id], dict(found), "occ")
    for h in hits:
        if h.occurrence_id in ends:  # a sequence: the line's match runs to its last token
            h.end = ends[h.occurrence_id]
            h.word = h.text[h.start : h.end]
    if vec is None:  # corpus order: no similarity to show
        for h in hits:
            h.score = None
    return Concordance(target, hits, total, len(chosen), total - len(kept), applied, vec is not None,
                       facet_labels, facet_docs)
