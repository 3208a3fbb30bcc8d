"""Layer study on CoarseWSD-20: nearest instance and nearest centroid per packaged model and layer.

    .venv/bin/python bench/layer_study.py [--models mpnet,minilm] [--layers last,last4,middle]
                                          [--max-train 300] [--max-test 150]

Uses a seeded subset of each word (at most --max-train training and --max-test test instances;
0 = all) so that six encoder passes fit on a small CPU. Writes bench/out/layer_study-<models>.json and .md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from senseindex.evaluation import layer_markdown, layer_study, layer_table

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mpnet,minilm")
    ap.add_argument("--layers", default="last,last4,middle")
    ap.add_argument("--max-train", type=int, default=300)
    ap.add_argument("--max-test", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    rows = layer_study(models=args.models.split(","), layers=args.layers.split(","),
                       max_train=args.max_train or None, max_test=args.max_test or None, seed=args.seed,
                       progress=lambda r: print(json.dumps(r), flush=True))
    meta = {"max_train": args.max_train, "max_test": args.max_test, "seed": args.seed}
    stem = OUT / f"layer_study-{args.models.replace(',', '-')}"
    stem.with_suffix(".json").write_text(json.dumps({"subset": meta, "rows": rows}, indent=2))
    stem.with_suffix(".md").write_text(layer_markdown(rows) + "\n")
    print(layer_table(rows))
    print(layer_markdown(rows))


if __name__ == "__main__":
    main()
