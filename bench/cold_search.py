"""A cold `senseindex search`: process start to printed result, in fresh processes.

    .venv/bin/python bench/cold_search.py INDEX [--runs 5] [--query "I have a [mole] on my hip"] [--out FILE]

Runs the installed `senseindex` entry point (with this checkout's sources first on the path)
RUNS times, then once more in a probe that reports which heavy modules were imported (torch,
transformers, spaCy, pandas). The first run after a change may pay for compiling Python files.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "spacy", "pandas")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--query", default="I have a [mole] on my hip")
    ap.add_argument("--out")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [str(Path(sys.executable).parent / "senseindex"), "search", args.index, args.query, "-k", "5"]
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # bytecode compiled, files in the page cache
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(round(time.perf_counter() - t, 3))
    probe = ("import sys\nfrom senseindex.cli import cli\ntry:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             f"print('IMPORTED', *[m in sys.modules for m in {HEAVY!r}], file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", probe, *cmd[1:]], env=env, capture_output=True, text=True)
    flags = next((line.split()[1:] for line in out.stderr.splitlines() if line.startswith("IMPORTED")), [])
    result = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "command": "bench/cold_search.py " + " ".join(sys.argv[1:]), "query": args.query,
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "seconds": times,
              "median_s": statistics.median(times), "imported": dict(zip(HEAVY, (f == "True" for f in flags), strict=False))}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
