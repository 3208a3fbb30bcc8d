"""Encoder runtimes side by side, in one run: indexing throughput, agreement with torch fp32, query latency.

    .venv/bin/python bench/encoder_runtimes.py [--model mpnet] [--runs 3] [--copies 10] [--semcor 2000]
        [--configs torch:bf16,onnx:fp32,onnx:int8,openvino:fp32,openvino:bf16] [--index indexes/demo]

For every runtime:precision: the full indexing pipeline (SenseIndex.add, codec Flat) over the
demo corpus x COPIES and a SemCor sample (every n-th sentence, as plain text), the configurations
taking turns in each of RUNS rounds so that all see the same machine load, reported as medians
and as ratios to torch bf16 measured in the same run; word-vector cosines to torch fp32 (every
word of the demo plus tricky tokenisations); warm one-sentence query latency; an operator profile
of the ONNX Runtime and OpenVINO graphs; the export's one-off time; and a cold
`senseindex search` on INDEX (process start to printed result, and whether torch was imported).
Writes bench/out/encoder_runtimes.json and docs/benchmarks/26-runtimes.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from indexing import demo_sentences, make_copies  # noqa: E402

OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "benchmarks" / "26-runtimes.md"
SEMCOR = Path(os.environ.get("SENSEINDEX_DATA") or ROOT.parent / "shared" / "data") / "semcor" / "semcor30.jsonl.gz"
NOTES = "## Notes"
CONFIGS = "torch:bf16,onnx:fp32,onnx:int8,openvino:fp32,openvino:bf16,openvino:int8"
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")
TRICKY = [  # tokenisations that split words oddly: hyphens, clitics, digits, accents, URLs, CJK, emoji
    "The well-known state-of-the-art model didn't re-enter the U.S. market in 2019-2020.",
    "Naïve café owners in Zürich paid €3.50 for crème brûlée at 7:45pm.",
    "Visit https://example.org/a_b?c=d or mail jane.o'neil@example.com, ok?!",
    "Antidisestablishmentarianism and pneumonoultramicroscopicsilicovolcanoconiosis are long.",
    "He said \u201cbank\u201d \u2014 not \u2018bench\u2019 \u2026 then left; 東京 is big 👍🏽.",
    "ALL CAPS SHOUTING ABOUT THE RIVER BANK AND A MOLE ON MY HIP",
]
QUERIES = ["I have a [mole] on my hip", "The [bank] raised its interest rates",
           "We sat on the river [bank]", "A [crane] lifted the steel beams"]


def instruction_sets() -> list[str]:
    """The instruction sets the ratios depend on, of those the CPU has."""
    from senseindex.encoding.runtimes import cpu_flags

    return [f for f in FLAGS if f in cpu_flags()]


def cpu_model() -> str:
    try:
        m = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
        return m.group(1).strip() if m else platform.processor()
    except OSError:
        return platform.processor()


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\w+(?:[-'’]\w+)*|[^\w\s]", text)]


def semcor_sample(dest: Path, n: int) -> Path | None:
    """Every k-th SemCor sentence (k spreads n over the 37k), as a plain-text file."""
    if not SEMCOR.exists() or n <= 0:
        return None
    with gzip.open(SEMCOR, "rt", encoding="utf-8") as fh:
        rows = [" ".join(json.loads(line)["tokens"]) for line in fh]
    step = max(1, len(rows) // n)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "semcor.txt").write_text("\n".join(rows[::step][:n]) + "\n", encoding="utf-8")
    return dest


def count_tokens(encoder, folder: Path) -> tuple[int, int]:
    from senseindex.text.corpus import read_sentences, resolve_sources

    texts = [s.text for f in resolve_sources([folder]) for s in read_sentences(f)]
    return len(texts), sum(len(x) for x in encoder.tokenize(texts)[0])


def index_once(encoder, corpus: Path, tmp: Path) -> float:
    from senseindex import SenseIndex

    si = SenseIndex.open_or_create(tmp / f"idx-{time.monotonic_ns()}", encoder=encoder, codec="Flat")
    t = time.perf_counter()
    si.add([corpus])
    return time.perf_counter() - t


def cosines(encoder, reference: list[np.ndarray], texts: list[str], spans: list) -> np.ndarray:
    out = encoder.word_vectors(texts, spans)
    return np.concatenate([(a * b).sum(1) for a, b in zip(out, reference, strict=True) if len(a)])


def latency_ms(encoder, reps: int) -> float:
    from senseindex.senses.search import parse_target

    targets = [parse_target(q, None, lambda _: 1) for q in QUERIES]
    items = [(t.text, [(t.start, t.end)]) for t in targets]
    encoder.word_vectors([items[0][0]], [items[0][1]])
    times = []
    for i in range(reps):
        text, span = items[i % len(items)]
        t = time.perf_counter()
        encoder.word_vectors([text], [span])
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def forward_ms(encoder, reps: int) -> dict:
    """The bare forward pass of one query sentence (its subwords and the specials), warm: what
    a search waits for on the model, without tokenising and pooling."""
    from senseindex.senses.search import parse_target

    target = parse_target(QUERIES[0], None, lambda _: 1)
    ids, _ = encoder.tokenize([target.text])
    batch = [encoder._head + ids[0] + encoder._tail]
    for _ in range(3):
        encoder._forward(batch)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        encoder._forward(batch)
        times.append(time.perf_counter() - t)
    return {"subwords": len(batch[0]), "ms": round(1000 * statistics.median(times), 2)}


def profile_ops(encoder, texts: list[str], top: int = 8) -> dict:
    """Share of time per operator type in one pass over TEXTS (ONNX Runtime's profiler, or
    OpenVINO's performance counters)."""
    from senseindex.encoding.export import ensure_export
    from senseindex.encoding.subwords import padded

    ids, _ = encoder.tokenize(texts)
    batch = [encoder._head + x[: encoder._body] + encoder._tail for x in ids]
    arrays = padded(batch, encoder.tokenizer.pad_token_id or 0)
    path = ensure_export(encoder.source, encoder.layers, encoder._file_precision())
    per_op: Counter = Counter()
    if encoder.runtime == "onnx":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tempfile.gettempdir()) / "ort-profile")
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        session.run(None, {"input_ids": arrays[0], "attention_mask": arrays[1]})
        trace = Path(session.end_profiling())
        for ev in json.loads(trace.read_text()):
            if ev.get("cat") == "Node" and ev.get("name", "").endswith("_kernel_time"):
                per_op[ev["args"]["op_name"]] += ev["dur"]
        trace.unlink(missing_ok=True)
    else:
        import openvino as ov

        from senseindex.encoding.runtimes import INT8_GROUP

        config = {"INFERENCE_PRECISION_HINT": "bf16" if encoder.precision == "bf16" else "f32", "PERF_COUNT": True}
        if encoder.precision == "int8":
            config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = INT8_GROUP
        compiled = ov.Core().compile_model(str(path), "CPU", config)
        request = compiled.create_infer_request()
        request.infer({"input_ids": arrays[0], "attention_mask": arrays[1]})
        for info in request.get_profiling_info():
            per_op[f"{info.node_type} ({info.exec_type})"] += info.real_time.total_seconds() * 1e6
    total = sum(per_op.values()) or 1
    return {op: round(100 * us / total, 1) for op, us in per_op.most_common(top)}


