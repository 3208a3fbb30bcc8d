"""Corpus formats: indexing throughput of CoNLL-U and VRT against the same text as .txt, peak
memory against input size, and the cost of --parse on SemCor. Writes bench/out/24-corpus-formats.json.

    nice -n 5 .venv/bin/python bench/corpus_formats.py [--sentences 1000] [--runs 3] [--model minilm]
        [--rss-mb 10,100,1000] [--index-rss-mb 2,10] [--parse-sentences 500]

The same sentences (SemCor's first documents, detokenised) are written as .txt, and as CoNLL-U and
VRT carrying spaCy's tokens, lemmas and tags (what a parser's output carries); each file is indexed
with the same encoder, the formats alternating run after run, and the ratio is the median .txt time
over the median time of the format (above 1: faster than .txt). Peak RSS is measured in a fresh
process per file: reading (the planning pass, the whole file) and indexing (the tiny hash encoder
of the tests, so the encoder's own memory does not hide the reader's).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEMCOR = ROOT.parent / "shared" / "data" / "semcor" / "semcor30.jsonl.gz"
OUT = ROOT / "bench" / "out" / "24-corpus-formats.json"


def semcor_records(n: int) -> list[dict]:
    out = []
    with gzip.open(SEMCOR, "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if len(out) == n:
                break
    return out


def detokenise(tokens: list[str]) -> str:
    text = ""
    for t in tokens:
        if t in ("``",):
            t = '"'
        if t == "''":
            t = '"'
        glue = t in (".", ",", ";", ":", "?", "!", "'s", "n't", ")") or text.endswith(("(", '"')) and t != '"'
        text += t if not text or glue else " " + t
    return text


def write_formats(texts: list[str], folder: Path, copy: int = 0) -> dict[str, Path]:
    """The same sentences as .txt (a blank line between sentences), .conllu and .vrt (spaCy's tokens,
    lemmas and tags, as a parser would give them); `copy` makes the document ids differ."""
    from senseindex.text.tagging import pipeline

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"txt": folder / f"c{copy}.txt", "conllu": folder / f"c{copy}.conllu", "vrt": folder / f"c{copy}.vrt"}
    with open(paths["txt"], "w") as txt, open(paths["conllu"], "w") as cu, open(paths["vrt"], "w") as vrt:
        vrt.write("<!-- #vrt positional-attributes: word lemma pos -->\n")
        for i, doc in enumerate(pipeline().pipe(texts, batch_size=256)):
            txt.write(doc.text + "\n\n")
            if i % 50 == 0:
                if i:
                    vrt.write("</text>\n")
                cu.write(f"# newdoc id = c{copy}-d{i // 50}\n")
                vrt.write(f'<text id="c{copy}-d{i // 50}" year="{1950 + i // 50 % 60}">\n')
            cu.write(f"# sent_id = c{copy}-{i}\n# text = {doc.text}\n")
            vrt.write("<s>\n")
            for t in doc:
                if t.is_space:
                    continue
                misc = "_" if t.whitespace_ or t.i + 1 == len(doc) else "SpaceAfter=No"
                cu.write(f"{t.i + 1}\t{t.text}\t{t.lemma_}\t{t.pos_}\t{t.tag_}\t_\t_\t_\t_\t{misc}\n")
                word = t.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                vrt.write(f"{word}\t{t.lemma_.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}"
                          f"\t{t.tag_}\n")
            cu.write("\n")
            vrt.write("</s>\n")
        vrt.write("</text>\n")
    return paths


def index_time(path: Path, encoder, tmp: Path, parse: bool = False) -> tuple[float, dict]:
    from senseindex import SenseIndex

    idx = tmp / f"idx-{time.monotonic_ns()}"
    si = SenseIndex.open_or_create(idx, encoder=encoder, codec="fp16")
    t = time.perf_counter()
    report = si.add([path], parse=parse)
    return time.perf_counter() - t, {"sentences": report.sentences, "occurrences": report.occurrences}


def grow(paths: dict[str, Path], target_mb: float, folder: Path) -> dict[str, Path]:
    """Files of about `target_mb` MB: the sample's .conllu and .vrt bodies repeated (VRT: inside
    new <text> elements; CoNLL-U: with new document ids)."""
    out = {}
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ("conllu", "vrt"):
        body = paths[fmt].read_text()
        if fmt == "vrt":
            body = body.split("\n", 1)[1]
        dest = folder / f"big-{target_mb:g}mb.{fmt}"
        with open(dest, "w") as fh:
            if fmt == "vrt":
                fh.write("<!-- #vrt positional-attributes: word lemma pos -->\n")
            i = 0
            while fh.tell() < target_mb * 1e6:
                fh.write(body.replace('<text id="', f'<text id="r{i}-').replace("# newdoc id = ", f"# newdoc id = r{i}-"))
                i += 1
        out[fmt] = dest
    return out


# Peak RSS is the child's VmHWM (/proc/self/status): getrusage's ru_maxrss survives exec on
# Linux, so a child started from this process (with a model loaded) would report the parent's peak.
CHILD = """
import sys, time
sys.path[:0] = [{src!r}, {tests!r}]
from pathlib import Path
mode, path, tmp = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t = time.perf_counter()
if mode == "read":
    from senseindex.text.corpus import read_sentences
    n = sum(1 for _ in read_sentences(path))
