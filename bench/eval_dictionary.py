"""SemCor with the dictionary: gloss vectors, supervised sense vectors and the k-NN vote, alone and
fused, per part of speech; weights and the gloss text are chosen on development documents.

    .venv/bin/python bench/eval_dictionary.py [--index indexes/semcor] [--dev-senses 4000]

1. Development: the block of documents after `eval semcor`'s held-out block (a seeded sample of
   its polysemous lemmas, about --dev-senses senses), trained on the rest minus both blocks.
   Every configuration is scored; the best gloss text and weights are kept.
2. Test: `eval semcor`'s held-out documents, trained on all others; the chosen configuration and
   the baselines are reported (every answer from context: no sense numbers, no tag counts).

The index must exist (bench/eval_semcor.py builds it). Writes bench/out/dictionary-semcor.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from senseindex import SenseIndex
from senseindex.evaluation.dictionary import (
    by_part,
    collect,
    fused,
    grid,
    knn_only,
    levels_used,
    new_sense_flag,
    score,
    sense_clusters,
)
from senseindex.senses.sense_vectors import GLOSS_VARIANTS, GlossCache
from senseindex.text.inventory import load_inventory

OUT = Path(__file__).resolve().parent / "out"


def best(results: dict[str, dict], prefix: str = "") -> str:
    """The configuration with the best accuracy over all parts of speech (ties: the first)."""
    names = [n for n in results if n.startswith(prefix)]
    return max(names, key=lambda n: results[n]["all"]["accuracy"])


def parse(name: str) -> tuple[str, float, float]:
    variant, w, a = name.split("/")
    return variant, float(w.split("=")[1]), float(a.split("=")[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="indexes/semcor")
    ap.add_argument("--holdout", type=float, default=0.1)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--dev-senses", type=int, default=4000)
    ap.add_argument("--test-senses", type=int, default=0,
                    help="Score a seeded sample of the test lemmas holding about this many senses (0: all)")
    ap.add_argument("--out", default=str(OUT / "dictionary-semcor.json"))
    args = ap.parse_args()
    started = time.perf_counter()
    si = SenseIndex.open(args.index)
    inventory = load_inventory()
    cache = GlossCache(si.encoder, inventory)

    dev, dev_info = collect(si, inventory, cache, args.holdout, dev=True, k=args.k, sample_senses=args.dev_senses)
    dev_grid = grid(dev)
    chosen = {
        "gloss_only": best(dev_grid, "gloss_only/"),
        "supervised_and_gloss": best({n: r for n, r in dev_grid.items() if n.endswith("/knn=0.0")}),
        "fused_with_knn": best({n: r for n, r in dev_grid.items() if "/w=" in n}),
    }
    variant, w, a = parse(chosen["fused_with_knn"])
    fused_names = [n for n in dev_grid if "/w=" in n]
    per_part = {part: max(fused_names, key=lambda n, part=part: dev_grid[n][part]["accuracy"])
                for part in ("nouns", "verbs", "adjectives", "adverbs")}
    chosen["fused_per_part_of_speech"] = per_part
    thresholds = {"best": [round(float(t), 3) for t in np.arange(0.0, 0.9, 0.02)],
                  "margin": [round(float(t), 3) for t in np.arange(0.0, 0.2, 0.002)]}
    dev_flag = {}
    for statistic, ts in thresholds.items():
        dev_flag[statistic] = flag = new_sense_flag(sense_clusters(dev, variant, w), ts, statistic)
        ok = [t for t, r in flag["thresholds"].items() if r["precision"] >= 0.7]
        pick = (max(ok, key=lambda t: flag["thresholds"][t]["recall"]) if ok else
                max(flag["thresholds"], key=lambda t: flag["thresholds"][t]["precision"]))
        chosen[f"new_sense_threshold_{statistic}"] = float(pick)
    print("development choices:", json.dumps(chosen))

    test, test_info = collect(si, inventory, cache, args.holdout, dev=False, k=args.k,
                              sample_senses=args.test_senses or None)
    baseline = {}
    for wordnet in (False, True):  # `eval semcor` on every test instance, as it answers today
        r = si.evaluate_semcor(args.holdout, args.k, wordnet=wordnet)
        baseline["first_sense_backoff" if wordnet else "no_wordnet"] = {
            p: {key: r[p][key] for key in ("instances", "coverage", "knn_accuracy", "backoff")}
            for p in ("all", "nouns", "verbs")}
    rows = {"knn_only": score(test, knn_only)}
    rows["gloss_only"] = score(test, fused(chosen["gloss_only"].split("/")[1], 1.0, 0.0, supervised=False))
    for v in GLOSS_VARIANTS:
        rows[f"gloss_only/{v}"] = score(test, fused(v, 1.0, 0.0, supervised=False))
    rows["supervised_only"] = score(test, fused(variant, 0.0, 0.0))
    rows["supervised_and_gloss"] = score(test, fused(*parse(chosen["supervised_and_gloss"])))
    rows["fused_with_knn"] = score(test, fused(variant, w, a))
    rows["lmms_like"] = score(test, fused(variant, 0.5, 0.0))
    rows["fused_per_part_of_speech"] = score(test, by_part({p: fused(*parse(n)) for p, n in per_part.items()},
                                                           fused(variant, w, a)))  # concatenation of unit vectors = equal weights
    result = {
        "dataset": "semcor", "index": args.index, "model": si.store.manifest["model"],
        "layer": si.store.manifest["layer"], "keep_vectors": si.store.manifest.get("keep_vectors"),
        "k": args.k, "holdout": args.holdout, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; 2 cores shared with 4 other engineers",
        "command": "python bench/eval_dictionary.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
        "development": {"info": dev_info, "chosen": chosen, "new_sense_flag": dev_flag, 
                        "chosen_scores": {k: dev_grid[v] for k, v in chosen.items() if isinstance(v, str)},
                        "grid_all_accuracy": {n: r["all"]["accuracy"] for n, r in dev_grid.items()}},
        "eval_semcor_today": baseline,
        "test": {"info": test_info, "results": rows, "propagation_levels": levels_used(test),
                 "new_sense_flag": {
                     statistic: {**new_sense_flag(sense_clusters(test, variant, w), ts, statistic),
                                 "chosen_threshold": chosen[f"new_sense_threshold_{statistic}"]}
                     for statistic, ts in thresholds.items()}},
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    for name, r in rows.items():
        print(f"{name:28} " + "  ".join(f"{p} {r[p]['accuracy']:5.2f} ({r[p]['coverage']:.0f}%)" for p in r))


if __name__ == "__main__":
    main()
