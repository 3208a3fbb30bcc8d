"""Sense induction on SemCor, scored as SemEval-2013 Task 13 scores it (FBC, FNMI, AVG; graded).

    flock /work/cpu.lock .venv/bin/python bench/wsi_semcor.py --index indexes/semcor

Lemmas: every (lemma, part of speech) with at least --min-occurrences gold occurrences in the
documents scored and at least two gold senses there. Gold per occurrence: its sense key(s), equal
weights where SemCor gives several. Each lemma's scored occurrences are clustered, exactly those.

1. Development: `eval semcor`'s split moved one block on (evaluation/dictionary.split with dev):
   the next 10 % of documents by hash are scored, sense vectors come from the documents outside
   both blocks. The seeded mode's threshold and, per method, how much of the soft distribution a
   graded answer keeps (the floor) are chosen there, by AVG.
2. Test: `eval semcor`'s held-out documents; sense vectors from all the other documents (never
   a test document's label). Methods:
   - induction (Ward, k auto; `senses --inventory none`) on exact vectors and on the default
     codec's faithful tier (the exact vectors passed through a `PQ16,Refine(SQ4)` codec trained on
     a sample of the index, `evaluation.semcor.codec_reader`), hard and graded;
   - dictionary-seeded (`senses --inventory wordnet`), hard and graded, and the same without the
     supervised vectors (glosses only: no SemCor labels at all); neither uses WordNet's sense
     numbers or tag counts;
   - baselines: one cluster per lemma; Ward cut at the gold number of senses (an oracle k).
   Cluster naming (issue 22): the share of clusters (>= 3 occurrences) whose top WordNet sense,
   as `senses` lists it, is the cluster's majority gold sense.

Writes bench/out/wsi_semcor.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from senseindex import SenseIndex
from senseindex.evaluation.dictionary import split
from senseindex.evaluation.semcor import codec_reader, gold_rows
from senseindex.evaluation.wsi import graded, hard, score_lemmas
from senseindex.senses.cluster_senses import cluster_centroids, soft_assignments
from senseindex.senses.induction import cluster_vectors
from senseindex.senses.seeded import (
    SEEDED_MIN_SHARE,
    SEEDED_THRESHOLD,
    seed_clusters,
    seeded_min_size,
)
from senseindex.senses.sense_vectors import (
    DEFAULT_VARIANT,
    GLOSS_ONLY_VARIANT,
    GlossCache,
    build_centroids,
    combined_scores,
    sense_matrix,
)
from senseindex.storage.labels import label_keys
from senseindex.text.inventory import load_inventory
from senseindex.text.tagging import pos_class

OUT = Path(__file__).resolve().parent / "out"
PARTS = {"n": "nouns", "v": "verbs", "a": "adjectives", "r": "adverbs"}
THRESHOLDS = (None, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
SHARES = (0.01, 0.05, 0.1)  # smallest share of a lemma's occurrences a seeded cluster keeps
FLOORS = (0.1, 0.2, 0.35, 0.5)
NAMING_MIN = 3


def lemma_sets(rows, docs: set[str], min_occurrences: int) -> dict[tuple[str, str], list[int]]:
    """(lemma, part of speech) -> occurrence ids of the gold occurrences in DOCS, for the pairs
    with enough occurrences (`load` then keeps those with enough gold senses)."""
    found: dict[tuple[str, str], list[int]] = defaultdict(list)
    for oid, lemma, pos, _, section in rows:
        cls = pos_class(pos)
        if section in docs and cls in PARTS:
            found[(lemma, cls)].append(oid)
    return {k: v for k, v in found.items() if len(v) >= min_occurrences}


def train_centroids(si, inventory, rows, docs: set[str]):
    ids = [r[0] for r in rows if r[4] in docs]
    labels = [r[3] for r in rows if r[4] in docs]
    return build_centroids(si.store, inventory, ids, labels)


class Lemma:
    """One lemma's scored occurrences, gold and every score a method needs."""

    def __init__(self, key, ids, gold, exact, inventory, gloss_cache, centroids):
        self.key, self.ids, self.gold = key, ids, gold
        self.X = exact
        self.gold_graded = [{k: 1.0 for k in g} for g in gold]
        self.n_gold = len({k for g in gold for k in g})
        self.senses = inventory.senses(*key)
        self.scores = self.gloss_scores = None
        if self.senses:
            sup, _ = sense_matrix(self.senses, centroids, inventory)
            gloss = gloss_cache.vectors(self.senses, DEFAULT_VARIANT if sup is not None else GLOSS_ONLY_VARIANT)
            self.scores = combined_scores(self.X, gloss, sup)
            self.gloss_scores = combined_scores(self.X, gloss_cache.vectors(self.senses, GLOSS_ONLY_VARIANT), None)


