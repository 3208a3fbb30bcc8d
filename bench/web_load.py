"""Load test of the web workbench: `senseindex serve` on 127.0.0.1, searched by concurrent clients.

    .venv/bin/python bench/web_load.py [--index indexes/demo] [--clients 8] [--searches 200]
    .venv/bin/python bench/web_load.py --threads 1,2 --rounds 3 [--busy 1]

Starts the real command (`senseindex serve INDEX --read-only` on a free loopback port) in a
subprocess, warms it up, then runs a bounded number of searches and prints one JSON object:

* single: one client, one search at a time (the latency a person sees);
* concurrent: CLIENTS clients sending SEARCHES searches in all, as fast as answers come back;
* cached: the same concurrent load over the last 50 of those searches again (what paging and
  sorting a concordance costs: the server keeps recent results for a minute);
* direct: the `single` searches made in this process through `SenseIndex.search`, with the server
  stopped (what the web layer adds is the difference).

Every measured search is distinct (query sentence and k), so `single` and `concurrent` never
hit the result cache. Only 127.0.0.1 is contacted; every loop has a fixed count and a deadline.

`--threads 1,2 --rounds 3` runs the whole test once per thread setting, alternating them back to
back (1, 2, 1, 2, ...), and summarises each setting by the median round (the round with the median
concurrent p50; every round's p50 is listed). `--busy N` keeps N other processes busy (a pure
Python loop each, what an indexer or another job does to a core) from before the server starts
until the round ends, to measure the server while it shares the cores.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "corpora" / "demo.queries.tsv"
HOST = "127.0.0.1"  # never anything else
DEADLINE_S = 900.0
BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def demo_queries() -> list[str]:
    with open(QUERIES, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return [next(c for c in row if "[" in c) for row in rows[1:] if any("[" in c for c in row)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    i = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[i]


def summary(latencies: list[float], wall: float, ok: int, total: int) -> dict:
    ms = [x * 1000 for x in latencies]
    return {"requests": total, "ok": ok, "failed": total - ok, "wall_s": round(wall, 2),
            "searches_per_s": round(total / wall, 1), "p50_ms": round(statistics.median(ms), 1),
            "p90_ms": round(percentile(ms, 90), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1), "mean_ms": round(statistics.fmean(ms), 1)}


@contextlib.contextmanager
def busy_processes(n: int):
    """N processes spinning a core each (bounded by the deadline), stopped when the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=DEADLINE_S)]) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


