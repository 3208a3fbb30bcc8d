"""The review loop: export sense clusters for a person to label, take the labels back, list them.

Review files (.csv or .jsonl) hold one row per occurrence. A reviewer fills either

* ``label`` on a row: the sense of that one occurrence, or
* ``cluster_label`` on any row of a cluster (or a row with a ``cluster`` and no
  ``occurrence_id``, its sense in ``label``): the sense of every occurrence of that cluster
  in the file that has no ``label`` of its own.

Imported labels are stored with source "review" (they beat gold and predicted ones). Every
occurrence row carries ``index_id``, so a file exported from another index is refused. Imports are all
or nothing: any bad row stops the import with a list of the problems.
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

from .corpus import json_object
from .errors import CorpusError, SenseIndexError
from .labels import SOURCES, labels_for, set_labels
from .senses import SenseReport, index_id
from .words import lemmatize

COLUMNS = ["index_id", "word", "occurrence_id", "cluster", "suggested_name", "label", "cluster_label",
           "similarity", "sentence", "start", "end", "doc", "line"]
FORMATS = (".csv", ".jsonl", ".html")
HTML_ROWS_PER_CLUSTER = 300  # the page stays readable; the CSV/JSONL hold every occurrence


def review_rows(report: SenseReport) -> list[dict]:
    names = report.names()
    return [{"index_id": report.index_id, "word": report.lemma, "occurrence_id": o.occurrence_id,
             "cluster": o.cluster, "suggested_name": names[o.cluster], "label": "", "cluster_label": "",
             "similarity": o.similarity, "sentence": o.sentence, "start": o.start, "end": o.end,
             "doc": o.doc, "line": o.line} for o in report.rows]


def export_format(path: str | Path) -> str:
    """The review file format from its extension; checked before any clustering work."""
    fmt = Path(path).suffix.lower()
    if fmt not in FORMATS:
        raise SenseIndexError(f"{path}: export to {', '.join(FORMATS)} (by extension)")
    return fmt


def export_review(report: SenseReport, path: str | Path) -> dict:
    """Write the review file; the format follows the extension (.csv, .jsonl or .html)."""
    path = Path(path)
    fmt = export_format(path)
    rows = review_rows(report)
    if fmt == ".csv":
        # utf-8-sig: spreadsheet programs then read non-ASCII text correctly
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    elif fmt == ".jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    else:
        path.write_text(review_html(report), encoding="utf-8")
    return {"path": str(path), "format": fmt[1:], "rows": len(rows), "clusters": report.k}


def _highlight(text: str, start: int, end: int) -> str:
    e = html.escape
    return f"{e(text[:start])}<mark>{e(text[start:end])}</mark>{e(text[end:])}"


def review_html(report: SenseReport) -> str:
    """A self-contained page: one section per cluster, most representative sentences first."""
    e = html.escape
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Senses of {e(report.lemma)}</title>",
        "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
        "mark{background:#ffe27a;font-weight:600;padding:0 .1em}section{border-top:2px solid #ccc;margin-top:1.5em}"
        "ol{padding-left:2.5em}li{margin:.25em 0}.meta{color:#666;font-size:90%}.sim{color:#888;font-size:85%;"
        "font-variant-numeric:tabular-nums;margin-right:.5em}code{background:#f3f3f3;padding:0 .2em}</style>",
        "</head><body>",
        f"<h1>Senses of “{e(report.lemma)}”</h1>",
        f"<p class=meta>{report.occurrences:,} occurrences in <code>{e(report.index)}</code>, grouped into "
        f"{report.k} cluster(s) by meaning ({e(report.how)}). Each cluster lists its sentences from the most "
        "typical (closest to the cluster centre; the number is that similarity) to the least typical.</p>",
        "<p>To review: open the CSV export of this word in a spreadsheet. Type a sense name into "
        "<code>cluster_label</code> on any row of a cluster to label the whole cluster, or into <code>label</code> "
        "to label one sentence (a row's own label wins). Save, then run <code>senseindex labels import "
        f"{e(report.index)} FILE.csv</code>.</p>",
    ]
    for s in report.senses:
        members = [o for o in report.rows if o.cluster == s.cluster]
        parts.append(f'<section id="cluster-{s.cluster}"><h2>Cluster {s.cluster}: {e(s.name)}</h2>')
        parts.append(f"<p class=meta>{s.size:,} occurrences ({s.share:.1%}). Distinctive words: "
                     f"{e(', '.join(s.words) or '-')}</p><ol>")
        for o in members[:HTML_ROWS_PER_CLUSTER]:
            parts.append(f'<li><span class=sim>{o.similarity:.2f}</span>{_highlight(o.sentence, o.start, o.end)} '
                         f'<span class=meta>{e(Path(o.doc).name)}:{o.line} #{o.occurrence_id}</span></li>')
        parts.append("</ol>")
        if len(members) > HTML_ROWS_PER_CLUSTER:
            parts.append(f"<p class=meta>… and {len(members) - HTML_ROWS_PER_CLUSTER:,} more in the CSV/JSONL export.</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --- reading a reviewed file ----------------------------------------------------------

def _key(name: str) -> str:
    return name.strip().strip("\ufeff").lower().replace(" ", "_").replace("-", "_")


def read_review_file(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, row) pairs from a CSV (any spreadsheet dialect) or JSONL review file."""
    path = Path(path)
    if not path.is_file():
        raise SenseIndexError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # spreadsheet programs on Windows
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json_object(line, f"{path}:{n}")
            except CorpusError as exc:
                raise SenseIndexError(f"{exc}; nothing imported") from None
            rows.append((n, {_key(k): "" if v is None else str(v) for k, v in obj.items()}))
        return rows
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_key(h) for h in next(reader)]
    except StopIteration:
        raise SenseIndexError(f"{path}: empty file") from None
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        rows.append((reader.line_num, dict(zip(header, cells, strict=False))))
    return rows


