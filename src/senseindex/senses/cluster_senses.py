"""The dictionary beside induced sense clusters: which WordNet senses each cluster matches, which
cluster matches none (a candidate new sense), and each occurrence's soft share of every cluster.

A cluster's similarity to a WordNet sense is the mean, over the cluster's occurrences, of the
sense's combined score (gloss and supervised cosines, as `label` scores them without the k-NN
vote). A cluster whose occurrences lie far from the lemma's labelled occurrences (or, with none,
whose best sense scores low) is flagged as a candidate new sense (NEW_SENSE_STATISTIC); the
thresholds were calibrated per part of speech on SemCor by withholding each gold sense from the
inventory (bench/eval_dictionary.py, docs/benchmarks/22-dictionary.md).

Soft distributions: a softmax of each occurrence's cosines to the cluster centroids. They sum to 1,
are what SemEval-2013 Task 13's graded measures score, and let a reviewer sort by doubt.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from senseindex.senses.sense_vectors import (
    DEFAULT_GLOSS_WEIGHT,
    DEFAULT_VARIANT,
    GLOSS_ONLY_VARIANT,
    combined_scores,
    gloss_cache,
    sense_matrix,
)
from senseindex.storage.db import select_in
from senseindex.text.inventory import Inventory, load_inventory
from senseindex.text.tagging import pos_class

# A cluster is a candidate new sense when it fits its lemma's labelled occurrences badly: the mean,
# over its occurrences, of the cosine with their NEW_SENSE_K nearest labelled occurrences of the
# lemma (statistic "knn") is below the part of speech's threshold. A lemma with no labelled
# occurrence in the part of speech falls back to the best WordNet sense's mean score ("best", with
# supervised vectors; "gloss_best", gloss vectors only). Statistics, k and thresholds were chosen
# on SemCor development documents by withholding each gold sense (with its labels) from the
# inventory: the largest recall at precision >= 0.7 per part of speech. The best sense's lead over
# the runner-up ("margin") and scores relative to the lemma's other occurrences were measured too
# and did worse (docs/benchmarks/22-dictionary.md).
NEW_SENSE_STATISTIC = "knn"
NEW_SENSE_K = 3
# Cosines depend on the layer an index was built from, so the thresholds are kept per layer where
# they were calibrated; any other layer uses the default layer's ("last"), uncalibrated. On test
# documents, "knn" with these thresholds flags 55.5 % of withheld senses at precision 0.695 on the
# default index and 55.9 % at 0.703 on an index built with --layer last4; "best" 8.9 % at 0.64 and
# 28.5 % at 0.67; "gloss_best" 3.4 % at 0.69 and 21.8 % at 0.69 (bench/out/dictionary-semcor.json,
# bench/out/dictionary-semcor-last4.json).
NEW_SENSE_THRESHOLDS_BY_LAYER = {
    "last": {
        "knn": {"n": 0.531, "v": 0.422, "a": 0.432, "r": 0.379},
        "best": {"n": 0.363, "v": 0.119, "a": 0.235, "r": 0.202},
        "gloss_best": {"n": 0.233, "v": 0.092, "a": 0.092, "r": 0.146},
    },
    "last4": {
        "knn": {"n": 0.785, "v": 0.688, "a": 0.733, "r": 0.679},
        "best": {"n": 0.664, "v": 0.452, "a": 0.605, "r": 0.501},
        "gloss_best": {"n": 0.446, "v": 0.373, "a": 0.45, "r": 0.403},
    },
}
NEW_SENSE_THRESHOLDS = NEW_SENSE_THRESHOLDS_BY_LAYER["last"]
SOFT_TEMPERATURE = 0.05  # softmax temperature over cosines to cluster centroids
TOP_SENSES = 3


def flag_statistic(sims: np.ndarray, statistic: str = "best") -> float:
    """How well a cluster's best WordNet sense fits: its score ("best"), or its lead over the
    runner-up ("margin"; a lemma with one sense: that sense's score)."""
    top = np.sort(sims)[::-1]
    if statistic == "best" or len(top) < 2:
        return float(top[0])
    return float(top[0] - top[1])


def nearest_labelled(X: np.ndarray, ids: np.ndarray, labelled: np.ndarray, L: np.ndarray,
                     k: int = NEW_SENSE_K) -> np.ndarray:
    """Per row of X (occurrences IDS), the mean cosine with its K nearest rows of L (the labelled
    occurrences LABELLED), an occurrence never counting as its own neighbour."""
    if not len(L):
        return np.full(len(X), np.nan, np.float32)
    sims = X @ L.T
    sims[np.asarray(ids)[:, None] == np.asarray(labelled)[None, :]] = -np.inf
    k = min(k, len(L))
    top = -np.partition(-sims, k - 1, axis=1)[:, :k]
    finite = np.isfinite(top)
    return np.where(finite.any(axis=1), np.where(finite, top, 0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1),
                    np.nan).astype(np.float32)


def soft_assignments(X: np.ndarray, centroids: np.ndarray, temperature: float = SOFT_TEMPERATURE) -> np.ndarray:
    """(n, k) probabilities of each row belonging to each cluster: softmax of cosines / temperature."""
    if len(centroids) == 0:
        return np.zeros((len(X), 0), np.float32)
    logits = (X @ centroids.T) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def cluster_centroids(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, X.shape[1]), np.float32)
    for c in range(k):
        members = X[labels == c]
        if len(members):
            m = members.mean(0)
            out[c] = m / max(float(np.linalg.norm(m)), 1e-12)
    return out


