"""Active review measured with a simulated annotator on CoarseWSD-20 (issue 14).

Per word, every sentence (train and test pooled, as bench/wsi_coarsewsd20.py does) is one
occurrence; the annotator answers each question with the gold sense. After every answer the
k-NN labeller (`senseindex label`'s vote, k=10) labels all occurrences the annotator has not,
and the accuracy of those labels is recorded, for (a) the order `senseindex review` proposes
(batches of --batch, the clusters and doubts recomputed after each batch, exactly the code of
`senseindex.senses.active`) and (b) random order; --seeds runs of each (the seed moves the random
order, and the Ward sample of words above 4,000 occurrences; below that the tool's order is the
same on every seed). "Answers to 95 %" is the first answer count at which the accuracy reaches
95 %; a run that does not reach it within --budget answers counts as budget + 1 (so a mean
with such runs is a lower bound, marked >=).

    .venv/bin/python bench/review_curve.py                         # the 20 words (cached vectors only)
    .venv/bin/python bench/review_curve.py --words mole,bank --json
    .venv/bin/python bench/review_curve.py --markdown review.md --png docs/review_curve.png
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wsi_coarsewsd20 import load  # noqa: E402  (the pooled train+test vectors of one word)

from senseindex.evaluation.datasets import COARSEWSD_WORDS, CacheMiss, CacheOnly  # noqa: E402
from senseindex.senses.active import (  # noqa: E402
    STOP_STABLE,
    STOP_TARGET,
    make_pool,
    propose,
    stop_rule,
    vote,
    word_space,
)
from senseindex.senses.induction import SAMPLE  # noqa: E402
from senseindex.senses.knn import DEFAULT_K  # noqa: E402
from senseindex.senses.review_queue import review_clusters  # noqa: E402

CHECKPOINTS = (1, 2, 4, 8, 16, 32, 64)
TARGETS = (0.95, 0.98)


def simulate(X: np.ndarray, gold: np.ndarray, order: str, seed: int, budget: int, batch: int,
             clusters: tuple[np.ndarray, np.ndarray] | None = None, k: int = DEFAULT_K,
             stop: tuple[int, float] = (STOP_STABLE, STOP_TARGET)) -> dict:
    """One replay of the review loop: accuracy on the unlabelled rest after each answer, the
    answer at which each gold sense was first seen, and the first answer at which the stopping
    rule (senses.active.stop_rule: predictions unchanged over the last `stop[0]` answers and the
    leave-one-out estimate >= `stop[1]`) says "you can stop here" (None: not within the budget).
    The rule sees only what the tool sees: the answers so far, never the gold of the rest."""
    n = len(X)
    budget = min(budget, n - 1)
    rng = np.random.default_rng(seed)
    C = int(gold.max()) + 1
    cuts = clusters if clusters is not None else review_clusters(X, seed)
    groups = tuple(cuts)  # what the tool's stopping rule checks coverage of, in either order
    if order == "tool":
        pool = make_pool(X, *cuts)
        W = pool.W
    else:
        W = word_space(X)
        queue = list(rng.permutation(n)[:budget])
    labelled: list[int] = []
    S = np.zeros((n, budget), np.float32)  # cosine of every row to each labelled row, in answer order
    mask = np.ones(n, bool)
    curve, first_seen, stop_at = [], {}, None
    while len(labelled) < budget:
        if order == "tool":
            lab = np.array(labelled, dtype=np.int64)
            picks = [p.row for p in propose(pool, lab, gold[lab], C,
                                            min(batch, budget - len(labelled)), seed=seed)]
        else:
            picks = queue[len(labelled): len(labelled) + batch]
        if not picks:
            break
        for i in picks:
            m = len(labelled)
            labelled.append(int(i))
            S[:, m] = W @ W[i]
            mask[i] = False
            first_seen.setdefault(int(gold[i]), m + 1)
            v = vote(S[mask, : m + 1], gold[labelled], C, k)
            curve.append(float(np.mean(v.label == gold[mask])))
            if stop_at is None and stop_rule(W, np.array(labelled), gold[labelled], C, k, *stop,
                                             groups=groups)["can_stop"]:
                stop_at = m + 1
    return {"curve": curve, "first_seen": first_seen, "stop_at": stop_at}


def answers_to(curve: list[float], target: float, budget: int) -> int:
    for m, acc in enumerate(curve, 1):
        if acc >= target - 1e-12:
            return m
    return budget + 1


def run_word(X: np.ndarray, y: np.ndarray, seeds: int, budget: int, batch: int,
             orders: tuple[str, ...] = ("tool", "random"), stop: tuple[int, float] = (STOP_STABLE, STOP_TARGET)) -> dict:
    senses = sorted(set(y.tolist()))
    gold = np.array([senses.index(s) for s in y])
    out = {"n": len(y), "senses": {s: int((gold == i).sum()) for i, s in enumerate(senses)}}
    for order in orders:
        # below the Ward sample size the seed changes nothing in the clusters: make them once
        once = review_clusters(X, 0) if len(X) <= SAMPLE else None
        runs = [simulate(X, gold, order, seed, budget, batch, once, stop=stop) for seed in range(seeds)]
        curves = np.array([r["curve"] for r in runs])
        out[order] = {
            "curve_mean": curves.mean(0).round(4).tolist(),
            "stop_at": [r["stop_at"] for r in runs],  # answers at which the stopping rule fired (None: never)
            "accuracy_at_stop": [None if r["stop_at"] is None else round(r["curve"][r["stop_at"] - 1], 4)
                                 for r in runs],
            **{f"answers_to_{round(t * 100)}": [answers_to(r["curve"], t, budget) for r in runs] for t in TARGETS},
            "first_seen": {senses[c]: float(np.mean([r["first_seen"].get(c, budget + 1) for r in runs]))
                           for c in range(len(senses))},
        }
    return out


def summary(words: dict[str, dict], budget: int) -> dict:
    """Means over the words of the per-word mean answers, tool and random; the stopping rule's
    answers and accuracy at stop (runs where it never fired count as the budget, at the
    accuracy after the budget)."""
    out = {}
    for order in ("tool", "random"):
        at = [a if a is not None else budget for w in words.values() for a in w[order]["stop_at"]]
        acc = [x if x is not None else w[order]["curve_mean"][-1] for w in words.values()
               for x in w[order]["accuracy_at_stop"]]
        out[f"mean_answers_at_stop_{order}"] = round(float(np.mean(at)), 2) if at else None
        out[f"mean_accuracy_at_stop_{order}"] = round(float(np.mean(acc)), 4) if acc else None
        out[f"runs_stopped_{order}"] = sum(a is not None for w in words.values() for a in w[order]["stop_at"])
        out[f"runs_stopped_below_95_{order}"] = sum(x is not None and x < 0.95 for w in words.values()
                                                   for x in w[order]["accuracy_at_stop"])
    for t in ("95", "98"):
        for order in ("tool", "random"):
            per_word = [float(np.mean(w[order][f"answers_to_{t}"])) for w in words.values()]
            out[f"mean_answers_to_{t}_{order}"] = round(float(np.mean(per_word)), 2) if per_word else None
            out[f"runs_not_reaching_{t}_{order}"] = sum(a > budget for w in words.values()
                                                        for a in w[order][f"answers_to_{t}"])
    return out


def fmt_answers(values: list[int], budget: int) -> str:
    mean = float(np.mean(values))
    return (">=" if any(v > budget for v in values) else "") + f"{mean:.1f}"


def markdown(result: dict) -> str:
    budget = result["budget"]
    head = ("| word | occurrences | senses (smallest share) | answers to 95 %: tool / random | to 98 %: tool / random "
            "| accuracy after 1 / 4 / 16 / 64 answers: tool | random | answer at which each sense was first seen (tool; "
            "random) |")
    lines = [head, "|---|---:|---|---:|---:|---|---|---|"]
    for word, w in result["words"].items():
        smallest = min(w["senses"].values()) / w["n"]
        acc = {o: " / ".join(f"{w[o]['curve_mean'][c - 1]:.3f}" if c <= len(w[o]["curve_mean"]) else "-"
                             for c in (1, 4, 16, 64)) for o in ("tool", "random")}
        seen = ", ".join(f"{s.split('_', 1)[-1]} {w['tool']['first_seen'][s]:.0f}; {w['random']['first_seen'][s]:.0f}"
                         for s in w["senses"])
        lines.append(f"| {word} | {w['n']:,} | {len(w['senses'])} ({smallest:.1%}) | "
                     f"{fmt_answers(w['tool']['answers_to_95'], budget)} / {fmt_answers(w['random']['answers_to_95'], budget)} | "
                     f"{fmt_answers(w['tool']['answers_to_98'], budget)} / {fmt_answers(w['random']['answers_to_98'], budget)} | "
                     f"{acc['tool']} | {acc['random']} | {seen} |")
    s = result["summary"]
    lines.append(f"| **mean ({len(result['words'])} words)** | | | **{s['mean_answers_to_95_tool']:.1f}** / "
                 f"{s['mean_answers_to_95_random']:.1f} | **{s['mean_answers_to_98_tool']:.1f}** / "
                 f"{s['mean_answers_to_98_random']:.1f} | | | |")
    lines += ["", "Stopping rule (tool order): answers at stop / accuracy at stop, per seed; 95 % and 98 % reached at",
              "", "| word | answers at stop | accuracy at stop | answers to 95 % | answers to 98 % |",
              "|---|---|---|---:|---:|"]
    for word, w in result["words"].items():
        t = w["tool"]
        lines.append(f"| {word} | {', '.join('-' if a is None else str(a) for a in t['stop_at'])} | "
                     f"{', '.join('-' if a is None else f'{a:.3f}' for a in t['accuracy_at_stop'])} | "
                     f"{fmt_answers(t['answers_to_95'], budget)} | {fmt_answers(t['answers_to_98'], budget)} |")
    lines.append(f"| **mean** | {s['mean_answers_at_stop_tool']:.1f} ({s['runs_stopped_tool']} runs stopped) | "
                 f"{s['mean_accuracy_at_stop_tool']:.3f} | | |")
    return "\n".join(lines)


def plot(result: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for order, colour in (("tool", "#1f77b4"), ("random", "#d62728")):
        curves = [w[order]["curve_mean"] for w in result["words"].values()]
        m = min(len(c) for c in curves)
        mean = np.mean([c[:m] for c in curves], 0)
        ax.plot(np.arange(1, m + 1), mean, color=colour, label=f"{order} order")
    for t in TARGETS:
        ax.axhline(t, color="#999", lw=0.8, ls="--")
    ax.set_xscale("log", base=2)
    ax.set_xticks(CHECKPOINTS, [str(c) for c in CHECKPOINTS])
    ax.set_xlabel("answers from the annotator")
    ax.set_ylabel("accuracy on the occurrences not answered")
    ax.set_title(f"Active review, CoarseWSD-20 ({len(result['words'])} words, mean of "
                 f"{result['seeds']} seeds, batches of {result['batch']})", fontsize=9)
    ax.set_ylim(max(0.5, ax.get_ylim()[0]), 1.0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", help="Comma-separated words (default: the 20 of CoarseWSD-20).")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=64, help="Answers per run (default 64).")
    ap.add_argument("--batch", type=int, default=10, help="Questions per batch in the tool's order (review -n).")
    ap.add_argument("--stop-window", type=int, default=STOP_STABLE,
                    help="Stopping rule: answers over which the predictions must not change.")
    ap.add_argument("--stop-target", type=float, default=STOP_TARGET,
                    help="Stopping rule: the leave-one-out estimate it needs.")
    ap.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object (summary and words).")
    ap.add_argument("--markdown", help="Write the per-word table to this file.")
    ap.add_argument("--png", help="Write the plot of the mean curves to this file.")
    ap.add_argument("--save", help="Write the full result (curves included) as JSON to this file.")
    ap.add_argument("--load", action="append", default=[], metavar="FILE",
                    help="Take the words of a --save file instead of running them (repeatable; runs none when "
                         "--words is not given), e.g. to merge runs made while the vector cache filled.")
    args = ap.parse_args(argv)
    words = [w.strip() for w in args.words.split(",") if w.strip()] if args.words else list(COARSEWSD_WORDS)
    t0 = time.perf_counter()
    result = {"date": f"{datetime.now(timezone.utc):%Y-%m-%d}", "machine": platform.machine(), "seeds": args.seeds,
              "budget": args.budget, "batch": args.batch, "k": DEFAULT_K, "stop_window": args.stop_window,
              "stop_target": args.stop_target, "skipped": [], "words": {}}
    for path in args.load:
        saved = json.loads(Path(path).read_text())
        if (saved["seeds"], saved["budget"], saved["batch"]) != (args.seeds, args.budget, args.batch):
            ap.error(f"{path} was run with other --seeds/--budget/--batch")
        result["words"].update(saved["words"])
    if args.load and not args.words:
        words = []
    encoder = None
    for word in words:
        if encoder is None:
            from senseindex.encoding.encoder import Encoder

            encoder = CacheOnly(Encoder("mpnet"))  # the cache's identity; nothing is encoded here
        try:
            X, y, _ = load(encoder, word)
        except CacheMiss:
            result["skipped"].append(word)
            print(f"{word:<8} skipped: vectors not cached", file=sys.stderr)
            continue
        t = time.perf_counter()
        w = run_word(X.astype(np.float32), y, args.seeds, args.budget, args.batch,
                     stop=(args.stop_window, args.stop_target))
        result["words"][word] = w
        print(f"{word:<8} n={w['n']:>5} tool: to 95% {np.mean(w['tool']['answers_to_95']):.1f}, to 98% "
              f"{np.mean(w['tool']['answers_to_98']):.1f}, stop at {w['tool']['stop_at']} with accuracy "
              f"{w['tool']['accuracy_at_stop']}  ({time.perf_counter() - t:.0f}s)", file=sys.stderr, flush=True)
    result["words"] = dict(sorted(result["words"].items()))
    result["summary"] = summary(result["words"], args.budget)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.save:
        Path(args.save).write_text(json.dumps(result, indent=1))
    if args.png and result["words"]:
        plot(result, args.png)
    table = markdown(result) if result["words"] else "(no word had cached vectors)"
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    if args.as_json:
        print(json.dumps({**result["summary"], "words": {w: {"n": r["n"], "senses": r["senses"],
                                                             **{o: {kk: vv for kk, vv in r[o].items()
                                                                    if kk != "curve_mean"} for o in ("tool", "random")}}
                                                         for w, r in result["words"].items()},
                          "skipped": result["skipped"], "seeds": args.seeds, "budget": args.budget,
                          "batch": args.batch, "seconds": result["seconds"]}))
    else:
        print(table)
        print(f"\n{result['date']}, {result['machine']}, {len(result['words'])} words in {result['seconds']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
