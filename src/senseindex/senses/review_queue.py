"""Active review of one word in an index: the questions to ask next, storing the answers, and the
labels the rest of the word's occurrences get from them (the index side of `active`).

Answers are review labels, written through the same checked, all-or-nothing path as
`senseindex labels import` (review_import.plan_rows / apply_rows), so the precedence is the one
of labels.SOURCES. After every batch of answers, every other occurrence of the word gets a
"predicted" label from the k-NN vote of the person's (and any gold) labels in the word's space;
search results show it at once, and a person's or gold label always wins over it. A "skip"
answer is remembered (table review_skips) so the occurrence is not asked again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.senses.active import (
    FINE_K,
    STOP_STABLE,
    STOP_TARGET,
    make_pool,
    propose,
    stop_rule,
    vote,
    word_space,
)
from senseindex.senses.induction import cluster_vectors
from senseindex.senses.knn import DEFAULT_K
from senseindex.storage.db import OCCURRENCE_JOIN, select_in, utc_now
from senseindex.storage.labels import VOTING_SOURCES, effective_labels, set_labels

SKIP = "skip"


@dataclass
class Question:
    """One occurrence proposed for labelling, with what the labeller would say now."""

    occurrence_id: int
    reason: str  # "cluster N" (its cluster has no label yet), "uncertain", "far from labels"
    cluster: int
    predicted: str | None  # the k-NN vote of the labels so far (None before the first label)
    confidence: float | None
    sentence: str
    start: int
    end: int
    word: str
    doc: str
    line: int


@dataclass
class ReviewBatch:
    lemma: str
    occurrences: int
    senses: list[str]  # the sense names given so far, most frequent first
    questions: list[Question]
    status: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class WordState:
    """Everything review needs about one word, read in one go."""

    lemma: str
    ids: np.ndarray  # occurrence ids, in id order
    X: np.ndarray  # their vectors
    labels: dict[int, tuple[str, str]]  # occurrence id -> (label, source), voting sources only
    skipped: set[int]

    def labelled(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(rows of the labelled occurrences, their label ids, the label names by id)."""
        row_of = {int(i): r for r, i in enumerate(self.ids)}
        pairs = [(row_of[oid], lab) for oid, (lab, _) in self.labels.items() if oid in row_of]
        names = [lab for lab, _ in Counter(lab for _, lab in pairs).most_common()]
        index = {lab: i for i, lab in enumerate(names)}
        rows = np.array([r for r, _ in pairs], dtype=np.int64)
        return rows, np.array([index[lab] for _, lab in pairs], dtype=np.int64), names


def read_word(store, lemma: str) -> WordState:
    ids = np.array([r[0] for r in store.db.execute("select id from occurrences where lemma = ? order by id",
                                                   [lemma])], dtype=np.int64)
    if len(ids) == 0:
        raise SenseIndexError(f"no occurrences of {lemma!r}")
    labels = effective_labels(store.db, lemma=lemma, sources=VOTING_SOURCES)
    return WordState(lemma, ids, store.take(ids), labels, skipped_ids(store.db, ids))


def skipped_ids(db, ids) -> set[int]:
    if "review_skips" not in db.table_names():  # an index no writer has migrated yet
        return set()
    return {r[0] for r in select_in(db, "select occurrence_id from review_skips where occurrence_id in ({ids})",
                                    [int(i) for i in ids])}