def run(args, threads: str | None) -> dict:
    """One round: serve with `--threads threads` (None: serve's default), load it, stop it."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-c", "from senseindex.cli import cli; cli()", "serve", str(args.index), "--host", HOST,
           "--port", str(port), "--read-only", *(["--threads", threads] if threads else []), "--runtime", args.runtime,
           "--precision", args.precision]
    load_before = [round(x, 2) for x in os.getloadavg()]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            while True:  # bounded wait for the server
                if server.poll() is not None:
                    raise SystemExit(f"server exited: {server.stderr.read()[-2000:]}")
                if time.monotonic() - started > 180:
                    raise SystemExit("server did not answer within 180 s")
                try:
                    if c.get("/api/indexes").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            queries = demo_queries()
            for q in queries[: args.warmup]:  # model, FAISS and SQLite warm; not measured
                c.get("/api/search", params={"q": q, "k": 5}).raise_for_status()
            info = c.get("/api/info").json()

            single_lat, ok = [], 0
            t0 = time.monotonic()
            for i, q in enumerate(queries[: args.single]):
                t = time.perf_counter()
                r = c.get("/api/search", params={"q": q, "k": 30 + i % 3})
                single_lat.append(time.perf_counter() - t)
                ok += r.status_code == 200
            single = summary(single_lat, time.monotonic() - t0, ok, len(single_lat))

        plan = [(queries[i % len(queries)], 10 + i // len(queries)) for i in range(args.searches)]

        def load(jobs: list[tuple[str, int]]) -> dict:
            results: list[tuple[float, int]] = []

            def client(part: list[tuple[str, int]]) -> list[tuple[float, int]]:
                out = []
                with httpx.Client(base_url=base, timeout=60) as c:
                    for q, k in part:
                        if time.monotonic() - started > DEADLINE_S:
                            break
                        t = time.perf_counter()
                        r = c.get("/api/search", params={"q": q, "k": k})
                        out.append((time.perf_counter() - t, r.status_code))
                return out

            parts = [jobs[i :: args.clients] for i in range(args.clients)]
            t0 = time.monotonic()
            with ThreadPoolExecutor(args.clients) as pool:
                for got in pool.map(client, parts):
                    results.extend(got)
            wall = time.monotonic() - t0
            return summary([x for x, _ in results], wall, sum(s == 200 for _, s in results), len(jobs))

        concurrent = load(plan)
        recent = plan[-50:]  # paging and sorting the last 50 concordances: answered from the result cache
        cached = load([recent[i % len(recent)] for i in range(args.searches)])
        paging = page_one_query(base, args, started)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    direct = direct_searches(args, queries, threads)
    return {
        "date": str(date.today()), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": "bench/web_load.py " + " ".join(sys.argv[1:]), "time_utc": time.strftime("%H:%M:%S", time.gmtime()),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()], "index": str(args.index),
        "occurrences": info["occurrences"], "model": info["model"], "codec": info.get("codec"),
        "clients": args.clients, "threads": threads or "serve's default", "runtime": args.runtime,
        "precision": args.precision,
        "busy_processes": args.busy,
        "single": single, "concurrent": concurrent, "cached": cached, "paging": paging, "direct": direct,
    }


PAGE_QUERY = "I have a [mole] on my hip"
PAGE_VIEWS = [{"page": p, "sort": s, "label": lab, "per": 20}
              for p in (1, 2, 3) for s in ("score", "left2", "right1") for lab in ("", "spy", "skin")]


def page_one_query(base: str, args, started: float) -> dict:
    """CLIENTS clients paging, sorting and filtering one concordance on the search page (HTML):
    after the first request every view reuses the cached query vector (issue 23)."""
    with httpx.Client(base_url=base, timeout=60) as c:
        c.get("/search", params={"q": PAGE_QUERY})  # encodes the query once
    jobs = [PAGE_VIEWS[i % len(PAGE_VIEWS)] for i in range(args.searches)]
    results: list[tuple[float, int]] = []

    def client(part: list[dict]) -> list[tuple[float, int]]:
        out = []
        with httpx.Client(base_url=base, timeout=60) as c:
            for view in part:
                if time.monotonic() - started > DEADLINE_S:
                    break
                t = time.perf_counter()
                r = c.get("/search", params={"q": PAGE_QUERY, **view})
                out.append((time.perf_counter() - t, r.status_code))
        return out

    t0 = time.monotonic()
    with ThreadPoolExecutor(args.clients) as pool:
        for got in pool.map(client, [jobs[i :: args.clients] for i in range(args.clients)]):
            results.extend(got)
    return summary([x for x, _ in results], time.monotonic() - t0, sum(s == 200 for _, s in results), len(jobs))


def direct_searches(args, queries: list[str], threads: str | None) -> dict:
    """The single-client searches again, in this process through the facade (no HTTP, no server)."""
    from senseindex import SenseIndex
    from senseindex.web.app import apply_threads

    apply_threads(threads or "auto")  # as the server had them (serve's default is auto)
    si = SenseIndex.open(args.index, runtime=args.runtime, precision=args.precision)
    for q in queries[: args.warmup]:
        si.search(q, 5)
    latencies = []
    t0 = time.monotonic()
    for i, q in enumerate(queries[: args.single]):
        t = time.perf_counter()
        si.search(q, 30 + i % 3)
        latencies.append(time.perf_counter() - t)
    return summary(latencies, time.monotonic() - t0, len(latencies), len(latencies))


def median_round(rounds: list[dict]) -> dict:
    """The round whose concurrent p50 is the median (the lower middle one for an even count)."""
    ordered = sorted(rounds, key=lambda r: r["concurrent"]["p50_ms"])
    return ordered[(len(ordered) - 1) // 2]


def compare(args, settings: list[str | None]) -> dict:
    """Every setting once per round, back to back; per setting the median round and every round's figures."""
    from senseindex.web.app import available_cores

    rounds: list[dict] = []
    for _ in range(args.rounds):
        for threads in settings:
            with busy_processes(args.busy):
                rounds.append(run(args, threads))
            r = rounds[-1]
            print(f"threads {r['threads']}: concurrent p50 {r['concurrent']['p50_ms']} ms, single p50 "
                  f"{r['single']['p50_ms']} ms, load {r['load_average_before']} -> {r['load_average_after']}",
                  file=sys.stderr)
    by_threads = {}
    for threads in settings:
        mine = [r for r in rounds if r["threads"] == (threads or "serve's default")]
        each = {part: [r[part]["p50_ms"] for r in mine] for part in ("concurrent", "single", "cached", "paging", "direct")}
        by_threads[threads or "default"] = {
            "concurrent_p50_ms_each": each["concurrent"],
            "median": {part: statistics.median(v) for part, v in each.items()},
            "concurrent_p90_ms_each": [r["concurrent"]["p90_ms"] for r in mine],
            "searches_per_s_each": [r["concurrent"]["searches_per_s"] for r in mine],
            "median_round": median_round(mine),
        }
    return {"date": str(date.today()), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "command": "bench/web_load.py " + " ".join(sys.argv[1:]), "busy_processes": args.busy,
            "busy": f"{args.busy} pure-Python busy loop(s) running through each round" if args.busy else "none",
            "cores_available": available_cores(), "rounds": args.rounds, "order": [r["threads"] for r in rounds],
            "load_averages": [[r["load_average_before"], r["load_average_after"]] for r in rounds],
            "failed": sum(failures(r) for r in rounds), "by_threads": by_threads}


