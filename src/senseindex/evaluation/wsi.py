"""SemEval-2013 Task 13's cluster measures for graded sense induction: Fuzzy B-Cubed (FBC), Fuzzy
NMI (FNMI) and their geometric mean AVG = sqrt(FBC * FNMI).

Where the definitions come from: Jurgens & Klapaftis, "SemEval-2013 Task 13: Word Sense Induction
for Graded and Non-Graded Senses" (SemEval 2013), as implemented by the task's official scorer,
David Jurgens's Cluster-Comparison tools (Java, package ``edu.ucla.clustercomparison``: classes
``FuzzyBCubed``, ``FuzzyNormalizedMutualInformation``, ``DiscretizedDifferentialEntropy`` and
``KeyUtil``; read in the ccmaymay/cluster-comparison-tools mirror). This module re-implements
that scorer's arithmetic with numpy, including its quirks, so figures compare with the task's:

* **Answers and gold** are, per instance, a mapping from sense (or cluster) id to a weight. As the
  scorer's key reader does, each instance's weights are divided by their largest, so the top
  sense weighs 1; an id that is listed counts as present even at weight 0. A hard answer is one id
  at weight 1; SemCor's several keys for one token are a graded gold of equal weights (all 1).
* **Fuzzy B-Cubed** (Amigó et al.'s extended B-Cubed made fuzzy). The fuzzy agreement of two
  instances is the sum, over the ids both list, of ``1 - |w1 - w2|``. The scorer's "precision"
  of an instance averages, over the OTHER instances sharing a gold sense with it,
  ``min(gold agreement, answer agreement) / gold agreement``; its "recall" averages, over the
  other instances sharing an answer cluster, ``min(...) / answer agreement``. An instance with
  no such partner scores 0. Both are averaged over the lemma's instances. (Standard B-Cubed
  names them the other way round; F is the same.)
* **Fuzzy NMI** (Lancichinetti et al. 2009's NMI for overlapping clusters, made fuzzy): every
  sense and every cluster is a variable over the lemma's instances (its membership weight, 0
  where absent), discretised into 10 equal bins of [0, 1] (a value v falls in bin i-1 for the
  smallest i with v <= i/10, so 0 and 0.1 share bin 0). H(G) and H(T) sum the entropies of the
  senses / clusters; H(g|T) is the smallest H(g|t) over clusters t that pass Lancichinetti's
  test (eq. B.14: a cluster that looks like g's complement is skipped), H(g) when none does;
  likewise H(t|G). MI = (H(G) - H(G|T) + H(T) - H(T|G)) / 2 and FNMI = MI / max(H(G), H(T)).
  Where both entropies are 0 (one sense and one cluster) the scorer divides 0 by 0; here that
  lemma scores 0.
* **Per lemma, averaged over lemmas**, as the scorer's "all" line: FNMI is the mean of the
  lemmas' FNMI; FBC is the F-score of the mean precision and the mean recall (not the mean of
  the lemmas' F-scores, which `score_lemmas` reports beside it as ``fbc_mean_f``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

Graded = Mapping[str, float]  # one instance's senses (or clusters) with their weights
BINS = 10


def hard(labels: Sequence) -> list[dict[str, float]]:
    """One id at weight 1 per instance (a hard clustering or a single gold sense)."""
    return [{str(label): 1.0} for label in labels]


def graded(probabilities: np.ndarray, floor: float = 0.0) -> list[dict[str, float]]:
    """A graded answer per row of an (n, k) soft distribution: cluster id -> probability, keeping
    the clusters whose probability is at least FLOOR times the row's largest (the largest always
    stays). The scorer counts every listed id as present, so memberships near zero should be left
    out rather than written as tiny weights."""
    out = []
    for row in np.asarray(probabilities, dtype=np.float64):
        top = float(row.max())
        out.append({str(c): float(p) for c, p in enumerate(row) if p > 0 and p >= floor * top})
    return out


def _matrix(items: Sequence[Graded]) -> tuple[np.ndarray, np.ndarray]:
    """(weights, present): (n, ids) arrays, each instance's weights divided by its largest."""
    ids = sorted({k for item in items for k in item})
    where = {k: j for j, k in enumerate(ids)}
    weights = np.zeros((len(items), len(ids)))
    present = np.zeros((len(items), len(ids)), dtype=bool)
    for i, item in enumerate(items):
        top = max(item.values()) if item else 0.0
        for k, w in item.items():
            weights[i, where[k]] = w / top if top > 0 else 1.0
            present[i, where[k]] = True
    return weights, present


