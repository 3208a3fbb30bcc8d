"""Sense labelling by nearest labelled neighbours: the labels already in an index vote, weighted
by how close each labelled occurrence of the same lemma is to the query occurrence."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from senseindex.senses.search import Hit, Target, hits_from_rows
from senseindex.storage.db import occurrences_by_id, select_in
from senseindex.storage.labels import VOTING_SOURCES, effective_labels
from senseindex.text.tagging import pos_class, sense_pos_class
from senseindex.text.wordnet import VERSION as WORDNET_VERSION
from senseindex.text.wordnet import first_sense, uses_sense_keys

POS_NAMES = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}

DEFAULT_K = 10


@dataclass
class Prediction:
    target: Target
    label: str
    confidence: float  # share of the winning label in the (similarity-weighted) vote
    # "knn": nearest labelled occurrences of the lemma (and part of speech); "mfs": none close
    # enough (min_score), their most frequent sense; "wordnet-first-sense": no labelled occurrence
    # of the part of speech in an index labelled with WordNet sense keys, WordNet's first sense;
    # "mfs-lemma": no labelled occurrence of the part of speech, the lemma's most frequent sense
    # over all its labels
    method: str
    k: int
    labelled: int  # labelled occurrences that could vote (or that the most frequent sense is of)
    votes: dict[str, float] = field(default_factory=dict)
    neighbours: list[Hit] = field(default_factory=list)
    pos: str | None = None  # the part of speech kept to (n, v, a, r); None: any
    basis: str = ""  # where the answer comes from, in words
    # answers from the dictionary ("dictionary", "only-sense"): the WordNet sense (key, synset,
    # gloss...), its combined score, and which evidence agreed with it
    sense: dict | None = None
    score: float | None = None
    evidence: dict | None = None

    def to_dict(self) -> dict:
        return {
            "target": self.target.__dict__,
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "method": self.method,
            "pos": self.pos,
            "basis": self.basis,
            "k": self.k,
            "labelled": self.labelled,
            "votes": {k: round(v, 4) for k, v in self.votes.items()},
            "neighbours": [h.to_dict() for h in self.neighbours],
            **({"sense": self.sense, "score": self.score, "evidence": self.evidence} if self.sense else {}),
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
    """Occurrence ids of a lemma with a voting label, and the label in effect (labels.SOURCES order)."""
    labels = effective_labels(db, lemma=lemma, sources=VOTING_SOURCES)
    return np.fromiter(labels, dtype=np.int64, count=len(labels)), [lab for lab, _ in labels.values()]


def occurrence_classes(db, ids: np.ndarray, labels: list[str]) -> list[str | None]:
    """Part of speech (n, v, a, r; None: unknown) of labelled occurrences: the one a WordNet sense
    key carries, else the stored tag's."""
    tags = dict(select_in(db, "select id, pos from occ where id in ({ids})", [int(i) for i in ids]))
    out = []
    for oid, label in zip(ids, labels, strict=True):
        cls = sense_pos_class(label) or pos_class(tags.get(int(oid)))
        out.append(None if cls == "x" else cls)
    return out


def most_frequent(labels: list[str]) -> tuple[str, float]:
    """Most frequent label (ties: alphabetical, so it is deterministic) and its share."""
    counts = Counter(labels)
    label = min(counts, key=lambda lab: (-counts[lab], lab))
    return label, counts[label] / len(labels)


def wordnet_prediction(db, target: Target, k: int, why: str) -> Prediction | None:
    """The "wordnet-first-sense" step of `predict`: WordNet's first sense of the target's lemma in
    its part of speech, where the index's labels are WordNet sense keys and WordNet lists the
    lemma there (else None). The confidence is 1 for a lemma WordNet gives one sense, else 1 /
    its number of senses (a floor: nothing voted)."""
    cls = target.pos_class
    if cls not in POS_NAMES or not uses_sense_keys(db):
        return None
    found = first_sense(target.lemma, cls)
    if found is None:
        return None
    confidence = 1.0 / found.senses
    return Prediction(target, found.key, confidence, "wordnet-first-sense", k, 0, {found.key: confidence}, pos=cls,
                      basis=f"{WORDNET_VERSION}'s first of {found.senses} sense{'s' if found.senses > 1 else ''} of "
                            f"{target.lemma!r} as a {POS_NAMES[cls]} ({why})")