def cold_search(index: Path, runs: int) -> dict:
    """`senseindex search` in a fresh process: seconds to the printed result, and whether torch
    or transformers were imported (a wrapper reports sys.modules after the command)."""
    code = ("import sys, time\nfrom senseindex.cli import cli\n"
            "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('IMPORTED', 'torch' in sys.modules, 'transformers' in sys.modules, file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [str(Path(sys.executable).parent / "senseindex"), "search", str(index), QUERIES[0], "-k", "5"]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    probe = subprocess.run([sys.executable, "-c", code, *cmd[1:]], env=env, capture_output=True, text=True)
    flags = re.search(r"IMPORTED (\w+) (\w+)", probe.stderr)
    return {"seconds": [round(x, 2) for x in times], "median_s": round(statistics.median(times), 2),
            "torch_imported": flags.group(1) == "True" if flags else None,
            "transformers_imported": flags.group(2) == "True" if flags else None}


def export_seconds(model: str) -> dict:
    """The one-off export, timed into a scratch folder (the cached export is left as it is)."""
    from senseindex.encoding.export import export_onnx, int8_weights, quantise_int8
    from senseindex.encoding.subwords import parse_layer
    from senseindex.encoding.weights import resolve_model

    source = resolve_model(model)
    layers = parse_layer("last", json.loads((Path(source.location) / "config.json").read_text())["num_hidden_layers"])
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        export_onnx(source, layers, Path(tmp) / "m.onnx")
        fp32 = time.perf_counter() - t
        t = time.perf_counter()
        quantise_int8(Path(tmp) / "m.onnx", Path(tmp) / "q.onnx")
        int8 = time.perf_counter() - t
        t = time.perf_counter()
        int8_weights(Path(tmp) / "m.onnx", Path(tmp) / "w8.onnx")
        w8 = time.perf_counter() - t
        sizes = {name + "_mb": round((Path(tmp) / f"{f}.onnx").stat().st_size / 1e6)
                 for name, f in (("fp32", "m"), ("int8", "q"), ("w8", "w8"))}
    return {"fp32_s": round(fp32, 1), "int8_s": round(int8, 1), "w8_s": round(w8, 1), **sizes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mpnet")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--copies", type=int, default=10, help="Demo copies for the throughput corpus.")
    ap.add_argument("--semcor", type=int, default=2000, help="SemCor sentences in the sample (0: none).")
    ap.add_argument("--configs", default=CONFIGS)
    ap.add_argument("--throughput", default="", help="The configurations timed for throughput (default: all; "
                    "the rest are measured for agreement, latency and profile only).")
    ap.add_argument("--latency-reps", type=int, default=40)
    ap.add_argument("--index", default=str(ROOT / "indexes" / "demo"), help="Index for the cold search ('' to skip).")
    ap.add_argument("--name", default="encoder_runtimes",
                    help="bench/out/NAME.json; a name other than the default leaves the markdown alone.")
    ap.add_argument("--skip-export", action="store_true", help="Do not time the one-off export again.")
    args = ap.parse_args()
    from senseindex.encoding.encoder import Encoder, load_encoder

    configs = [tuple(c.split(":")) for c in args.configs.split(",")]
    started = time.perf_counter()
    result: dict = {"date": date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(),
                    "instruction_sets": instruction_sets(), "load_average_at_start": os.getloadavg()[0],
                    "machine": f"{cpu_model()}, {os.cpu_count()} cores",
                    "machine_note": "shared with other engineers' jobs: absolute figures move; ratios are "
                                    "within this run", "model": args.model, "command": " ".join(sys.argv)}
    print(json.dumps({k: result[k] for k in ("cpu", "instruction_sets")}), flush=True)
    result["export"] = None if args.skip_export else export_seconds(args.model)
    print("export", result["export"], flush=True)
    encoders = {f"{r} {p}": load_encoder(args.model, runtime=r, precision=p) for r, p in configs}
    for name, enc in encoders.items():
        assert (enc.runtime, enc.precision) == tuple(name.split()), (name, enc.runtime, enc.precision)

    reference = Encoder(args.model, precision="fp32")
    texts = demo_sentences() + TRICKY
    spans = [word_spans(t) for t in texts]
    ref = reference.word_vectors(texts, spans)
    tricky_ref = ref[-len(TRICKY):]
    agreement = {}
    for name, enc in encoders.items():
        c = cosines(enc, ref, texts, spans)
        t = cosines(enc, tricky_ref, TRICKY, spans[-len(TRICKY):])
        agreement[name] = {"words": int(len(c)), "min": round(float(c.min()), 4), "p1": round(float(np.percentile(c, 1)), 4),
                           "mean": round(float(c.mean()), 5), "tricky_min": round(float(t.min()), 4)}
        print("agreement", name, agreement[name], flush=True)
    result["agreement_with_torch_fp32"] = agreement
    del reference

    throughput: dict = {}
    wanted = {c.replace(":", " ") for c in args.throughput.split(",") if c}
    timed = {name: enc for name, enc in encoders.items() if not wanted or name in wanted}
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        corpora = {f"demo x{args.copies}": make_copies(tmp / "demo", args.copies)}
        sample = semcor_sample(tmp / "semcor", args.semcor)
        if sample is not None:
            corpora[f"semcor {args.semcor} sentences"] = sample
        any_enc = next(iter(encoders.values()))
        for cname, folder in corpora.items():
            sentences, tokens = count_tokens(any_enc, folder)
            times: dict[str, list[float]] = {name: [] for name in timed}
            for r in range(args.runs):
                for name, enc in timed.items():
                    times[name].append(index_once(enc, folder, tmp))
                    print(cname, "run", r, name, round(times[name][-1], 1), "s", flush=True)
            base = statistics.median(times["torch bf16"]) if "torch bf16" in times else None
            throughput[cname] = {"sentences": sentences, "subword_tokens": tokens, "runtimes": {
                name: {"seconds": [round(x, 2) for x in ts], "tokens_per_s": round(tokens / statistics.median(ts)),
                       "ratio_to_torch_bf16": round(base / statistics.median(ts), 2) if base else None}
                for name, ts in times.items()}}
    result["throughput"] = throughput
    result["query_latency_ms"] = {name: round(latency_ms(enc, args.latency_reps), 1) for name, enc in encoders.items()}
    result["forward"] = {name: forward_ms(enc, args.latency_reps) for name, enc in encoders.items()}
    print("latency", result["query_latency_ms"], result["forward"], flush=True)
    result["operator_profile_percent"] = {name: profile_ops(enc, demo_sentences()[:64])
                                          for name, enc in encoders.items() if enc.runtime != "torch"}
    if args.index and Path(args.index).exists():
        result["cold_search"] = {"index": args.index, "query": QUERIES[0], **cold_search(Path(args.index), args.runs)}
        print("cold", result["cold_search"], flush=True)
    result["load_average_at_end"] = os.getloadavg()[0]
    result["wall_seconds"] = round(time.perf_counter() - started)
    OUT.mkdir(exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    if args.name != "encoder_runtimes":
        print(markdown(result))
        return
    DOC.parent.mkdir(parents=True, exist_ok=True)
    notes = DOC.read_text().partition(NOTES)[2] if DOC.exists() else ""  # the hand-written part is kept
    DOC.write_text(markdown(result) + (f"\n{NOTES}{notes}" if notes else ""))
    print(markdown(result))


def markdown(r: dict) -> str:
    lines = [f"# Encoder runtimes ({r['date']})", "",
             f"Machine: {r['cpu']}, {r['cores']} cores, instruction sets {', '.join(r['instruction_sets'])}; "
             f"{r['machine_note']} (load average {r['load_average_at_start']:.1f} at the start, "
             f"{r['load_average_at_end']:.1f} at the end).", "",
             f"Command: `{r['command']}` (wall {r['wall_seconds']} s). Model: {r['model']}.", "",
             (f"One-off export: ONNX fp32 {r['export']['fp32_s']} s ({r['export']['fp32_mb']} MB), "
              f"ONNX Runtime's int8 quantisation {r['export']['int8_s']} s more ({r['export']['int8_mb']} MB), "
              f"OpenVINO's int8 weights {r['export'].get('w8_s')} s more ({r['export'].get('w8_mb')} MB)." if r["export"]
              else "One-off export: not timed in this run."), "",
             "## Indexing throughput (full pipeline, medians; ratio to torch bf16 in the same run)", ""]
    for cname, c in r["throughput"].items():
        lines += [f"{cname}: {c['sentences']} sentences, {c['subword_tokens']} subword tokens.", "",
                  "| runtime | seconds (each run) | tokens/s | ratio to torch bf16 |", "|---|---|---:|---:|"]
        lines += [f"| {n} | {', '.join(map(str, v['seconds']))} | {v['tokens_per_s']} | {v['ratio_to_torch_bf16']} |"
                  for n, v in c["runtimes"].items()]
        lines.append("")
    lines += ["## Word vectors against torch fp32 (cosine; every word of the demo and the tricky sentences)", "",
              "| runtime | words | min | 1st percentile | mean | tricky min | warm query ms | warm forward ms |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {n} | {a['words']} | {a['min']} | {a['p1']} | {a['mean']} | {a['tricky_min']} | "
              f"{r['query_latency_ms'][n]} | {r.get('forward', {}).get(n, {}).get('ms')} |"
              for n, a in r["agreement_with_torch_fp32"].items()]
    if r.get("forward"):
        n = next(iter(r["forward"].values()))["subwords"]
        lines += ["", f"Warm forward: the bare forward pass of the first query ({n} subwords), median of "
                  "the latency repetitions; warm query: tokenising, forward and pooling, four queries in turn."]
    lines += ["", "## Operator profile (share of one forward pass over 64 demo sentences)", ""]
    for n, ops in r["operator_profile_percent"].items():
        lines.append(f"- {n}: " + ", ".join(f"{op} {pct}%" for op, pct in ops.items()))
    if "cold_search" in r:
        c = r["cold_search"]
        lines += ["", "## Cold `senseindex search`", "",
                  f"`senseindex search {c['index']} \"{c['query']}\" -k 5`, process start to printed result: "
                  f"{', '.join(map(str, c['seconds']))} s (median {c['median_s']} s); torch imported: "
                  f"{c['torch_imported']}, transformers imported: {c['transformers_imported']}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
