"""Vector codecs on real all-mpnet-base-v2 occurrence vectors: how close the vectors a reader gets
back are to the exact ones, what they cost, and how a same-lemma search ranks with them.

The vectors are CoarseWSD-20's target-word vectors from the senseindex cache (encoded once by
`senseindex eval coarsewsd20` or bench/wsi_coarsewsd20.py; words not cached are skipped). Each
codec is trained on the training splits pooled (a seeded sample of at most --train vectors) and
measured on the test splits, which it never saw:

* cosine: of each reconstructed, re-normalised vector to the exact one (mean and 5th percentile),
  for the search codes and, for a two-tier codec "A,Refine(B)", for the faithful tier B (what
  senses, centroids and k-NN votes read);
* recall@10 of a same-lemma search: each test vector of a word queries the word's training
  vectors; the exact top 10 against the top 10 by code, and after re-scoring the top 100 by code
  with the faithful tier (what VectorStore.search does).

    .venv/bin/python bench/codec_fidelity.py                      # writes bench/out/codec_fidelity.json
    .venv/bin/python bench/codec_fidelity.py --codecs PQ16,Refine(SQ4) SQ4 --train 5000
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np

from senseindex.evaluation.datasets import (
    COARSEWSD_WORDS,
    CacheMiss,
    CacheOnly,
    cached_target_vectors,
    data_dir,
    read_coarsewsd,
)
from senseindex.storage.vectors import Codec, l2_normalise

OUT = Path(__file__).resolve().parent / "out"
CODECS = ("PQ16", "PQ32", "PQ64", "SQ4", "SQ6", "SQ8", "PQ16,Refine(SQ4)", "PQ32,Refine(SQ4)", "PQ16,Refine(SQ8)")


def load_vectors(words: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """{word: {"train": X, "test": X}} for the words whose vectors are cached."""
    from senseindex.encoding.encoder import load_encoder

    enc = CacheOnly(load_encoder())
    out = {}
    for word in words:
        try:
            out[word] = {split: cached_target_vectors(enc, read_coarsewsd(data_dir() / "coarsewsd20", word, split))
                         for split in ("train", "test")}
        except CacheMiss:
            continue
    return out


def cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    c = np.einsum("ij,ij->i", l2_normalise(a), l2_normalise(b))
    return {"mean": round(float(c.mean()), 4), "p5": round(float(np.percentile(c, 5)), 4)}


def recall(codec: Codec, data: dict, k: int = 10, shortlist: int = 100) -> tuple[float, float]:
    """Mean recall@k of same-lemma search by code alone and after re-scoring a shortlist."""
    hits_code = hits_rerank = total = 0
    for sets in data.values():
        base, queries = sets["train"], sets["test"]
        if len(base) <= k:
            continue
        codes = codec.encode(base)
        faithful = codec.refine.decode(codec.refine.encode(base)) if codec.refine is not None else None
        exact_top = np.argsort(-(queries @ base.T), axis=1)[:, :k]
        for q, truth in zip(queries, exact_top, strict=True):
            _, pos = codec.top(q, codes, max(k, shortlist if faithful is not None else k))
            hits_code += len(set(pos[:k].tolist()) & set(truth.tolist()))
            if faithful is not None:
                pos = pos[np.argsort(-(faithful[pos] @ q), kind="stable")]
            hits_rerank += len(set(pos[:k].tolist()) & set(truth.tolist()))
            total += k
    return round(hits_code / total, 4), round(hits_rerank / total, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codecs", nargs="*", default=list(CODECS))
    ap.add_argument("--words", nargs="*", default=list(COARSEWSD_WORDS))
    ap.add_argument("--train", type=int, default=10_000, help="Training sample (vectors).")
    ap.add_argument("--queries", type=int, default=200, help="Test vectors per word used as search queries.")
    ap.add_argument("--add", action="store_true", help="Replace or add these codecs' rows in the saved JSON.")
    args = ap.parse_args()
    data = load_vectors(args.words)
    if not data:
        raise SystemExit("no CoarseWSD-20 vectors cached: run senseindex eval coarsewsd20 first")
    train = np.concatenate([d["train"] for d in data.values()])
    test = np.concatenate([d["test"] for d in data.values()])
    rng = np.random.default_rng(0)
    if len(train) > args.train:
        train = train[np.sort(rng.choice(len(train), args.train, replace=False))]
    search = {w: {"train": d["train"], "test": d["test"][: args.queries]} for w, d in data.items()}
    rows = []
    for spec in args.codecs:
        t0 = time.perf_counter()
        codec = Codec.train(train, spec, nlist=1)
        seconds = time.perf_counter() - t0
        row = {"codec": spec, "search_bytes": codec.code_size,
               "faithful_bytes": codec.refine.row_bytes if codec.refine is not None else 0,
               "train_s": round(seconds, 1), "search_cosine": cosines(codec.decode(codec.encode(test)), test),
               "faithful_cosine": cosines(codec.faithful(test), test)}
        row["recall10_code"], row["recall10_reranked"] = recall(codec, search)
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, shared by 5 engineers",
               "model": "sentence-transformers/all-mpnet-base-v2 (last layer)", "words": sorted(data),
               "train_vectors": len(train), "test_vectors": len(test), "queries_per_word": args.queries,
               "command": "bench/codec_fidelity.py --train " + str(args.train) + " --codecs " + " ".join(f"'{c}'" for c in args.codecs),
               "codecs": rows}
    OUT.mkdir(exist_ok=True)
    if args.add and (OUT / "codec_fidelity.json").is_file():
        old = json.loads((OUT / "codec_fidelity.json").read_text())
        mine = {r["codec"]: r for r in rows}
        rows = [mine.pop(r["codec"], r) for r in old["codecs"]] + list(mine.values())
        summary = {**old, "codecs": rows, "added": old.get("added", []) + [{"date": summary["date"],
                                                                           "command": summary["command"]}]}
    (OUT / "codec_fidelity.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("| codec | search B | faithful B | search cos (mean / p5) | faithful cos (mean / p5) | "
          "recall@10 code | reranked | train s |")
    print("|---|---:|---:|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['codec']} | {r['search_bytes']} | {r['faithful_bytes']} | {r['search_cosine']['mean']} / "
              f"{r['search_cosine']['p5']} | {r['faithful_cosine']['mean']} / {r['faithful_cosine']['p5']} | "
              f"{r['recall10_code']} | {r['recall10_reranked']} | {r['train_s']} |")


if __name__ == "__main__":
    main()
