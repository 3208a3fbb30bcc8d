"""Sense quality on data nobody here wrote: CoarseWSD-20 (nearest instance, nearest sense
centroid, k-NN, static GloVe and most-frequent-sense baselines), SemCor held-out documents,
and a layer study. Each instance is encoded once (datasets.cached_target_vectors)."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .datasets import (
    COARSEWSD_WORDS,
    CacheMiss,
    CacheOnly,
    WsdSplit,
    cached_target_vectors,
    read_coarsewsd,
    shared_data,
)
from .errors import SenseIndexError
from .labeller import DEFAULT_K, knn_vote, most_frequent
from .words import content_words

METHODS = ("contextual-instance", "contextual-centroid", "contextual-knn", "static-context", "static-sentence",
           "mfs")
INSTANCE_METHODS = ("contextual-instance", "static-context", "static-sentence")  # those with precision@n
# Published anchors from the CoarseWSD-20 authors' released predictions (nearest sense centroid):
# micro accuracy, mean of per-word accuracy, mean of per-word macro-F1.
ANCHORS = {"BERT-base": (95.7, 94.0, 91.0), "BERT-large": (96.7, 95.8, 93.2)}
TARGETS = (97.5, 96.0, 94.0)


def default_coarsewsd_root() -> Path:
    return shared_data() / "coarsewsd20"


# --- metrics ---------------------------------------------------------------------
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


def static_vectors(glove, split: WsdSplit, include_target: bool) -> np.ndarray:
    """Mean GloVe of each sentence's content words, with or without the target word itself."""
    out = []
    for text, (s, e) in zip(split.texts, split.spans, strict=True):
        words = content_words(text if include_target else text[:s] + " " + text[e:])
        out.append(glove.mean_vector(words))
    return np.stack(out).astype(np.float32) if out else np.zeros((0, glove.dim), np.float32)


