"""Same-lemma search latency at the default codec for lemmas of 100, 10,000 and 1,000,000
occurrences, through the real search path (VectorStore.search: the lemma's block of search codes
scanned where it lies, memory-mapped, then its best 100 candidates re-scored on the faithful
tier), on one segment written by the storage layer.

A stand-in for the 10 M index of bench/scale.py when there is no time to build one: a search
reads only its lemma's block, so its latency depends on the lemma's size, not on the index's.
The codec is trained on real all-mpnet-base-v2 vectors (CoarseWSD-20, from the cache); the
stored codes are random bytes (scanning cost does not depend on their values; ranking quality
is measured by bench/codec_fidelity.py instead).

    .venv/bin/python bench/lemma_scan.py --codecs 'PQ16,Refine(SQ4)' PQ64   # writes bench/out/lemma_scan.json
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codecs", nargs="*", default=None, help="Codecs, measured interleaved (default: DEFAULT_CODEC).")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=60)
    args = ap.parse_args()
    from codec_fidelity import load_vectors

    from senseindex.sense_index import DEFAULT_CODEC
    from senseindex.storage.vectors import Block, Codec, VectorState, VectorStore

    specs = args.codecs or [DEFAULT_CODEC]
    data = load_vectors(["arm", "bank", "bow", "chair", "club", "mole", "spring", "seal"])
    sample = np.concatenate([d["train"] for d in data.values()])
    queries = np.concatenate([d["test"] for d in data.values()])[: args.queries]
    tmp = Path(tempfile.mkdtemp(prefix="lemma-scan-"))
    rng = np.random.default_rng(0)
    stores = {}
    try:
        for spec in specs:
            codec = Codec.train(sample, spec, nlist=1)
            (tmp / str(len(stores))).mkdir()
            vs = VectorStore(tmp / str(len(stores)), codec.dim, spec, None, VectorState())
            vs.codec = codec
            blocks, first = [], 1
            for key, n in enumerate(args.sizes):
                exact = rng.integers(0, 256, (n, vs.tier.width), dtype=np.uint8) if vs.tier is not None else None
                blocks.append(Block(key, rng.integers(0, 256, (n, codec.code_size), dtype=np.uint8),
                                    np.arange(first, first + n, dtype=np.uint32), exact))
                first += n
            gen, _ = vs.write_segment(iter(blocks), iter(()))
            del blocks
            vs.state.segments = (gen,)
            vs._runs = {}
            stores[spec] = vs
        lat = {(spec, key): [] for spec in specs for key in range(len(args.sizes))}
        for vs in stores.values():
            for key in range(len(args.sizes)):
                for q in queries[:5]:
                    vs.search(q, 10, key)  # warm: page cache and the block's checksum
        for lo in range(0, len(queries), 10):  # codecs interleaved, 10 queries at a time: the same load
            for spec, vs in stores.items():
                for key in range(len(args.sizes)):
                    for q in queries[lo : lo + 10]:
                        t0 = time.perf_counter()
                        vs.search(q, 10, key)
                        lat[spec, key].append(1000 * (time.perf_counter() - t0))
        rows = []
        for (spec, key), ms in lat.items():
            ms.sort()
            vs = stores[spec]
            rows.append({"codec": spec, "search_bytes": vs.codec.code_size,
                         "faithful_bytes": vs.tier.row_bytes if vs.tier is not None else 0,
                         "occurrences": args.sizes[key], "p50_ms": round(statistics.median(ms), 2),
                         "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2)})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, 2 cores shared by 5 engineers",
               "queries": len(queries), "command": "bench/lemma_scan.py --codecs " + " ".join(f"'{c}'" for c in specs),
               "lemmas": rows}
    OUT.mkdir(exist_ok=True)
    (OUT / "lemma_scan.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