def main_class(store, ids: np.ndarray) -> str | None:
    """The part of speech most of the occurrences are tagged with (n, v, a, r; None if none)."""
    tags = [pos_class(t) for (t,) in select_in(store.db, "select pos from occ where id in ({ids})",
                                                [int(i) for i in ids])]
    counts = Counter(t for t in tags if t in ("n", "v", "a", "r"))
    return counts.most_common(1)[0][0] if counts else None


def match_clusters(store, encoder, lemma: str, ids: np.ndarray, X: np.ndarray, labels: np.ndarray, k: int,
                   inventory: Inventory | None = None, threshold: float | None = None,
                   gloss_weight: float = DEFAULT_GLOSS_WEIGHT, variant: str = DEFAULT_VARIANT) -> dict | None:
    """Per cluster, its best-matching WordNet senses (key, synset, gloss, similarity) and whether it
    is a candidate new sense (see NEW_SENSE_STATISTIC; THRESHOLD replaces the calibrated one);
    None where WordNet lacks the lemma (or is not installed)."""
    from senseindex.senses.dictionary import index_centroids
    from senseindex.senses.knn import labelled_in_class

    inventory = inventory or load_inventory()
    cls = main_class(store, ids)
    if inventory is None or cls is None:
        return None
    senses = inventory.senses(lemma, cls)
    if not senses:
        return None
    sup, _ = sense_matrix(senses, index_centroids(store, inventory), inventory)
    gloss = gloss_cache(encoder, inventory).vectors(senses, variant if sup is not None else GLOSS_ONLY_VARIANT)
    combined = combined_scores(X, gloss, sup, gloss_weight)
    labelled, _ = labelled_in_class(store.db, lemma, cls)
    statistic = "knn" if len(labelled) else "best" if sup is not None else "gloss_best"
    near = nearest_labelled(X, ids, labelled, store.take(labelled)) if len(labelled) else None
    if threshold is None:
        layer = str(getattr(store, "manifest", {}).get("layer", "last"))
        threshold = NEW_SENSE_THRESHOLDS_BY_LAYER.get(layer, NEW_SENSE_THRESHOLDS)[statistic][cls]
    clusters = []
    for c in range(k):
        members = combined[labels == c]
        sims = members.mean(0) if len(members) else np.zeros(len(senses))
        order = np.argsort(-sims)[:TOP_SENSES]
        if near is not None:
            fits = near[labels == c]
            fit = float(fits[~np.isnan(fits)].mean()) if (~np.isnan(fits)).any() else 0.0
        else:
            fit = flag_statistic(sims)
        clusters.append({
            "cluster": c,
            "senses": [{"key": senses[i].key, "synset": senses[i].name, "gloss": senses[i].gloss,
                        "similarity": round(float(sims[i]), 4)} for i in order],
            "fit": round(fit, 4),
            "new_sense": fit < threshold,
        })
    return {"pos": cls, "wordnet_senses": len(senses), "statistic": statistic, "threshold": threshold,
            "clusters": clusters}


def add_dictionary(store, encoder, report, inventory: Inventory | None = None) -> None:
    """Fill every occurrence's `soft` distribution of a SenseReport and, with an encoder (the gloss
    vectors need the index's model), its `dictionary` (in place)."""
    ids = np.array([o.occurrence_id for o in report.rows], dtype=np.int64)
    if not len(ids):
        return
    X = store.take(ids)
    labels = np.array([o.cluster for o in report.rows])
    soft = soft_assignments(X, cluster_centroids(X, labels, report.k))
    for o, p in zip(report.rows, soft, strict=True):
        o.soft = [round(float(x), 4) for x in p]
    if encoder is not None:
        report.dictionary = match_clusters(store, encoder, report.lemma, ids, X, labels, report.k, inventory)
