"""`label` over the dictionary: time beyond the forward pass (warm), and a lemma's gloss vectors at
first use (an empty cache), medians of several runs.

    .venv/bin/python bench/dictionary_latency.py [--index indexes/semcor]

Writes bench/out/dictionary-latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from senseindex import SenseIndex
from senseindex.senses.knn import target_vector
from senseindex.senses.sense_vectors import GlossCache
from senseindex.text.inventory import load_inventory

OUT = Path(__file__).resolve().parent / "out"
QUERIES = ["The [bank] raised its interest rates again", "He sat on the [bank] of the river",
           "The [plant] closed and 300 workers lost their jobs", "She [ran] the company for ten years",
           "A [mole] dug up the lawn overnight"]
LEMMAS = ["bank", "plant", "run", "mole", "line", "state", "interest", "table"]


def median_ms(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return round(statistics.median(times), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="indexes/semcor")
    args = ap.parse_args()
    si = SenseIndex.open(args.index)
    t = time.perf_counter()
    si.label(QUERIES[0])  # loads the model, the centroids (built once, then read from the index folder)
    first_call = round(time.perf_counter() - t, 2)
    for q in QUERIES:  # fills the gloss cache for these lemmas
        si.label(q)
    rows = []
    for q in QUERIES:
        target = si.target(q, None, None)
        total = median_ms(lambda q=q: si.label(q))
        forward = median_ms(lambda target=target: target_vector(si.encoder, target))
        p = si.label(q)
        rows.append({"query": q, "label": p.label, "synset": p.sense["synset"] if p.sense else None,
                     "method": p.method, "total_ms": total, "forward_ms": forward,
                     "beyond_forward_ms": round(total - forward, 1)})
    inventory = load_inventory()
    first_use = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = GlossCache(si.encoder, inventory, Path(tmp))
        for lemma in LEMMAS:
            senses = inventory.senses(lemma)
            t = time.perf_counter()
            cache.vectors(senses)
            first_use.append({"lemma": lemma, "senses": len(senses), "ms": round(1000 * (time.perf_counter() - t), 1)})
    lookup = median_ms(lambda: [inventory.senses(lemma) for lemma in LEMMAS], 5)
    result = {"index": args.index, "first_label_call_s": first_call, "label": rows,
              "beyond_forward_ms_median": statistics.median(r["beyond_forward_ms"] for r in rows),
              "gloss_first_use": first_use,
              "gloss_first_use_ms_median": statistics.median(r["ms"] for r in first_use),
              "gloss_first_use_ms_per_sense": round(sum(r["ms"] for r in first_use)
                                                    / sum(r["senses"] for r in first_use), 1),
              "inventory_lookup_ms_for_8_lemmas": lookup,
              "machine": "2 cores shared with 4 other engineers (figures move with their load)",
              "date": time.strftime("%Y-%m-%d"), "command": "python bench/dictionary_latency.py " + " ".join(sys.argv[1:])}
    OUT.mkdir(exist_ok=True)
    (OUT / "dictionary-latency.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("label", "gloss_first_use")}, indent=2))
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
