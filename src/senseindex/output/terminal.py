"""Results as text for a terminal: KWIC tables, matrices, summaries (machine-readable rows are in rows.py)."""

from __future__ import annotations

import shutil

import click

from senseindex.storage.labels import SOURCES


def kwic(text: str, start: int | None, end: int | None, width: int, color: bool) -> str:
    """Keyword-in-context: the target centred and highlighted, the sentence cut to fit."""
    if start is None or end is None:
        return text if len(text) <= width else text[: width - 1] + "…"
    word = text[start:end]
    side = max(8, (width - len(word) - 2) // 2)
    left = " ".join(text[:start].split())
    right = " ".join(text[end:].split())
    left = ("…" + left[-(side - 1) :]) if len(left) > side else left
    right = (right[: side - 1] + "…") if len(right) > side else right
    mark = click.style(word, bold=True, fg="yellow") if color else f"[{word}]"
    pad = " " * max(0, side - len(left))
    return f"{pad}{left} {mark} {right}".rstrip()


def hits_table(hits, color: bool = False, width: int | None = None) -> str:
    width = width or shutil.get_terminal_size((120, 20)).columns
    if not hits:
        return "(no results)"
    show_label = any(h.label for h in hits)
    lab_w = max([len(h.label or "") for h in hits] + [5]) if show_label else 0
    lines = []
    for h in hits:
        where = f"{h.doc.rsplit('/', 1)[-1]}:{h.line}"
        score = "     -" if h.score is None else f"{h.score:6.3f}"
        head = f"{h.rank:>3}  {score}  " + (f"{(h.label or '-'):<{lab_w}}  " if show_label else "")
        room = max(30, width - len(head) - len(where) - 2)
        lines.append(f"{head}{kwic(h.text, h.start, h.end, room, color)}  {click.style(where, dim=True) if color else where}")
    return "\n".join(lines)


def compare_table(left, right, width: int | None = None) -> str:
    """Contextual and static results in two columns, rank by rank."""
    width = width or shutil.get_terminal_size((160, 20)).columns
    col = max(40, (width - 3) // 2)
    show_label = any(h.label for h in [*left, *right])

    def cell(h) -> str:
        if h is None:
            return ""
        head = f"{h.rank:>2} {h.score:5.2f} " + (f"{h.label or '-'} " if show_label else "")
        return head + kwic(h.text, h.start, h.end, col - len(head), False).strip()

    out = [f"{'contextual (one vector per occurrence)':<{col}} | static GloVe (one vector per word)",
           "-" * (2 * col + 3)]
    for i in range(max(len(left), len(right))):
        a = cell(left[i] if i < len(left) else None)
        b = cell(right[i] if i < len(right) else None)
        out.append(f"{a:<{col}} | {b}")
    return "\n".join(out)


def matrix(rows: list[list[float | None]]) -> str:
    head = "      " + " ".join(f"{i + 1:>6}" for i in range(len(rows)))
    lines = [head]
    for i, row in enumerate(rows):
        cells = " ".join(f"{'  n/a' if x is None else format(x, '6.3f'):>6}" for x in row)
        lines.append(f"{i + 1:>4}  {cells}")
    return "\n".join(lines)


def explain_text(result: dict, color: bool = False) -> str:
    occ = result["occurrences"]
    out = ["Sentences:"]
    for i, o in enumerate(occ, 1):
        out.append(f"  {i}. {kwic(o['sentence'], o['start'], o['end'], 100, color).strip()}")
    out.append("")
    out.append(f"Contextual cosine ({result['model']}, layer {result['layer']}): one vector per occurrence")
    out.append(matrix(result["contextual_cosine"]))
    out.append("")
    out.append(f"Static cosine ({result['static_model']}): one vector per word")
    out.append(matrix(result["static_cosine"]))
    if any(o.get("wordnet_sense") for o in occ):
        out.append("")
        out.append("WordNet 3.0 sense each occurrence reads as:")
        for i, o in enumerate(occ, 1):
            s = o.get("wordnet_sense")
            out.append(f"  {i}. " + (f"{s['key']}  {s['synset']}: {s['gloss']}" if s else "(not in WordNet)"))
        same = result.get("same_wordnet_sense") or []
        for i in range(len(occ)):
            for j in range(i + 1, len(occ)):
                if same[i][j] is not None:
                    out.append(f"  {i + 1} and {j + 1}: {'same' if same[i][j] else 'different'} WordNet sense "
                               f"(cosine {result['contextual_cosine'][i][j]:.2f})")
    if "contextual_neighbours" in occ[0]:
        out.append("")
        out.append("Nearest other words in the index:")
        for i, o in enumerate(occ, 1):
            ctx = ", ".join(f"{n['word']} {n['score']:.2f}" for n in o["contextual_neighbours"]) or "-"
            st = ", ".join(f"{n['word']} {n['score']:.2f}" for n in o["static_neighbours"]) or "-"
            out.append(f"  {i}. {o['word']}  contextual: {ctx}")
            out.append(f"     {' ' * len(o['word'])}  static:     {st}")
    return "\n".join(out)


def info_text(info: dict) -> str:
    def mb(n: int) -> str:
        return f"{n / 1e6:.1f} MB"

    labels = ", ".join(f"{k} {v:,}" for k, v in info["labels"].items()) or "none"
    rows = [
        ("index", info["path"]),
        ("documents", f"{info['documents']:,}" + (f" ({info['documents_incomplete']} incomplete: run index again to finish)" if info["documents_incomplete"] else "")),
        ("sentences", f"{info['sentences']:,}"),
        ("occurrences", f"{info['occurrences']:,}" + (
            f"; {info['word']['lemma']}: {info['word']['occurrences']:,}"
            + (f" ({info['word']['per_million']:,.1f} per million)" if info["word"]["per_million"] is not None else "")
            if info.get("word") else "")),
        ("tokens", f"{info['tokens']:,} (words and numbers, punctuation excluded)" if info.get("tokens") is not None
         else "unknown (an index from before token counts: the next write, e.g. senseindex upgrade, counts them)"),
        ("vocabulary", f"{info['vocabulary_words']:,} word forms, {info['vocabulary_lemmas']:,} lemmas ({info['glove_missing_words']:,} not in GloVe)"),
        ("labels", labels),
        ("model", f"{info['model']} (layer {info['layer']}, {info['pooling']}, {info['precision']} "
                  f"{info.get('runtime', 'torch')}, {info['dimensions']} dims"
                  + (f"; searches encode queries in {info['query_precision']}"
                     if info.get("query_precision", info["precision"]) != info["precision"] else "") + ")"),
        ("vectors", f"codec {info['codec']}" + (f", {info['code_bytes']} bytes a vector" if info["codec_trained"] else
                    f" (trained at 50,000 vectors; exact float16, {info['code_bytes']} bytes, until then)"
                    if info["codec"].lower() != "fp16" else f" (exact, {info['code_bytes']} bytes a vector)")
                    + (f"; exact {info['keep_vectors']} kept" if info.get("keep_vectors") else "")
                    + (f"; {info['removed_awaiting_compaction']:,} removed, awaiting compaction"
                       if info.get("removed_awaiting_compaction") else "")),
        *[(f"  {t['tier']} tier", f"{t['codec'] or 'none'}, {t['bytes_per_vector']:,} bytes a vector"
           + (f" x {t['copies']} copies" if t["copies"] > 1 else "") + f"; read by {t['read_by']}")
          for t in info.get("tiers", [])],
        ("static", info["static_model"]),
        ("lemmatiser", info["lemmatiser"]),
        ("size on disk", mb(info["size_bytes"]) + (f" ({info['bytes_per_occurrence']:,.0f} bytes per occurrence)" if info["bytes_per_occurrence"] else "")),
    ]
    return "\n".join(f"{k:<13} {v}" for k, v in rows)


def senses_text(report, width: int = 100) -> str:
    """One block per sense cluster with its distinctive words and most representative sentences."""
    out = [f"{report.lemma}: {report.occurrences:,} occurrences, {report.k} sense cluster(s) ({report.how})"]
    if report.sampled:
        out.append(f"(tree built on a seeded sample of {report.sampled:,}; every occurrence assigned to its nearest cluster)")
    out.append("")
    out.append(f"{'cluster':>7}  {'size':>7}  {'share':>6}  name / distinctive words")
    matched = {c["cluster"]: c for c in (getattr(report, "dictionary", None) or {}).get("clusters", [])}
    for s in report.senses:
        out.append(f"{s.cluster:>7}  {s.size:>7,}  {s.share:>6.1%}  {s.name}: {', '.join(s.words) or '-'}")
        if s.cluster in matched:
            m = matched[s.cluster]
            if m["new_sense"]:
                out.append(f"{'':>9}candidate new sense: no WordNet sense fits ({report.dictionary['statistic']} "
                           f"{m['fit']:.3f} < {report.dictionary['threshold']})")
            for d in m["senses"][:2]:
                out.append(f"{'':>9}WordNet {d['similarity']:.2f}  {d['synset']} ({d['key']}): {d['gloss']}"[:width + 40])
        for o in s.examples:
            out.append(f"{'':>9}{o.similarity:5.2f}  {kwic(o.sentence, o.start, o.end, width - 16, False).strip()}")
    return "\n".join(out)


def label_summary_text(summary: dict) -> str:
    """Counts per label by source, and the label in effect."""
    head = f"{summary['lemma']}: {summary['occurrences']:,} occurrences, {summary['labelled']:,} labelled"
    if not summary["labels"]:
        return head + "\n(no labels)"
    w = max(5, *(len(r["label"]) for r in summary["labels"]))
    cols = [*SOURCES, "effective"]
    lines = [head, f"{'label':<{w}}  " + "  ".join(f"{c:>9}" for c in cols)]
    for r in summary["labels"]:
        lines.append(f"{r['label']:<{w}}  " + "  ".join(f"{r[c]:>9,}" for c in cols))
    return "\n".join(lines)


def check_text(r: dict) -> str:
    """`senseindex check`: one line per problem, then what was verified."""
    lines = [f"{p['file']}: {p['what']}" + ("" if p["derivable"] else " (cannot be derived)") for p in r["problems"]]
    lines += [f"note: {n}" for n in r["notes"]]
    if r["unverified"]:
        lines.append(f"note: {len(r['unverified'])} file(s) have no checksum (written before checksums existed; "
                     "senseindex repair records them)")
    if r["leftovers"]:
        lines.append(f"note: {len(r['leftovers'])} file(s) left by an interrupted write (the next writer deletes them)")
    head = "ok" if r["ok"] else f"DAMAGED: {len(r['problems'])} problem(s)" + (
        "; run senseindex repair" if all(p["derivable"] for p in r["problems"]) else "")
    lines.append(f"{head}: {r['files_checked']} files, {r['bytes_checked'] / 1e6:,.1f} MB, "
                 f"{r['vector_rows']:,} vector rows for {r['occurrences']:,} occurrences checked in {r['seconds']:.2f}s")
    return "\n".join(lines)


def repair_text(r: dict) -> str:
    lines = [f"repaired: {x}" for x in r["repaired"]] or ["nothing to repair"]
    lines += [f"still damaged: {p}" for p in r["problems_after"]]
    lines.append("ok" if r["ok"] else "repair could not fix everything")
    return "\n".join(lines)


def review_status_text(status: dict) -> str:
    """Who labelled a word's occurrences, and the accuracy estimate, for `review --status`."""
    n = status["occurrences"]

    def part(c: int) -> str:
        return f"{c:>7,}  {c / n:6.1%}" if n else f"{c:>7,}"

    acc = status["estimated_accuracy"]
    lines = [f"{status['lemma']}: {n:,} occurrences",
             f"  by a person (review)  {part(status['by_person'])}",
             f"  gold                  {part(status['gold'])}",
             f"  by k-NN (predicted)   {part(status['by_knn'])}",
             f"  unlabelled            {part(status['unlabelled'])}",
             f"  skipped               {status['skipped']:>7,}",
             "estimated accuracy: " + (f"{acc:.1%} (leave-one-out on {status['estimated_from']:,} review and gold "
                                       "labels; pessimistic, as review asks about the hard cases)"
                                       if acc is not None else "- (needs two labels)")]
    if status["senses"]:
        lines.append("senses: " + ", ".join(f"{s} {c:,}" for s, c in status["senses"].items()))
    if status.get("stop"):
        lines.append(stop_text(status["stop"]))
    return "\n".join(lines)


def stop_text(stop: dict) -> str:
    """The stopping rule in words: "you can stop here" with its figures, or what it still waits for."""
    est = "-" if stop["estimate"] is None else f"{stop['estimate']:.1%}"
    figures = (f"predictions for the rest unchanged over the last {stop['stable_answers']} of {stop['window']} answers, "
               f"estimated accuracy {est} (target {stop['target']:.0%}), "
               f"{stop.get('clusters_unasked', 0)} cluster(s) not asked yet")
    return ("you can stop here: " if stop["can_stop"] else "keep going: ") + figures


def review_questions_text(batch, width: int | None = None) -> str:
    """The proposed occurrences, numbered, with why each is asked and the current guess."""
    width = width or shutil.get_terminal_size((120, 20)).columns
    if not batch.questions:
        return f"{batch.lemma}: nothing left to ask (every occurrence is labelled or skipped)"
    lines = [f"{batch.lemma}: {len(batch.questions)} occurrence(s) to label"
             + (f"; senses so far: {', '.join(batch.senses)}" if batch.senses else "")]
    for q in batch.questions:
        guess = f"{q.predicted} {q.confidence:.2f}" if q.predicted else "-"
        head = f"{q.occurrence_id:>8}  {q.reason:<15}  {guess:<18}  "
        lines.append(head + kwic(q.sentence, q.start, q.end, max(30, width - len(head)), False).strip())
    return "\n".join(lines)


def frequency_text(freq: dict) -> str:
    """`senseindex freq`: the lemma's count and per million, then per label, cluster and document."""
    def pm(x):
        return "–" if x is None else f"{x:,.1f}"

    size = "unknown" if freq["corpus_tokens"] is None else f"{freq['corpus_tokens']:,}"
    lines = [f"{freq['lemma']}: {freq['count']:,} occurrences, {pm(freq['per_million'])} per million "
             f"(corpus: {size} tokens)"]
    for title, key, name in (("label", "labels", "label"), ("cluster", "clusters", "cluster"),
                             ("document", "documents", "doc_name")):
        if not freq.get(key):
            continue
        lines.append(f"\nper {title}:" + ("  (per million of the document's own tokens)" if key == "documents" else ""))
        for r in freq[key]:
            shown = "(none)" if r[name] is None else r[name]
            lines.append(f"  {str(shown):<24} {r['count']:>8,}  {pm(r['per_million']):>12}")
    return "\n".join(lines)


def collocates_text(data: dict) -> str:
    """`senseindex collocates`: per sense, its collocates with count, frequency and logDice."""
    lines = [f"{data['lemma']}: {data['item']} collocates within ±{data['window']} tokens, per {data['by']}"]
    for g in data["groups"]:
        lines.append(f"\n{data['by']} {g['group']} ({g['size']:,} occurrences)")
        lines.append(f"  {'collocate':<20} {'count':>6} {'freq':>7} {'logDice':>8}")
        for c in g["collocates"]:
            lines.append(f"  {c['item']:<20} {c['count']:>6,} {c['frequency']:>7,} {c['log_dice']:>8.2f}")
        if not g["collocates"]:
            lines.append("  (none)")
    return "\n".join(lines)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)  # a year is no count: 1991, not 1,991
    return str(value)


def simple_table(rows: list[dict], columns: list[str]) -> str:
    """Rows as aligned columns with a header (numbers right-aligned): metadata fields, subcorpora,
    senses over metadata, word sketches."""
    cells = [[_cell_text(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in columns]
    lines = ["  ".join(f"{c:>{w}}" if n else f"{c:<{w}}" for c, w, n in zip(columns, widths, numeric, strict=True))]
    for row in cells:
        lines.append("  ".join(f"{v:>{w}}" if n else f"{v:<{w}}" for v, w, n in zip(row, widths, numeric, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def over_text(report: dict, columns: list[str]) -> str:
    """A senses-over-metadata table with a line saying what was counted."""
    head = (f"{report['lemma']}: {report['of']}s by {report['by']}"
            + (f" (bins of {report['bin']:g})" if report.get("bin") else "")
            + (f", where {report['where']}" if report.get("where") else "")
            + "; share = of the bin's occurrences with a sense, 95% Wilson interval; per million words")
    return head + "\n" + simple_table(report["rows"], columns)


def sketch_text(report: dict, columns: list[str]) -> str:
    """A word sketch by sense: one block per sense, collocates by relation."""
    out = [f"{report['lemma']}: word sketch by {report['of']}"
           + (f", where {report['where']}" if report.get("where") else "")]
    for s in report["senses"]:
        rows = [r for r in report["rows"] if r["sense"] == s["sense"]]
        out.append(f"\n{s['sense']} ({s['occurrences']:,} occurrences)")
        out.append(simple_table(rows, columns[1:]) if rows else "  (no relation)")
    return "\n".join(out)
