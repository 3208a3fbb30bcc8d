"""Active review: which occurrences of a word a person should label next, and the labels the
rest get from the person's answers.

A person's time is the scarce thing, so every answer should teach the labeller as much as
possible. The order (measured with a simulated annotator in bench/review_curve.py):

1. One representative per sense cluster (`senses.cluster_vectors`, the clusters `senseindex
   senses` shows; the occurrence closest to its cluster's centre) that has no labelled
   occurrence yet, largest cluster first: a word's main senses are seen within the first few
   answers. A cluster whose answers only repeat senses other clusters have gets one more
   representative: on *bank*, the river-bank cluster's most central sentence is a financial
   one, and without the second question the river sense was not seen in 64 answers.
2. Then one representative of each cluster of a finer clustering (FINE_K clusters) without a
   labelled occurrence: a sense the sense clusters mixed into a bigger one is often a cluster of
   its own at that level (*deck* as a building's deck: seen at answer 4 instead of 18).
3. Then the occurrences the labeller is least sure about: a small margin between the two best
   senses of the k-NN vote, or a nearest labelled neighbour that disagrees with the vote; plus
   how far an occurrence lies from everything labelled, so a region no label covers yet is
   asked about before the boundary cases are refined. While every answer so far is one sense,
   that distance is weighted by how crowded the occurrence's neighbourhood is (`density`): a
   rare sense is a crowd of its own, an odd sentence is alone (*pitcher*'s 31 jug sentences in
   9,240 were not seen in 64 answers without it, and at answer 16 with it).
4. Within one batch the distance to the batch's earlier picks counts as well, and a near-
   duplicate of an earlier pick (cosine >= DUPLICATE_COSINE) is never proposed: two copies of
   one sentence teach nothing the first did not.

All of it works in the word's own space: its occurrence vectors minus their mean, renormalised
(`word_space`). Every occurrence of *mole* shares a large "this is *mole*" component, so raw
cosines between them are all high and a k-NN vote from a handful of labels is nearly a
head count of the labels; without the shared part the cosine measures the sense. On CoarseWSD-20
this took *mole* from 44 answers to 95 % accuracy to 6 (bench/review_curve.py, BENCHMARKS.md).

Everything here works on arrays (vectors, label ids); the facade reads them from an index and
the benchmark from the CoarseWSD-20 vector cache, so both run exactly this code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from senseindex.senses.knn import DEFAULT_K

DUPLICATE_COSINE = 0.95  # occurrences at least this similar are near-duplicates: never two in a batch
NOVELTY_WEIGHT = 1.0  # weight of "far from every labelled occurrence" against the labeller's doubt
DISAGREE_WEIGHT = 0.5  # bonus when the nearest labelled neighbour's sense is not the vote's
CLUSTER_TRIES = 2  # representatives asked of a cluster whose answers only repeat other clusters' senses
FINE_K = 8  # a finer cut whose representatives come next: finds a sense the sense clusters mixed in (K_MAX of senses)
CANDIDATES = 20_000  # occurrences scored per batch (a seeded sample above this), so a batch stays quick


def word_space(X: np.ndarray) -> np.ndarray:
    """The occurrence vectors of one word without their shared component: minus their mean,
    L2-normalised (float32). Review selects and labels in this space."""
    X = np.asarray(X, dtype=np.float64)
    C = X - X.mean(0)
    return (C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass
class Votes:
    """The k-NN vote for every row of a similarity matrix against the labelled occurrences."""

    label: np.ndarray  # (n,) index of the winning label
    share: np.ndarray  # (n,) its share of the vote (the confidence `senseindex label` prints)
    margin: np.ndarray  # (n,) winning share minus the second best
    nearest: np.ndarray  # (n,) label of the single nearest labelled occurrence
    nearest_sim: np.ndarray  # (n,) its cosine


def vote(S: np.ndarray, y: np.ndarray, n_labels: int, k: int = DEFAULT_K, min_score: float = 0.0) -> Votes:
    """`labeller.knn_vote` for many rows at once: S is (rows, labelled) cosines, y the label id of
    each labelled column. Each of the k nearest at or above min_score votes with its cosine; a
    row with no vote gets the most frequent label (share 0)."""
    n, m = S.shape
    if m == 0:
        raise ValueError("no labelled occurrences to vote")
    y = np.asarray(y)
    rows = np.arange(n)
    kk = min(k, m)
    top = np.argpartition(-S, kk - 1, axis=1)[:, :kk] if kk < m else np.broadcast_to(np.arange(m), (n, m))
    s = np.take_along_axis(S, top, 1)
    w = np.where(s >= min_score, np.maximum(s, 1e-6), 0.0)
    V = np.bincount((np.repeat(rows, kk) * n_labels + y[top].ravel()), weights=w.ravel(),
                    minlength=n * n_labels).reshape(n, n_labels)
    nearest_col = S.argmax(1)
    nearest = y[nearest_col]
    V[rows, nearest] += 1e-9  # ties go to the nearest, as in knn_vote
    total = V.sum(1)
    label = V.argmax(1)
    empty = total <= 1e-6
    label[empty] = np.bincount(y, minlength=n_labels).argmax()
    shares = V / np.maximum(total, 1e-12)[:, None]
    two = -np.sort(-shares, axis=1)[:, :2] if n_labels > 1 else np.hstack([shares, np.zeros((n, 1))])
    share = np.where(empty, 0.0, two[:, 0])
    margin = np.where(empty, 0.0, two[:, 0] - two[:, 1])
    return Votes(label, share, margin, nearest, S[rows, nearest_col])


def leave_one_out(XL: np.ndarray, y: np.ndarray, n_labels: int, k: int = DEFAULT_K) -> float | None:
    """Share of the labelled occurrences that the others' k-NN vote labels correctly: the
    accuracy estimate `review --status` shows (None below two labels). Actively chosen
    occurrences are the hard ones, so this is pessimistic for the occurrences never asked about."""
    m = len(y)
    if m < 2:
        return None
    S = XL @ XL.T
    np.fill_diagonal(S, -np.inf)  # never its own vote: -inf is below any min_score
    v = vote(S, y, n_labels, min(k + 1, m))
    return float(np.mean(v.label == np.asarray(y)))


# The stopping rule, chosen on bench/review_curve.py's replay of 15 CoarseWSD-20 words (tool order,
# one seed; docs/benchmarks/23-concordance.md): of the windows 5/10, leave-one-out targets 0/0.7/
# 0.8/0.9 and tolerances 0/1/2 %, this one stopped below 95 % accuracy once (the fewest) at a mean
# 46 answers; a target of 0.9 never let 12 of the 15 words stop within 64 answers, because the
# leave-one-out estimate on actively chosen (hard) occurrences is pessimistic.
STOP_STABLE = 10  # the last answers over which the predictions for the rest must (almost) not have changed
STOP_CHANGED = 0.01  # "unchanged": at most this share of the rest's predictions differ
STOP_TARGET = 0.7  # ... and the leave-one-out estimate at least this


def stable_answers(W: np.ndarray, rows: np.ndarray, y: np.ndarray, n_labels: int, k: int = DEFAULT_K,
                   window: int = STOP_STABLE, tolerance: float = STOP_CHANGED) -> int:
    """How many of the last answers (rows and y in answer order) left the k-NN predictions for
    the occurrences not answered as they are now: at most a `tolerance` share of them different
    from the predictions before each of those answers (at most `window`)."""
    rows, y = np.asarray(rows, np.int64), np.asarray(y, np.int64)
    rest = np.setdiff1d(np.arange(len(W)), rows)
    m = len(rows)
    if m < 2:
        return 0
    if not len(rest):
        return min(window, m - 1)
    S = W[rest] @ W[rows].T
    now = vote(S, y, n_labels, k).label
    for j in range(1, min(window, m - 1) + 1):
        if np.mean(vote(S[:, : m - j], y[: m - j], n_labels, k).label != now) > tolerance:
            return j - 1
    return min(window, m - 1)


def stop_rule(W: np.ndarray, rows: np.ndarray, y: np.ndarray, n_labels: int, k: int = DEFAULT_K,
              window: int = STOP_STABLE, target: float = STOP_TARGET,
              groups: tuple[np.ndarray, ...] = ()) -> dict:
    """Whether review can stop: every cluster of `groups` (the sense clusters and the finer cut
    review asks from, one cluster id per row) has an answer, the predictions for the rest did
    not change over the last `window` answers, and the leave-one-out estimate is at least
    `target`. The figures are returned, so a page can say why (or why not yet).

    Coverage is there because stability and the estimate alone stop too early on a word with a
    rare sense: before its first answer every prediction is the common sense, unchanging, and
    every answer agrees (bench/review_curve.py: *bank* stopped at 6 answers, its river sense
    first seen at 11)."""
    rows = np.asarray(rows, np.int64)
    unasked = sum(len(set(np.asarray(g).tolist()) - set(np.asarray(g)[rows].tolist())) for g in groups)
    loo = leave_one_out(W[rows], np.asarray(y), n_labels, k) if len(rows) >= 2 else None
    stable = stable_answers(W, rows, y, n_labels, k, window)
    ok = loo is not None and loo >= target and stable >= window and unasked == 0
    return {"can_stop": bool(ok), "stable_answers": int(stable), "window": window,
            "estimate": None if loo is None else round(loo, 4), "target": target, "clusters_unasked": int(unasked)}


@dataclass
class Pool:
    """One word's occurrences as review sees them (built once per review, see `make_pool`)."""

    W: np.ndarray  # (n, dim) vectors in the word's space (`word_space`)
    clusters: np.ndarray  # (n,) sense cluster of each row (`senses.cluster_vectors`, cluster 0 the largest)
    centre_sim: np.ndarray  # (n,) cosine of each row to its cluster's centre, in the word space
    fine: np.ndarray | None = None  # (n,) a finer cut of the same clustering (FINE_K clusters), or None
    fine_sim: np.ndarray | None = None  # (n,) cosine of each row to its fine cluster's centre
    density: np.ndarray | None = None  # (n,) in [0, 1]: how crowded each row's neighbourhood is