def failures(result: dict) -> int:
    return sum(result[part]["failed"] for part in ("concurrent", "cached", "single", "paging"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", default=str(ROOT / "indexes" / "demo"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--searches", type=int, default=200)
    ap.add_argument("--single", type=int, default=40, help="Searches made one at a time first.")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", default=None,
                    help="Passed to `senseindex serve --threads` (and used for the direct searches); a comma "
                         "list (1,2,auto) runs each in turn, every round.")
    ap.add_argument("--runtime", default="auto", help="Passed to `senseindex serve --runtime` (auto: OpenVINO here).")
    ap.add_argument("--precision", default="auto", help="Passed to `senseindex serve --precision` (auto: the "
                    "index's, with lone queries in int8 where SenseIndex.query_encoder says so).")
    ap.add_argument("--rounds", type=int, default=1, help="Rounds of every --threads setting, alternated.")
    ap.add_argument("--busy", type=int, default=0, help="Processes kept busy (one core each) during every round.")
    ap.add_argument("--out", help="Also write the JSON here (e.g. bench/out/web_load.json).")
    args = ap.parse_args()
    if not (1 <= args.clients <= 64 and 1 <= args.searches <= 10_000 and 1 <= args.rounds <= 20
            and 0 <= args.busy <= 8):
        raise SystemExit("keep it bounded: 1-64 clients, 1-10,000 searches, 1-20 rounds, 0-8 busy processes")
    settings = [t.strip() for t in args.threads.split(",")] if args.threads else [None]
    if len(settings) == 1 and args.rounds == 1:
        with busy_processes(args.busy):
            result = run(args, settings[0])
        failed = failures(result)
    else:
        result = compare(args, settings)
        failed = result["failed"]
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
