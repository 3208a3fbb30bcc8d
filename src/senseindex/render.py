"""Turning results into terminal tables, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Sequence

import click


def to_json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def to_csv(rows: Sequence[dict]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


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
        head = f"{h.rank:>3}  {h.score:6.3f}  " + (f"{(h.label or '-'):<{lab_w}}  " if show_label else "")
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


def precision_line(hits, sense: str) -> str:
    good = sum(1 for h in hits if h.label == sense)
    return f"{good}/{len(hits)} of label {sense!r}"


def matrix(rows: list[list[float | None]], labels: list[str]) -> str:
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
    out.append(matrix(result["contextual_cosine"], []))
    out.append("")
    out.append(f"Static cosine ({result['static_model']}): one vector per word")
    out.append(matrix(result["static_cosine"], []))
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
        ("occurrences", f"{info['occurrences']:,}"),
        ("vocabulary", f"{info['vocabulary_words']:,} word forms, {info['vocabulary_lemmas']:,} lemmas ({info['glove_missing_words']:,} not in GloVe)"),
        ("labels", labels),
        ("model", f"{info['model']} (layer {info['layer']}, {info['pooling']}, {info['dimensions']} dims, FAISS {info['codec']})"),
        ("static", info["static_model"]),
        ("lemmatiser", info["lemmatiser"]),
        ("size on disk", mb(info["size_bytes"]) + (f" ({info['bytes_per_occurrence']:,.0f} bytes per occurrence)" if info["bytes_per_occurrence"] else "")),
    ]
    return "\n".join(f"{k:<13} {v}" for k, v in rows)
