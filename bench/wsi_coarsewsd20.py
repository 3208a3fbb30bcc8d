"""Word sense induction on CoarseWSD-20: cluster each word's occurrences, compare with the gold senses.

Per word, the train and test sentences are pooled and their labels hidden; the target-word
vectors come from the senseindex vector cache (all-mpnet-base-v2, last layer). Reports per word
and on average: adjusted Rand index, V-measure, automatic k against gold k. With
--single-sense it also clusters each gold sense on its own (a word with one sense) and counts
how often k=1 comes back. With --baselines it adds k-means + silhouette (k 2-8) on raw and on
mean-centred vectors, as baselines. The "best cut" column is the best ARI of any
cut k=2..8 of the same tree, chosen with the gold senses: the ceiling of the method, not a result.

    .venv/bin/python bench/wsi_coarsewsd20.py --sample java=2000 --sample pitcher=2000 --single-sense
    .venv/bin/python bench/wsi_coarsewsd20.py mole bank --baselines --cached-only
    .venv/bin/python bench/wsi_coarsewsd20.py --sample java=2000 --sample pitcher=2000 --variant glove:0.5
    .venv/bin/python bench/wsi_coarsewsd20.py --sample java=2000 --sample pitcher=2000 --variant sentence:0.5
    .venv/bin/python bench/wsi_coarsewsd20.py --variant zscore:indexes/semcor   # SemCor indexed first
    .venv/bin/python bench/wsi_coarsewsd20.py --cached-only --variant 'codec:PQ16,Refine(SQ4)'  # as stored

The layer, sentence, context and subst variants encode every sentence once more (all hidden
states; about 17 minutes for the 20 words with java and pitcher sampled) and cache the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np
from sklearn.metrics import adjusted_rand_score, v_measure_score

from senseindex.encoding.encoder import Encoder
from senseindex.evaluation.datasets import (
    COARSEWSD_WORDS,
    CacheMiss,
    CacheOnly,
    WsdSplit,
    cache_path,
    cached_target_vectors,
    data_dir,
    read_coarsewsd,
    write_atomically,
)
from senseindex.senses.induction import cluster_vectors
from senseindex.storage.vectors import l2_normalise


def load(encoder, word: str, max_n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[WsdSplit]]:
    """Pooled train+test vectors, gold senses and the splits; above max_n, a seeded sample of the pooled sentences."""
    splits = [read_coarsewsd(data_dir() / "coarsewsd20", word, split) for split in ("train", "test")]
    if max_n and sum(len(d.texts) for d in splits) > max_n:
        texts = [t for d in splits for t in d.texts]
        spans = [s for d in splits for s in d.spans]
        labels = [g for d in splits for g in d.labels]
        pick = np.sort(np.random.default_rng(seed).choice(len(texts), max_n, replace=False))
        splits = [WsdSplit(word, f"sample{max_n}", [texts[i] for i in pick], [spans[i] for i in pick],
                           [labels[i] for i in pick])]
    X = [cached_target_vectors(encoder, d) for d in splits]
    return np.concatenate(X), np.array([g for d in splits for g in d.labels]), splits


VARIANTS = ("raw", "codec:SPEC", "centred", "pca:D", "glove:W", "glovex:W", "zscore:INDEX", "layer:N", "sentence[:W]", "context[:W]",
            "subst:N")


def extra_vectors(encoder, word: str, splits: list[WsdSplit], batch: int = 32) -> dict[str, np.ndarray]:
    """What the layer, sentence and context variants need, from one forward pass per sentence,
    cached beside the target vectors: the target's vector at every hidden layer (float16), and
    the mean of all subword vectors of the last layer with and without the target's subwords."""
    import torch

    texts = [t for d in splits for t in d.texts]
    spans = [s for d in splits for s in d.spans]
    path = cache_path(f"wsi-extra-{word}", [encoder.name, encoder.precision, texts, spans], ".npz")
    if path.exists():
        with np.load(path) as z:
            return dict(z)
    if isinstance(encoder, CacheOnly):
        raise CacheMiss("not cached")
    tok, model = encoder.tokenizer, encoder.model
    n, L, D = len(texts), encoder.num_layers + 1, encoder.dim
    layers = np.zeros((n, L, D), np.float16)
    sentence, context = np.zeros((n, D), np.float32), np.zeros((n, D), np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    for lo in range(0, n, batch):
        idx = order[lo : lo + batch]
        enc = tok([texts[i] for i in idx], return_offsets_mapping=True, truncation=True,
                  max_length=encoder.max_length, padding=True, return_tensors="pt")
        offsets = enc.pop("offset_mapping").numpy()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                    enabled=encoder.precision == "bf16"):
            hidden = torch.stack(model(**enc, output_hidden_states=True).hidden_states, 1).float().numpy()
        for r, i in enumerate(idx):
            a, b = spans[i]
            o = offsets[r]
            real = o[:, 1] > o[:, 0]  # not special, not padding
            target = real & (o[:, 0] < b) & (o[:, 1] > a)
            if target.any():
                layers[i] = l2_normalise(hidden[r][:, target].mean(1))
            sentence[i] = hidden[r, -1, real].mean(0)
            rest = real & ~target
            context[i] = hidden[r, -1, rest if rest.any() else real].mean(0)
    out = {"layers": layers, "sentence": sentence, "context": context}
    write_atomically(path, lambda tmp: np.savez(tmp, **out))
    return out


