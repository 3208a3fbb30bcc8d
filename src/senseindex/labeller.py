"""Sense labelling by nearest labelled neighbours: the labels already in an index vote, weighted
by how close each labelled occurrence of the same lemma is to the query occurrence."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .errors import SenseIndexError
from .search import OCCURRENCE_SELECT, Hit, Target, hits_from_rows

DEFAULT_K = 10
# Labels that may vote: a reviewer's or the data's word, never an earlier prediction (which
# would let the labeller reinforce its own mistakes).
VOTING_SOURCES = ("review", "gold")


@dataclass
class Prediction:
    target: Target
    label: str
    confidence: float  # share of the winning label in the (similarity-weighted) vote
    method: str  # "knn" or "mfs" (no usable neighbour: most frequent sense of the lemma)
    k: int
    labelled: int  # labelled occurrences of the lemma that could vote
    votes: dict[str, float] = field(default_factory=dict)
    neighbours: list[Hit] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "target": self.target.__dict__,
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "method": self.method,
            "k": self.k,
            "labelled": self.labelled,
            "votes": {k: round(v, 4) for k, v in self.votes.items()},
            "neighbours": [h.to_dict() for h in self.neighbours],
        }


def knn_vote(sims: np.ndarray, labels: list[str], k: int = DEFAULT_K, min_score: float = 0.0,
             ) -> tuple[str | None, float, dict[str, float]]:
    """(label, confidence, votes) from one query's similarities to labelled vectors.

    Each of the k most similar neighbours at or above min_score votes with its cosine, so a
    close neighbour outweighs several distant ones; ties go to the label of the nearest."""
    if len(sims) == 0:
        return None, 0.0, {}
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
    top = top[np.argsort(-sims[top], kind="stable")]
    votes: dict[str, float] = {}
    for i in top:
        s = float(sims[i])
        if s < min_score:
            break
        votes[labels[i]] = votes.get(labels[i], 0.0) + max(s, 1e-6)
    if not votes:
        return None, 0.0, {}
    total = sum(votes.values())
    best = max(votes, key=lambda lab: votes[lab])  # dict order = nearest first, so ties go to the nearest
    return best, votes[best] / total, dict(sorted(((lab, v / total) for lab, v in votes.items()),
                                                  key=lambda x: -x[1]))


def labelled_occurrences(db, lemma: str) -> tuple[np.ndarray, list[str]]:
    """Occurrence ids of a lemma with a voting label, and that label (review beats gold)."""
    rows = db.execute(
        "select o.id, l.label from occurrences o join labels l on l.occurrence_id = o.id "
        "where o.lemma = ? and l.source in ('review', 'gold') "
        "order by o.id, case l.source when 'review' then 0 else 1 end",
        [lemma],
    ).fetchall()
    ids, labels, seen = [], [], set()
    for oid, label in rows:
        if oid not in seen:
            seen.add(oid)
            ids.append(oid)
            labels.append(label)
    return np.asarray(ids, dtype=np.int64), labels


def most_frequent(labels: list[str]) -> tuple[str, float]:
    """Most frequent label (ties: alphabetical, so it is deterministic) and its share."""
    counts = Counter(labels)
    label = min(counts, key=lambda lab: (-counts[lab], lab))
    return label, counts[label] / len(labels)


def predict(si, query: str, word: str | None = None, k: int = DEFAULT_K, min_score: float = 0.0) -> Prediction:
    """Predict the sense of the marked word in QUERY from the labelled occurrences of its lemma.

    Neighbours below min_score do not vote; with none left, the lemma's most frequent sense is
    returned (method "mfs") with its share of the labels as confidence."""
    target = si.target(query, word)
    db = si.store.db
    ids, labels = labelled_occurrences(db, target.lemma)
    if len(ids) == 0:
        si.require_indexed(target)
        raise SenseIndexError(
            f"no labelled occurrences of {target.lemma!r} in {si.store.path} (labels come from gold data, e.g. "
            "`senseindex index ... --labels FILE` or pre-tokenised input with senses, or from review)")
    vec = si.encoder.word_vectors([target.text], [[(target.start, target.end)]])[0][0]
    sims = si.store.occ_log.take(ids) @ vec
    label, confidence, votes = knn_vote(sims, labels, k, min_score)
    if label is None:
        label, confidence = most_frequent(labels)
        return Prediction(target, label, confidence, "mfs", k, len(ids), {label: confidence})
    order = np.argsort(-sims, kind="stable")[: min(k, len(ids))]
    order = [int(i) for i in order if sims[i] >= min_score]
    chosen = [int(ids[i]) for i in order]
    by_id = {r[0]: r for r in db.execute(OCCURRENCE_SELECT + f"where o.id in ({','.join('?' * len(chosen))})", chosen)}
    hits = hits_from_rows(si.store, [by_id[i] for i in chosen], {int(ids[i]): float(sims[i]) for i in order}, "occ")
    return Prediction(target, label, confidence, "knn", k, len(ids), votes, hits)
