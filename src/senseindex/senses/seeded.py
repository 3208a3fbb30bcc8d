"""Dictionary-seeded sense clusters (`senses --inventory wordnet`): the lemma's WordNet senses are
the clusters, so each is named by a dictionary sense with its gloss, and what the dictionary
lacks is still found.

1. Every occurrence is scored against the lemma's WordNet senses in its part of speech by the
   sense vectors `label` uses (gloss and supervised cosines combined, `sense_vectors.combine`;
   no k-NN vote, no sense numbers, no tag counts) and goes to its best sense.
2. A sense that gets fewer than `min_size` occurrences (default SEEDED_MIN_SHARE of them) is dropped (nothing assigned: simply
   absent) and its occurrences go to their best remaining sense, the smallest first, as
   induction merges small clusters. WordNet lists many senses a corpus never uses; they vanish.
3. Occurrences whose best sense scores below `threshold` are far from every sense: they are
   clustered among themselves by the Ward induction (`induction.cluster_vectors`, k auto) and
   kept as new clusters, candidate senses the dictionary lacks.
4. Every occurrence gets a soft distribution over the clusters (softmax of its cosines to the
   cluster centroids, as the unsupervised mode gives), which sums to 1.

`seed_clusters` is the pure core on numpy arrays (tests and bench/wsi_semcor.py call it);
`seeded_senses` runs it on an index and describes the clusters like `induce_senses`. The
threshold and the default mode were chosen on SemCor (docs/benchmarks/22-dictionary.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from senseindex.senses.cluster_senses import (
    SOFT_TEMPERATURE,
    TOP_SENSES,
    cluster_centroids,
    main_class,
    soft_assignments,
)
from senseindex.senses.induction import (
    SenseReport,
    cluster_vectors,
    describe_clusters,
    lemma_rows,
)
from senseindex.senses.sense_vectors import (
    DEFAULT_GLOSS_WEIGHT,
    DEFAULT_VARIANT,
    GLOSS_ONLY_VARIANT,
    combined_scores,
    gloss_cache,
    sense_matrix,
)
from senseindex.text.inventory import Inventory, load_inventory

# An occurrence whose best sense's combined score is below this is "far from every sense" and
# joins the new clusters. On SemCor development documents (bench/wsi_semcor.py), where WordNet has
# every gold sense, no threshold at all scored best (graded AVG 33.03) and every threshold cost a
# little; 0.15, the lowest tried (between the 5th and 25th percentiles of best scores), cost 0.31 and is kept
# so that occurrences unlike every sense still surface as candidate new clusters.
SEEDED_THRESHOLD = 0.15
# A sense (or new cluster) must hold this share of the occurrences, at least 2, to be kept: on the
# same development documents 0.05 beat 0.01 and 0.1 (WordNet lists many rare senses).
SEEDED_MIN_SHARE = 0.05
# What `senses` does when not told (`--inventory`): seeded beat plain induction on SemCor
# development documents (graded AVG 32.7 against 20.5; glosses alone, with no labels, 28.7).
DEFAULT_INVENTORY = "wordnet"
INVENTORIES = ("wordnet", "none")


@dataclass
class Seeded:
    labels: np.ndarray  # cluster per row, 0 = largest
    senses: list[int | None]  # per cluster: the column of SCORES it was seeded from; None for a new cluster
    soft: np.ndarray  # (n, k) each row sums to 1
    similarity: np.ndarray  # cosine of each row to its cluster's centroid
    far: int  # occurrences below the threshold
    how: str

    @property
    def k(self) -> int:
        return len(self.senses)


def seeded_min_size(n: int, share: float = SEEDED_MIN_SHARE) -> int:
    return max(2, math.ceil(share * n))


def seed_clusters(X: np.ndarray, scores: np.ndarray, threshold: float | None = SEEDED_THRESHOLD,
                  min_size: int | None = None, seed: int = 0, temperature: float = SOFT_TEMPERATURE) -> Seeded:
    """Clusters of unit rows X seeded by the senses whose scores are SCORES' columns (see the
    module docstring); `threshold` None sends every occurrence to a sense."""
    X = np.asarray(X, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float64)
    n, n_senses = scores.shape
    if n == 0 or n_senses == 0:
        raise ValueError("seeding needs occurrences and at least one sense")
    ms = seeded_min_size(n) if min_size is None else max(1, int(min_size))
    far = scores.max(1) < threshold if threshold is not None else np.zeros(n, dtype=bool)
    if far.sum() < max(2, ms):  # too few to make a cluster of their own: they join their best sense
        far[:] = False
    near = ~far
    alive = np.ones(n_senses, dtype=bool)
    dropped = 0
    while True:
        masked = np.where(alive[None, :], scores[near], -np.inf)
        choice = masked.argmax(1)
        counts = np.bincount(choice, minlength=n_senses)
        alive &= counts > 0
        small = [s for s in np.argsort(counts, kind="stable") if alive[s] and counts[s] < ms]
        if not small or alive.sum() < 2:
            break
        alive[small[0]] = False  # the smallest sense goes; its occurrences take their next best
        dropped += 1
    groups: list[tuple[int | None, np.ndarray]] = []
    rows_near = np.flatnonzero(near)
    for s in np.flatnonzero(alive):
        groups.append((int(s), rows_near[choice == s]))
    new_how = ""
    if far.any():
        rows_far = np.flatnonzero(far)
        cl = cluster_vectors(X[rows_far], "auto", ms, seed)
        groups += [(None, rows_far[cl.labels == c]) for c in range(cl.k)]
        new_how = f"; {len(rows_far)} far from every sense (best score < {threshold}) make {cl.k} new cluster(s)"
    groups = [g for g in groups if len(g[1])]
    groups.sort(key=lambda g: (-len(g[1]), g[0] is None, g[0] if g[0] is not None else 0))
    labels = np.empty(n, int)
    for c, (_, rows) in enumerate(groups):
        labels[rows] = c
    k = len(groups)
    cents = cluster_centroids(X, labels, k)
    similarity = np.einsum("ij,ij->i", X, cents[labels]).astype(np.float32)
    soft = soft_assignments(X, cents, temperature)
    kept = sum(1 for s, _ in groups if s is not None)
    how = (f"seeded by {n_senses} dictionary sense(s): {kept} with occurrences kept "
           f"(senses with fewer than {ms} dropped){new_how}")
    return Seeded(labels, [s for s, _ in groups], soft, similarity, int(far.sum()), how)


def seeded_senses(store, encoder, word: str, min_size: int | None = None, seed: int = 0, examples: int = 5,
                  n_words: int = 8, glove=None, where=None, lemma: str | None = None,
                  inventory: Inventory | None = None, threshold: float | None = SEEDED_THRESHOLD,
                  gloss_weight: float = DEFAULT_GLOSS_WEIGHT) -> SenseReport | None:
    """WORD's occurrences clustered by the lemma's WordNet senses (module docstring), described as
    `induce_senses` describes clusters, each named by its synset, `dictionary` giving its gloss,
    and every occurrence's `soft` filled; None where WordNet lacks the lemma in its part of speech."""
    from senseindex.senses.dictionary import index_centroids

    lemma, rows = lemma_rows(store, word, where, glove, lemma)
    inventory = inventory or load_inventory()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    cls = main_class(store, ids)
    senses = inventory.senses(lemma, cls) if inventory is not None and cls is not None else []
    if not senses:
        return None
    X = store.take(ids)
    sup, _ = sense_matrix(senses, index_centroids(store, inventory), inventory)
    gloss = gloss_cache(encoder, inventory).vectors(senses, DEFAULT_VARIANT if sup is not None else GLOSS_ONLY_VARIANT)
    scores = combined_scores(X, gloss, sup, gloss_weight)
    ms = seeded_min_size(len(ids)) if min_size is None else max(1, int(min_size))
    sd = seed_clusters(X, scores, threshold, ms, seed)
    described, occ = describe_clusters(store, rows, ids, sd.labels, sd.similarity, sd.k, lemma, examples, n_words)
    clusters = []
    for c, s in enumerate(sd.senses):
        means = scores[sd.labels == c].mean(0)
        order = [i for i in np.argsort(-means) if i != s][: TOP_SENSES - (s is not None)]
        listed = ([s] if s is not None else []) + order
        described[c].name = senses[s].name if s is not None else f"new: {described[c].name}"
        clusters.append({
            "cluster": c, "seeded_from": senses[s].key if s is not None else None,
            "senses": [{"key": senses[i].key, "synset": senses[i].name, "gloss": senses[i].gloss,
                        "similarity": round(float(means[i]), 4)} for i in listed],
            "fit": round(float(means[listed[0]]), 4), "new_sense": s is None})
    position = {int(oid): i for i, oid in enumerate(ids)}
    for o in occ:
        o.soft = [round(float(p), 4) for p in sd.soft[position[o.occurrence_id]]]
    report = SenseReport(str(store.path), store.index_id, lemma, len(ids), sd.k, sd.how, ms, seed, None, described, occ)
    report.dictionary = {"pos": cls, "wordnet_senses": len(senses), "mode": "seeded", "statistic": "best",
                         "threshold": threshold, "clusters": clusters}
    return report