else:
    from conftest import HashEncoder
    from senseindex import SenseIndex
    si = SenseIndex.open_or_create(tmp / "idx", encoder=HashEncoder(), codec="fp16")
    n = si.add([path]).sentences
hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
print(n, time.perf_counter() - t, hwm / 1024)
"""


def peak_rss(mode: str, path: Path, tmp: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        code = CHILD.format(src=str(ROOT / "src"), tests=str(ROOT / "tests"))
        out = subprocess.run([sys.executable, "-c", code, mode, str(path), d], capture_output=True, text=True,
                             check=True).stdout.split()
    n, seconds, rss = int(out[0]), float(out[1]), float(out[2])
    return {"mode": mode, "format": path.suffix[1:], "mb": round(path.stat().st_size / 1e6, 1), "sentences": n,
            "seconds": round(seconds, 1), "peak_rss_mb": round(rss, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--rss-mb", default="10,100,1000")
    ap.add_argument("--index-rss-mb", default="2,10")
    ap.add_argument("--parse-sentences", type=int, default=500)
    ap.add_argument("--parse-models", default="minilm")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: formats, rss, parse")
    args = ap.parse_args()
    skip = set(args.skip.split(","))

    from senseindex.encoding.encoder import load_encoder

    result: dict = {"date": date.today().isoformat(),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other work "
                               f"(load average {os.getloadavg()[0]:.1f} at the start)",
                    "command": "nice -n 5 python bench/corpus_formats.py " + " ".join(sys.argv[1:])}
    records = semcor_records(max(args.sentences, args.parse_sentences))
    texts = [detokenise(r["tokens"]) for r in records[: args.sentences]]
    with tempfile.TemporaryDirectory(prefix="corpus-formats-") as tmpdir:
        tmp = Path(tmpdir)
        paths = write_formats(texts, tmp / "sample")
        if "formats" not in skip:
            encoder = load_encoder(args.model)
            index_time(paths["txt"], encoder, tmp)  # warm the model and the tagger
            times: dict[str, list[float]] = {f: [] for f in paths}
            counts = {}
            for _ in range(args.runs):
                for fmt, p in paths.items():
                    secs, counts[fmt] = index_time(p, encoder, tmp)
                    times[fmt].append(secs)
            med = {f: statistics.median(v) for f, v in times.items()}
            result["throughput"] = {
                "model": encoder.name, "sentences": args.sentences, "runs": args.runs,
                "seconds": {f: [round(x, 2) for x in v] for f, v in times.items()},
                "median_seconds": {f: round(v, 2) for f, v in med.items()},
                "sentences_per_s": {f: round(counts[f]["sentences"] / med[f], 1) for f in med},
                "occurrences": {f: counts[f]["occurrences"] for f in counts},
                "ratio_to_txt": {f: round(med["txt"] / med[f], 3) for f in ("conllu", "vrt")}}
            print(json.dumps(result["throughput"], indent=2), flush=True)
        if "rss" not in skip:
            rows = []
            for mode, sizes in (("index", args.index_rss_mb), ("read", args.rss_mb)):
                for mb in [float(x) for x in sizes.split(",") if x]:
                    big = grow(paths, mb, tmp / "big")
                    rows.extend(peak_rss(mode, big[f], tmp) for f in ("conllu", "vrt"))
                    print(rows[-2:], flush=True)
                    for p in big.values():
                        p.unlink()
            result["peak_rss"] = rows
        if "parse" not in skip:
            sample = tmp / "semcor-sample.jsonl"
            sample.write_text("".join(json.dumps(r) + "\n" for r in records[: args.parse_sentences]))
            result["parse"] = []
            for model in args.parse_models.split(","):
                encoder = load_encoder(model)
                index_time(sample, encoder, tmp, parse=True)  # warm the model, the tagger and the parser
                with_p, without = [], []
                for _ in range(args.runs):
                    without.append(index_time(sample, encoder, tmp)[0])
                    with_p.append(index_time(sample, encoder, tmp, parse=True)[0])
                row = {"model": encoder.name, "sentences": args.parse_sentences, "runs": args.runs,
                       "seconds_without": [round(x, 2) for x in without], "seconds_with": [round(x, 2) for x in with_p],
                       "slowdown": round(statistics.median(with_p) / statistics.median(without) - 1, 3)}
                result["parse"].append(row)
                print(json.dumps(row), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if skip - {""} and OUT.is_file():  # a partial run updates the parts it measured
        old = json.loads(OUT.read_text())
        result = {**old, **result, "commands": [*(old.get("commands") or [old["command"]]), result["command"]]}
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
