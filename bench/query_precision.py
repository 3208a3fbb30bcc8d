"""Queries at another precision than their index: do they find the same occurrences?

    .venv/bin/python bench/query_precision.py INDEX [--precisions bf16,int8,fp32] [--runtime openvino]
        [--queries corpora/demo.queries.tsv] [-k 10] [--reps 5] [--out bench/out/query_precision.json]

Every query of the demo's query file (a marked word and the sense it is used in) is searched in
INDEX (the demo index, built with gold labels) with the query encoded at each precision. Reported
per precision: sense precision at k (the share of the top k hits whose gold label is the query's
sense, over hits that have one), the overlap of its top k with the first precision's (the
index's own, by default), whether the best hit is the same, and the warm query time (tokenising,
forward, pooling; median of REPS passes over all queries, the precisions taking turns).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def read_queries(path: Path) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [(row["sense"], row["query"]) for row in csv.DictReader(fh, delimiter="\t")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index")
    ap.add_argument("--precisions", default="bf16,int8,fp32", help="The first is the reference.")
    ap.add_argument("--runtime", default="openvino")
    ap.add_argument("--queries", default=str(ROOT / "corpora" / "demo.queries.tsv"))
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    from senseindex import SenseIndex
    from senseindex.senses.search import parse_target

    queries = read_queries(Path(args.queries))
    precisions = args.precisions.split(",")
    indexes = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the precision warning is the point here
        for p in precisions:
            indexes[p] = SenseIndex.open(args.index, runtime=args.runtime, precision=p)
            indexes[p].encoder  # noqa: B018 (loaded before timing)
        hits = {p: [[h for h in si.search(q, k=args.k)[1]] for _, q in queries] for p, si in indexes.items()}
    reference = precisions[0]
    targets = [parse_target(q, None, lambda _: 1) for _, q in queries]
    items = [([t.text], [[(t.start, t.end)]]) for t in targets]
    times: dict[str, list[float]] = {p: [] for p in precisions}
    for _ in range(args.reps):
        for p, si in indexes.items():
            per = []
            for texts, spans in items:
                t = time.perf_counter()
                si.encoder.word_vectors(texts, spans)
                per.append(time.perf_counter() - t)
            times[p].append(statistics.median(per))
    rows = {}
    for p in precisions:
        right = labelled = overlap = same_top = 0
        for (sense, _), found, ref in zip(queries, hits[p], hits[reference], strict=True):
            gold = [h.label for h in found if h.label]
            right += sum(g == sense for g in gold)
            labelled += len(gold)
            overlap += len({h.occurrence_id for h in found} & {h.occurrence_id for h in ref})
            same_top += bool(found and ref and found[0].occurrence_id == ref[0].occurrence_id)
        encoder = indexes[p].encoder
        rows[p] = {"runtime": encoder.runtime, "precision": encoder.precision,
                   f"sense_precision_at_{args.k}": round(100 * right / max(labelled, 1), 2),
                   "labelled_hits": labelled,
                   f"overlap_at_{args.k}_with_{reference}": round(overlap / (args.k * len(queries)), 4),
                   f"same_best_hit_as_{reference}": f"{same_top} / {len(queries)}",
                   "warm_query_ms": round(1000 * statistics.median(times[p]), 2)}
        print(p, rows[p], flush=True)
    result = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "command": "bench/query_precision.py " + " ".join(sys.argv[1:]),
              "index_precision": SenseIndex.open(args.index).info()["precision"], "queries": len(queries),
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "precisions": rows}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
