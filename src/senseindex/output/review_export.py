"""Review files out: a word's sense clusters as rows to fill in (.csv, .jsonl) or a page to read (.html).

Each occurrence row carries the index's ``index_id``, so a file filled in for another index is
refused on import (see review_import).
"""

from __future__ import annotations

from pathlib import Path

from senseindex.output.rows import check_extension, write_file
from senseindex.senses.induction import SenseReport

COLUMNS = ["index_id", "word", "occurrence_id", "cluster", "suggested_name", "label", "cluster_label",
           "similarity", "sentence", "start", "end", "doc", "line", "wordnet_sense", "gloss", "cluster_probabilities"]
FORMATS = (".csv", ".jsonl", ".html")


def review_rows(report: SenseReport) -> list[dict]:
    """One row per occurrence, most representative first within each cluster, labels left empty."""
    names = report.names()
    best = {c["cluster"]: c["senses"][0] for c in (report.dictionary or {}).get("clusters", []) if c["senses"]}
    return [{"index_id": report.index_id, "word": report.lemma, "occurrence_id": o.occurrence_id,
             "cluster": o.cluster, "suggested_name": names[o.cluster], "label": "", "cluster_label": "",
             "similarity": o.similarity, "sentence": o.sentence, "start": o.start, "end": o.end,
             "doc": o.doc, "line": o.line, "wordnet_sense": best.get(o.cluster, {}).get("key", ""),
             "gloss": best.get(o.cluster, {}).get("gloss", ""),
             "cluster_probabilities": " ".join(f"{p:.4f}" for p in o.soft) if o.soft else ""} for o in report.rows]


def export_format(path: str | Path) -> str:
    """The review file format from its extension; checked before any clustering work."""
    return check_extension(path, FORMATS, "export")


def export_review(report: SenseReport, path: str | Path) -> dict:
    """Write the review file; the format follows the extension (.csv, .jsonl or .html)."""
    path = Path(path)
    fmt = export_format(path)
    if fmt == ".html":
        from senseindex.output.html import review_page

        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(review_page(report), encoding="utf-8")
        tmp.replace(path)
        rows = len(report.rows)
    else:
        rows = write_file(path, review_rows(report), COLUMNS)
    return {"path": str(path), "format": fmt[1:], "rows": rows, "clusters": report.k}
