"""How gloss-only answers use the index's unlabelled occurrences: the grid behind the constants of
`sense_vectors.usage_scores`, on SemCor's development documents (never the test documents).

    .venv/bin/python bench/dictionary_usage_grid.py --index indexes/semcor

For every polysemous development instance, the `mean` gloss cosines are helped by a sample of the
lemma's occurrences in the index (no labels read): soft assignment at each temperature, then the
usage centroid's cosine and the log soft share at each weight. Prints the accuracy on polysemous
instances per setting, best first, and writes bench/out/dictionary-usage-grid.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from senseindex import SenseIndex
from senseindex.evaluation.dictionary import split
from senseindex.evaluation.semcor import gold_rows
from senseindex.senses.sense_vectors import (
    GLOSS_ONLY_VARIANT,
    GlossCache,
    usage_sample,
    usage_scores,
)
from senseindex.storage.labels import label_keys
from senseindex.text.inventory import load_inventory
from senseindex.text.tagging import pos_class

OUT = Path(__file__).resolve().parent / "out"
TEMPERATURES = (0.005, 0.01, 0.02, 0.05)
CENTROID_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
PRIOR_WEIGHTS = (0.0, 0.02, 0.05, 0.08, 0.12, 0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="indexes/semcor")
    ap.add_argument("--out", default=str(OUT / "dictionary-usage-grid.json"))
    args = ap.parse_args()
    started = time.perf_counter()
    si = SenseIndex.open(args.index)
    inventory = load_inventory()
    cache = GlossCache(si.encoder, inventory)
    rows = gold_rows(si.store)
    dev_docs, _ = split([r[4] for r in rows], 0.1, dev=True)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for oid, lemma, pos, _, section in rows:
        if section in dev_docs:
            groups[(lemma, pos_class(pos))].append(oid)
    everyone: dict[tuple[str, str], list[int]] = defaultdict(list)
    for oid, lemma, pos in si.store.db.execute("select o.id, l.lemma, o.pos from occ o join lemmas l on l.id = o.lemma_id"):
        everyone[(lemma, pos_class(pos))].append(oid)
    gold = label_keys(si.store.db, [o for ids in groups.values() for o in ids], "gold")
    settings = list(itertools.product(TEMPERATURES, CENTROID_WEIGHTS, PRIOR_WEIGHTS))
    right = np.zeros(len(settings))
    total = 0
    for group, ids in groups.items():
        senses = inventory.senses(*group) if group[1] in "nvar" else []
        if len(senses) < 2:
            continue
        G = cache.vectors(senses, GLOSS_ONLY_VARIANT)
        X = si.store.take(np.array(ids))
        usage = si.store.take(usage_sample(everyone[group]))
        is_gold = np.array([[s.key in gold[o] for s in senses] for o in ids])
        for i, (t, c, p) in enumerate(settings):
            s = usage_scores(X, G, usage, t, c, p)
            right[i] += is_gold[np.arange(len(ids)), s.argmax(1)].sum()
        total += len(ids)
    table = sorted(({"temperature": t, "centroid_weight": c, "prior_weight": p,
                     "polysemous_accuracy": round(100 * right[i] / total, 2)}
                    for i, (t, c, p) in enumerate(settings)), key=lambda r: -r["polysemous_accuracy"])
    for r in table[:10]:
        print(r)
    plain = next(r for r in table if r["centroid_weight"] == 0 and r["prior_weight"] == 0)
    print("gloss cosine alone:", plain)
    out = {"index": args.index, "documents": len(dev_docs), "polysemous_instances": total, "grid": table,
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; 2 cores shared with 4 other engineers",
           "command": f"python bench/dictionary_usage_grid.py --index {args.index}",
           "seconds": round(time.perf_counter() - started, 1)}
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