def soft_of(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return soft_assignments(X, cluster_centroids(X, labels, k))


def induce(X: np.ndarray, k="auto") -> tuple[np.ndarray, np.ndarray]:
    cl = cluster_vectors(X, k)
    return cl.labels, soft_of(X, cl.labels, cl.k)


def seeded(lem: Lemma, threshold, share: float, gloss_only: bool = False) -> tuple[np.ndarray, np.ndarray, list]:
    """(labels, soft, seeded sense per cluster); plain induction where WordNet lacks the lemma."""
    scores = lem.gloss_scores if gloss_only else lem.scores
    if scores is None:
        labels, soft = induce(lem.X)
        return labels, soft, [None] * soft.shape[1]
    sd = seed_clusters(lem.X, scores, threshold, seeded_min_size(len(lem.ids), share))
    return sd.labels, sd.soft, sd.senses


def answers(results: dict[tuple[str, str], tuple], floor: float | None) -> dict:
    """{lemma: (gold, answer)} for score_lemmas: hard labels (floor None) or graded soft rows."""
    return {key: (gold, hard(labels) if floor is None else graded(soft, floor))
            for key, (gold, labels, soft) in results.items()}


def by_part(results: dict[tuple[str, str], tuple], floor: float | None) -> dict:
    """Scores overall and per part of speech (per-lemma figures left out)."""
    out = {}
    for part, name in [("*", "all"), *PARTS.items()]:
        sel = {f"{k[0]}/{k[1]}": v for k, v in answers(results, floor).items() if part == "*" or k[1] == part}
        if sel:
            scored = score_lemmas(sel)
            out[name] = {m: scored[m] for m in scored if m != "per_lemma"}
    return out


def naming(lemmas: list[Lemma], clusterings: dict[tuple[str, str], tuple]) -> dict:
    """Clusters (>= NAMING_MIN occurrences) whose top WordNet sense, as `senses` lists it (the seed
    sense; else the highest mean combined score of the members, cluster_senses.match_clusters),
    is the cluster's majority gold sense; per part of speech."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for lem in lemmas:
        if lem.scores is None:
            continue
        labels, _, seeds = clusterings[lem.key]
        for c in range(int(labels.max()) + 1):
            members = np.flatnonzero(labels == c)
            if len(members) < NAMING_MIN:
                continue
            top = seeds[c] if c < len(seeds) and seeds[c] is not None else int(np.argmax(lem.scores[members].mean(0)))
            votes = Counter(k for i in members for k in lem.gold[i])
            majority = max(votes.items(), key=lambda kv: (kv[1], kv[0]))[0]
            for part in ("all", PARTS[lem.key[1]]):
                tally[part][0] += lem.senses[top].key == majority
                tally[part][1] += 1
    return {p: {"clusters": n, "named_right": right, "share": round(100 * right / n, 2) if n else 0.0}
            for p, (right, n) in tally.items()}


def load(si, inventory, cache, rows, docs, train_docs, args) -> list[Lemma]:
    chosen = lemma_sets(rows, docs, args.min_occurrences)
    gold = label_keys(si.store.db, [i for ids in chosen.values() for i in ids], "gold")
    centroids = train_centroids(si, inventory, rows, train_docs)
    out = []
    for key, ids in tqdm(sorted(chosen.items()), desc="lemmas", unit="lemma"):
        g = [gold[i] for i in ids]
        if len({k for x in g for k in x}) < args.min_senses:
            continue
        out.append(Lemma(key, np.array(ids), g, si.store.take(np.array(ids)), inventory, cache, centroids))
    return out


def overall(results: dict[tuple[str, str], tuple], floor: float | None) -> dict:
    scored = score_lemmas({f"{k[0]}/{k[1]}": v for k, v in answers(results, floor).items()})
    return {m: scored[m] for m in scored if m != "per_lemma"}


def choose(lemmas: list[Lemma]) -> dict:
    """On development lemmas: the seeded threshold and smallest cluster share (by graded AVG, each
    at its best floor), and the floor per method."""
    table, chosen = {}, {}

    def best_floor(results) -> tuple[float, dict]:
        scores = {f: overall(results, f) for f in FLOORS}
        f = max(FLOORS, key=lambda f: scores[f]["avg"])
        return f, scores

    induced = {lem.key: (lem.gold_graded, *induce(lem.X)) for lem in lemmas}
    f, scores = best_floor(induced)
    table["induction"] = {"hard": overall(induced, None), "graded": {str(k): v for k, v in scores.items()}}
    chosen["floor_induction"] = f
    for gloss_only in (False, True):
        name = "seeded_gloss_only" if gloss_only else "seeded"
        rows = {}
        for t in THRESHOLDS:
            for share in SHARES:
                res = {lem.key: (lem.gold_graded, *seeded(lem, t, share, gloss_only)[:2]) for lem in lemmas}
                f, scores = best_floor(res)
                rows[f"threshold={t}/share={share}"] = {"threshold": t, "share": share, "hard": overall(res, None),
                                                         "best_floor": f, "graded": scores[f]}
        table[name] = rows
        best = max(rows.values(), key=lambda r: r["graded"]["avg"])
        chosen[f"threshold_{name}"], chosen[f"share_{name}"] = best["threshold"], best["share"]
        chosen[f"floor_{name}"] = best["best_floor"]
        print(name, "best on development:", best, flush=True)
    return {"chosen": chosen, "table": table}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="indexes/semcor")
    ap.add_argument("--holdout", type=float, default=0.1)
    ap.add_argument("--min-occurrences", type=int, default=20)
    ap.add_argument("--min-senses", type=int, default=2)
    ap.add_argument("--codec", default="PQ16,Refine(SQ4)")
    ap.add_argument("--skip-dev", action="store_true",
                    help="no development step: the module's threshold and share, floor 0.2")
    ap.add_argument("--dev-only", action="store_true", help="stop after the development step (the lock's 15 minutes)")
    ap.add_argument("--dev-from", help="take the development step from this earlier output")
    ap.add_argument("--out", default=str(OUT / "wsi_semcor.json"))
    args = ap.parse_args()
    started = time.perf_counter()
    si = SenseIndex.open(args.index)
    inventory = load_inventory()
    cache = GlossCache(si.encoder, inventory)
    rows = gold_rows(si.store)
    sections = [r[4] for r in rows]
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; 2 cores shared with 4 other engineers",
              "command": "python bench/wsi_semcor.py " + " ".join(sys.argv[1:]),
              "index": args.index, "model": si.store.manifest["model"], "codec_of_index": si.store.manifest.get("codec"),
              "keep_vectors": si.store.manifest.get("keep_vectors"), "holdout": args.holdout,
              "min_occurrences": args.min_occurrences, "min_senses": args.min_senses}

    if args.dev_from:
        result["development"] = json.loads(Path(args.dev_from).read_text())["development"]
        chosen = result["development"]["chosen"]
        result["command"] += f"  (development step: {result['development'].get('command', '')})"
    elif args.skip_dev:
        chosen = {"floor_induction": 0.2}
        for name in ("seeded", "seeded_gloss_only"):
            chosen.update({f"threshold_{name}": SEEDED_THRESHOLD, f"share_{name}": SEEDED_MIN_SHARE, f"floor_{name}": 0.2})
    else:
        dev_docs, dev_train = split(sections, args.holdout, dev=True)
        dev = load(si, inventory, cache, rows, dev_docs, dev_train, args)
        t0 = time.perf_counter()
        best = {name: np.concatenate([getattr(lem, attr).max(1) for lem in dev if lem.scores is not None])
                for name, attr in (("seeded", "scores"), ("seeded_gloss_only", "gloss_scores"))}
        result["development"] = {"command": result["command"], "documents": len(dev_docs),
                                 "train_documents": len(dev_train), "lemmas": len(dev),
                                 "instances": sum(len(lem.ids) for lem in dev),
                                 "best_score_percentiles": {k: {q: round(float(np.percentile(v, q)), 3)
                                                                for q in (5, 25, 50, 75, 95)} for k, v in best.items()},
                                 **choose(dev), "seconds": round(time.perf_counter() - t0, 1)}
        chosen = result["development"]["chosen"]
        print("development choices:", json.dumps(chosen), json.dumps(result["development"]["best_score_percentiles"]),
              flush=True)
        if args.dev_only:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(result, indent=2))
            return

    test_docs, train_docs = split(sections, args.holdout, dev=False)
    test = load(si, inventory, cache, rows, test_docs, train_docs, args)
    methods: dict[str, dict] = {}

    def record(name, res, floor):
        methods[name] = {"hard": by_part(res, None), "graded": by_part(res, floor), "floor": floor}
        print(name, "hard", methods[name]["hard"]["all"]["avg"], "graded", methods[name]["graded"]["all"]["avg"], flush=True)

    one = {lem.key: (lem.gold_graded, np.zeros(len(lem.ids), int), np.ones((len(lem.ids), 1))) for lem in test}
    methods["one_cluster"] = {"hard": by_part(one, None)}
    fi = chosen["floor_induction"]
    induced = {lem.key: (lem.gold_graded, *induce(lem.X)) for lem in test}
    record("induction_exact", induced, fi)
    record("oracle_k_exact", {lem.key: (lem.gold_graded, *induce(lem.X, lem.n_gold)) for lem in test}, fi)
    t0 = time.perf_counter()
    take = codec_reader(si.store, args.codec)
    codec_seconds = time.perf_counter() - t0
    cosines, induced_codec = [], {}
    for lem in test:
        Xc = take(lem.ids)
        cosines.append(np.einsum("ij,ij->i", Xc / np.linalg.norm(Xc, axis=1, keepdims=True), lem.X))
        induced_codec[lem.key] = (lem.gold_graded, *induce(Xc))
    record("induction_codec", induced_codec, fi)
    cos = np.concatenate(cosines)
    seeded_runs = {}
    shipped = {"seeded_default": (False, SEEDED_THRESHOLD, SEEDED_MIN_SHARE, chosen["floor_seeded"])}
    for name, (gloss_only, t, share, f) in [*shipped.items(), *(
            (n, (g, chosen[f"threshold_{n}"], chosen[f"share_{n}"], chosen[f"floor_{n}"]))
            for n, g in (("seeded", False), ("seeded_gloss_only", True)))]:
        runs = {lem.key: seeded(lem, t, share, gloss_only) for lem in test}
        seeded_runs[name] = runs
        record(name, {k: (lem.gold_graded, *runs[lem.key][:2]) for lem in test for k in [lem.key]}, f)
        methods[name]["threshold"], methods[name]["share"] = t, share
        methods[name]["new_clusters"] = sum(1 for r in runs.values() for s in r[2] if s is None)
        methods[name]["clusters"] = sum(len(r[2]) for r in runs.values())
    unsupervised = {lem.key: (induced[lem.key][1], induced[lem.key][2], []) for lem in test}
    result["test"] = {
        "documents": len(test_docs), "train_documents": len(train_docs), "lemmas": len(test),
        "instances": sum(len(lem.ids) for lem in test),
        "lemmas_per_part": dict(Counter(PARTS[lem.key[1]] for lem in test)),
        "lemmas_without_wordnet": [f"{lem.key[0]}/{lem.key[1]}" for lem in test if lem.scores is None],
        "chosen": chosen, "methods": methods,
        "codec": {"spec": args.codec, "train_seconds": round(codec_seconds, 1),
                  "cosine_to_exact_mean": round(float(cos.mean()), 4),
                  "cosine_to_exact_p5": round(float(np.percentile(cos, 5)), 4)},
        "naming": {"induction": naming(test, unsupervised),
                   **{name: naming(test, runs) for name, runs in seeded_runs.items()}},
        "per_lemma": {f"{lem.key[0]}/{lem.key[1]}": {
            "instances": len(lem.ids), "gold_senses": lem.n_gold,
            "wordnet_senses": len(lem.senses),
            "induction_k": int(induced[lem.key][1].max()) + 1,
            "induction_codec_k": int(induced_codec[lem.key][1].max()) + 1,
            "seeded_k": len(seeded_runs["seeded"][lem.key][2]),
            "seeded_default_k": len(seeded_runs["seeded_default"][lem.key][2])} for lem in test},
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: {v: methods[k][v]["all"] for v in ("hard", "graded") if v in methods[k]} for k in methods},
                     indent=1))
    print("naming", json.dumps(result["test"]["naming"]))


if __name__ == "__main__":
    main()