def _centre_sim(W: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    k = int(clusters.max()) + 1
    cents = np.stack([W[clusters == c].mean(0) if (clusters == c).any() else np.zeros(W.shape[1]) for c in range(k)])
    cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
    return np.einsum("ij,ij->i", W, cents[clusters])


def make_pool(X: np.ndarray, clusters: np.ndarray, fine: np.ndarray | None = None) -> Pool:
    """The review pool of one word from its occurrence vectors, their sense clusters and,
    optionally, a finer clustering whose representatives are asked after the clusters'."""
    W = word_space(X)
    clusters = np.asarray(clusters)
    return Pool(W, clusters, _centre_sim(W, clusters), None if fine is None else np.asarray(fine),
                None if fine is None else _centre_sim(W, np.asarray(fine)), density(W))


def density(W: np.ndarray, sample: int = 4000, neighbours: int = 10, chunk: int = 4096) -> np.ndarray:
    """Mean cosine of each row to its nearest rows (in a seeded sample), scaled to [0, 1]: a sense
    of its own is a crowd (*pitcher*'s 31 jug sentences: 0.71 against 0.48 for any sentence), an
    odd sentence is alone."""
    n = len(W)
    ref = W if n <= sample else W[np.sort(np.random.default_rng(0).choice(n, sample, replace=False))]
    kk = min(neighbours + 1, len(ref))
    out = np.empty(n, np.float32)
    for lo in range(0, n, chunk):
        top = -np.partition(-(W[lo : lo + chunk] @ ref.T), kk - 1, axis=1)[:, :kk]
        out[lo : lo + chunk] = (top.sum(1) - top.max(1)) / max(kk - 1, 1)
    lo_, hi_ = float(out.min()), float(out.max())
    return (out - lo_) / (hi_ - lo_) if hi_ > lo_ else np.ones(n, np.float32)


@dataclass
class Proposal:
    row: int  # row in the word's occurrence matrix
    reason: str  # why it is asked: "cluster N", "uncertain", "far from labels"
    score: float


class _Batch:
    """The proposals of one batch as they are picked: rows never to offer again (labelled,
    skipped or already picked) and the near-duplicate test against what was picked."""

    def __init__(self, W: np.ndarray, blocked: np.ndarray, n: int) -> None:
        self.W, self.blocked, self.n = W, blocked, n
        self.out: list[Proposal] = []
        self.picked: list[int] = []

    @property
    def full(self) -> bool:
        return len(self.out) >= self.n

    def near_duplicate(self, i: int) -> bool:
        return bool(self.picked) and float((self.W[self.picked] @ self.W[i]).max()) >= DUPLICATE_COSINE

    def take(self, i: int, reason: str, score: float) -> None:
        self.out.append(Proposal(i, reason, score))
        self.picked.append(i)
        self.blocked[i] = True

    def take_representative(self, members: np.ndarray, sim: np.ndarray, reason: str) -> None:
        """The member closest to its cluster's centre that is no near-duplicate of a pick."""
        for i in members[np.argsort(-sim[members], kind="stable")]:
            if not self.near_duplicate(int(i)):
                self.take(int(i), reason, float(sim[i]))
                return


def propose(pool: Pool, labelled: np.ndarray, y: np.ndarray, n_labels: int, n: int,
            exclude: np.ndarray | None = None, k: int = DEFAULT_K, seed: int = 0) -> list[Proposal]:
    """The next `n` rows of the pool for a person to label (see the module docstring for the order).

    labelled, y: rows labelled so far and their label ids; exclude: rows never to propose
    (skipped by the person)."""
    labelled = np.asarray(labelled, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    blocked = np.zeros(len(pool.W), bool)
    blocked[labelled] = True
    if exclude is not None and len(exclude):
        blocked[np.asarray(exclude, dtype=np.int64)] = True
    batch = _Batch(pool.W, blocked, n)
    _cluster_representatives(pool, batch, labelled, y)
    if not batch.full:
        _doubtful_or_novel(pool, batch, labelled, y, n_labels, k, seed)
    return batch.out


def _cluster_representatives(pool: Pool, batch: _Batch, labelled: np.ndarray, y: np.ndarray) -> None:
    """1. A representative of every cluster without a labelled occurrence, largest cluster first;
    a second one for a cluster whose answers so far only repeat senses other clusters have.
    1b. One of every fine cluster without a labelled or picked occurrence, largest first."""
    clusters = pool.clusters
    lab_cluster = clusters[labelled]
    for c in np.argsort(-np.bincount(clusters), kind="stable"):
        if batch.full:
            break
        mine = set(y[lab_cluster == c].tolist())
        asked = int((lab_cluster == c).sum())
        others = set(y[lab_cluster != c].tolist())
        if asked >= CLUSTER_TRIES or (asked and not mine <= others):
            continue
        batch.take_representative(np.flatnonzero((clusters == c) & ~batch.blocked), pool.centre_sim,
                                  f"cluster {int(c)}")
    if pool.fine is None:
        return
    lab_fine = set(pool.fine[labelled].tolist())
    for c in np.argsort(-np.bincount(pool.fine), kind="stable"):
        if batch.full:
            break
        if c in lab_fine or any(pool.fine[i] == c for i in batch.picked):
            continue
        batch.take_representative(np.flatnonzero((pool.fine == c) & ~batch.blocked), pool.fine_sim,
                                  f"sub-cluster {int(c)}")


def _doubtful_or_novel(pool: Pool, batch: _Batch, labelled: np.ndarray, y: np.ndarray, n_labels: int,
                       k: int, seed: int) -> None:
    """2. The rest of the batch by doubt (the k-NN vote's margin, disagreement with the nearest
    label) plus distance from everything labelled or picked in this batch."""
    W = pool.W
    cand = np.flatnonzero(~batch.blocked)
    if len(cand) > CANDIDATES:
        cand = np.sort(np.random.default_rng(seed).choice(cand, CANDIDATES, replace=False))
    if len(cand) == 0:
        return
    Wc = W[cand]
    doubt = np.zeros(len(cand))
    if len(labelled):
        v = vote(Wc @ W[labelled].T, y, n_labels, k)
        doubt = (1.0 - v.margin) + DISAGREE_WEIGHT * (v.nearest != v.label)
        closest = v.nearest_sim.copy()
    else:
        closest = np.full(len(cand), -1.0)
    alive = np.ones(len(cand), bool)
    for i in batch.picked:
        sims = Wc @ W[i]
        closest = np.maximum(closest, sims)
        alive &= sims < DUPLICATE_COSINE
    while not batch.full and alive.any():
        novelty = NOVELTY_WEIGHT * (1.0 - closest)
        if pool.density is not None and len(set(y.tolist())) == 1:  # one sense so far: look for a crowd
            novelty = novelty * pool.density[cand]
        score = doubt + novelty
        score[~alive] = -np.inf
        j = int(score.argmax())
        i = int(cand[j])
        alive[j] = False
        sims = Wc @ W[i]
        alive &= sims < DUPLICATE_COSINE
        batch.out.append(Proposal(i, "uncertain" if doubt[j] >= novelty[j] else "far from labels", float(score[j])))
        closest = np.maximum(closest, sims)
