"""How long the workbench's senses page and a concordance's sort/filter/page take, cold and warm (issue 23).

In-process (Starlette's TestClient, no network), on an index built with its own model. The
first senses request clusters the word, computes its collocates and map (cold); later ones
reuse the cached clustering, collocates and map points (warm). For the search page, the first
request encodes the query; re-sorting, filtering and paging reuse the cached query vector.

    .venv/bin/python bench/senses_page.py indexes/demo --words mole,bank --repeat 5
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "senses_page.json"


def timed(client, url: str, params: dict) -> float:
    t = time.perf_counter()
    r = client.get(url, params=params)
    elapsed = time.perf_counter() - t
    if r.status_code != 200:
        raise SystemExit(f"{url} {params}: HTTP {r.status_code}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index")
    ap.add_argument("--words", default="mole,bank")
    ap.add_argument("--query", default="I have a [mole] on my hip", help="Empty: time the senses page only.")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    import torch
    from starlette.testclient import TestClient

    from senseindex.web import create_app

    torch.set_num_threads(1)  # as `senseindex serve` runs
    app = create_app({"idx": args.index}, warm=False)
    result = {"date": f"{datetime.now(timezone.utc):%Y-%m-%d}", "machine": f"{platform.machine()}, shared",
              "command": "bench/senses_page.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "repeat": args.repeat, "senses": {}, "search": {}}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for word in [w for w in args.words.split(",") if w]:
            cold = timed(client, "/senses", {"word": word})
            warm = [timed(client, "/senses", {"word": word}) for _ in range(args.repeat)]
            result["senses"][word] = {"cold_s": round(cold, 3), "warm_median_s": round(statistics.median(warm), 3),
                                      "warm_max_s": round(max(warm), 3)}
            print(f"senses {word}: cold {cold:.2f}s, warm median {statistics.median(warm):.3f}s", file=sys.stderr)
        if not args.query:  # e.g. an index built with the tests' hash encoder: senses only
            return finish(result, args)
        base = {"q": args.query}
        first = timed(client, "/search", base)
        steps = [dict(base, sort="left2"), dict(base, label="spy"), dict(base, page=2), dict(base, any_pos=1),
                 dict(base, doc=""), dict(base, sort="right1", label="skin")]
        warm = [timed(client, "/search", p) for p in steps for _ in range(args.repeat)]
        result["search"] = {"first_s": round(first, 3), "sort_filter_page_median_s": round(statistics.median(warm), 3),
                            "sort_filter_page_max_s": round(max(warm), 3), "steps": len(steps)}
        print(f"search: first {first:.2f}s, sort/filter/page median {statistics.median(warm):.3f}s", file=sys.stderr)
    return finish(result, args)


def finish(result: dict, args) -> int:
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
