"""SemCor as a labelled corpus: index it (once), then label held-out documents by k-NN.

    .venv/bin/python bench/eval_semcor.py [--index indexes/semcor] [--model mpnet] [--k 10]

The index is built with `senseindex index ../shared/data/semcor/semcor30.jsonl.gz --index INDEX`
when INDEX does not exist yet (that step dominates the time). Writes bench/out/semcor-<name>.json/.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from senseindex import SenseIndex
from senseindex.evaluation import semcor_markdown, semcor_text
from senseindex.evaluation.datasets import data_dir

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="indexes/semcor")
    ap.add_argument("--model", default="mpnet")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--holdout", type=float, default=0.1)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    index_seconds = None
    if not (Path(args.index) / "index.db").exists():
        t0 = time.perf_counter()
        si = SenseIndex.open_or_create(args.index, args.model)
        si.add([data_dir() / "semcor" / "semcor30.jsonl.gz"])
        index_seconds = round(time.perf_counter() - t0, 1)
    si = SenseIndex.open(args.index)
    result = si.evaluate_semcor(args.holdout, args.k)
    result["index_seconds"] = index_seconds
    result["index_info"] = si.info()
    stem = OUT / f"semcor-{Path(args.index).name}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    stem.with_suffix(".md").write_text(semcor_markdown(result) + "\n")
    print(semcor_text(result))
    print(semcor_markdown(result))


if __name__ == "__main__":
    main()
