"""Benchmark results as terminal tables and as Markdown for BENCHMARKS.md."""

from __future__ import annotations

from .coarsewsd import ANCHORS, TARGETS


def summary_rows(result: dict) -> list[tuple[str, list[float | None]]]:
    """The overall rows of both CoarseWSD-20 tables: micro accuracy, per-word mean, macro-F1,
    P@5 and P@10 of each method, then the published anchors (nearest sense centroid) and the target."""
    rows = [(m, [s["micro_accuracy"], s["per_word_accuracy_mean"], s["macro_f1_mean"],
                 s.get("precision_at_5"), s.get("precision_at_10")]) for m, s in result["methods"].items()]
    rows += [(f"{name} (published)", [*scores, None, None]) for name, scores in ANCHORS.items()]
    rows.append(("target", [*TARGETS, None, None]))
    return rows


def coarsewsd_table(result: dict) -> str:
    """Per-word accuracy per method, then the overall rows beside the published anchors."""
    methods = list(result["methods"])
    short = {"contextual-instance": "instance", "contextual-centroid": "centroid", "contextual-knn":
             f"kNN k={result['k']}", "static-context": "static-ctx", "static-sentence": "static-sent", "mfs": "MFS"}
    w = max(12, *(len(short.get(m, m)) + 1 for m in methods))
    head = f"{'word':<8}{'test':>6}  " + "".join(f"{short.get(m, m):>{w}}" for m in methods)
    lines = [f"CoarseWSD-20, {result['model']} layer {result['layer']} ({result['precision']}"
             f"{', stored through ' + result['codec'] if result.get('codec', 'exact') != 'exact' else ''}); "
             "accuracy % (macro-F1 %) per word", head, "-" * len(head)]
    for word in result["words"]:
        first = result["methods"][methods[0]]["per_word"][word]
        cells = "".join(
            f"{r['accuracy']:>{w - 7}.1f} ({r['macro_f1']:>4.0f})"
            for r in (result["methods"][m]["per_word"][word] for m in methods))
        lines.append(f"{word:<8}{first['n_test']:>6}  {cells}")
    widths = (10, 10, 10, 7, 7)
    lines += ["", f"{'':<24}{'micro acc':>10}{'word mean':>10}{'macro-F1':>10}{'P@5':>7}{'P@10':>7}"]
    for label, values in summary_rows(result):
        lines.append(f"{label:<24}" + "".join(f"{'' if v is None else f'{v:.1f}':>{w}}"
                                              for v, w in zip(values, widths, strict=True)).rstrip())
    lines.append(f"({result['seconds']:.0f}s; static-context = mean GloVe of the context words without the target, "
                 "static-sentence = with it)")
    return "\n".join(lines)


