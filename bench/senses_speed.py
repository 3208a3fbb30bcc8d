"""`senses` speed on an index: warm time of sense induction for lemmas of about 100 and 10,000
occurrences (the median of --runs after one untimed run; wall and CPU seconds, as a shared
machine stretches wall time), and the tagger calls it makes.

    .venv/bin/python bench/senses_speed.py /tmp/senseindex-scale/idx-1000000   # writes bench/out/senses_speed.json

The index is any senseindex index; bench/scale.py leaves its synthetic ones under its --workdir
(real sentences, synthetic vectors stored through the default codec, so the clusters are read
from the codec's faithful tier as for a real corpus).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--api", action="store_true",
                    help="Time what `senseindex senses` runs (SenseIndex.senses with its defaults: the "
                         "dictionary-seeded mode where WordNet has the lemma, glosses, soft distributions), "
                         "not the induction alone.")
    ap.add_argument("--out", default=str(OUT / "senses_speed.json"))
    args = ap.parse_args()
    import senseindex.text.words as words
    from senseindex.senses.induction import induce_senses
    from senseindex.storage.store import Store

    calls = []
    real = words.tag_word
    words.tag_word = lambda w: calls.append(w) or real(w)
    store = Store.open(args.index)
    if args.api:  # the default path, through the facade
        from senseindex.sense_index import SenseIndex

        si = SenseIndex.open(args.index)

        def run(lemma):
            return si.senses(lemma)
    else:
        def run(lemma):
            return induce_senses(store, lemma, lemma=lemma)
    counts = store.db.execute("select lemma, count from lemmas where count > 0").fetchall()
    rows = []
    for size in args.sizes:
        lemma, count = min(counts, key=lambda x: (abs(x[1] - size), x[0]))
        first = time.perf_counter()
        run(lemma)  # warm: pages, imports, SQLite cache
        first = time.perf_counter() - first
        calls.clear()
        times, cpu = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            report = run(lemma)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        rows.append({"target": size, "lemma": lemma, "occurrences": count, "k": report.k,
                     "first_s": round(first, 3), "warm_median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times],
                     "cpu_median_s": round(statistics.median(cpu), 3),
                     "tag_word_calls": len(calls), "names": [s.name for s in report.senses],
                     "how": report.how})
        print(json.dumps(rows[-1]), flush=True)
    summary = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, 2 cores",
               "command": "python bench/senses_speed.py " + " ".join(sys.argv[1:]),
               "index": args.index, "codec": store.manifest.get("codec"), "tiers": store.vectors.tiers(),
               "lemmas": rows}
    OUT.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