def substitutes(encoder, splits: list[WsdSplit], H: np.ndarray, top: int = 50) -> np.ndarray:
    """A stand-in for substitute-based WSI without a masked-LM head: score the vocabulary by the
    target's hidden state against the input embeddings (tied to the output in pre-training),
    keep the top 50 whole words other than the target, and TF-IDF-weight the bag."""
    enc = encoder.encoder if isinstance(encoder, CacheOnly) else encoder
    tok = enc.tokenizer
    E = enc.model.embeddings.word_embeddings.weight.detach().float().numpy()
    vocab = tok.convert_ids_to_tokens(list(range(len(E))))
    word = splits[0].word
    allowed = np.array([v.isalpha() and len(v) > 2 and v not in (word, word + "s") for v in vocab])
    scores = H.astype(np.float32) @ E.T
    scores[:, ~allowed] = -np.inf
    best = np.argpartition(-scores, top, axis=1)[:, :top]
    bag = np.zeros((len(H), len(E)), np.float32)
    bag[np.repeat(np.arange(len(H)), top), best.ravel()] = 1
    bag = bag[:, bag.any(0)]
    idf = np.log(len(H) / bag.sum(0))
    return l2_normalise((bag * idf).astype(np.float64))


@lru_cache(maxsize=2)
def pooled_codec(spec: str, encoder):
    """A codec trained as an index trains it (a seeded sample of at most TRAIN_SAMPLE vectors), on
    the pooled vectors of the training splits of every CoarseWSD-20 word whose vectors are cached."""
    from senseindex.storage.store import TRAIN_SAMPLE
    from senseindex.storage.vectors import Codec

    pooled = []
    for word in COARSEWSD_WORDS:
        try:
            pooled.append(cached_target_vectors(CacheOnly(encoder), read_coarsewsd(data_dir() / "coarsewsd20", word,
                                                                                   "train")))
        except CacheMiss:
            continue
    sample = np.concatenate(pooled)
    if len(sample) > TRAIN_SAMPLE:
        sample = sample[np.sort(np.random.default_rng(0).choice(len(sample), TRAIN_SAMPLE, replace=False))]
    return Codec.train(sample, spec, nlist=1)