def _int(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        f = float(value)
    except ValueError:
        raise ValueError(value) from None
    if not f.is_integer():
        raise ValueError(value)
    return int(f)


def import_review(store, path: str | Path) -> dict:
    """Store a reviewed file's labels (source "review") in one transaction; report what changed."""
    path = Path(path)
    rows = read_review_file(path)
    if not rows:
        raise SenseIndexError(f"{path}: no rows")
    columns = set().union(*(r.keys() for _, r in rows))
    missing = [c for c in ("index_id", "occurrence_id") if c not in columns]
    if missing or not ({"label", "cluster_label"} & columns):
        need = missing + ([] if {"label", "cluster_label"} & columns else ["label or cluster_label"])
        raise SenseIndexError(f"{path}: missing column(s) {', '.join(need)} (export one with: senseindex senses "
                              "INDEX WORD --export FILE.csv); nothing imported")
    mine = index_id(store)
    problems: list[str] = []
    own: dict[int, str] = {}
    cluster_of: dict[int, tuple[str, int]] = {}
    word_of: dict[int, str] = {}
    cluster_labels: dict[tuple[str, int], str] = {}
    foreign = sorted({r.get("index_id", "").strip() for _, r in rows} - {mine, ""})
    if foreign:
        raise SenseIndexError(f"{path} was exported from another index (index id {', '.join(foreign)}; "
                              f"{store.path} is {mine}); nothing imported")
    for line, r in rows:
        where = f"line {line}"
        try:
            oid = _int(r.get("occurrence_id", ""))
        except ValueError as exc:
            problems.append(f"{where}: occurrence_id {exc} is not a number")
            continue
        if oid is not None and not r.get("index_id", "").strip():  # a whole-cluster row may omit it
            problems.append(f"{where}: no index_id")
            continue
        try:
            cluster = _int(r.get("cluster", ""))
        except ValueError as exc:
            problems.append(f"{where}: cluster {exc} is not a number")
            continue
        word = lemmatize(r.get("word", "").strip()) if r.get("word", "").strip() else ""
        label, clabel = r.get("label", "").strip(), r.get("cluster_label", "").strip()
        if oid is None:
            if cluster is None or not (label or clabel):
                problems.append(f"{where}: no occurrence_id (a whole-cluster row needs cluster and label)")
                continue
            if clabel and label and clabel != label:
                problems.append(f"{where}: label and cluster_label differ on a whole-cluster row")
                continue
            clabel = clabel or label
            label = ""
        else:
            if oid in own or oid in cluster_of:
                if own.get(oid, "") != label:
                    problems.append(f"{where}: occurrence {oid} appears twice with different labels")
                    continue
            cluster_of[oid] = (word, cluster) if cluster is not None else None
            word_of[oid] = word
            if label:
                own[oid] = label
        if clabel:
            if cluster is None:
                problems.append(f"{where}: cluster_label without a cluster number")
                continue
            key = (word, cluster)
            if cluster_labels.setdefault(key, clabel) != clabel:
                problems.append(f"{where}: cluster {cluster} is labelled both {cluster_labels[key]!r} and {clabel!r}")
    words = {w for w in word_of.values() if w}
    for (word, cluster) in [key for key in cluster_labels if not key[0]]:  # whole-cluster row without a word
        if len(words) == 1:
            cluster_labels.setdefault((next(iter(words)), cluster), cluster_labels[(word, cluster)])
            if cluster_labels[(next(iter(words)), cluster)] != cluster_labels[(word, cluster)]:
                problems.append(f"cluster {cluster} is labelled both {cluster_labels[(next(iter(words)), cluster)]!r} "
                                f"and {cluster_labels[(word, cluster)]!r}")
        elif len(words) > 1:
            problems.append(f"a whole-cluster row for cluster {cluster} needs `word`: the file holds several words")
    if not words and not any(r.get("index_id", "").strip() == mine for _, r in rows):
        problems.append(f"no row carries this index's index_id ({mine})")
    known = _lemmas(store.db, list(word_of))
    unknown = sorted(i for i in word_of if i not in known)
    if unknown:
        shown = ", ".join(map(str, unknown[:20])) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        problems.append(f"unknown occurrence id(s) {shown}")
    for oid, word in word_of.items():
        if oid in known and word and known[oid] != word:
            problems.append(f"occurrence {oid} is {known[oid]!r}, not {word!r}")
    if problems:
        shown = "; ".join(problems[:15]) + (f"; and {len(problems) - 15} more" if len(problems) > 15 else "")
        raise SenseIndexError(f"{path}: {len(problems)} problem(s), nothing imported: {shown}")
    wanted = dict(own)
    via_cluster = 0
    for oid, key in cluster_of.items():
        if oid not in wanted and key is not None and key in cluster_labels:
            wanted[oid] = cluster_labels[key]
            via_cluster += 1
    before = _review_labels(store.db, list(wanted))
    changed = [(oid, lab) for oid, lab in sorted(wanted.items()) if before.get(oid) != lab]
    with store.lock():
        with store.db.conn:
            set_labels(store.db, changed, "review")
    return {"file": str(path), "rows": len(rows), "labelled": len(wanted), "from_cluster_labels": via_cluster,
            "changed": len(changed), "unchanged": len(wanted) - len(changed), "unlabelled": len(cluster_of) - len(wanted)}


def _lemmas(db, ids: list[int]) -> dict[int, str]:
    out = {}
    for lo in range(0, len(ids), 900):
        part = ids[lo : lo + 900]
        out.update(db.execute(f"select id, lemma from occurrences where id in ({','.join('?' * len(part))})", part))
    return out


def _review_labels(db, ids: list[int]) -> dict[int, str]:
    out = {}
    for lo in range(0, len(ids), 900):
        part = ids[lo : lo + 900]
        out.update(db.execute(f"select occurrence_id, label from labels where source = 'review' and occurrence_id in "
                              f"({','.join('?' * len(part))})", part))
    return out


# --- what is stored ---------------------------------------------------------------------

def stored_labels(store, sources: tuple[str, ...] = SOURCES, word: str | None = None) -> list[dict]:
    """Every stored label (one row per occurrence and source) with its sentence."""
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise SenseIndexError(f"unknown label source {', '.join(bad)} (use {', '.join(SOURCES)})")
    sql = ("select l.occurrence_id, o.lemma, o.word, l.source, l.label, l.confidence, l.updated, s.text, o.start, "
           "o.end, d.path, s.line from labels l join occurrences o on o.id = l.occurrence_id "
           "join sentences s on s.id = o.sentence_id join documents d on d.id = s.document_id "
           f"where l.source in ({','.join('?' * len(sources))})")
    params: list = list(sources)
    if word:
        sql += " and o.lemma = ?"
        params.append(lemmatize(word))
    sql += " order by l.occurrence_id, l.source"
    keys = ["occurrence_id", "lemma", "word", "source", "label", "confidence", "updated", "sentence", "start", "end",
            "doc", "line"]
    return [dict(zip(keys, r, strict=True)) for r in store.db.execute(sql, params)]


def export_labels(rows: list[dict], path: str | Path) -> dict:
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["occurrence_id", "label", "source"])
            writer.writeheader()
            writer.writerows(rows)
    elif fmt in (".jsonl", ".json"):
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    else:
        raise SenseIndexError(f"{path}: export labels to .csv or .jsonl (by extension)")
    return {"path": str(path), "rows": len(rows)}


