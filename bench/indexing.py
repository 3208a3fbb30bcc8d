"""Indexing throughput against the bare model forward pass, peak memory at 1x and 10x the demo,
warm search latency and index size per occurrence. Prints the results as one JSON object.

    .venv/bin/python bench/indexing.py [--model mpnet] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "demo"


def demo_sentences() -> list[str]:
    from senseindex.text.corpus import read_sentences, resolve_sources

    return [s.text for f in resolve_sources([DEMO]) for s in read_sentences(f)]


def bare_forward(encoder, texts: list[str]) -> float:
    """Tokenise and run the model over the same sentences, batched the same way; no pooling or storage."""
    t = time.perf_counter()
    for lo in range(0, len(texts), 1024):
        ids, _ = encoder.tokenize(texts[lo:lo + 1024])
        encoder.token_vectors(ids)
    return time.perf_counter() - t


def pipeline(encoder, corpus: Path, tmp: Path, codec: str = "Flat") -> tuple[float, dict]:
    from senseindex import SenseIndex

    path = tmp / f"idx-{time.monotonic_ns()}"
    si = SenseIndex.open_or_create(path, encoder=encoder, codec=codec)
    t = time.perf_counter()
    si.add([corpus])
    return time.perf_counter() - t, si.info()


def make_copies(dest: Path, copies: int) -> Path:
    """`copies` shuffled copies of the demo (different content, so none is skipped as a duplicate)."""
    dest.mkdir(parents=True, exist_ok=True)
    lines = demo_sentences()
    for i in range(copies):
        rnd = random.Random(i)
        shuffled = lines[:]
        rnd.shuffle(shuffled)
        (dest / f"copy{i:02d}.txt").write_text("\n".join(shuffled) + "\n", encoding="utf-8")
    return dest


def peak_rss(corpus: Path, index: Path, model: str) -> float:
    code = (
        "import resource, sys\n"
        "from senseindex import SenseIndex\n"
        f"si = SenseIndex.open_or_create({str(index)!r}, model={model!r})\n"
        f"si.add([{str(corpus)!r}])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mpnet", help="Encoder: mpnet (default), minilm, a Hugging Face id or a folder.")
    ap.add_argument("--runs", type=int, default=3, help="Alternating bare-forward / pipeline runs (the median is reported).")
    args = ap.parse_args()
    from senseindex import SenseIndex
    from senseindex.encoding.encoder import load_encoder

    encoder = load_encoder(args.model)
    texts = demo_sentences()
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        encoder.word_vectors(texts[:64], [[(0, 1)]] * 64)  # warm-up
        ratios, bare_t, pipe_t, info = [], [], [], {}
        for _ in range(args.runs):  # alternate, so both see the same machine load
            b = bare_forward(encoder, texts)
            p, info = pipeline(encoder, DEMO, tmp)
            bare_t.append(b)
            pipe_t.append(p)
            ratios.append(b / p)
        n_tokens = sum(len(x) for x in encoder.tokenize(texts)[0])
        _, sq8 = pipeline(encoder, DEMO, tmp / "sq8", codec="SQ8")

        first = sorted(p for p in tmp.iterdir() if p.name.startswith("idx"))[0]
        si = SenseIndex.open(first, encoder=encoder)
        queries = ["I have a [mole] on my hip", "The [bank] raised its interest rates",
                   "We sat on the river [bank]", "A [crane] lifted the steel beams"]
        si.search(queries[0])
        lat = []
        for _ in range(5):
            for q in queries:
                t = time.perf_counter()
                si.search(q, k=10)
                lat.append(time.perf_counter() - t)

        big = make_copies(tmp / "x10", 10)
        small = make_copies(tmp / "x1", 1)
        rss1 = peak_rss(small, tmp / "m1", args.model)
        rss10 = peak_rss(big, tmp / "m10", args.model)

    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, precision {encoder.precision}",
        "model": encoder.name,
        "sentences": len(texts),
        "subword_tokens": n_tokens,
        "occurrences": info["occurrences"],
        "bare_forward_s": [round(x, 2) for x in bare_t],
        "pipeline_s": [round(x, 2) for x in pipe_t],
        "pipeline_over_bare_median": round(statistics.median(ratios), 3),
        "pipeline_tokens_per_s_median": round(n_tokens / statistics.median(pipe_t)),
        "pipeline_sentences_per_s_median": round(len(texts) / statistics.median(pipe_t), 1),
        "search_latency_ms_median": round(1000 * statistics.median(lat), 1),
        "search_latency_ms_p90": round(1000 * sorted(lat)[int(0.9 * len(lat)) - 1], 1),
        "peak_rss_mb_1x": round(rss1), "peak_rss_mb_10x": round(rss10),
        "bytes_per_occurrence": info["bytes_per_occurrence"],
        "bytes_per_occurrence_sq8": sq8["bytes_per_occurrence"],
        "size_mb": round(info["size_bytes"] / 1e6, 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