def centroids(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """One L2-normalised mean vector per sense."""
    senses = sorted(set(labels.tolist()))
    cents = np.stack([vectors[labels == s].mean(0) for s in senses])
    cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
    return cents.astype(np.float32), senses


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


# --- CoarseWSD-20 ----------------------------------------------------------------
def evaluate_coarsewsd(root: str | Path | None = None, words: Sequence[str] | None = None, encoder=None,
                       model: str | None = None, layer: str = "last", k: int = DEFAULT_K,
                       methods: Sequence[str] = METHODS, device: str = "auto", precision: str = "auto",
                       progress: Callable[[str, float], None] | None = None,
                       subset: Callable[[WsdSplit], np.ndarray | None] | None = None) -> dict:
    """Train on each word's training split, label its test split; per word and overall scores.

    Nothing is written into the dataset folder; vectors go to the senseindex cache. `subset`
    picks the rows of each split to use (the layer study's seeded sample)."""
    root = Path(root) if root else default_coarsewsd_root()
    if not root.is_dir():
        raise SenseIndexError(f"{root}: no such folder (CoarseWSD-20 lives in ../shared/data/coarsewsd20)")
    words = list(words or COARSEWSD_WORDS)
    unknown = [w for w in words if not (root / w).is_dir()]
    if unknown:
        raise SenseIndexError(f"{root}: no data for {', '.join(unknown)} (words: {', '.join(COARSEWSD_WORDS)})")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise SenseIndexError(f"unknown method {', '.join(bad)} (use {', '.join(METHODS)})")
    if encoder is None and any(m.startswith("contextual") for m in methods):
        from .encoder import load_encoder

        encoder = load_encoder(model, layer, device, precision)
    glove = None
    if any(m.startswith("static") for m in methods):
        from .static import load_glove

        glove = load_glove()
    started = time.perf_counter()
    per_method: dict[str, dict[str, dict]] = {m: {} for m in methods}
    gold_all: dict[str, list[str]] = {}
    pred_all: dict[str, dict[str, list[str]]] = {m: {} for m in methods}
    for word in words:
        t0 = time.perf_counter()
        train, test = read_coarsewsd(root, word, "train"), read_coarsewsd(root, word, "test")
        idx_train, idx_test = (subset(train), subset(test)) if subset else (None, None)
        vecs = {}
        if encoder is not None:
            vecs["contextual"] = (target_vectors(encoder, train, idx_train), target_vectors(encoder, test, idx_test))
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
        "precision": getattr(encoder, "precision", None), "k": k,
        "static": "mean GloVe 6B-50d of the content words; static-context leaves the target out, "
                  "static-sentence keeps it",
        "methods": {m: summarise(per_method[m], gold_all, pred_all[m]) for m in methods},
        "anchors": {name: dict(zip(("micro_accuracy", "per_word_accuracy_mean", "macro_f1_mean"), v, strict=True))
                    for name, v in ANCHORS.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    return result


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


def summary_rows(result: dict) -> list[tuple[str, list[float | None]]]:
    """The overall rows of both CoarseWSD-20 tables: micro accuracy, per-word mean, macro-F1,
    P@5 and P@10 of each method, then the published anchors (nearest sense centroid) and the target."""
    rows = [(m, [s["micro_accuracy"], s["per_word_accuracy_mean"], s["macro_f1_mean"],
                 s.get("precision_at_5"), s.get("precision_at_10")]) for m, s in result["methods"].items()]
    rows += [(f"{name} (published)", [*scores, None, None]) for name, scores in ANCHORS.items()]
    rows.append(("target", [*TARGETS, None, None]))
    return rows


def coarsewsd_table(result: dict) -> str:
    """Per-word accuracy per method, then the overall rows beside the published anchors."""
    methods = list(result["methods"])
    short = {"contextual-instance": "instance", "contextual-centroid": "centroid", "contextual-knn":
             f"kNN k={result['k']}", "static-context": "static-ctx", "static-sentence": "static-sent", "mfs": "MFS"}
    w = max(12, *(len(short.get(m, m)) + 1 for m in methods))
    head = f"{'word':<8}{'test':>6}  " + "".join(f"{short.get(m, m):>{w}}" for m in methods)
    lines = [f"CoarseWSD-20, {result['model']} layer {result['layer']} ({result['precision']}); "
             "accuracy % (macro-F1 %) per word", head, "-" * len(head)]
    for word in result["words"]:
        first = result["methods"][methods[0]]["per_word"][word]
        cells = "".join(
            f"{r['accuracy']:>{w - 7}.1f} ({r['macro_f1']:>4.0f})"
            for r in (result["methods"][m]["per_word"][word] for m in methods))
        lines.append(f"{word:<8}{first['n_test']:>6}  {cells}")
    widths = (10, 10, 10, 7, 7)
    lines += ["", f"{'':<24}{'micro acc':>10}{'word mean':>10}{'macro-F1':>10}{'P@5':>7}{'P@10':>7}"]
    for label, values in summary_rows(result):
        lines.append(f"{label:<24}" + "".join(f"{'' if v is None else f'{v:.1f}':>{w}}"
                                              for v, w in zip(values, widths, strict=True)).rstrip())
    lines.append(f"({result['seconds']:.0f}s; static-context = mean GloVe of the context words without the target, "
                 "static-sentence = with it)")
    return "\n".join(lines)


# --- layer study -----------------------------------------------------------------
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


def layer_study(root: str | Path | None = None, models: Sequence[str] = ("mpnet", "minilm"),
                layers: Sequence[str] = ("last", "last4", "middle"), words: Sequence[str] | None = None,
                max_train: int | None = 300, max_test: int | None = 150, seed: int = 0,
                device: str = "auto", precision: str = "auto",
                progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Nearest-instance and nearest-centroid accuracy per model and layer choice, on a seeded subset."""
    from .encoder import Encoder

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


def layer_table(rows: list[dict]) -> str:
    head = (f"{'model':<40}{'layer':<8}{'states':<14}{'1-NN micro':>11}{'word mean':>10}{'macro-F1':>9}"
            f"{'centroid micro':>15}{'word mean':>10}{'macro-F1':>9}{'sec':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        a, c = r["contextual-instance"], r["contextual-centroid"]
        lines.append(f"{r['model']:<40}{r['layer']:<8}{str(r['hidden_states']):<14}{a['micro_accuracy']:>11.1f}"
                     f"{a['per_word_accuracy_mean']:>10.1f}{a['macro_f1_mean']:>9.1f}{c['micro_accuracy']:>15.1f}"
                     f"{c['per_word_accuracy_mean']:>10.1f}{c['macro_f1_mean']:>9.1f}{r['seconds']:>7.0f}")
    return "\n".join(lines)


# --- SemCor ----------------------------------------------------------------------
def pos_class(tag: str | None) -> str:
    """Penn tag -> n, v, a, r (or x): senses are only compared within one part of speech."""
    tag = (tag or "").upper()
    for prefix, cls in (("NN", "n"), ("VB", "v"), ("JJ", "a"), ("RB", "r")):
        if tag.startswith(prefix):
            return cls
    return "x"


def heldout_documents(sections: Sequence[str], fraction: float = 0.1) -> list[str]:
    """A fixed share of documents, chosen by a hash of their ids: the same on every machine and run."""
    if not 0 < fraction < 1:
        raise SenseIndexError("--holdout must be between 0 and 1")
    ranked = sorted(set(sections), key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    n = max(1, round(len(ranked) * fraction))
    if n >= len(ranked):
        raise SenseIndexError(f"only {len(ranked)} document(s): nothing would be left to train on")
    return sorted(ranked[:n])


def evaluate_semcor(si, holdout: float = 0.1, k: int = DEFAULT_K) -> dict:
    """Label the gold occurrences of held-out documents from the rest: k-NN and 1-NN against the
    labelled occurrences of the same lemma and part of speech, beside the most frequent sense of
    that lemma in the training documents."""
    started = time.perf_counter()
    rows = si.store.db.execute(
        "select o.id, o.lemma, o.pos, l.label, s.section from labels l "
        "join occurrences o on o.id = l.occurrence_id join sentences s on s.id = o.sentence_id "
        "where l.source = 'gold' and s.section is not null order by o.id").fetchall()
    if not rows:
        raise SenseIndexError(f"{si.store.path}: no gold labels with a document id (index SemCor's "
                              "pre-tokenised JSONL, whose 'doc' field names the document)")
    test_docs = set(heldout_documents([r[4] for r in rows], holdout))
    train: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    test: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for oid, lemma, pos, label, section in rows:
        key = (lemma, pos_class(pos))
        if section in test_docs:
            test[key].append((oid, label, pos or ""))
        else:
            train[key].append((oid, label))
    results = []  # (pos tag, gold, knn, 1nn, mfs, covered)
    log = si.store.occ_log
    for key, items in test.items():
        known = train.get(key)
        if not known:
            results.extend((pos, gold, None, None, None, False) for _, gold, pos in items)
            continue
        labels = [lab for _, lab in known]
        mfs = most_frequent(labels)[0]
        sims = log.take(np.array([oid for oid, _, _ in items])) @ log.take(np.array([oid for oid, _ in known])).T
        for (_, gold, pos), row in zip(items, sims, strict=True):
            results.append((pos, gold, knn_vote(row, labels, k)[0], labels[int(row.argmax())], mfs, True))

    def score(select: Callable[[str], bool]) -> dict:
        part = [r for r in results if select(r[0])]
        cov = [r for r in part if r[5]]
        out = {"instances": len(part), "covered": len(cov),
               "coverage": round(100 * len(cov) / len(part), 2) if part else 0.0}
        for name, col in (("knn", 2), ("1nn", 3), ("mfs", 4)):
            hits = sum(1 for r in part if r[col] == r[1])
            out[f"{name}_accuracy"] = round(100 * hits / len(part), 2) if part else 0.0
            out[f"{name}_accuracy_covered"] = round(100 * hits / len(cov), 2) if cov else 0.0
        return out

    return {
        "dataset": "semcor", "index": str(si.store.path), "model": si.store.manifest["model"],
        "layer": si.store.manifest["layer"], "k": k, "holdout": holdout,
        "test_documents": sorted(test_docs), "train_documents": len({r[4] for r in rows} - test_docs),
        "train_instances": sum(len(v) for v in train.values()),
        "all": score(lambda p: True),
        "nouns": score(lambda p: p.upper().startswith("NN")),
        "verbs": score(lambda p: p.upper().startswith("VB")),
        "seconds": round(time.perf_counter() - started, 1),
    }


def semcor_text(result: dict) -> str:
    lines = [f"SemCor held-out documents: {len(result['test_documents'])} test, {result['train_documents']} train "
             f"({result['train_instances']:,} labelled training occurrences); {result['model']} layer {result['layer']}",
             "Accuracy % over all held-out gold occurrences (in brackets: over those whose lemma and part of "
             "speech occur in training)",
             f"{'':<8}{'instances':>10}{'coverage':>9}{'kNN k=' + str(result['k']):>16}{'1-NN':>16}{'MFS':>16}"]
    for name in ("all", "nouns", "verbs"):
        s = result[name]
        cells = "".join(f"{s[f'{m}_accuracy']:>8.1f} ({s[f'{m}_accuracy_covered']:>5.1f})" for m in ("knn", "1nn", "mfs"))
        lines.append(f"{name:<8}{s['instances']:>10,}{s['coverage']:>8.1f}%{cells}")
    lines.append(f"({result['seconds']:.0f}s)")
    return "\n".join(lines)


# --- Markdown for BENCHMARKS.md ----------------------------------------------------
def coarsewsd_markdown(result: dict) -> str:
    """Per-word accuracy (macro-F1) table and the overall rows with the published anchors."""
    methods = list(result["methods"])
    lines = ["| word | test | " + " | ".join(methods) + " |", "|---|---:|" + "---:|" * len(methods)]
    for word in result["words"]:
        n = result["methods"][methods[0]]["per_word"][word]["n_test"]
        cells = " | ".join(f"{r['accuracy']:.1f} ({r['macro_f1']:.1f})"
                           for r in (result["methods"][m]["per_word"][word] for m in methods))
        lines.append(f"| {word} | {n} | {cells} |")
    lines += ["", "| method | micro accuracy | mean of per-word accuracy | mean of per-word macro-F1 | P@5 | P@10 |",
              "|---|---:|---:|---:|---:|---:|"]
    for label, values in summary_rows(result):
        lines.append(f"| {label} | " + " | ".join("" if v is None else f"{v:.1f}" for v in values) + " |")
    return "\n".join(lines)


def layer_markdown(rows: list[dict]) -> str:
    lines = ["| model | layer | hidden states | 1-NN micro | 1-NN word mean | 1-NN macro-F1 | centroid micro | "
             "centroid word mean | centroid macro-F1 | seconds |", "|---|---|---|" + "---:|" * 7]
    for r in rows:
        a, c = r["contextual-instance"], r["contextual-centroid"]
        lines.append(f"| {r['model'].rsplit('/', 1)[-1]} | {r['layer']} | {r['hidden_states']} of {r['num_layers']} | "
                     f"{a['micro_accuracy']:.1f} | {a['per_word_accuracy_mean']:.1f} | {a['macro_f1_mean']:.1f} | "
                     f"{c['micro_accuracy']:.1f} | {c['per_word_accuracy_mean']:.1f} | {c['macro_f1_mean']:.1f} | "
                     f"{r['seconds']:.0f} |")
    return "\n".join(lines)


def semcor_markdown(result: dict) -> str:
    lines = [f"| part | instances | coverage | k-NN (k={result['k']}) | 1-NN | MFS (training part) |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in ("all", "nouns", "verbs"):
        s = result[name]
        cells = " | ".join(f"{s[f'{m}_accuracy']:.1f} ({s[f'{m}_accuracy_covered']:.1f})" for m in ("knn", "1nn", "mfs"))
        lines.append(f"| {name} | {s['instances']:,} | {s['coverage']:.1f}% | {cells} |")
    return "\n".join(lines)