def target_vector(encoder, target: Target) -> np.ndarray:
    """The contextual vector of a query's target word."""
    return encoder.word_vectors([target.text], [[(target.start, target.end)]])[0][0]


def labelled_in_class(db, lemma: str, cls: str | None) -> tuple[np.ndarray, list[str]]:
    """Labelled occurrences of LEMMA whose part of speech is CLS (or unknown); all with CLS None."""
    ids, labels = labelled_occurrences(db, lemma)
    if cls is None or not len(ids):
        return ids, labels
    keep = [i for i, c in enumerate(occurrence_classes(db, ids, labels)) if c in (cls, None)]
    return ids[keep], [labels[i] for i in keep]


def vote_neighbours(store, ids: np.ndarray, labels: list[str], vec: np.ndarray, k: int, min_score: float,
                    ) -> tuple[str | None, float, dict[str, float], list[Hit]]:
    """The k-NN vote of labelled occurrences for a query vector, with the neighbours that voted."""
    sims = store.take(ids) @ vec
    label, confidence, votes = knn_vote(sims, labels, k, min_score)
    if label is None:
        return None, 0.0, {}, []
    order = np.argsort(-sims, kind="stable")[: min(k, len(ids))]
    order = [int(i) for i in order if sims[i] >= min_score]
    chosen = [int(ids[i]) for i in order]
    by_id = occurrences_by_id(store.db, chosen)
    hits = hits_from_rows(store, [by_id[i] for i in chosen], {int(ids[i]): float(sims[i]) for i in order}, "occ")
    return label, confidence, votes, hits


def predict(store, encoder, target: Target, k: int = DEFAULT_K, min_score: float = 0.0,
            any_pos: bool = False) -> Prediction | None:
    """Predict the sense of the target occurrence from the labelled occurrences of its lemma,
    backing off step by step (the method and `basis` say which step answered):

    1. the k nearest labelled occurrences of the lemma in the target's part of speech vote
       (all parts of speech with `any_pos`, or when the target's is unknown);
    2. none at or above min_score: their most frequent sense ("mfs");
    3. no labelled occurrence in that part of speech (or none of the lemma at all), in an index
       whose labels are WordNet sense keys: WordNet's first sense of the lemma in the target's
       part of speech ("wordnet-first-sense", where WordNet is installed and lists it);
    4. else the lemma's most frequent sense over all its labels ("mfs-lemma");
    5. no labelled occurrence of the lemma at all: None (the caller says why)."""
    ids, labels = labelled_occurrences(store.db, target.lemma)
    if len(ids) == 0:
        return wordnet_prediction(store.db, target, k, f"no labelled occurrence of {target.lemma!r} in this index")
    cls = None if any_pos else target.pos_class
    if cls is not None:
        keep = [i for i, c in enumerate(occurrence_classes(store.db, ids, labels)) if c in (cls, None)]
        if not keep:
            found = wordnet_prediction(store.db, target, k, f"none of the {len(ids):,} labelled occurrences of "
                                                            f"{target.lemma!r} is a {POS_NAMES[cls]}")
            if found is not None:
                return found
            label, confidence = most_frequent(labels)
            return Prediction(target, label, confidence, "mfs-lemma", k, len(ids), {label: confidence}, pos=None,
                              basis=f"most frequent sense of {len(ids):,} labelled occurrences of {target.lemma!r} "
                                    f"(none labelled as a {POS_NAMES[cls]})")
        ids, labels = ids[keep], [labels[i] for i in keep]
    what = f"{target.lemma!r}" + (f" as a {POS_NAMES[cls]}" if cls else "")
    label, confidence, votes, hits = vote_neighbours(store, ids, labels, target_vector(encoder, target), k, min_score)
    if label is None:
        label, confidence = most_frequent(labels)
        return Prediction(target, label, confidence, "mfs", k, len(ids), {label: confidence}, pos=cls,
                          basis=f"most frequent sense of {len(ids):,} labelled occurrences of {what} "
                                f"(no neighbour scored {min_score} or more)")
    return Prediction(target, label, confidence, "knn", k, len(ids), votes, hits, pos=cls,
                      basis=f"{len(hits)} nearest of {len(ids):,} labelled occurrences of {what}")
