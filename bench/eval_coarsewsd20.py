"""CoarseWSD-20 with the default model: every method, per word, beside the published anchors.

    .venv/bin/python bench/eval_coarsewsd20.py [--model mpnet] [--layer last] [--k 10] [--sweep 1,3,5,10,20]

Writes bench/out/coarsewsd20-<model>-<layer>.json and .md; vectors come from the senseindex cache.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

from senseindex.evaluation import coarsewsd_markdown, coarsewsd_table, evaluate_coarsewsd

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mpnet")
    ap.add_argument("--layer", default="last")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--sweep", default="", help="Comma-separated k values for a k-NN sweep (cached vectors).")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    result = evaluate_coarsewsd(model=args.model, layer=args.layer, k=args.k,
                                progress=lambda w, s: print(f"{w}: {s:.1f}s", flush=True))
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    result["date"], result["machine"] = date.today().isoformat(), platform.processor() or platform.machine()
    sweep = {}
    for k in (int(x) for x in args.sweep.split(",") if x):
        r = evaluate_coarsewsd(model=args.model, layer=args.layer, k=k, methods=("contextual-knn",))
        sweep[k] = {key: r["methods"]["contextual-knn"][key]
                    for key in ("micro_accuracy", "per_word_accuracy_mean", "macro_f1_mean")}
    result["knn_sweep"] = sweep
    stem = OUT / f"coarsewsd20-{args.model}-{args.layer}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    md = coarsewsd_markdown(result)
    if sweep:
        md += "\n\n| k | micro | word mean | macro-F1 |\n|---:|---:|---:|---:|\n" + "\n".join(
            f"| {k} | {v['micro_accuracy']:.2f} | {v['per_word_accuracy_mean']:.2f} | {v['macro_f1_mean']:.2f} |"
            for k, v in sweep.items())
    stem.with_suffix(".md").write_text(md + "\n")
    print(coarsewsd_table(result))
    print(md)
    print(f"wall {result['wall_seconds']}s; wrote {stem}.json/.md")


if __name__ == "__main__":
    main()
