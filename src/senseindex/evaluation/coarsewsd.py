"""CoarseWSD-20: label each test sentence of 20 ambiguous nouns from the word's training
sentences (nearest instance, nearest sense centroid, k-NN, static GloVe and most-frequent-sense
baselines). Each instance is encoded once (datasets.cached_target_vectors)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from senseindex.errors import SenseIndexError
from senseindex.evaluation.datasets import (
    COARSEWSD_WORDS,
    CacheMiss,
    CacheOnly,
    WsdSplit,
    cached_target_vectors,
    data_dir,
    read_coarsewsd,
)
from senseindex.senses.knn import DEFAULT_K, knn_vote, most_frequent
from senseindex.text.words import content_words

from .metrics import centroids, macro_f1, nearest_order, precision_at, summarise

METHODS = ("contextual-instance", "contextual-centroid", "contextual-knn", "static-context", "static-sentence",
           "mfs")


# Published anchors from the CoarseWSD-20 authors' released predictions (nearest sense centroid):
# micro accuracy, mean of per-word accuracy, mean of per-word macro-F1.
ANCHORS = {"BERT-base": (95.7, 94.0, 91.0), "BERT-large": (96.7, 95.8, 93.2)}


TARGETS = (97.5, 96.0, 94.0)


def default_coarsewsd_root(data: str | Path | None = None) -> Path:
    """coarsewsd20/ in the data folder (see datasets.data_dir)."""
    return data_dir(data) / "coarsewsd20"


def static_vectors(glove, split: WsdSplit, include_target: bool) -> np.ndarray:
    """Mean GloVe of each sentence's content words, with or without the target word itself."""
    out = []
    for text, (s, e) in zip(split.texts, split.spans, strict=True):
        words = content_words(text if include_target else text[:s] + " " + text[e:])
        out.append(glove.mean_vector(words))
    return np.stack(out).astype(np.float32) if out else np.zeros((0, glove.dim), np.float32)


def classify(method: str, train_vecs: np.ndarray | None, train_labels: np.ndarray, test_vecs: np.ndarray | None,
             n_test: int, k: int = DEFAULT_K) -> tuple[list[str], dict[str, float]]:
    """Predictions of one method for one word, and precision@5/@10 where the method ranks instances."""
    extra: dict[str, float] = {}
    if method == "mfs":
        return [most_frequent(train_labels.tolist())[0]] * n_test, extra
    if method.endswith("centroid"):
        cents, senses = centroids(train_vecs, train_labels)
        return [senses[i] for i in (test_vecs @ cents.T).argmax(1)], extra
    sims = test_vecs @ train_vecs.T
    if method.endswith("knn"):
        labels = train_labels.tolist()
        return [knn_vote(row, labels, k)[0] for row in sims], extra
    order = nearest_order(sims, 10)
    return train_labels[order[:, 0]].tolist(), {"order": order}