@lru_cache(maxsize=2)
def index_stats(index: str, rows: int = 100_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation of a seeded sample of an index's occurrence vectors."""
    from senseindex.storage.store import Store

    store = Store.open(index)
    data = store.occ_log.array()
    pick = np.sort(np.random.default_rng(seed).choice(len(data), min(rows, len(data)), replace=False))
    sample = np.asarray(data[pick], dtype=np.float64)
    return sample.mean(0), sample.std(0) + 1e-6


def represent(X: np.ndarray, splits: list[WsdSplit], variant: str, encoder=None) -> np.ndarray:
    """The vectors a variant clusters (--variant): the occurrence vectors as they are (raw, the
    default of `senseindex senses`), mean-centred and renormalised, projected on their top D
    principal components, concatenated with W x the sentence's static context vector (mean
    GloVe of its content words, as the index's static_log holds it; glovex: without the target),
    standardised per dimension with the statistics of an index's occurrence vectors (zscore:
    INDEX, a general corpus such as SemCor), taken from another hidden layer N (layer:N, 0 =
    embeddings), or replaced by / concatenated with W x the sentence's contextual vector (mean
    of all its last-layer subword vectors; context: without the target's subwords), or replaced
    by a bag of pseudo-substitutes read off layer N (subst:N, see `substitutes`), or as an index
    with codec SPEC gives them back to `senses` (codec:SPEC, e.g. codec:PQ16,Refine(SQ4))."""
    name, _, arg = variant.partition(":")
    X = X.astype(np.float64)
    if name == "raw":
        return X
    if name == "codec":
        enc = encoder.encoder if isinstance(encoder, CacheOnly) else encoder
        return pooled_codec(arg, enc).faithful(X).astype(np.float64)
    if name == "centred":
        return l2_normalise(X - X.mean(0))
    if name == "pca":
        C = X - X.mean(0)
        return C @ np.linalg.svd(C, full_matrices=False)[2][: int(arg)].T
    if name in ("glove", "glovex"):
        from senseindex.encoding.glove import load_glove
        from senseindex.text.words import content_words

        glove = load_glove()
        texts = [t if name == "glove" else t[: a] + " " + t[b:]
                 for d in splits for t, (a, b) in zip(d.texts, d.spans, strict=True)]
        G = np.stack([glove.mean_vector(content_words(t)) for t in texts]).astype(np.float64)
        return l2_normalise(np.hstack([X, float(arg) * G]))
    if name == "zscore":
        mean, std = index_stats(arg)
        return l2_normalise((X - mean) / std)
    if name == "subst":
        return substitutes(encoder, splits, extra_vectors(encoder, splits[0].word, splits)["layers"][:, int(arg)])
    if name in ("layer", "sentence", "context"):
        extra = extra_vectors(encoder, splits[0].word, splits)
        if name == "layer":
            return extra["layers"][:, int(arg)].astype(np.float64)
        E = l2_normalise(extra[name].astype(np.float64))
        return E if not arg else l2_normalise(np.hstack([X, float(arg) * E]))
    raise ValueError(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")


def kmeans_silhouette(X: np.ndarray, centred: bool, seed: int = 0) -> np.ndarray:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if centred:
        X = X - X.mean(0)
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    best, best_s = None, -2.0
    for k in range(2, 9):
        lab = KMeans(k, n_init=3, random_state=seed).fit_predict(X)
        s = silhouette_score(X, lab, sample_size=min(2000, len(X)), random_state=seed)
        if s > best_s:
            best, best_s = lab, s
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("words", nargs="*", default=list(COARSEWSD_WORDS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baselines", action="store_true", help="Also k-means + silhouette on raw and centred vectors.")
    ap.add_argument("--single-sense", action="store_true", help="Also cluster each gold sense (>= 30 occurrences) alone.")
    ap.add_argument("--sample", action="append", default=[], metavar="WORD=N",
                    help="Use a seeded sample of N sentences of WORD (repeatable), to bound encoding time.")
    ap.add_argument("--cached-only", action="store_true", help="Skip words whose vectors are not cached yet.")
    ap.add_argument("--variant", default="raw", metavar="NAME",
                    help=f"Vectors to cluster: {', '.join(VARIANTS)} (default raw, what `senseindex senses` uses).")
    ap.add_argument("--runtime", choices=["torch", "openvino"], default="torch",
                    help="Whose cached vectors to read (openvino: the default runtime's, bf16; the layer, sentence "
                         "and context variants need torch).")
    ap.add_argument("--k", default="auto", metavar="auto|gold|FILE",
                    help="The number of clusters: auto (what `senses` does), gold (each word's gold sense count), "
                         "or the k each word got in an earlier --json FILE (to compare vectors at the same k: the "
                         "automatic k flips where two cuts' jumps nearly tie).")
    ap.add_argument("--json", dest="json_out", help="Also write the results as JSON to this file.")
    args = ap.parse_args(argv)
    fixed_k = {}
    if args.k not in ("auto", "gold"):
        with open(args.k) as fh:
            fixed_k = {r["word"]: int(r["k"]) for r in json.load(fh)["words"]}
    try:
        samples = {w: int(n) for w, n in (x.split("=", 1) for x in args.sample)}
    except ValueError:
        ap.error("--sample takes WORD=N, e.g. --sample java=2000")
    if args.runtime == "torch":
        encoder = Encoder("mpnet", backend="transformers")  # needs the transformers model and tokenizer objects
    else:
        from senseindex.encoding.encoder import load_encoder

        encoder = load_encoder("mpnet", runtime=args.runtime, precision="bf16")
    if args.cached_only:
        encoder = CacheOnly(encoder)
    rows, single = [], []
    t_all = time.perf_counter()
    for word in args.words:
        try:
            X, y, splits = load(encoder, word, samples.get(word))
        except CacheMiss:
            print(f"{word:<8} skipped: vectors not cached", file=sys.stderr)
            continue
        try:
            X = represent(X, splits, args.variant, encoder)
        except CacheMiss:
            print(f"{word:<8} skipped: {args.variant} vectors not cached", file=sys.stderr)
            continue
        except ValueError as e:
            ap.error(str(e))
        t0 = time.perf_counter()
        k_for = ("auto" if args.k == "auto" else len(set(y)) if args.k == "gold"
                 else fixed_k.get(word, "auto"))
        cl = cluster_vectors(X, k_for, seed=args.seed)
        secs = time.perf_counter() - t0
        gold_k = len(set(y))
        cuts = {k: adjusted_rand_score(y, cluster_vectors(X, k, seed=args.seed).labels) for k in range(2, 9)}
        best_k = max(cuts, key=cuts.get)  # uses the gold senses: the ceiling of this tree, not a result
        row = {"word": word + (" (sample)" if word in samples else ""), "n": len(y), "gold_k": gold_k, "k": cl.k, "ari": adjusted_rand_score(y, cl.labels),
               "v": v_measure_score(y, cl.labels), "seconds": secs,
               "majority": max(np.mean(y == s) for s in set(y)), "best_k": best_k, "best_ari": cuts[best_k]}
        if args.baselines:
            for name, centred in (("raw", False), ("centred", True)):
                lab = kmeans_silhouette(X, centred, args.seed)
                row[f"km_{name}_k"] = int(lab.max()) + 1
                row[f"km_{name}_ari"] = adjusted_rand_score(y, lab)
        rows.append(row)
        print(f"{word:<8} n={len(y):>5} gold k={gold_k} auto k={cl.k} ARI={row['ari']:.3f} V={row['v']:.3f} "
              f"{secs:.1f}s", file=sys.stderr, flush=True)
        if args.single_sense:
            for sense in sorted(set(y)):
                part = X[y == sense]
                if len(part) >= 30:
                    single.append({"word": word, "sense": sense, "n": len(part),
                                   "k": cluster_vectors(part, "auto", seed=args.seed).k})
    total = time.perf_counter() - t_all
    if args.variant != "raw":
        print(f"Variant: {args.variant}\n")
    print(table(rows, args.baselines))
    if samples:
        print("\nSampled (seeded, from train+test pooled; the occurrences column shows the sample): "
              + ", ".join(f"{w} {n:,}" for w, n in samples.items()))
    if single:
        ones = sum(1 for s in single if s["k"] == 1)
        print(f"\nSingle-sense check: {ones}/{len(single)} gold senses (>= 30 occurrences) clustered alone came back "
              f"as k=1; the others: " + (", ".join(f"{s['word']}/{s['sense'].split('_', 1)[-1]} (n={s['n']}) k={s['k']}"
                                                   for s in single if s["k"] != 1) or "none"))
    print(f"\n{datetime.now(timezone.utc):%Y-%m-%d}, {platform.processor() or platform.machine()}, "
          f"{len(rows)} words in {total:.0f}s (vectors from the cache; clustering time only in the table)")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"date": f"{datetime.now(timezone.utc):%Y-%m-%d}",
                       "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                       "command": "python bench/wsi_coarsewsd20.py " + " ".join(sys.argv[1:] if argv is None else argv),
                       "variant": args.variant, "runtime": args.runtime, "k": args.k,
                       "mean_ari": float(np.mean([r["ari"] for r in rows])) if rows else None,
                       "mean_v": float(np.mean([r["v"] for r in rows])) if rows else None,
                       "words": rows, "single_sense": single, "seconds": total}, fh, indent=1, default=float)
    return 0


def table(rows: list[dict], baselines: bool) -> str:
    head = "| word | occurrences | majority sense | gold k | auto k | ARI | V-measure | seconds | best cut k (ARI) |"
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if baselines:
        head += " k-means raw k / ARI | k-means centred k / ARI |"
        sep += "---:|---:|"
    out = [head, sep]
    for r in rows:
        line = (f"| {r['word']} | {r['n']:,} | {r['majority']:.1%} | {r['gold_k']} | {r['k']} | {r['ari']:.3f} | "
                f"{r['v']:.3f} | {r['seconds']:.1f} | {r['best_k']} ({r['best_ari']:.3f}) |")
        if baselines:
            line += f" {r['km_raw_k']} / {r['km_raw_ari']:.3f} | {r['km_centred_k']} / {r['km_centred_ari']:.3f} |"
        out.append(line)
    n = len(rows)
    within = sum(1 for r in rows if abs(r["k"] - r["gold_k"]) <= 1)
    exact = sum(1 for r in rows if r["k"] == r["gold_k"])
    avg = (f"| **average ({n} words)** | | | | k exact {exact}/{n}, within ±1 {within}/{n} | "
           f"**{np.mean([r['ari'] for r in rows]):.3f}** | **{np.mean([r['v'] for r in rows]):.3f}** | "
           f"{sum(r['seconds'] for r in rows):.1f} | ({np.mean([r['best_ari'] for r in rows]):.3f}) |")
    if baselines:
        avg += (f" ARI {np.mean([r['km_raw_ari'] for r in rows]):.3f} | "
                f"ARI {np.mean([r['km_centred_ari'] for r in rows]):.3f} |")
    out.append(avg)
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
