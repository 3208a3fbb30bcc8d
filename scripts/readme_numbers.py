"""The README's headline table, generated from the benchmarks' saved results (bench/out/*.json).

Each row names the result file and the fields it reads, so a figure in the README is always the
one the benchmark last measured; `tests/test_docs.py` fails while the README's table differs
from what this script writes. Run `python scripts/readme_numbers.py --write` after a benchmark
has written new results. A result file holds its own `date`, `machine` and `command`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
README = ROOT / "README.md"
BEGIN, END = "<!-- numbers:begin -->", "<!-- numbers:end -->"


def load(name: str) -> dict:
    path = OUT / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path.relative_to(ROOT)} is missing: run the benchmark that writes it")
    return json.loads(path.read_text(encoding="utf-8"))


def n(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


# (what the row measures, result file, the cell text from that file's JSON)
ROWS: list[tuple[str, str, Callable[[dict], str]]] = []


def row(what: str, name: str):
    def add(fn: Callable[[dict], str]) -> Callable[[dict], str]:
        ROWS.append((what, name, fn))
        return fn
    return add


@row("CoarseWSD-20, k-NN labelling (default model and runtime): micro / per-word mean accuracy, "
     "against GloVe's mean context vector", "coarsewsd20-openvino-bf16")
def _coarse(d: dict) -> str:
    c, s = d["methods"]["contextual-knn"], d["methods"]["static-context"]
    return (f"**{n(c['micro_accuracy'], 2)} / {n(c['per_word_accuracy_mean'], 2)}** against "
            f"{n(s['micro_accuracy'], 2)} / {n(s['per_word_accuracy_mean'], 2)}")


@row("SemCor, every answer from context (sense vectors + k-NN): all / nouns / verbs, against k-NN alone",
     "dictionary-semcor")
def _semcor(d: dict) -> str:
    r = d["test"]["results"]
    f, k = r["label_default"], r["knn_only"]
    return (f"**{n(f['all']['accuracy'], 2)} / {n(f['nouns']['accuracy'], 2)} / {n(f['verbs']['accuracy'], 2)}** "
            f"against {n(k['all']['accuracy'], 2)} (every test instance of all of SemCor)")


@row("Vectors that clusters and re-ranking read: mean cosine to the exact vector, default codec against PQ64",
     "codec_fidelity")
def _fidelity(d: dict) -> str:
    by = {c["codec"]: c for c in d["codecs"]}
    return (f"**{by['PQ16,Refine(SQ4)']['faithful_cosine']['mean']:.4f}** against "
            f"{by['PQ64']['search_cosine']['mean']:.4f}")


@row("10 M occurrences: disk per occurrence; same-lemma search p50 for lemmas of 100 / 10 k / 1 M", "scale")
def _scale(d: dict) -> str:
    g = {x["measure"]: x["result"] for x in d["goals"]}
    size = g["disk per occurrence (whole folder, default codec)"]
    p50 = [g[m].split("p50 ")[1].split(",")[0] for m in (
        "same-lemma search at 10 M, lemma of ~100", "same-lemma search at 10 M, lemma of ~10,000",
        "same-lemma search at 10 M, lemma of ~1 M")]
    return f"{size}; {' / '.join(p50)}"


@row("Encoder on a CPU (one run): indexing throughput of OpenVINO bf16 against PyTorch bf16, demo x10 / "
     "SemCor sample; one query sentence's forward pass, int8 (searches) / bf16", "encoder_runtimes")
def _runtimes(d: dict) -> str:
    t, f = d["throughput"], d["forward"]
    ratios = " / ".join(f"{t[c]['runtimes']['openvino bf16']['ratio_to_torch_bf16']:.2f}x" for c in t)
    return f"{ratios}; {f['openvino int8']['ms']:.1f} ms / {f['openvino bf16']['ms']:.1f} ms"


@row("Active review on CoarseWSD-20: answers until the rest is 95 % / 98 % right, tool order against random",
     "review_curve")
def _review(d: dict) -> str:
    t, r = d["tool"], d["random"]
    return f"{n(t['answers_95'])} / {n(t['answers_98'])} against {n(r['answers_95'])} / {n(r['answers_98'])}"


@row("Web workbench, 8 clients: p50 paging one concordance / new searches", "web_load_paging")
def _web(d: dict) -> str:
    return f"{n(d['paging']['p50_ms'], 0)} ms / {n(d['concurrent']['p50_ms'], 0)} ms"


@row("Crash safety: SIGKILLs during index, labels import, remove and compact", "faults")
def _faults(d: dict) -> str:
    c = d["crash"]
    return f"{c['kills']:,} kills: {c['lost']} lost, {c['duplicated']} duplicated, {c['failed_opens']} failed opens"


def table() -> str:
    lines = ["| measure | result | measured |", "|---|---|---|"]
    for what, name, fn in ROWS:
        d = load(name)
        lines.append(f"| {what} | {fn(d)} | {d['date'][:10]}, `{Path('bench/out') / (name + '.json')}` |")
    return "\n".join(lines)


def render(readme: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write README.md (default: exit 1 if it is stale)")
    args = ap.parse_args()
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if args.write:
        README.write_text(new, encoding="utf-8")
    elif new != text:
        sys.exit("README.md's headline numbers are stale: run python scripts/readme_numbers.py --write")


if __name__ == "__main__":
    main()