def evaluate_coarsewsd(root: str | Path | None = None, words: Sequence[str] | None = None, encoder=None,
                       model: str | None = None, layer: str = "last", k: int = DEFAULT_K,
                       methods: Sequence[str] = METHODS, device: str = "auto", precision: str = "auto",
                       progress: Callable[[str, float], None] | None = None,
                       subset: Callable[[WsdSplit], np.ndarray | None] | None = None,
                       data: str | Path | None = None, codec: str | None = None,
                       codec_from: str | Path | None = None, runtime: str = "auto",
                       query_precision: str | None = None) -> dict:
    """Train on each word's training split, label its test split; per word and overall scores.

    `root` is the CoarseWSD-20 folder, else coarsewsd20/ in the data folder `data` (default
    $SENSEINDEX_DATA or ../shared/data). Nothing is written into the dataset folder; vectors go
    to the senseindex cache. `subset` picks the rows of each split to use (the layer study's
    seeded sample). With `codec` (a vector codec such as OPQ32,PQ32), the training vectors are
    stored as an index stores them: the codec is trained on the pooled training vectors of all
    words, and every training vector is replaced by what the index gives back to k-NN votes (the
    faithful tier of a two-tier codec, else the decoded code; queries stay exact, as in a search). With `codec_from` (an index), that index's trained codec is used instead, as if
    the words' sentences were added to it. With `query_precision`, the test sentences are encoded
    at that precision (same model, layer and runtime choice), as a query at another precision than
    its index's vectors would be."""
    root = Path(root) if root else default_coarsewsd_root(data)
    if not root.is_dir():
        raise SenseIndexError(f"{root}: no such folder (give the CoarseWSD-20 folder, --data-dir or SENSEINDEX_DATA)")
    words = list(words or COARSEWSD_WORDS)
    unknown = [w for w in words if not (root / w).is_dir()]
    if unknown:
        raise SenseIndexError(f"{root}: no data for {', '.join(unknown)} (words: {', '.join(COARSEWSD_WORDS)})")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise SenseIndexError(f"unknown method {', '.join(bad)} (use {', '.join(METHODS)})")
    if encoder is None and any(m.startswith("contextual") for m in methods):
        from senseindex.encoding.encoder import load_encoder

        encoder = load_encoder(model, layer, device, precision, runtime)
    queries = encoder
    if query_precision and encoder is not None:
        from senseindex.encoding.encoder import load_encoder

        queries = load_encoder(model or encoder.name, layer, device, query_precision, runtime)
    glove = None
    if any(m.startswith("static") for m in methods):
        from senseindex.encoding.glove import load_glove

        glove = load_glove()
    started = time.perf_counter()
    stored = None
    if codec_from:
        from senseindex.storage.store import Store

        trained = Store.open(codec_from).vectors.codec
        if not trained.trained:
            raise SenseIndexError(f"{codec_from}: its codec is not trained yet (exact vectors)")
        codec = f"{trained.spec} trained on {codec_from}"
        stored = trained.faithful
    elif codec and encoder is not None:
        stored = _codec_round_trip(root, words, encoder, codec, subset)
    per_method: dict[str, dict[str, dict]] = {m: {} for m in methods}
    gold_all: dict[str, list[str]] = {}
    pred_all: dict[str, dict[str, list[str]]] = {m: {} for m in methods}
    for word in words:
        t0 = time.perf_counter()
        train, test = read_coarsewsd(root, word, "train"), read_coarsewsd(root, word, "test")
        idx_train, idx_test = (subset(train), subset(test)) if subset else (None, None)
        vecs = {}
        if encoder is not None:
            tr_vecs = target_vectors(encoder, train, idx_train)
            vecs["contextual"] = (stored(tr_vecs) if stored else tr_vecs, target_vectors(queries, test, idx_test))
        train, test = take_split(train, idx_train), take_split(test, idx_test)
        train_labels, gold = np.asarray(train.labels), np.asarray(test.labels)
        if glove is not None:
            vecs["static-context"] = (static_vectors(glove, train, False), static_vectors(glove, test, False))
            vecs["static-sentence"] = (static_vectors(glove, train, True), static_vectors(glove, test, True))
        gold_all[word] = test.labels
        for m in methods:
            family = "contextual" if m.startswith("contextual") else m
            tr, te = vecs.get(family, (None, None))
            pred, extra = classify(m, tr, train_labels, te, len(test.labels), k)
            row = {"n_train": len(train.labels), "n_test": len(test.labels),
                   "accuracy": 100 * float(np.mean(np.asarray(pred) == gold)) if len(gold) else 0.0,
                   "macro_f1": 100 * macro_f1(test.labels, pred)}
            if "order" in extra:
                row["precision_at_5"] = 100 * precision_at(extra["order"], train_labels, gold, 5)
                row["precision_at_10"] = 100 * precision_at(extra["order"], train_labels, gold, 10)
            per_method[m][word] = row
            pred_all[m][word] = pred
        if progress:
            progress(word, time.perf_counter() - t0)
    result = {
        "dataset": "coarsewsd20", "root": str(root), "words": words,
        "model": getattr(encoder, "name", None), "layer": getattr(encoder, "layer", None),
        "precision": getattr(encoder, "precision", None),
        "runtime": getattr(encoder, "runtime", None), "k": k, "codec": codec or "exact",
        "queries": {"precision": getattr(queries, "precision", None), "runtime": getattr(queries, "runtime", None)},
        "static": "mean GloVe 6B-50d of the content words; static-context leaves the target out, "
                  "static-sentence keeps it",
        "methods": {m: summarise(per_method[m], gold_all, pred_all[m]) for m in methods},
        "anchors": {name: dict(zip(("micro_accuracy", "per_word_accuracy_mean", "macro_f1_mean"), v, strict=True))
                    for name, v in ANCHORS.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    return result


def _codec_round_trip(root: Path, words: Sequence[str], encoder, spec: str, subset) -> Callable:
    """A function mapping vectors to their decoded codes, for a codec trained on the pooled
    training vectors of the words (at most TRAIN_SAMPLE of them, seeded)."""
    from senseindex.storage.store import TRAIN_SAMPLE
    from senseindex.storage.vectors import Codec

    pooled = []
    for word in words:
        split = read_coarsewsd(root, word, "train")
        pooled.append(target_vectors(encoder, split, subset(split) if subset else None))
    sample = np.concatenate(pooled)
    if len(sample) > TRAIN_SAMPLE:
        sample = sample[np.sort(np.random.default_rng(0).choice(len(sample), TRAIN_SAMPLE, replace=False))]
    return Codec.train(sample, spec, nlist=1).faithful


def subset_indices(split: WsdSplit, max_n: int | None, seed: int = 0) -> np.ndarray | None:
    """At most max_n rows of a split, the same ones on every run (seeded per word and split);
    None when the split is small enough to use whole."""
    n = len(split.texts)
    if max_n is None or n <= max_n:
        return None
    key = int(hashlib.sha256(f"{seed}:{split.word}:{split.split}".encode()).hexdigest()[:8], 16)
    return np.sort(np.random.default_rng(key).choice(n, max_n, replace=False))


def take_split(split: WsdSplit, idx: np.ndarray | None) -> WsdSplit:
    if idx is None:
        return split
    return WsdSplit(split.word, split.split, [split.texts[i] for i in idx], [split.spans[i] for i in idx],
                    [split.labels[i] for i in idx])


def target_vectors(encoder, split: WsdSplit, idx: np.ndarray | None = None) -> np.ndarray:
    """Cached target vectors of a split or of some of its rows; rows are cut from the whole
    split's cache when that exists (each sentence is encoded on its own, so they are the same)."""
    if idx is None:
        return cached_target_vectors(encoder, split)
    try:
        return cached_target_vectors(CacheOnly(encoder), split)[idx]
    except CacheMiss:
        return cached_target_vectors(encoder, take_split(split, idx))