def label_summary(store, word: str) -> dict:
    """Counts per label and source for one word, plus the effective label (review > gold > predicted)."""
    lemma = lemmatize(word)
    n = store.db.execute("select count(*) from occurrences where lemma = ?", [lemma]).fetchone()[0]
    if not n:
        raise SenseIndexError(f"{word!r} is not in the index")
    counts: dict[str, dict[str, int]] = {}
    for source, label, c in store.db.execute(
            "select l.source, l.label, count(*) from labels l join occurrences o on o.id = l.occurrence_id "
            "where o.lemma = ? group by l.source, l.label", [lemma]):
        counts.setdefault(label, {s: 0 for s in (*SOURCES, "effective")})[source] = c
    ids = [r[0] for r in store.db.execute("select id from occurrences where lemma = ?", [lemma])]
    effective = labels_for(store.db, ids)
    for label, _ in effective.values():
        counts.setdefault(label, {s: 0 for s in (*SOURCES, "effective")})["effective"] += 1
    rows = [{"label": lab, **c} for lab, c in sorted(counts.items(), key=lambda x: (-x[1]["effective"], x[0]))]
    return {"lemma": lemma, "occurrences": n, "labelled": len(effective), "labels": rows}


def label_summary_text(summary: dict) -> str:
    head = f"{summary['lemma']}: {summary['occurrences']:,} occurrences, {summary['labelled']:,} labelled"
    if not summary["labels"]:
        return head + "\n(no labels)"
    w = max(5, *(len(r["label"]) for r in summary["labels"]))
    cols = [*SOURCES, "effective"]
    lines = [head, f"{'label':<{w}}  " + "  ".join(f"{c:>9}" for c in cols)]
    for r in summary["labels"]:
        lines.append(f"{r['label']:<{w}}  " + "  ".join(f"{r[c]:>9,}" for c in cols))
    return "\n".join(lines)
