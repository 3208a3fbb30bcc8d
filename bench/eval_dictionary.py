"""SemCor with the dictionary: gloss vectors, supervised sense vectors and the k-NN vote, alone and
fused, per part of speech; every choice is made on development documents, then reported on test.

    .venv/bin/python bench/eval_dictionary.py --index indexes/semcor --work /tmp/dict [--stage all]

1. Development: the block of documents after `eval semcor`'s held-out block, trained on the rest
   minus both blocks (all its polysemous lemmas, or a seeded sample of about --dev-senses senses).
   Every configuration is scored (`Config`: gloss text and pooling, the sentence's vector beside
   the token's, centring on the lemma's mean use, supervised vectors per synset or per sense key,
   their weights, the k-NN vote's weight and k); the best are kept, and the new-sense flag's
   statistic and threshold are chosen there too.
2. Test: `eval semcor`'s held-out documents, trained on all others; the chosen configurations and
   the baselines are reported (every answer from context: no sense numbers, no tag counts).

Stages (so that the long parts can run one at a time): `collect-dev` and `collect-test` score the
documents and keep the scores in --work (a pickle of this script's own making); `report` chooses
on development and writes the JSON; `all` does all three. The index must exist
(`senseindex index ... --keep-vectors fp16`). Writes bench/out/dictionary-semcor.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import platform
import time
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from senseindex import SenseIndex
from senseindex.evaluation.dictionary import (
    FLAG_STATISTICS,
    PARTS,
    Config,
    Matrix,
    by_part,
    chooser,
    collect,
    corpus_means,
    flag_statistics,
    fused_configs,
    gloss_configs,
    grid,
    knn_only,
    levels_used,
    new_sense_flag,
    pick_threshold,
    score,
    sense_clusters,
)
from senseindex.senses.sense_vectors import GLOSS_ONLY_VARIANT, GLOSS_PASSES, GlossCache
from senseindex.text.inventory import load_inventory

OUT = Path(__file__).resolve().parent / "out"
POS = {"nouns": "n", "verbs": "v", "adjectives": "a", "adverbs": "r"}


def best(results: dict[str, dict], configs: list[Config], part: str = "all") -> Config:
    """The configuration with the best accuracy on PART (ties: the first)."""
    return max(configs, key=lambda c: results[c.name][part])


def stage_collect(si, inventory, cache, args, dev: bool) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    means_path = work / "corpus-means.pkl"
    if means_path.exists():
        means = pickle.loads(means_path.read_bytes())
    else:
        t0 = time.perf_counter()
        means = corpus_means(si.store)
        means_path.write_bytes(pickle.dumps(means, protocol=5))
        print(f"corpus means: {time.perf_counter() - t0:.1f} s")
    variants = [v for p in args.passes.split(",") for v in GLOSS_PASSES[p]]
    senses = args.dev_senses if dev else args.test_senses
    t0 = time.perf_counter()
    instances, info = collect(si, inventory, cache, args.holdout, dev=dev, k=args.k, sample_senses=senses or None,
                              variants=variants, means=means)
    info["collect_seconds"] = round(time.perf_counter() - t0, 1)
    name = "dev" if dev else "test"
    (work / f"{name}.pkl").write_bytes(pickle.dumps((instances, info), protocol=5))
    print(name, json.dumps(info))


def choose_flag(dev_stats: list[dict]) -> dict:
    """Per statistic: one threshold for all parts of speech, and one per part of speech, each the
    largest recall at precision >= 0.7 on development documents."""
    out = {}
    for statistic in FLAG_STATISTICS:
        values = np.array([r[side][statistic] for r in dev_stats for side in ("present", "withheld")])
        ts = sorted({round(float(t), 4) for t in np.quantile(values, np.linspace(0, 1, 201))})
        overall = new_sense_flag(dev_stats, ts, statistic)
        per_pos = {}
        for pos in ("n", "v", "a", "r"):
            flag = new_sense_flag(dev_stats, ts, statistic, pos)
            if flag["clusters"]:
                per_pos[pos] = float(pick_threshold(flag))
        out[statistic] = {"threshold": float(pick_threshold(overall)), "per_pos": per_pos,
                          "dev": overall["thresholds"][pick_threshold(overall)]}
    return out


def flag_at(stats: list[dict], statistic: str, thresholds: dict[str, float] | float) -> dict:
    """Precision and recall of the flag with one threshold or one per part of speech."""
    def t(r):
        return thresholds if isinstance(thresholds, float) else thresholds.get(r["pos"], -np.inf)

    tp = sum(r["withheld"][statistic] < t(r) for r in stats)
    fp = sum(r["present"][statistic] < t(r) for r in stats)
    return {"precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "recall": round(tp / len(stats), 3) if stats else 0.0, "flagged_new": int(tp), "flagged_known": int(fp),
            "clusters": len(stats)}


def take_glosses(instances: list, glossed: list) -> None:
    """Give INSTANCES the gloss scores (and every gloss-derived signal) of GLOSSED, the same
    documents scored by another index of the same corpus (in place)."""
    if len(instances) != len(glossed) or any(a.lemma != b.lemma or a.tag != b.tag
                                             for a, b in zip(instances, glossed, strict=True)):
        raise SystemExit("--gloss-work: the two runs did not score the same instances")
    for a, b in zip(instances, glossed, strict=True):
        if a.gloss is None:
            continue
        a.gloss = b.gloss
        a.signals = {**{k: v for k, v in b.signals.items() if not k.startswith(("sup_key", "knn@"))},
                     **{k: v for k, v in a.signals.items() if k.startswith(("sup_key", "knn@"))}}


def stage_report(si, args) -> None:
    started = time.perf_counter()
    work = Path(args.work)
    dev, dev_info = pickle.loads((work / "dev.pkl").read_bytes())
    test, test_info = pickle.loads((work / "test.pkl").read_bytes())
    if args.gloss_work:  # the gloss scores of another run (another layer), the labelled evidence of this one
        dev_info["gloss_from"] = test_info["gloss_from"] = args.gloss_work
        for name, instances in (("dev", dev), ("test", test)):
            glossed, info = pickle.loads((Path(args.gloss_work) / f"{name}.pkl").read_bytes())
            take_glosses(instances, glossed)
            dev_info["gloss_variants"] = info["gloss_variants"]
    variants = dev_info["gloss_variants"]
    dev_m, test_m = Matrix(dev), Matrix(test)

    glosses = gloss_configs(variants)
    dev_grid = grid(dev_m, glosses)
    plain = [c for c in glosses if not (c.centred or c.usage or c.sentence_share)]
    chosen: dict[str, Config] = {"gloss_only": best(dev_grid, glosses),
                                 "gloss_only_token": best(dev_grid, plain),
                                 "gloss_only_label_default": Config(token=GLOSS_ONLY_VARIANT, usage=True,
                                                                    supervised="", knn_weight=0.0)}
    for part in POS:
        chosen[f"gloss_only/{part}"] = best(dev_grid, glosses, part)
    ranked = sorted(glosses, key=lambda c: -dev_grid[c.name]["all"])
    candidates = list(dict.fromkeys(ranked[:4] + plain[:len(variants)]))  # the best four, and each text plain
    fused = fused_configs(candidates)
    label_default = Config()  # what `label` does: DEFAULT_VARIANT, DEFAULT_GLOSS_WEIGHT, DEFAULT_KNN_WEIGHT, k 10
    dev_grid.update(grid(dev_m, fused + [chosen["gloss_only_label_default"], label_default]))
    chosen["supervised_only"] = best(dev_grid, [c for c in fused if c.gloss_weight == 0 and not c.knn_weight])
    chosen["supervised_and_gloss"] = best(dev_grid, [c for c in fused if not c.knn_weight])
    chosen["lmms_like"] = Config(token=chosen["gloss_only_token"].token, gloss_weight=0.5, supervised="key",
                                 knn_weight=0.0)  # LMMS: per-key centroids and gloss, equal weights
    chosen["fused_with_knn"] = best(dev_grid, fused)
    chosen["fused_synset_centroids"] = best(dev_grid, [c for c in fused if c.supervised == "synset"])
    chosen["fused_key_centroids"] = best(dev_grid, [c for c in fused if c.supervised == "key"])
    chosen["fused_k10"] = best(dev_grid, [c for c in fused if c.k == 10])
    chosen["label_default"] = label_default
    for part in POS:
        chosen[f"fused/{part}"] = best(dev_grid, fused, part)
    fused_best = chosen["fused_with_knn"]
    print("development choices:", json.dumps({k: c.name for k, c in chosen.items()}, indent=1))

    t0 = time.perf_counter()
    flag_config = replace(label_default, knn_weight=0.0)  # as `senses` scores clusters
    dev_stats = flag_statistics(sense_clusters(dev), flag_config)
    test_stats = flag_statistics(sense_clusters(test), flag_config)
    flag_choice = choose_flag(dev_stats)
    flag_test = {statistic: {"threshold": c["threshold"], "dev": c["dev"],
                             "test": flag_at(test_stats, statistic, c["threshold"]),
                             "per_pos_thresholds": c["per_pos"],
                             "test_per_pos_thresholds": flag_at(test_stats, statistic, c["per_pos"]),
                             "test_table": new_sense_flag(test_stats, sorted({round(float(t), 4) for t in np.quantile(
                                 [r[side][statistic] for r in test_stats for side in ("present", "withheld")],
                                 np.linspace(0, 1, 41))}), statistic)["thresholds"]}
                 for statistic, c in flag_choice.items()}
    naming = {"dev": new_sense_flag(dev_stats, [0.0])["named_right"],
              "test": new_sense_flag(test_stats, [0.0])["named_right"], "clusters": len(test_stats)}
    flag_seconds = time.perf_counter() - t0

    baseline = {}
    for wordnet in (False, True):  # `eval semcor` on every test instance, as it answers today
        r = si.evaluate_semcor(args.holdout, args.k, wordnet=wordnet)
        baseline["first_sense_backoff" if wordnet else "no_wordnet"] = {
            p: {key: r[p][key] for key in ("instances", "coverage", "knn_accuracy", "backoff")}
            for p in ("all", "nouns", "verbs")}
    rows = {"knn_only": score(test, knn_only)}
    for name, config in chosen.items():
        if "/" not in name:
            rows[name] = score(test, chooser(config))
    for v in variants:
        rows[f"gloss_only/{v}"] = score(test, chooser(Config(token=v, supervised="", knn_weight=0.0)))
        rows[f"gloss_only/sentence/{v}"] = score(test, chooser(Config(token=v, sentence=v, sentence_share=1.0,
                                                                      supervised="", knn_weight=0.0)))
    rows["gloss_only_per_part_of_speech"] = score(test, by_part(
        {p: chooser(chosen[f"gloss_only/{p}"]) for p in POS}, chooser(chosen["gloss_only"])))
    rows["fused_per_part_of_speech"] = score(test, by_part(
        {p: chooser(chosen[f"fused/{p}"]) for p in POS}, chooser(fused_best)))
    for name, config in chosen.items():  # the fast path agrees with the instance-by-instance one
        if name in rows:
            assert abs(test_m.accuracy(config)["all"] - rows[name]["all"]["accuracy"]) < 0.02, name
    result = {
        "dataset": "semcor", "index": args.index, "model": si.store.manifest["model"],
        "layer": si.store.manifest["layer"], "keep_vectors": si.store.manifest.get("keep_vectors"),
        "runtime": si.store.manifest.get("runtime"),
        "k": args.k, "holdout": args.holdout, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; 2 cores shared with 4 other engineers",
        "command": "python bench/eval_dictionary.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in ("out", "stage") and v != ""),
        "configs": {name: {**asdict(c), "name": c.name} for name, c in chosen.items()},
        "development": {"info": dev_info, "configurations": len(dev_grid),
                        "chosen_scores": {name: dev_grid[c.name] for name, c in chosen.items()},
                        "grid_all_accuracy": {n: r["all"] for n, r in dev_grid.items()}},
        "eval_semcor_today": baseline,
        "test": {"info": test_info, "results": rows, "propagation_levels": levels_used(test),
                 "new_sense_flag": flag_test, "naming": naming,
                 "flag_seconds": round(flag_seconds, 1)},
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    for name, r in rows.items():
        print(f"{name:34} " + "  ".join(f"{p} {r[p]['accuracy']:5.2f}" for p in PARTS))
    for statistic, f in flag_test.items():
        print(f"flag {statistic:13} dev {f['dev']}  test {f['test']}  per-pos {f['test_per_pos_thresholds']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="indexes/semcor")
    ap.add_argument("--work", required=True, help="Folder for the scores kept between stages")
    ap.add_argument("--stage", default="all", choices=("collect-dev", "collect-test", "report", "all"))
    ap.add_argument("--holdout", type=float, default=0.1)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--passes", default="gloss", help="Gloss texts to encode, comma-separated (gloss, lmms)")
    ap.add_argument("--dev-senses", type=int, default=0,
                    help="Score a seeded sample of the development lemmas holding about this many senses (0: all)")
    ap.add_argument("--test-senses", type=int, default=0,
                    help="Score a seeded sample of the test lemmas holding about this many senses (0: all)")
    ap.add_argument("--gloss-work", default="",
                    help="Report: take the gloss scores from this --work folder (another layer's run)")
    ap.add_argument("--out", default=str(OUT / "dictionary-semcor.json"))
    args = ap.parse_args()
    si = SenseIndex.open(args.index)
    if args.stage in ("collect-dev", "all"):
        stage_collect(si, load_inventory(), GlossCache(si.encoder, load_inventory()), args, dev=True)
    if args.stage in ("collect-test", "all"):
        stage_collect(si, load_inventory(), GlossCache(si.encoder, load_inventory()), args, dev=False)
    if args.stage in ("report", "all"):
        stage_report(si, args)


if __name__ == "__main__":
    main()
