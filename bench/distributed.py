"""Indexing throughput of `--engine ray` against the local path, on the same machine, same run.

Starts one local Ray instance (the "cluster", started once, as a real cluster is), then
alternates local and Ray runs over the same corpus (shuffled copies of the demo), each into a
fresh index. Local runs use an already loaded model (a warm process); Ray runs include
everything a job pays on a running cluster: starting the encoder actors, one model load each,
reading, encoding, shipping shards back and the ordered merge. Prints one JSON object.

    .venv/bin/python bench/distributed.py [--model minilm] [--copies 10] [--runs 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from indexing import demo_sentences, make_copies  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm", help="Encoder (default minilm, the small packaged model).")
    ap.add_argument("--copies", type=int, default=10, help="Shuffled copies of the demo (494 sentences each).")
    ap.add_argument("--runs", type=int, default=3, help="Alternating local / Ray runs (medians are reported).")
    ap.add_argument("--workers", type=int, default=2, help="Ray encoder workers (one CPU each).")
    args = ap.parse_args()

    import ray

    from senseindex import SenseIndex
    from senseindex.distributed import RayEngine
    from senseindex.encoding.encoder import load_encoder

    encoder = load_encoder(args.model)
    texts = demo_sentences()
    n_tokens = args.copies * sum(len(x) for x in encoder.tokenize(texts)[0])
    t = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ray_init_s = time.perf_counter() - t
    local_s, ray_s, first_shard_s, merge_s = [], [], [], []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        corpus = make_copies(tmp / "corpus", args.copies)
        encoder.word_vectors(texts[:64], [[(0, 1)]] * 64)  # warm-up
        for run in range(args.runs):
            si = SenseIndex.open_or_create(tmp / f"local{run}", encoder=encoder)
            t = time.perf_counter()
            si.add([corpus])
            local_s.append(time.perf_counter() - t)

            first: dict[str, float] = {}
            engine = RayEngine(workers=args.workers,
                               on_progress=lambda _progress, first=first: first.setdefault("t", time.perf_counter()))
            si = SenseIndex.open_or_create(tmp / f"ray{run}", encoder=encoder)
            t = time.perf_counter()
            si.add([corpus], engine=engine)
            ray_s.append(time.perf_counter() - t)
            first_shard_s.append(first["t"] - t)
            merge_s.append(engine.stats["merge_seconds"])
            print(f"run {run}: local {local_s[-1]:.1f}s, ray {ray_s[-1]:.1f}s "
                  f"(first shard after {first_shard_s[-1]:.1f}s, merge {merge_s[-1]:.1f}s)", file=sys.stderr)
        occurrences = si.info()["occurrences"]
    ray.shutdown()
    overheads = [r / lo - 1 for lo, r in zip(local_s, ray_s, strict=True)]
    print(json.dumps({
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, precision {encoder.precision}",
        "model": encoder.name, "ray": ray.__version__, "workers": args.workers,
        "sentences": args.copies * len(texts), "subword_tokens": n_tokens, "occurrences": occurrences,
        "ray_init_s": round(ray_init_s, 1),
        "local_s": [round(x, 1) for x in local_s], "ray_s": [round(x, 1) for x in ray_s],
        "ray_first_shard_s": [round(x, 1) for x in first_shard_s], "ray_merge_s": merge_s,
        "ray_overhead_per_run": [round(x, 3) for x in overheads],
        "ray_overhead_median": round(statistics.median(overheads), 3),
        "local_tokens_per_s_median": round(n_tokens / statistics.median(local_s)),
        "ray_tokens_per_s_median": round(n_tokens / statistics.median(ray_s)),
    }, indent=2))


if __name__ == "__main__":
    main()
