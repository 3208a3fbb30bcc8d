"""Sentence splitters on SemCor prose with known boundaries: boundary precision, recall, F1, throughput.

    .venv/bin/python bench/sentence_split.py [--semcor PATH] [--sample N] [--runs 3] [--quotes american]

SemCor sentences (pre-tokenised Brown corpus text) are detokenised into ordinary prose and the
sentences of each document re-joined, in order, into paragraphs of 5-10 sentences (one space between
sentences, lengths drawn with a fixed seed). The gold boundaries are the known sentence starts inside
each paragraph (a paragraph's own start is not counted). Each splitter runs over every paragraph;
a predicted boundary is the offset of a sentence start other than the paragraph's first one.

Ten hand-made spot checks (titles and initials after a sentence end, quotes, decimals, ...) are
run on every splitter too; the table counts the ones it passes.

Splitters: the rule-based `senseindex.text.corpus.split_sentences`, pysbd, syntok, blingfire (each
library wrapped to the same (offset, stripped sentence) contract), and `senseindex.text.sentences` when
that module exists. Throughput is the best of --runs timed passes over the same paragraphs; the
last column divides words/s by the indexing pipeline's 1,082 subword tokens/s (BENCHMARKS.md), a
lower bound on how much faster than the model the splitter runs (a word is >= 1 subword token).
The F1 difference against the first row has a 95% paired bootstrap interval over paragraphs.
Prints a Markdown table and one JSON line. Writes nothing. The data is never copied anywhere.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import random
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEMCOR = ROOT.parent / "shared" / "data" / "semcor" / "semcor30.jsonl.gz"
# bench/indexing.py, BENCHMARKS.md (2026-11-27): the full indexing pipeline on 2 cores
MODEL_TOKENS_PER_S = 1082.0
MODEL_SENTENCES_PER_S = 76.1

Splitter = Callable[[str], list[tuple[int, str]]]

# ---------------------------------------------------------------- detokenising SemCor

_NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "}", "%", "''", "'", "...", "n't"}
_NO_SPACE_AFTER = {"(", "[", "{", "``", "`", "$"}
_CLITIC = re.compile(r"^'(s|S|ll|d|re|ve|m|em)\b")
_QUOTES = {"``": '"', "''": '"', "`": "'"}


def detokenise(tokens: list[str], american: bool = True) -> str:
    """Brown/SemCor tokens to prose: `` and '' become ", no space before , . ; : ! ? ) 's n't etc.,
    none after ( [ `` $. With american=True a closing quote followed by . , ? ! swaps with it
    (SemCor writes `word '' .`; prose usually has `word."`)."""
    toks = list(tokens)
    if american:
        for i in range(len(toks) - 1):
            if toks[i] in ("''", "'") and toks[i + 1] in (".", ",", "?", "!"):
                toks[i], toks[i + 1] = toks[i + 1], toks[i]
    out: list[str] = []
    glue = True  # no space before the first token
    for tok in toks:
        attach = tok in _NO_SPACE_BEFORE or tok.startswith("n't") or bool(_CLITIC.match(tok))
        if out and not glue and not attach:
            out.append(" ")
        out.append(_QUOTES.get(tok, tok))
        glue = tok in _NO_SPACE_AFTER
    return "".join(out).strip()


def load_documents(path: Path, american: bool = True) -> list[list[str]]:
    """Detokenised sentences of each SemCor document, in file order."""
    docs: dict[tuple[str, str], list[tuple[int, str]]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            rec = json.loads(line)
            text = detokenise(rec["tokens"], american)
            if text:
                key = (str(rec.get("part", "")), str(rec["doc"]))
                docs.setdefault(key, []).append((rec.get("sent", n), text))
    return [[s for _, s in sorted(sents)] for sents in docs.values()]


def build_paragraphs(docs: list[list[str]], seed: int = 13, lo: int = 5, hi: int = 10):
    """Paragraphs of lo..hi consecutive sentences of one document: (text, gold sentence starts)."""
    rnd = random.Random(seed)
    paras: list[tuple[str, list[int]]] = []
    for sents in docs:
        i = 0
        while i < len(sents):
            run = sents[i : i + rnd.randint(lo, hi)]
            i += len(run)
            starts, pos = [], 0
            for s in run:
                starts.append(pos)
                pos += len(s) + 1
            paras.append((" ".join(run), starts))
    return paras


# ---------------------------------------------------------------- splitters, one contract


def _pairs(text: str, spans) -> list[tuple[int, str]]:
    """(start, end) character spans to (offset of first non-space char, stripped text) pairs."""
    out = []
    for b, e in spans:
        chunk = text[b:e]
        stripped = chunk.strip()
        if stripped:
            out.append((b + len(chunk) - len(chunk.lstrip()), stripped))
    return out


def make_pysbd() -> Splitter:
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False)

    def split(text: str) -> list[tuple[int, str]]:
        out, pos = [], 0
        for piece in seg.segment(text):
            s = piece.strip()
            if not s:
                continue
            i = text.find(s, pos)
            if i < 0:  # pysbd changed the text; keep the piece where we are (counted as a violation)
                i = pos
            out.append((i, s))
            pos = i + len(s)
        return out

    return split


def make_syntok() -> Splitter:
    from syntok.segmenter import analyze

    def split(text: str) -> list[tuple[int, str]]:
        spans = []
        for para in analyze(text):
            for sent in para:
                if sent:
                    spans.append((sent[0].offset, sent[-1].offset + len(sent[-1].value)))
        return _pairs(text, spans)

    return split


def make_blingfire() -> Splitter:
    import blingfire

    def split(text: str) -> list[tuple[int, str]]:
        if not text.strip():
            return []
        return _pairs(text, blingfire.text_to_sentences_and_offsets(text)[1])

    return split


# Hand-made spot checks (not SemCor): title and initials right after a sentence end, ! inside a
# quote before a lowercase word, a decimal before ?, a semicolon, a closing quote, "no." as a word.
SPOT_CHECKS: list[list[str]] = [
    ["He left early.", "Mr. Smith came later."],
    ["It was long.", "J. R. R. Tolkien wrote it."],
    ["I met Dr. Who.", "Dr. Watson was there."],
    ['"Hit the bum!" somebody yelled.', "Then it ended."],
    ["Is it 3.14?", "Yes."],
    ["Mantle covers more ground; Maris has the arm."],
    ['He said, "Go home."', "She did."],
    ["Oh no.", "She had reason."],
    ["The U.S. Army left.", "It rained."],
    ["Dr. Smith removed the mole.", "It was benign!", "Was it?", "Yes, said J. R. Jones."],
]


def spot_checks(split: Splitter) -> list[int]:
    """Indices of the SPOT_CHECKS the splitter gets wrong."""
    return [i for i, want in enumerate(SPOT_CHECKS) if [s for _, s in split(" ".join(want))] != want]


def make_current() -> Splitter:
    from senseindex.text.corpus import split_sentences

    return split_sentences


def make_new_module() -> Splitter:
    from senseindex.text.sentences import split_sentences

    return split_sentences


SPLITTERS: dict[str, Callable[[], Splitter]] = {
    "current (rules, corpus.py)": make_current,
    "pysbd": make_pysbd,
    "syntok": make_syntok,
    "blingfire": make_blingfire,
    "senseindex.text.sentences (new module)": make_new_module,
}

# ---------------------------------------------------------------- measuring


def score(split: Splitter, paras, runs: int) -> tuple[dict, list[tuple[int, int, int]]]:
    """Boundary counts (totals and per paragraph), offset-contract violations, best-of-runs time."""
    per: list[tuple[int, int, int]] = []
    bad = 0
    for text, gold in paras:
        pred = split(text)
        bad += sum(text[o : o + len(s)] != s for o, s in pred)
        p = {o for o, _ in pred} - {0}
        g = set(gold) - {0}
        per.append((len(p & g), len(p - g), len(g - p)))
    tp, fp, fn = (sum(c[i] for c in per) for i in range(3))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for text, _ in paras:
            split(text)
        times.append(time.perf_counter() - t)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": prec, "recall": rec, "f1": f1,
            "offset_violations": bad, "seconds": min(times), "seconds_all": [round(x, 3) for x in times]}, per


def f1_diff_ci(per_a, per_b, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% paired bootstrap interval (paragraphs resampled) of F1(a) - F1(b)."""
    import numpy as np

    a, b = np.asarray(per_a, dtype=np.float64), np.asarray(per_b, dtype=np.float64)
    n = len(a)
    w = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
    sa, sb = w @ a, w @ b  # (resamples, 3): tp, fp, fn
    f1a = 2 * sa[:, 0] / (2 * sa[:, 0] + sa[:, 1] + sa[:, 2])
    f1b = 2 * sb[:, 0] / (2 * sb[:, 0] + sb[:, 1] + sb[:, 2])
    lo, hi = np.percentile(f1a - f1b, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--semcor", type=Path, default=SEMCOR)
    ap.add_argument("--sample", type=int, default=0, help="use N random paragraphs (0: all of SemCor)")
    ap.add_argument("--runs", type=int, default=3, help="timed passes per splitter; the best is reported")
    ap.add_argument("--quotes", choices=("american", "semcor"), default="american",
                    help="american: period inside closing quotes (word.\"); semcor: as tokenised (word\".)")
    ap.add_argument("--only", nargs="*", help="names (substrings) of splitters to run")
    args = ap.parse_args()

    docs = load_documents(args.semcor, args.quotes == "american")
    paras = build_paragraphs(docs)
    total = len(paras)
    if args.sample and args.sample < total:
        paras = random.Random(7).sample(paras, args.sample)
    n_sent = sum(len(g) for _, g in paras)
    n_chars = sum(len(t) for t, _ in paras)
    n_words = sum(len(t.split()) for t, _ in paras)
    n_gold = n_sent - len(paras)

    results: dict[str, dict] = {}
    per: dict[str, list[tuple[int, int, int]]] = {}
    for name, make in SPLITTERS.items():
        if args.only and not any(o.lower() in name.lower() for o in args.only):
            continue
        try:
            split = make()
        except ImportError as exc:
            print(f"skipped {name}: {exc}")
            continue
        split("Warm up. Once.")
        r, per[name] = score(split, paras, args.runs)
        r["spot_checks_failed"] = spot_checks(split)
        r["sentences_per_s"] = n_sent / r["seconds"]
        r["chars_per_s"] = n_chars / r["seconds"]
        r["words_per_s"] = n_words / r["seconds"]
        r["x_model_tokens"] = r["words_per_s"] / MODEL_TOKENS_PER_S
        results[name] = r
    base = next(iter(results), None)
    for name, r in results.items():
        if name != base:
            lo, hi = f1_diff_ci(per[name], per[base])
            r["f1_minus_first"] = r["f1"] - results[base]["f1"]
            r["f1_minus_first_ci95"] = [round(lo, 4), round(hi, 4)]

    which = "all of SemCor 3.0" if len(paras) == total else f"{len(paras)} random paragraphs of {total:,}"
    print(f"## Sentence splitting on SemCor ({date.today().isoformat()}, {platform.machine()}, "
          f"{which}: {len(paras):,} paragraphs, {n_sent:,} sentences, {n_gold:,} gold boundaries, "
          f"{n_words:,} words, {n_chars:,} chars; quotes {args.quotes}; best of {args.runs} runs)\n")
    print(f"| splitter | precision | recall | F1 | F1 − first row [95% CI] | FP | FN | offset errors "
          f"| sentences/s | chars/s | words/s ÷ model {MODEL_TOKENS_PER_S:,.0f} tokens/s | spot checks passed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ci = (f"{r['f1_minus_first']:+.4f} [{r['f1_minus_first_ci95'][0]:+.4f}, {r['f1_minus_first_ci95'][1]:+.4f}]"
              if "f1_minus_first" in r else "—")
        print(f"| {name} | {r['precision']:.4f} | {r['recall']:.4f} | **{r['f1']:.4f}** | {ci} | {r['fp']:,} "
              f"| {r['fn']:,} | {r['offset_violations']} | {r['sentences_per_s']:,.0f} | {r['chars_per_s']:,.0f} "
              f"| {r['x_model_tokens']:,.0f}x | {len(SPOT_CHECKS) - len(r['spot_checks_failed'])}/{len(SPOT_CHECKS)} |")
    print("\nSpot checks (expected split; failures per splitter):")
    for i, want in enumerate(SPOT_CHECKS):
        failed = [n for n, r in results.items() if i in r["spot_checks_failed"]]
        print(f"{i}. {' | '.join(want)} — fails: {', '.join(failed) or 'none'}")
    print()
    print(json.dumps({
        "bench": "sentence_split", "date": date.today().isoformat(), "sample": which, "quotes": args.quotes,
        "paragraphs": len(paras), "sentences": n_sent, "gold_boundaries": n_gold, "words": n_words,
        "chars": n_chars, "runs": args.runs, "model_tokens_per_s": MODEL_TOKENS_PER_S,
        "results": {k: {m: (round(v, 4) if isinstance(v, float) else v) for m, v in r.items()}
                    for k, r in results.items()},
    }))


if __name__ == "__main__":
    main()
