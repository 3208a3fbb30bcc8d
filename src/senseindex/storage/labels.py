"""Sense labels on occurrences: one table, one row per (occurrence, source), and the one rule
that decides which label is in effect when an occurrence has several."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from senseindex.errors import SenseIndexError
from senseindex.storage.db import OCCURRENCE_JOIN, placeholders, select_in, utc_now
from senseindex.text.cells import open_tsv
from senseindex.text.wordnet import split_sense_keys

# Precedence, highest first: a reviewer's word beats the data's, which beats a prediction.
SOURCES = ("review", "gold", "predicted")
# Labels that may vote in k-NN labelling: never an earlier prediction (which would let the
# labeller reinforce its own mistakes).
VOTING_SOURCES = ("review", "gold")
RANK_SQL = "case l.source " + " ".join(f"when '{s}' then {i}" for i, s in enumerate(SOURCES)) + " end"


def check_sources(sources: Iterable[str]) -> tuple[str, ...]:
    sources = tuple(sources)
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise SenseIndexError(f"unknown label source {', '.join(bad)} (use {', '.join(SOURCES)})")
    return sources


def set_labels(db: sqlite_utils.Database, rows: Iterable[tuple], source: str,
               confidence: float | None = None) -> int:
    """Upsert labels for occurrence ids, rows of (id, label) or (id, label, confidence); the
    caller owns the transaction. A label of several sense keys is stored as its first, with
    every key in `label_keys`."""
    check_sources([source])
    stamp = utc_now()
    data, keys = [], []
    for row in rows:
        oid, label = row[0], row[1]
        split = split_sense_keys(str(label))
        data.append((int(oid), split[0], source, row[2] if len(row) > 2 else confidence, stamp))
        if len(split) > 1:
            keys.extend((int(oid), source, k) for k in split)
    db.conn.executemany(
        "insert into labels (occurrence_id, label, source, confidence, updated) values (?, ?, ?, ?, ?) "
        "on conflict(occurrence_id, source) do update set label = excluded.label, "
        "confidence = excluded.confidence, updated = excluded.updated",
        data,
    )
    if db.execute("select 1 from label_keys limit 1").fetchone() or keys:
        db.conn.executemany("delete from label_keys where occurrence_id = ? and source = ?", [(d[0], d[2]) for d in data])
    db.conn.executemany("insert or ignore into label_keys (occurrence_id, source, key) values (?, ?, ?)", keys)
    return len(data)


def label_keys(db: sqlite_utils.Database, ids: Iterable[int], source: str) -> dict[int, set[str]]:
    """Every key of each occurrence's label from `source`: one, or several for a multi-key gold
    label (a label stored before `label_keys` existed is split as it is read)."""
    ids = [int(i) for i in ids]
    out = {oid: set(split_sense_keys(label)) for oid, label in select_in(
        db, "select occurrence_id, label from labels where source = ? and occurrence_id in ({ids})", ids,
        before=[source])}
    if "label_keys" in db.table_names():
        for oid, key in select_in(db, "select occurrence_id, key from label_keys where source = ? and "
                                      "occurrence_id in ({ids})", ids, before=[source]):
            out.setdefault(oid, set()).add(key)
    return out


def effective_labels(db: sqlite_utils.Database, ids: Iterable[int] | None = None, *, lemma: str | None = None,
                     sources: Iterable[str] = SOURCES, confidence: bool = False) -> dict[int, tuple]:
    """(label, source) in effect per occurrence id, by SOURCES precedence, in id order
    ((label, source, confidence) with `confidence`: what a sense-tagged corpus export writes).

    Give occurrence ids, or a lemma for all of its occurrences; `sources` narrows which labels
    count (k-NN voting passes VOTING_SOURCES)."""
    sources = check_sources(sources)
    src = placeholders(len(sources))
    if lemma is not None:
        rows = db.execute(
            "select l.occurrence_id, l.label, l.source, l.confidence from labels l join occurrences o "
            f"on o.id = l.occurrence_id where o.lemma = ? and l.source in ({src}) order by l.occurrence_id, {RANK_SQL}",
            [lemma, *sources]).fetchall()
    else:
        rows = sorted(select_in(
            db, "select l.occurrence_id, l.label, l.source, l.confidence from labels l where l.occurrence_id in "
            f"({{ids}}) and l.source in ({src})", [int(i) for i in (() if ids is None else ids)], after=sources),
            key=lambda r: (r[0], SOURCES.index(r[2])))
    out: dict[int, tuple] = {}
    for oid, label, source, conf in rows:
        out.setdefault(oid, (label, source, conf) if confidence else (label, source))
    return out


@dataclass
class GoldRow:
    line_num: int  # line of the labels file, for messages
    file: str
    line: int  # line of the corpus file
    word: str
    sense: str


def read_gold_tsv(path: str | Path) -> list[GoldRow]:
    """Read and check a gold TSV of `file, line, word, sense` (the demo's format); writes nothing."""
    out = []
    with open_tsv(path, "labels file", dict_rows=True) as reader:
        need = {"file", "line", "word", "sense"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise SenseIndexError(f"{path}:1: header must hold file, line, word, sense")
        for row in reader:
            try:
                line = int(row["line"])
            except (TypeError, ValueError):
                raise SenseIndexError(f"{path}:{reader.line_num}: line must be a number") from None
            out.append(GoldRow(reader.line_num, row["file"] or "", line, row["word"] or "", row["sense"] or ""))
    return out


def apply_gold(db: sqlite_utils.Database, rows: list[GoldRow]) -> dict[str, int]:
    """Attach checked gold rows to the occurrences they name, in one transaction.

    `file` matches an indexed document whose path ends with it, whole components only. A name that
    fits documents at more than one path (dir1/a.txt and dir2/a.txt for `a.txt`) labels nothing: the
    row is counted under "ambiguous" until it names enough of the path (`dir1/a.txt`) to pick one.
    """
    docs = [(r["id"], Path(r["path"])) for r in db["documents"].rows]
    labels, missing, ambiguous = [], 0, 0
    for row in rows:
        file_parts = Path(row.file).parts
        matches = [(d, p) for d, p in docs if file_parts and p.parts[-len(file_parts) :] == file_parts]
        if len({p for _, p in matches}) > 1:
            ambiguous += 1
            continue
        doc_ids = [d for d, _ in matches]  # several only for versions of one file at one path
        found = list(select_in(db, "select o.id from occurrences o join sentences s on s.id = o.sentence_id "
                                   "where s.document_id in ({ids}) and s.line = ? and o.lemma = ?",
                               doc_ids, after=[row.line, row.word.lower()]))
        if not found:
            missing += 1
        labels.extend((oid, row.sense) for (oid,) in found)
    with db.conn:
        set_labels(db, labels, "gold")
    return {"labelled": len(labels), "unmatched": missing, "ambiguous": ambiguous}


def import_gold_tsv(db: sqlite_utils.Database, path: str | Path) -> dict[str, int]:
    """Read, check, then attach a gold TSV (see read_gold_tsv and apply_gold)."""
    return apply_gold(db, read_gold_tsv(path))


# --- what is stored ---------------------------------------------------------------------
STORED_COLUMNS = ["occurrence_id", "lemma", "word", "source", "label", "confidence", "updated", "sentence", "start",
                  "end", "doc", "line"]


def stored_labels(db: sqlite_utils.Database, sources: Iterable[str] = SOURCES, lemma: str | None = None,
                  where=None) -> list[dict]:
    """Every stored label (one row per occurrence and source) with its sentence, in id order;
    `where` (a storage.where.Selection) keeps those in a metadata selection."""
    sources = check_sources(sources)
    sql = ("select l.occurrence_id, o.lemma, o.word, l.source, l.label, l.confidence, l.updated, s.text, o.start, "
           "o.end, d.path, s.line " + OCCURRENCE_JOIN + "join labels l on l.occurrence_id = o.id "
           f"where l.source in ({placeholders(len(sources))})")
    params: list = list(sources)
    if lemma:
        sql += " and o.lemma = ?"
        params.append(lemma)
    if where is not None:
        sql += f" and {where.sql}"
        params.extend(where.params)
    sql += " order by l.occurrence_id, l.source"
    return [dict(zip(STORED_COLUMNS, r, strict=True)) for r in db.execute(sql, params)]


def label_summary(db: sqlite_utils.Database, lemma: str) -> dict:
    """Counts per label and source for one lemma, plus the label in effect (SOURCES precedence)."""
    n = db.execute("select count(*) from occurrences where lemma = ?", [lemma]).fetchone()[0]
    counts: dict[str, dict[str, int]] = {}

    def row(label: str) -> dict[str, int]:
        return counts.setdefault(label, {s: 0 for s in (*SOURCES, "effective")})

    for source, label, c in db.execute(
            "select l.source, l.label, count(*) from labels l join occurrences o on o.id = l.occurrence_id "
            "where o.lemma = ? group by l.source, l.label", [lemma]):
        row(label)[source] = c
    effective = effective_labels(db, lemma=lemma)
    for label, _ in effective.values():
        row(label)["effective"] += 1
    rows = [{"label": lab, **c} for lab, c in sorted(counts.items(), key=lambda x: (-x[1]["effective"], x[0]))]
    return {"lemma": lemma, "occurrences": n, "labelled": len(effective), "labels": rows}