def review_clusters(X: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The sense clusters `senseindex senses` shows (automatic k) and the finer cut (FINE_K
    clusters, at least 2 occurrences each) whose representatives review asks next."""
    return (cluster_vectors(X, "auto", seed=seed).labels,
            cluster_vectors(X, min(FINE_K, len(X)), min_size=2, seed=seed).labels)


_CLUSTERS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # see word_clusters
_CLUSTERS_KEPT = 8


def word_clusters(store, state: WordState, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """review_clusters of a word, kept for the last few words: they depend only on its vectors,
    which change only when its occurrences do (the key holds their count and ids' sum), and the
    stopping rule needs them after every answer (2 s for 10,000 occurrences)."""
    key = (str(store.path), store.index_id, state.lemma, len(state.ids), int(state.ids.sum()), seed)
    got = _CLUSTERS.pop(key, None)
    if got is None:
        got = review_clusters(state.X, seed)
    _CLUSTERS[key] = got
    while len(_CLUSTERS) > _CLUSTERS_KEPT:
        _CLUSTERS.pop(next(iter(_CLUSTERS)))
    return got


def next_questions(store, lemma: str, n: int = 10, seed: int = 0, k: int = DEFAULT_K) -> ReviewBatch:
    """The next `n` occurrences of the lemma for a person to label (reads only)."""
    if n < 1:
        raise SenseIndexError("-n must be at least 1")
    state = read_word(store, lemma)
    clusters, fine = word_clusters(store, state, seed)
    pool = make_pool(state.X, clusters, fine)
    rows, y, names = state.labelled()
    row_of = {int(i): r for r, i in enumerate(state.ids)}
    exclude = np.array([row_of[i] for i in state.skipped if i in row_of], dtype=np.int64)
    picks = propose(pool, rows, y, max(len(names), 1), n, exclude, k, seed)
    votes = vote(pool.W[[p.row for p in picks]] @ pool.W[rows].T, y, len(names), k) if len(rows) and picks else None
    by_id = {r[0]: r for r in select_in(
        store.db, "select o.id, s.text, o.start, o.end, o.word, d.path, s.line " + OCCURRENCE_JOIN
        + "where o.id in ({ids})", [int(state.ids[p.row]) for p in picks])}
    questions = []
    for j, p in enumerate(picks):
        oid, text, start, end, word, doc, line = by_id[int(state.ids[p.row])]
        questions.append(Question(int(oid), p.reason, int(clusters[p.row]),
                                  names[int(votes.label[j])] if votes is not None else None,
                                  round(float(votes.share[j]), 4) if votes is not None else None,
                                  text, int(start), int(end), word, doc, int(line)))
    return ReviewBatch(lemma, len(state.ids), names, questions, status_of(store, state, k, (clusters, fine)))


def check_answers(store, lemma: str, answers: dict[int, str]) -> tuple[list[dict], list[int]]:
    """Answers split into review rows (for review_import.plan_rows) and skipped ids; an empty
    sense name or an occurrence of another word is an error, before anything is written."""
    if not answers:
        raise SenseIndexError("no answers given")
    rows, skips, problems = [], [], []
    for oid, label in answers.items():
        label = (label or "").strip()
        if not label:
            problems.append(f"occurrence {oid}: empty answer (give a sense name or {SKIP!r})")
        elif label.lower() == SKIP:
            skips.append(int(oid))
        else:
            rows.append({"index_id": store.index_id, "occurrence_id": int(oid), "word": lemma, "label": label})
    known = dict(select_in(store.db, "select id, lemma from occurrences where id in ({ids})", [int(i) for i in answers]))
    for oid in answers:
        if int(oid) not in known:
            problems.append(f"unknown occurrence id {oid}")
        elif known[int(oid)] != lemma:
            problems.append(f"occurrence {oid} is {known[int(oid)]!r}, not {lemma!r}")
    if problems:
        raise SenseIndexError("; ".join(problems[:15]) + "; nothing stored")
    return rows, skips


def store_skips(db, ids: list[int]) -> None:
    """Remember skipped occurrences (the caller owns the transaction and holds the write lock)."""
    stamp = utc_now()
    db.conn.executemany("insert into review_skips (occurrence_id, updated) values (?, ?) "
                        "on conflict(occurrence_id) do update set updated = excluded.updated",
                        [(int(i), stamp) for i in ids])


def forget_skips(db, ids: list[int]) -> None:
    """Ask these occurrences again (an undone "skip"); the caller owns the transaction and lock."""
    db.conn.executemany("delete from review_skips where occurrence_id = ?", [(int(i),) for i in ids])


def predict_rest(store, lemma: str, k: int = DEFAULT_K) -> dict:
    """Give every occurrence of the lemma without a review or gold label the k-NN vote of those
    labels (source "predicted", with the vote's share as confidence), in one transaction; the
    caller holds the write lock. Returns the status after it."""
    state = read_word(store, lemma)
    rows, y, names = state.labelled()
    if len(rows):
        pool_W = word_space(state.X)
        rest = np.setdiff1d(np.arange(len(state.ids)), rows)
        v = vote(pool_W[rest] @ pool_W[rows].T, y, len(names), k)
        with store.db.conn:
            set_labels(store.db, [(int(state.ids[r]), names[int(lab)], round(float(c), 4))
                                  for r, lab, c in zip(rest, v.label, v.share, strict=True)], "predicted")
    return status_of(store, state, k)  # the review and gold labels are as read: only predictions changed


def status_of(store, state: WordState, k: int = DEFAULT_K, clusters: tuple[np.ndarray, ...] | None = None) -> dict:
    """How the word's occurrences are labelled: by a person, gold, by k-NN, not at all; and the
    accuracy estimated by leave-one-out on the review and gold labels (in the word's space)."""
    in_effect = effective_labels(store.db, [int(i) for i in state.ids])
    by_source = Counter(src for _, src in in_effect.values())
    rows, y, names = state.labelled()
    order = answer_order(store.db, [int(state.ids[r]) for r in rows])
    rows, y = rows[order], y[order]
    loo, stop = None, {"can_stop": False, "stable_answers": 0, "window": STOP_STABLE, "estimate": None,
                       "target": STOP_TARGET}
    if len(rows) >= 2:
        W = word_space(state.X)
        groups = clusters if clusters is not None else word_clusters(store, state)
        stop = stop_rule(W, rows, y, len(names), k, groups=tuple(groups))
        loo = stop["estimate"]
    senses = Counter(lab for lab, _ in in_effect.values())
    n = len(state.ids)
    return {"lemma": state.lemma, "occurrences": n, "by_person": by_source.get("review", 0),
            "gold": by_source.get("gold", 0), "by_knn": by_source.get("predicted", 0),
            "unlabelled": n - len(in_effect), "skipped": len(state.skipped),
            "estimated_accuracy": None if loo is None else round(loo, 4), "estimated_from": int(len(rows)),
            "senses": dict(senses.most_common()), "stop": stop}


def answer_order(db, ids: list[int]) -> np.ndarray:
    """Positions of `ids` in the order their labels were given (review and gold, by time
    written, then by row order), for the stopping rule's "the last N answers"."""
    if not ids:
        return np.zeros(0, np.int64)
    when: dict[int, tuple] = {}
    for oid, updated, rowid in select_in(db, "select occurrence_id, updated, rowid from labels where source in "
                                         "('review', 'gold') and occurrence_id in ({ids})", ids):
        when[oid] = min(when.get(oid, (updated or "", rowid)), (updated or "", rowid))
    return np.array(sorted(range(len(ids)), key=lambda i: (when.get(ids[i], ("", 0)), ids[i])), np.int64)
