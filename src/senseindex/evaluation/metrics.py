"""Scores shared by the benchmarks: accuracy summaries, macro-F1, precision@n, nearest orders, centroids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from senseindex.storage.vectors import l2_normalise


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Unweighted mean F1 over the senses that occur in gold or predictions (sklearn's 'macro')."""
    from sklearn.metrics import f1_score

    return float(f1_score(list(gold), list(pred), average="macro", zero_division=0))


def precision_at(order: np.ndarray, train_labels: np.ndarray, gold: np.ndarray, n: int) -> float:
    """Mean share of same-sense training instances among each query's n nearest."""
    n = min(n, order.shape[1])
    return float((train_labels[order[:, :n]] == gold[:, None]).mean()) if len(gold) else 0.0


def nearest_order(sims: np.ndarray, n: int) -> np.ndarray:
    """Column indices of the n highest similarities per row, best first."""
    n = min(n, sims.shape[1])
    part = np.argpartition(-sims, n - 1, axis=1)[:, :n] if n < sims.shape[1] else np.tile(
        np.arange(sims.shape[1]), (len(sims), 1))
    rows = np.arange(len(sims))[:, None]
    return part[rows, np.argsort(-sims[rows, part], axis=1, kind="stable")]


def centroids(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """One L2-normalised mean vector per sense."""
    senses = sorted(set(labels.tolist()))
    return l2_normalise(np.stack([vectors[labels == s].mean(0) for s in senses])), senses


def summarise(per_word: dict[str, dict], gold: dict[str, list[str]], pred: dict[str, list[str]]) -> dict:
    """Micro accuracy over all test instances, means of per-word accuracy and macro-F1."""
    n = sum(len(gold[w]) for w in per_word)
    correct = sum(int(np.sum(np.asarray(pred[w]) == np.asarray(gold[w]))) for w in per_word)
    out = {
        "micro_accuracy": round(100 * correct / n, 2) if n else 0.0,
        "per_word_accuracy_mean": round(float(np.mean([r["accuracy"] for r in per_word.values()])), 2),
        "macro_f1_mean": round(float(np.mean([r["macro_f1"] for r in per_word.values()])), 2),
    }
    for key in ("precision_at_5", "precision_at_10"):
        if all(key in r for r in per_word.values()):
            # micro: every test instance counts once
            out[key] = round(sum(r[key] * r["n_test"] for r in per_word.values()) / n, 2) if n else 0.0
    out["per_word"] = {w: {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()}
                       for w, r in per_word.items()}
    return out
