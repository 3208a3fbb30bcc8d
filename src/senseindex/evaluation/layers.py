"""Layer study: which hidden layer separates senses best, per model, on a seeded CoarseWSD-20 subset."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from senseindex.evaluation.datasets import WsdSplit

from .coarsewsd import evaluate_coarsewsd, subset_indices


def layer_study(root: str | Path | None = None, models: Sequence[str] = ("mpnet", "minilm"),
                layers: Sequence[str] = ("last", "last4", "middle"), words: Sequence[str] | None = None,
                max_train: int | None = 300, max_test: int | None = 150, seed: int = 0,
                device: str = "auto", precision: str = "auto",
                progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Nearest-instance and nearest-centroid accuracy per model and layer choice, on a seeded subset."""
    from senseindex.encoding.encoder import Encoder

    def subset(split: WsdSplit) -> np.ndarray | None:
        return subset_indices(split, max_train if split.split == "train" else max_test, seed)

    rows = []
    for model in models:
        for layer in layers:
            t0 = time.perf_counter()
            enc = Encoder(model, layer=layer, device=device, precision=precision)
            res = evaluate_coarsewsd(root, words, enc, methods=("contextual-instance", "contextual-centroid"),
                                     subset=subset)
            row = {"model": enc.name, "layer": layer, "hidden_states": enc.layers, "num_layers": enc.num_layers,
                   "n_train": sum(r["n_train"] for r in res["methods"]["contextual-instance"]["per_word"].values()),
                   "n_test": sum(r["n_test"] for r in res["methods"]["contextual-instance"]["per_word"].values()),
                   "seconds": round(time.perf_counter() - t0, 1)}
            for m in ("contextual-instance", "contextual-centroid"):
                s = res["methods"][m]
                row[m] = {k: s[k] for k in ("micro_accuracy", "per_word_accuracy_mean", "macro_f1_mean")}
            rows.append(row)
            if progress:
                progress(row)
            del enc
    return rows