def layer_table(rows: list[dict]) -> str:
    head = (f"{'model':<40}{'layer':<8}{'states':<14}{'1-NN micro':>11}{'word mean':>10}{'macro-F1':>9}"
            f"{'centroid micro':>15}{'word mean':>10}{'macro-F1':>9}{'sec':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        a, c = r["contextual-instance"], r["contextual-centroid"]
        lines.append(f"{r['model']:<40}{r['layer']:<8}{str(r['hidden_states']):<14}{a['micro_accuracy']:>11.1f}"
                     f"{a['per_word_accuracy_mean']:>10.1f}{a['macro_f1_mean']:>9.1f}{c['micro_accuracy']:>15.1f}"
                     f"{c['per_word_accuracy_mean']:>10.1f}{c['macro_f1_mean']:>9.1f}{r['seconds']:>7.0f}")
    return "\n".join(lines)


BACKOFF_NAMES = {"wordnet_one_sense": "WordNet (one sense)", "wordnet": "WordNet first sense",
                 "lemma_mfs": "lemma MFS"}


def semcor_text(result: dict) -> str:
    lines = [f"SemCor held-out documents: {len(result['test_documents'])} test, {result['train_documents']} train "
             f"({result['train_instances']:,} labelled training occurrences); {result['model']} layer {result['layer']}",
             "Accuracy % over all held-out gold occurrences (in brackets: over those whose lemma and part of "
             "speech occur in training; for the others all methods give the same back-off answer: "
             + ("WordNet's first sense, else " if result.get("wordnet") else "") + "the lemma's most frequent sense)",
             f"{'':<8}{'instances':>10}{'coverage':>9}{'kNN k=' + str(result['k']):>16}{'1-NN':>16}{'MFS':>16}"]
    for name in ("all", "nouns", "verbs"):
        s = result[name]
        cells = "".join(f"{s[f'{m}_accuracy']:>8.1f} ({s[f'{m}_accuracy_covered']:>5.1f})" for m in ("knn", "1nn", "mfs"))
        lines.append(f"{name:<8}{s['instances']:>10,}{s['coverage']:>8.1f}%{cells}")
    parts = [f"{name} " + ", ".join(f"{BACKOFF_NAMES[kind]} {b['right']:,}/{b['answers']:,}"
                                    for kind, b in result[name]["backoff"].items() if b["answers"])
             for name in ("all", "nouns", "verbs") if any(b["answers"] for b in result[name]["backoff"].values())]
    if parts:
        lines.append("back-off answers (right/given): " + "; ".join(parts))
    lines.append(f"({result['seconds']:.0f}s)")
    return "\n".join(lines)


def coarsewsd_markdown(result: dict) -> str:
    """Per-word accuracy (macro-F1) table and the overall rows with the published anchors."""
    methods = list(result["methods"])
    lines = ["| word | test | " + " | ".join(methods) + " |", "|---|---:|" + "---:|" * len(methods)]
    for word in result["words"]:
        n = result["methods"][methods[0]]["per_word"][word]["n_test"]
        cells = " | ".join(f"{r['accuracy']:.1f} ({r['macro_f1']:.1f})"
                           for r in (result["methods"][m]["per_word"][word] for m in methods))
        lines.append(f"| {word} | {n} | {cells} |")
    lines += ["", "| method | micro accuracy | mean of per-word accuracy | mean of per-word macro-F1 | P@5 | P@10 |",
              "|---|---:|---:|---:|---:|---:|"]
    for label, values in summary_rows(result):
        lines.append(f"| {label} | " + " | ".join("" if v is None else f"{v:.1f}" for v in values) + " |")
    return "\n".join(lines)


def layer_markdown(rows: list[dict]) -> str:
    lines = ["| model | layer | hidden states | 1-NN micro | 1-NN word mean | 1-NN macro-F1 | centroid micro | "
             "centroid word mean | centroid macro-F1 | seconds |", "|---|---|---|" + "---:|" * 7]
    for r in rows:
        a, c = r["contextual-instance"], r["contextual-centroid"]
        lines.append(f"| {r['model'].rsplit('/', 1)[-1]} | {r['layer']} | {r['hidden_states']} of {r['num_layers']} | "
                     f"{a['micro_accuracy']:.1f} | {a['per_word_accuracy_mean']:.1f} | {a['macro_f1_mean']:.1f} | "
                     f"{c['micro_accuracy']:.1f} | {c['per_word_accuracy_mean']:.1f} | {c['macro_f1_mean']:.1f} | "
                     f"{r['seconds']:.0f} |")
    return "\n".join(lines)


def semcor_markdown(result: dict) -> str:
    lines = [f"| part | instances | coverage | k-NN (k={result['k']}) | 1-NN | MFS (training part) |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in ("all", "nouns", "verbs"):
        s = result[name]
        cells = " | ".join(f"{s[f'{m}_accuracy']:.1f} ({s[f'{m}_accuracy_covered']:.1f})" for m in ("knn", "1nn", "mfs"))
        lines.append(f"| {name} | {s['instances']:,} | {s['coverage']:.1f}% | {cells} |")
    return "\n".join(lines)


def coarsewsd_rows(result: dict) -> list[dict]:
    """One row per method and word, then one per method over all words (word "(all)")."""
    rows = []
    for method, s in result["methods"].items():
        for word, r in s["per_word"].items():
            rows.append({"method": method, "word": word, **r})
        rows.append({"method": method, "word": "(all)", "n_test": sum(r["n_test"] for r in s["per_word"].values()),
                     "accuracy": s["micro_accuracy"], "per_word_accuracy_mean": s["per_word_accuracy_mean"],
                     "macro_f1": s["macro_f1_mean"], "precision_at_5": s.get("precision_at_5"),
                     "precision_at_10": s.get("precision_at_10")})
    return rows


def semcor_rows(result: dict) -> list[dict]:
    """One row per part of speech group (all, nouns, verbs)."""
    rows = []
    for name in ("all", "nouns", "verbs"):
        row = {"part": name, **{k: v for k, v in result[name].items() if k != "backoff"}}
        for kind, b in result[name].get("backoff", {}).items():
            row[f"backoff_{kind}"], row[f"backoff_{kind}_right"] = b["answers"], b["right"]
        rows.append(row)
    return rows