def _agreement(weights: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(n, n) fuzzy agreement: sum over the ids both instances list of 1 - |w1 - w2|."""
    n = len(weights)
    out = np.zeros((n, n))
    for j in range(weights.shape[1]):
        p = present[:, j]
        if not p.any():
            continue
        w = weights[:, j]
        out += np.outer(p, p) * (1.0 - np.abs(w[:, None] - w[None, :]))
    return out


def fuzzy_bcubed(gold: Sequence[Graded], answer: Sequence[Graded]) -> tuple[float, float]:
    """(precision, recall) of one lemma as the task's scorer defines them (module docstring)."""
    if len(gold) != len(answer):
        raise ValueError("gold and answer must list the same instances")
    n = len(gold)
    if n == 0:
        return 0.0, 0.0
    gw, gp = _matrix(gold)
    tw, tp = _matrix(answer)
    ga, ta = _agreement(gw, gp), _agreement(tw, tp)
    lower = np.minimum(ga, ta)
    off = ~np.eye(n, dtype=bool)

    def side(shared: np.ndarray, denominator: np.ndarray, active: np.ndarray) -> float:
        pairs = shared & off
        ratio = np.divide(lower, denominator, out=np.zeros_like(lower), where=denominator > 0)
        counts = pairs.sum(1)
        per = np.divide((ratio * pairs).sum(1), counts, out=np.zeros(n), where=counts > 0)
        return float(per[active].sum() / n)

    precision = side((gp.astype(int) @ gp.T.astype(int)) > 0, ga, np.ones(n, dtype=bool))
    recall = side((tp.astype(int) @ tp.T.astype(int)) > 0, ta, tp.any(1))
    return precision, recall


def _bins(values: np.ndarray) -> np.ndarray:
    """The scorer's bin of each value: i-1 for the smallest i in 1..10 with v <= i/10 (9 above)."""
    edges = np.arange(1, BINS + 1) / BINS
    return np.minimum((values[:, None] > edges[None, :]).sum(1), BINS - 1)


def _entropy(binned: np.ndarray) -> float:
    p = np.bincount(binned, minlength=BINS) / len(binned)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _conditional(x: np.ndarray, y: np.ndarray) -> float:
    """H(X|Y) = H(X, Y) - H(Y) of two binned variables (base 2)."""
    joint = np.bincount(x * BINS + y, minlength=BINS * BINS) / len(x)
    joint = joint[joint > 0]
    return float(-(joint * np.log2(joint)).sum()) - _entropy(y)


def _h(p: float) -> float:
    return 0.0 if p == 0 else -p * math.log(p)


def _skip(x: np.ndarray, y: np.ndarray) -> bool:
    """Lancichinetti et al.'s eq. B.14, as the scorer tests it: skip Y as the partner of X when
    the two look more like complements than like each other."""
    n = len(x)
    both = float(((x > 0) & (y > 0)).sum()) / n
    neither = float(((x == 0) & (y == 0)).sum()) / n
    only_x = float(((x > 0) & (y == 0)).sum()) / n
    only_y = float(((x == 0) & (y > 0)).sum()) / n
    return _h(both) + _h(neither) < _h(only_x) + _h(only_y)


def fuzzy_nmi(gold: Sequence[Graded], answer: Sequence[Graded]) -> float:
    """FNMI of one lemma as the task's scorer defines it (module docstring)."""
    if len(gold) != len(answer):
        raise ValueError("gold and answer must list the same instances")
    if not gold:
        return 0.0
    gw, _ = _matrix(gold)
    tw, _ = _matrix(answer)
    gb = [_bins(gw[:, j]) for j in range(gw.shape[1])]
    tb = [_bins(tw[:, j]) for j in range(tw.shape[1])]
    h_g = sum(_entropy(b) for b in gb)
    h_t = sum(_entropy(b) for b in tb)

    def given(xs_w, xs_b, ys_w, ys_b) -> float:
        total = 0.0
        for xw, xb in zip(xs_w, xs_b, strict=True):
            best = math.inf
            for yw, yb in zip(ys_w, ys_b, strict=True):
                if _skip(xw, yw):
                    continue
                best = min(best, _conditional(xb, yb))
            total += _entropy(xb) if best == math.inf else best
        return total

    g_cols, t_cols = list(gw.T), list(tw.T)
    h_gt = given(g_cols, gb, t_cols, tb)
    h_tg = given(t_cols, tb, g_cols, gb)
    denominator = max(h_g, h_t)
    if denominator == 0:
        return 0.0
    return 0.5 * (h_g - h_gt + h_t - h_tg) / denominator


def f_score(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def score_lemmas(lemmas: Mapping[str, tuple[Sequence[Graded], Sequence[Graded]]]) -> dict:
    """FBC, FNMI and AVG (in points, x100) over lemmas ({lemma: (gold, answer)}), averaged as the
    task's scorer averages them, with each lemma's figures under ``per_lemma``."""
    per = {}
    for lemma, (gold, answer) in lemmas.items():
        p, r = fuzzy_bcubed(gold, answer)
        per[lemma] = {"instances": len(gold), "clusters": len({k for a in answer for k in a}),
                      "precision": p, "recall": r, "fbc": f_score(p, r), "fnmi": fuzzy_nmi(gold, answer)}
    if not per:
        return {"lemmas": 0, "fbc": 0.0, "fnmi": 0.0, "avg": 0.0, "per_lemma": {}}
    precision = float(np.mean([v["precision"] for v in per.values()]))
    recall = float(np.mean([v["recall"] for v in per.values()]))
    fbc = f_score(precision, recall)
    fnmi = float(np.mean([v["fnmi"] for v in per.values()]))
    return {"lemmas": len(per), "instances": sum(v["instances"] for v in per.values()),
            "fbc": round(100 * fbc, 2), "fnmi": round(100 * fnmi, 2),
            "avg": round(100 * math.sqrt(max(fbc, 0.0) * max(fnmi, 0.0)), 2),
            "fbc_precision": round(100 * precision, 2), "fbc_recall": round(100 * recall, 2),
            "fbc_mean_f": round(100 * float(np.mean([v["fbc"] for v in per.values()])), 2),
            "mean_clusters": round(float(np.mean([v["clusters"] for v in per.values()])), 2),
            "per_lemma": {k: {m: (round(x, 4) if isinstance(x, float) else x) for m, x in v.items()}
                          for k, v in per.items()}}
